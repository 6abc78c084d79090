"""The app config: ``INSTALLED_APPS = [..., "cfvariants.django"]`` makes ``{% load cfvariants %}`` available and
adds a system check of ``settings.CFVARIANTS``."""

from __future__ import annotations

from django.apps import AppConfig


class CFVariantsConfig(AppConfig):
    name = "cfvariants.django"
    label = "cfvariants"
    verbose_name = "Cloudflare Images (cfvariants)"

    def ready(self) -> None:
        from . import checks  # noqa: F401, PLC0415 - registers the system check
