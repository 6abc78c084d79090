"""System checks (``manage.py check``, ``runserver``, ``run_huey``, ``migrate``): every configuration problem of
cfvariants is reported at start-up as ``cfvariants.E0xx`` (the command stops) or ``W0xx``, with a hint, instead
of a traceback on import or a broken image on the first page.

======== =========================================================================================
id       problem
======== =========================================================================================
E001     ``settings.CFVARIANTS`` is not a dict, has an unknown key, or a value of the wrong kind
E002     the account hash or delivery domain cannot build URLs
E003     a Cloudflare value is still a 1Password reference (``op://...``) outside development
E004     ``select_storage()`` has no storage to select (``STORAGES`` lacks the alias)
E005     a ``CloudflareImagesStorage`` in ``STORAGES`` has bad ``OPTIONS``
E006     a Cloudflare storage is configured but ``CF_ACCT_ID``/``CF_IMG_TOKEN`` are missing (production)
E007     ``TRANSFORM_DEFAULTS`` is set but no zone (``ZONE``/``CF_IMG_ZONE``) serves Image Transformations
E008     the zone (``ZONE``/``CF_IMG_ZONE``) cannot build Image Transformations URLs
E010     background uploads are on but huey is not set up for Django (``HUEY``, ``huey.contrib.djhuey``)
E011     ``HUEY`` is a dict without ``huey_class`` (djhuey then wants Redis) and redis is not installed
E020     ``CFVARIANTS["VARIANTS_FILE"]`` cannot be read or declares invalid variants
E030     a ``CloudflareImageField``'s ``thumbhash_field`` names no field of its model
E031     the ``thumbhash_field`` cannot hold a ThumbHash (not a text field, or ``max_length`` under 36)
W001     no account hash: the template filters cannot build URLs
W002     development mode, but the root URLconf does not include ``cfvariants.django.urls``
W003     background uploads, but the preview route of ``cfvariants.django.urls`` is not mounted
W010     ``HUEY`` runs tasks inside the request (immediate mode, e.g. ``DEBUG`` with a dict ``HUEY``)
W011     logging drops huey's or cfvariants' messages (a disabled logger): failed uploads would go unseen
======== =========================================================================================
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings as django_settings
from django.core import checks
from django.db import models
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.module_loading import import_string

from . import _conf as conf

_STORAGE_PATH = "cfvariants.django.storage.CloudflareImagesStorage"


@checks.register()
def check_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        config = conf.load()
    except conf.ConfigurationError as exc:
        return [_settings_error(str(exc))]
    problems: list[checks.CheckMessage] = []
    problems += _check_storages(config)
    problems += _check_variants_file(config)
    problems += _check_background(config)
    if not config.dev:
        problems += _check_zone(config)
    if config.dev:
        return _unique(problems + _check_dev_routes())
    if config.settings.account_hash is None:
        problems.append(
            checks.Warning(
                "no Cloudflare Images account hash: the variant filters and cf_img tags cannot build URLs",
                hint=f"set {conf.SETTING_NAME}['ACCOUNT_HASH'] or the CF_IMG_HASH environment variable",
                id="cfvariants.W001",
            )
        )
        return _unique(problems)
    try:
        config.delivery()
    except conf.ConfigurationError as exc:
        problems.append(checks.Error(str(exc), id="cfvariants.E001"))
    except ValueError as exc:  # a CFVariantsError from Delivery: bad hash or domain
        problems.append(checks.Error(str(exc), hint=f"check {conf.SETTING_NAME}", id="cfvariants.E002"))
    return _unique(problems)


def _unique(problems: list[checks.CheckMessage]) -> list[checks.CheckMessage]:
    seen: set[tuple[str | None, str]] = set()
    kept = []
    for problem in problems:
        key = (problem.id, problem.msg)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def _settings_error(message: str) -> checks.CheckMessage:
    if message.startswith((f"{conf.SETTING_NAME}['ZONE']", "CF_IMG_ZONE")):
        return _zone_error(message)
    if "1Password secret reference" in message:
        return checks.Error(
            message,
            hint="resolve it (op run --env-file=.env -- python manage.py ...), or set ENV_NAME=dev for development, "
            "which needs no credentials",
            id="cfvariants.E003",
        )
    return checks.Error(message, hint="see cfvariants.django._conf for the keys and values", id="cfvariants.E001")


# -- Image Transformations -----------------------------------------------------------------------------------------


def _check_zone(config: conf.Config) -> list[checks.CheckMessage]:
    """Outside development a zone is needed once a setting asks for Image Transformations, and must be usable."""
    try:
        config.transformations()
    except conf.ConfigurationError as exc:
        return [_zone_error(str(exc))]
    if config.transform_defaults is not None and not config.settings.zone:
        return [
            checks.Error(
                f"{conf.SETTING_NAME}['TRANSFORM_DEFAULTS'] is set, but no zone serves Image Transformations: images "
                "outside Cloudflare Images get no URL",
                hint=f"set {conf.SETTING_NAME}['ZONE'] or CF_IMG_ZONE to the site's Cloudflare zone (e.g. "
                "'www.example.com'), or '/' for root-relative /cdn-cgi/image/ URLs",
                id="cfvariants.E007",
            )
        ]
    return []


def _zone_error(message: str) -> checks.CheckMessage:
    return checks.Error(
        message,
        hint="a host name such as 'www.example.com' (optionally https:// and a port), or '/' for root-relative URLs",
        id="cfvariants.E008",
    )


# -- storages ------------------------------------------------------------------------------------------------------


def _cloudflare_aliases() -> list[str]:
    """``STORAGES`` aliases whose backend is ``CloudflareImagesStorage`` (or a subclass)."""
    from .storage import CloudflareImagesStorage  # noqa: PLC0415

    found = []
    for alias, entry in (getattr(django_settings, "STORAGES", None) or {}).items():
        backend = entry.get("BACKEND") if isinstance(entry, dict) else None
        if not isinstance(backend, str):
            continue
        try:
            cls = import_string(backend)
        except ImportError:
            continue  # Django's own storage check reports an unimportable backend
        if isinstance(cls, type) and issubclass(cls, CloudflareImagesStorage):
            found.append(alias)
    return found


def _check_storages(config: conf.Config) -> list[checks.CheckMessage]:
    from django.core.files.storage import storages  # noqa: PLC0415

    problems: list[checks.CheckMessage] = []
    aliases = _cloudflare_aliases()
    for alias in aliases:
        try:
            storage = storages[alias]
            if not config.dev:
                storage._backend()  # type: ignore[attr-defined]  # reads OPTIONS > CFVARIANTS > environment
        except conf.ConfigurationError as exc:
            message = str(exc)
            if "1Password secret reference" in message:
                problems.append(_settings_error(message))
            else:
                problems.append(
                    checks.Error(
                        f"STORAGES[{alias!r}]: {message}",
                        hint="see cfvariants.django.storage for the OPTIONS",
                        id="cfvariants.E005",
                    )
                )
            continue
        except TypeError as exc:
            problems.append(checks.Error(f"STORAGES[{alias!r}]: {exc}", id="cfvariants.E005"))
            continue
        except ValueError as exc:  # a CFVariantsError from Delivery: bad hash or domain
            problems.append(checks.Error(str(exc), hint=f"check {conf.SETTING_NAME}", id="cfvariants.E002"))
            continue
        if not config.dev:
            problems += _check_credentials(alias, storage)
    if not config.dev and _uses_select_storage() and config.storage not in aliases:
        known = (getattr(django_settings, "STORAGES", None) or {}).keys()
        problems.append(
            checks.Error(
                f"select_storage() picks STORAGES[{config.storage!r}] outside development, but "
                + (
                    "it is not a CloudflareImagesStorage"
                    if config.storage in known
                    else "settings.STORAGES has no such entry"
                ),
                hint=f'add STORAGES[{config.storage!r}] = {{"BACKEND": "{_STORAGE_PATH}"}}, or name another alias in '
                f"{conf.SETTING_NAME}['STORAGE']",
                id="cfvariants.E004",
            )
        )
    return problems


def _check_credentials(alias: str, storage: Any) -> list[checks.CheckMessage]:
    options = getattr(storage, "_options", {})
    settings = conf.load(**{k: options.get(k) for k in ("account_id", "api_token", "signing_key")}).settings
    problems: list[checks.CheckMessage] = []
    if options.get("require_signed_urls") and settings.signing_key is None:
        problems.append(
            checks.Error(
                f"STORAGES[{alias!r}] stores private images (require_signed_urls=True), but no signing key is set: "
                "Cloudflare refuses their unsigned URLs, so no template could show them",
                hint=f"put CF_IMG_SIGNING_KEY in the environment or .env (or {conf.SETTING_NAME}['SIGNING_KEY'], or "
                "the storage's OPTIONS); the key is listed under Images > Keys",
                id="cfvariants.E009",
            )
        )
    missing = [name for name, value in (("CF_ACCT_ID", settings.account_id), ("CF_IMG_TOKEN", settings.api_token))
               if value is None]  # fmt: skip
    if missing:
        problems.append(
            checks.Error(
                f"STORAGES[{alias!r}] stores images on Cloudflare, but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set",
                hint=f"put {', '.join(missing)} in the environment or .env (or {conf.SETTING_NAME}['ACCOUNT_ID'] / "
                "['API_TOKEN']); for development set ENV_NAME=dev, which needs no credentials",
                id="cfvariants.E006",
            )
        )
    return problems


def _file_fields() -> Iterator[models.FileField]:
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                yield field


def _uses_select_storage() -> bool:
    from .storage import SelectedStorage  # noqa: PLC0415

    return any(isinstance(field.storage, SelectedStorage) for field in _file_fields())


# -- variants ------------------------------------------------------------------------------------------------------


def _check_variants_file(config: conf.Config) -> list[checks.CheckMessage]:
    if config.variants_file is None:
        return []
    from cfvariants.variants import VariantDeclarationError, load  # noqa: PLC0415

    try:
        load(config.variants_file)
    except VariantDeclarationError as exc:
        return [
            checks.Error(
                f"{conf.SETTING_NAME}['VARIANTS_FILE']: {exc}",
                hint="a TOML file of [variants.<name>] tables, e.g. [variants.avatar] fit='cover' width=240 height=240",
                id="cfvariants.E020",
            )
        ]
    return []


# -- background uploads --------------------------------------------------------------------------------------------


def _check_background(config: conf.Config) -> list[checks.CheckMessage]:
    from ._uploads import background_in_use  # noqa: PLC0415 - huey is imported only when background uploads are on

    if not background_in_use():
        return []
    problems: list[checks.CheckMessage] = []
    huey = getattr(django_settings, "HUEY", None)
    if huey is None or not apps.is_installed("huey.contrib.djhuey"):
        problems.append(
            checks.Error(
                "a Cloudflare storage has background=True, but huey is not set up for Django",
                hint="add 'huey.contrib.djhuey' to INSTALLED_APPS and set HUEY, e.g. HUEY = {'huey_class': "
                "'huey.SqliteHuey', 'filename': str(BASE_DIR / 'huey.db'), 'immediate': False}; then run "
                "`python manage.py run_huey`",
                id="cfvariants.E010",
            )
        )
        return problems
    if isinstance(huey, dict):
        if "huey_class" not in huey and importlib.util.find_spec("redis") is None:
            problems.append(
                checks.Error(
                    "HUEY names no huey_class, so djhuey would use Redis, and the redis package is not installed",
                    hint="set 'huey_class': 'huey.SqliteHuey' (one machine) or pip install 'cfvariants[redis]'",
                    id="cfvariants.E011",
                )
            )
        immediate = huey.get("immediate", django_settings.DEBUG)
    else:
        immediate = getattr(huey, "immediate", False)
    if immediate:
        problems.append(
            checks.Warning(
                "HUEY runs tasks inside the request (immediate mode"
                + (
                    ", which djhuey turns on when DEBUG is true and HUEY has no 'immediate' key)"
                    if isinstance(huey, dict) and "immediate" not in huey
                    else ")"
                )
                + ": each upload to Cloudflare would block the page that saved it",
                hint="set 'immediate': False in HUEY and run `python manage.py run_huey` next to the web server",
                id="cfvariants.W010",
            )
        )
    problems += _check_logging()
    if not _route_named("cfvariants:upload-preview", upload_id="0" * 32):
        problems.append(
            checks.Warning(
                "background uploads are on, but the preview route is not mounted: pages show no image until the "
                "worker has stored it",
                hint='add path("", include("cfvariants.django.urls")) to the root URLconf',
                id="cfvariants.W003",
            )
        )
    return problems


def _check_logging() -> list[checks.CheckMessage]:
    dropped = sorted(
        name
        for name in ("huey", "huey.consumer", "huey.api", "cfvariants", "cfvariants.uploads", "cfvariants.django")
        if _drops_errors(name)
    )
    if not dropped:
        return []
    return [
        checks.Warning(
            f"logging drops the errors of {', '.join(repr(name) for name in dropped)}: a failed upload would leave "
            "no trace in the worker's log",
            hint="LOGGING with 'disable_existing_loggers': False, or give those loggers a handler at ERROR or lower",
            id="cfvariants.W011",
        )
    ]


def _drops_errors(name: str) -> bool:
    existing = logging.root.manager.loggerDict.get(name)
    if not isinstance(existing, logging.Logger):
        return False
    logger: logging.Logger | None = existing
    while logger is not None:
        if logger.disabled:
            return True
        if logger.level and logger.level > logging.ERROR:
            return True
        if not logger.propagate:
            break
        logger = logger.parent
    return False


# -- development routes ------------------------------------------------------------------------------------------


def _route_named(view_name: str, **kwargs: str) -> bool:
    if not getattr(django_settings, "ROOT_URLCONF", None):
        return True
    try:
        reverse(view_name, kwargs=kwargs)
    except NoReverseMatch:
        return False
    return True


def _check_dev_routes() -> list[checks.CheckMessage]:
    """In development the pages show root-relative ``/cdn-cgi/imagedelivery/...`` URLs, which only load when the
    site serves them: ``path("", include("cfvariants.django.urls"))`` in the root URLconf."""
    if not getattr(django_settings, "ROOT_URLCONF", None):
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
