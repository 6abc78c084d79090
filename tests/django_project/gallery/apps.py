from __future__ import annotations

from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "django_project.gallery"
    label = "gallery"
