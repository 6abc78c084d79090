from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("cfvariants.django.urls")),  # previews of pending uploads; the local emulator in dev
    path("", include("profiles.urls")),
]
