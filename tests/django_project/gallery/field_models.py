"""Models for tests/test_django_fields.py: the original app's plain ``ImageField(storage=select_storage)`` and a
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
