"""Models for tests/django/test_django_fields.py: the original app's plain ``ImageField(storage=select_storage)`` and a
``CloudflareImageField``, both on the storage ``select_storage`` picks (the local emulator in these tests)."""

from __future__ import annotations

from django.db import models

from cfvariants.django.fields import CloudflareImageField
from cfvariants.django.storage import select_storage


class Poster(models.Model):
    image = models.ImageField(storage=select_storage, upload_to="posters", blank=True)

    class Meta:
        app_label = "gallery"


class Avatar(models.Model):
    image = CloudflareImageField(upload_to="faces", blank=True)

    class Meta:
        app_label = "gallery"


class Portrait(models.Model):
    """A ``CloudflareImageField`` whose model keeps the size in ``width_field``/``height_field`` (Django fills
    them at assignment): layouts read them, so the box is known after any restart without a request."""

    image = CloudflareImageField(upload_to="portraits", width_field="image_width", height_field="image_height")
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        app_label = "gallery"
