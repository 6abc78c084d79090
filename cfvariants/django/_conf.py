"""Configuration of the Django adapters, read once and rebuilt when Django settings change.

Precedence, highest first: keyword overrides (a Storage's ``OPTIONS``, by lowercase name) > ``settings.CFVARIANTS``
(a dict, by uppercase name) > the environment and ``.env`` (``CF_IMG_HASH``... through ``cfvariants._settings``).
A key set to ``None`` counts as absent (the next source answers); an empty string switches a value off (e.g.
``"DOMAIN": ""`` ignores ``CF_IMG_DOMAIN``). Unknown keys are errors, so a typo does not silently fall back.

``settings.CFVARIANTS`` keys:

=================== ======================== =============================================================
key                 environment              meaning
=================== ======================== =============================================================
ACCOUNT_HASH        CF_IMG_HASH              the account hash in delivery URLs (required for templates)
SIGNING_KEY         CF_IMG_SIGNING_KEY       key for ``signed_variant`` (secret)
DOMAIN              CF_IMG_DOMAIN            custom delivery domain (may be ``http://127.0.0.1:8000``)
ZONE                CF_IMG_ZONE              the site's zone for Image Transformations of images outside
                                             Cloudflare Images (files of other storages); development: ``/``
TRANSFORM_DEFAULTS                           options under every Image Transformations URL, e.g. ``"f=auto"``
                                             (Cloudflare serves JPEG/PNG without it, never AVIF/WebP)
ACCOUNT_ID          CF_ACCT_ID               API account id (the Storage)
API_TOKEN           CF_IMG_TOKEN             API token (the Storage; secret)
API_BASE            CF_API_BASE              API base URL (the Storage; the emulator in development)
ON_ERROR                                     "raise" or "fallback"; default: raise when DEBUG is true or
                                             under Django's test environment, fallback otherwise
PLACEHOLDER                                  image URL for a missing image; a relative path (no scheme,
                                             no leading ``/``) goes through ``static()``
SIGNED_EXPIRES_IN                            lifetime of ``signed_variant`` URLs: seconds or a timedelta
                                             (default 3600)
DEV                                          development: images and URLs come from the local emulator
                                             (``cfvariants.django._dev``); default: ``ENV_NAME == "dev"``
                                             (``settings.ENV_NAME``, else the ``ENV_NAME`` variable)
DATA_DIR                                     the emulator's data directory in development (default
                                             ``<MEDIA_ROOT>/cfimages``)
STORAGE                                      the ``STORAGES`` alias ``select_storage()`` uses outside
                                             development (default ``"cloudflare_images"``)
VARIANTS_FILE                                a ``variants.toml`` declaring the named variants: applied to the
                                             local account when development mode starts, and by
                                             ``manage.py cfvariants_variants plan|apply`` to the real one
UPLOADS_DIR                                  where background uploads are staged until they are stored
                                             (default ``<MEDIA_ROOT>/cfuploads``)
UPLOADS_URL                                  ``redis://...``: stage background uploads in Redis instead, so
                                             workers on other machines can send them
=================== ======================== =============================================================

In development the Cloudflare values are not read at all (the local emulator has its own account), so a
``.env`` holding ``CF_IMG_TOKEN=op://...`` references does not stop ``ENV_NAME=dev``; outside development an
unresolved ``op://`` reference is an error that says to start the app under ``op run``.

``get_config()``, ``get_delivery()`` and ``template_filters()`` build once and are reset on Django's
``setting_changed`` signal for ``CFVARIANTS`` (so ``override_settings`` works); call ``reset()`` after changing
the environment itself.
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from cfvariants._config import DJANGO, OPTIONS, AdapterConfig, check_keys, fields_of, load_config
from cfvariants._delivery import Delivery
from cfvariants._errors import SettingsError
from cfvariants._options import Options
from cfvariants._settings import Settings
from cfvariants._templating import ImageFilters, OnError
from cfvariants._transformations import Transformations
from cfvariants._urls import SAME_SITE

SETTING_NAME = "CFVARIANTS"
"""The Django setting that holds cfvariants' configuration (a dict)."""
FIELDS = fields_of(DJANGO)
DEFAULT_STORAGE_ALIAS = AdapterConfig.model_fields["storage"].default
_LOGGER = logging.getLogger("cfvariants.django")


