"""Development delivery routes: ``path("", include("cfvariants.django.urls"))`` in the root URLconf.

Serves ``/cdn-cgi/imagedelivery/<hash>/<id>/<variant>`` from the local emulator while development mode is on
(``CFVARIANTS["DEV"]``, default ``ENV_NAME == "dev"``), which is where the template tags and
``CloudflareImagesStorage.url()`` point in development; and ``/cdn-cgi/image/<options>/<source>`` (Image
Transformations of files under ``MEDIA_URL``, read from ``MEDIA_ROOT`` and nowhere else), which is where the tags
point for files of other storages. With development mode off every request here is a 404,
so the include can stay in the production URLconf without serving anything. Include it at the root: the URLs
are root-relative.
"""

from __future__ import annotations

from django.urls import re_path

from .views import deliver, transform

app_name = "cfvariants"

urlpatterns = [
    re_path(r"^cdn-cgi/imagedelivery/(?P<path>.+)\Z", deliver, name="delivery"),
    re_path(r"^cdn-cgi/image/(?P<path>.+)\Z", transform, name="transformations"),
]
