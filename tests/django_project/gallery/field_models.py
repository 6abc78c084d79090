"""Models for tests/django/test_django_fields.py: the original app's plain ``ImageField(storage=select_storage)`` and a
``CloudflareImageField``, both on the storage ``select_storage`` picks (the local emulator in these tests)."""

from __future__ import annotations

from django.db import models

from cfvariants.django.fields import THUMBHASH_MAX_LENGTH, CloudflareImageField
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


class Snapshot(models.Model):
    """A ``CloudflareImageField`` that keeps size and ThumbHash in the row (``thumbhash_field``): layouts and
    placeholders after any restart, with no request."""

    image = CloudflareImageField(
        upload_to="photos", width_field="width", height_field="height", thumbhash_field="thumbhash", blank=True
    )
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    thumbhash = models.CharField(max_length=THUMBHASH_MAX_LENGTH, blank=True, editable=False)

    class Meta:
        app_label = "gallery"


class Sketch(models.Model):
    """``thumbhash_field`` alone, declared before the image (Django reads fields in order when it saves)."""

    thumbhash = models.TextField(blank=True, default="")
    image = CloudflareImageField(upload_to="sketches", thumbhash_field="thumbhash", blank=True)

    class Meta:
        app_label = "gallery"