class ConfigurationError(SettingsError, ImproperlyConfigured):
    """The cfvariants configuration is unusable; both a ``cfvariants.SettingsError`` and Django's
    ``ImproperlyConfigured``. Messages name the key and never echo a secret."""


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the Django adapters read. ``settings`` carries the Cloudflare values (secrets as ``SecretStr``)."""

    settings: Settings
    on_error: OnError | None  # None: decided per failure from DEBUG and the test environment
    placeholder: str | None
    signed_expires_in: int | float | timedelta
    dev: bool = False  # development: the local emulator (cfvariants.django._dev) instead of Cloudflare
    data_dir: Path | None = None  # the emulator's data directory (None: <MEDIA_ROOT>/cfimages)
    storage: str = DEFAULT_STORAGE_ALIAS  # the STORAGES alias select_storage() returns outside development
    transform_defaults: Options | None = None  # laid under every Image Transformations URL's options
    variants_file: Path | None = None  # the named variants declared for this site (cfvariants.variants)
    uploads_dir: Path | None = None  # where background uploads are staged (None: <MEDIA_ROOT>/cfuploads)
    uploads_url: str | None = None  # redis://... to stage background uploads in Redis

    def delivery(self) -> Delivery:
        """A ``Delivery`` for these settings (``ACCOUNT_HASH`` required); in development, the local emulator's
        (root-relative URLs served by ``cfvariants.django.urls``)."""
        if self.dev:
            from ._dev import local_cloudflare  # noqa: PLC0415 - the emulator is needed only in development

            return local_cloudflare(self).delivery
        try:
            return Delivery.from_settings(self.settings)
        except SettingsError as exc:
            raise ConfigurationError(f"{exc} (or set {SETTING_NAME}['ACCOUNT_HASH'])") from None

    def transformations(self) -> Transformations | None:
        """Image Transformations for files of other storages: root-relative in development (served by
        ``cfvariants.django.urls`` from MEDIA_ROOT), else on ``ZONE``; ``None`` without a zone."""
        if self.dev:
            return Transformations(SAME_SITE, defaults=self.transform_defaults)
        zone = self.settings.zone  # checked by load()
        return Transformations(zone, defaults=self.transform_defaults) if zone else None

    def effective_on_error(self) -> OnError:
        """``on_error`` as configured, or the default: raise in DEBUG and tests, fall back otherwise."""
        if self.on_error is not None:
            return self.on_error
        return "raise" if django_settings.DEBUG or _in_test_environment() else "fallback"


def load(**overrides: Any) -> Config:
    """Read the configuration; ``overrides`` (lowercase names, e.g. a Storage's ``OPTIONS``) win over
    ``settings.CFVARIANTS``, which wins over the environment. Validated by ``cfvariants``' one adapter model,
    whose messages name the key as written here (``CFVARIANTS['ON_ERROR']``, ``OPTIONS['api_base']``)."""
    values = _from_settings_dict()
    try:
        check_keys(overrides, OPTIONS)
    except SettingsError as exc:
        raise ConfigurationError(str(exc)) from None
    given_by = {name: OPTIONS for name, value in overrides.items() if value is not None}
    values.update({name: overrides[name] for name in given_by})
    try:
        model = load_config(values, DJANGO, default_dev=_env_name() == "dev", given_by=given_by)
    except SettingsError as exc:
        raise ConfigurationError(str(exc)) from None
    return Config(
        settings=model.cloudflare, on_error=model.on_error, placeholder=model.placeholder,
        signed_expires_in=model.signed_expires_in, dev=bool(model.dev), data_dir=model.data_dir,
        storage=model.storage, transform_defaults=model.transform_defaults, variants_file=model.variants_file,
        uploads_dir=model.uploads_dir, uploads_url=model.uploads_url,
    )  # fmt: skip


def _env_name() -> str | None:
    """``settings.ENV_NAME`` (the original app's switch) if set, else the ``ENV_NAME`` environment variable."""
    name = getattr(django_settings, "ENV_NAME", None)
    return str(name) if name is not None else os.environ.get("ENV_NAME")


def _from_settings_dict() -> dict[str, Any]:
    """``settings.CFVARIANTS`` by field name (``ACCOUNT_HASH`` -> ``account_hash``); an unknown key is an error."""
    raw = getattr(django_settings, SETTING_NAME, None)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"settings.{SETTING_NAME} must be a dict, not {type(raw).__name__}")
    try:
        check_keys(raw, DJANGO)
    except SettingsError as exc:
        raise ConfigurationError(str(exc)) from None
    return {key.lower(): value for key, value in raw.items() if value is not None}


def _suggestion(name: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _in_test_environment() -> bool:
    """Whether Django's test environment is set up (``setup_test_environment()``, which every Django test runner
    and pytest-django call, installs ``mail.outbox``); it also forces ``DEBUG=False``, hence this check."""
    from django.core import mail  # noqa: PLC0415 - cheap, and only on the error path

    return getattr(mail, "outbox", None) is not None


# -- built once, reset when the settings change ------------------------------------------------------------------

_lock = threading.Lock()
_config: Config | None = None
_delivery: Delivery | None = None
_filters: ImageFilters | None = None


def get_config() -> Config:
    """The configuration from Django's settings and the environment (cached)."""
    global _config  # noqa: PLW0603 - the process-wide cache this module exists for
    config = _config
    if config is None:
        config = _config = load()
    return config


def get_delivery() -> Delivery:
    """The ``Delivery`` of the configuration (cached)."""
    global _delivery  # noqa: PLW0603
    delivery = _delivery
    if delivery is None:
        delivery = _delivery = get_config().delivery()
    return delivery


def template_filters() -> ImageFilters:
    """The ``ImageFilters`` behind ``{% load cfvariants %}`` (cached; its Delivery is built on first use)."""
    global _filters  # noqa: PLW0603
    filters = _filters
    if filters is None:
        with _lock:
            filters = _filters
            if filters is None:
                config = get_config()
                filters = _filters = ImageFilters(
                    get_delivery,
                    transformations=config.transformations,
                    on_error=config.effective_on_error,
                    placeholder=_placeholder_url(config.placeholder),
                    logger=_LOGGER,
                    signed_expires_in=config.signed_expires_in,
                )
    return filters


def _placeholder_url(placeholder: str | None) -> str | None:
    if placeholder is None or placeholder.startswith(("https://", "http://", "/", "data:")):
        return placeholder
    from django.templatetags.static import static  # noqa: PLC0415 - needs configured static files

    return static(placeholder)


def reset() -> None:
    """Forget the cached configuration, Delivery and filters (the next use reads the settings again)."""
    global _config, _delivery, _filters  # noqa: PLW0603
    with _lock:
        _config = _delivery = _filters = None


@receiver(setting_changed)
def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in (SETTING_NAME, "STATIC_URL", "STORAGES", "ENV_NAME", "MEDIA_ROOT"):
        reset()
