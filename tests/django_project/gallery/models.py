"""Models of the test project, shaped like the original app's ``Profile``."""

from __future__ import annotations

from django.db import models


class Profile(models.Model):
    """A profile with an uploaded image (a FieldFile whose name is the image id) and a stored delivery URL."""

    name = models.CharField(max_length=100)
    image = models.ImageField(upload_to="avatars", blank=True)
    image_url = models.URLField(blank=True)

    class Meta:
        app_label = "gallery"

    def __str__(self) -> str:
        return self.name
