"""Models whose images live on Cloudflare Images (the emulator in the tests), for tests/django/test_django_storage.py.

The storage reads its configuration on first use and again whenever ``CFVARIANTS`` changes, so each test points
the same field at its own emulator with ``override_settings``.
"""

from __future__ import annotations

from django.db import models

from cfvariants.django.storage import CloudflareImagesStorage

cloudflare_images = CloudflareImagesStorage()


class Photo(models.Model):
    """Shaped like the original app's ``Profile``: an ImageField stored on Cloudflare Images."""

    title = models.CharField(max_length=100)
    image = models.ImageField(storage=cloudflare_images, upload_to="photos", width_field="width",
                              height_field="height", blank=True)  # fmt: skip
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)

    class Meta:
        app_label = "gallery"

    def __str__(self) -> str:
        return self.title


private_images = CloudflareImagesStorage(require_signed_urls=True)


class Scan(models.Model):
    """A private document scan: its storage requires signed URLs, so Cloudflare gives the image a generated id."""

    title = models.CharField(max_length=100)
    image = models.ImageField(storage=private_images, upload_to="scans", blank=True)

    class Meta:
        app_label = "gallery"

    def __str__(self) -> str:
        return self.title
