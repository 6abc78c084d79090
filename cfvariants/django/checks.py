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
    if config.dev:
        return _check_dev_routes()
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


def _check_dev_routes() -> list[checks.CheckMessage]:
    """In development the pages show root-relative ``/cdn-cgi/imagedelivery/...`` URLs, which only load when the
    site serves them: ``path("", include("cfvariants.django.urls"))`` in the root URLconf."""
    from django.conf import settings  # noqa: PLC0415
    from django.urls import Resolver404, resolve  # noqa: PLC0415

    if not getattr(settings, "ROOT_URLCONF", None):
        return []
    try:
        match = resolve("/cdn-cgi/imagedelivery/h/i/public")
    except Resolver404:
        match = None
    if match is not None and match.view_name == "cfvariants:delivery":
        return []
    return [
        checks.Warning(
            "development mode is on but /cdn-cgi/imagedelivery/... is not served by cfvariants: images will not load",
            hint='add path("", include("cfvariants.django.urls")) to the root URLconf',
            id="cfvariants.W002",
        )
    ]
