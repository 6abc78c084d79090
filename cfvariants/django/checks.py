"""System check (``manage.py check``, ``runserver``): a broken ``CFVARIANTS`` is reported at start-up, not on the
first page that shows an image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks

from . import conf

__all__ = ["check_settings"]


@checks.register()
def check_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        config = conf.load()
    except conf.ConfigurationError as exc:
        return [checks.Error(str(exc), hint="see cfvariants.django.conf for the keys", id="cfvariants.E001")]
    if config.settings.account_hash is None:
        return [
            checks.Warning(
                "no Cloudflare Images account hash: the variant filters and cf_img tags cannot build URLs",
                hint=f"set {conf.SETTING_NAME}['ACCOUNT_HASH'] or the CF_IMG_HASH environment variable",
                id="cfvariants.W001",
            )
        ]
    try:
        config.delivery()
    except conf.ConfigurationError as exc:
        return [checks.Error(str(exc), id="cfvariants.E001")]
    except ValueError as exc:  # a CFVariantsError from Delivery: bad hash or domain
        return [checks.Error(str(exc), hint=f"check {conf.SETTING_NAME}", id="cfvariants.E002")]
    return []
