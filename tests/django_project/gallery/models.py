"""Models of the test project, shaped like the original app's ``Profile``."""

from __future__ import annotations

from django.db import models

from .cf_models import cloudflare_images


class Profile(models.Model):
    """A profile with an uploaded image on Cloudflare Images (a FieldFile whose name is the image id: the
    storage says so) and a stored delivery URL."""

    name = models.CharField(max_length=100)
    image = models.ImageField(storage=cloudflare_images, upload_to="avatars", blank=True)
    image_url = models.URLField(blank=True)

    class Meta:
        app_label = "gallery"

    def __str__(self) -> str:
        return self.name


class LocalProfile(models.Model):
    """The original app in development: the image is a file of the default storage (FileSystemStorage under
    MEDIA_ROOT), not on Cloudflare Images, so templates resize it through Image Transformations."""

    name = models.CharField(max_length=100)
    image = models.ImageField(upload_to="avatars", blank=True)

    class Meta:
        app_label = "gallery"

    def __str__(self) -> str:
        return self.name
