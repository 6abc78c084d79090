"""Routes of cfvariants: ``path("", include("cfvariants.django.urls"))`` in the root URLconf.

* ``/cdn-cgi/imagedelivery/<hash>/<id>/<variant>``: the local emulator's delivery while development mode is on
  (``CFVARIANTS["DEV"]``, default ``ENV_NAME == "dev"``), which is where the template tags and
  ``CloudflareImagesStorage.url()`` point in development;
* ``/cdn-cgi/image/<options>/<source>``: Image Transformations of files under ``MEDIA_URL``, read from
  ``MEDIA_ROOT`` and nowhere else, which is where the tags point in development for files of other storages.
  With development mode off both answer 404, so the include can stay in the production URLconf without
  serving anything.
* ``/cfvariants/uploads/<upload id>/preview``: a background upload's staged file while it waits (in production
  too: that is what pages show until the worker has stored it; private uploads need the signed URL the
  filters give).

Include it at the root: the URLs are root-relative.
"""

from __future__ import annotations

from django.urls import re_path

from ._views import deliver, transform, upload_preview

app_name = "cfvariants"

urlpatterns = [
    re_path(r"^cdn-cgi/imagedelivery/(?P<path>.+)\Z", deliver, name="delivery"),
    re_path(r"^cdn-cgi/image/(?P<path>.+)\Z", transform, name="transformations"),
    re_path(r"^cfvariants/uploads/(?P<upload_id>[0-9a-f]{32})/preview\Z", upload_preview, name="upload-preview"),
]
