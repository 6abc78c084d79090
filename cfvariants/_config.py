"""One configuration model for every adapter: Django, Flask, the CLI and the environment map onto it.

Each front end reads its own source (``settings.CFVARIANTS``, ``app.config``, command-line options, the
environment) into a dict keyed by field name, and ``load_config`` validates it once, with one set of messages
that name the bad key as that source spells it::

    CFVARIANTS['ON_ERROR'] must be 'raise' or 'fallback', not 'ignore'          (Django)
    app.config['CFVARIANTS_ON_ERROR'] must be 'raise' or 'fallback', not 'ignore'  (Flask)
    --account-hash ...                                                         (the CLI)
    CF_IMG_HASH ...                                                            (the environment, .env)

A value the source did not give falls back to the environment and ``.env`` (``cfvariants.Settings``),
and a problem with it is named by its environment variable. Secrets (``API_TOKEN``, ``SIGNING_KEY``) are
``SecretStr``: never in a repr, and no message repeats any value of a secret.

``settings_table()`` lists every setting (its name in each source, type, default and meaning) from the model
itself, for the documentation's configuration table.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo

from ._errors import CFVariantsError, SettingsError
from ._options import Options
from ._settings import ENV_NAMES, Settings, settings_error
from ._templating import DEFAULT_SIGNED_EXPIRES_IN, ON_ERROR_CHOICES, OnError
from ._transformations import Transformations
from ._urls import SAME_SITE

FLASK_PREFIX = "CFVARIANTS_"
CLOUDFLARE_FIELDS = tuple(ENV_NAMES)  # the fields of cfvariants.Settings, with an environment variable
_CLI_OPTIONS = {
    "account_id": "--account-id",
    "api_token": "--token",
    "account_hash": "--account-hash",
    "signing_key": "--signing-key",
    "domain": "--domain",
    "zone": "--zone",
    "api_base": "--api-base",
}
_CLOUDFLARE_MEANINGS = {
    "account_id": "API account id",
    "api_token": "API token (secret)",
    "account_hash": "the account hash in delivery URLs",
    "signing_key": "key that signs URLs of private images (secret)",
    "domain": "custom delivery domain instead of imagedelivery.net (may be http://127.0.0.1:8000)",
    "zone": "the site's zone for Image Transformations of images outside Cloudflare Images; '/' for root-relative",
    "api_base": "API base URL, e.g. a local emulator's",
}
_SECRETS = frozenset({"api_token", "signing_key"})


@dataclass(frozen=True, slots=True)
class Source:
    """Where values come from, and how that source spells a key (``name``: ``django``, ``options``, ``flask``,
    ``cli`` or ``env``)."""

    name: str
    container: str  # what holds the keys, for "has an unknown key" messages

    def key(self, field: str) -> str:
        """``field`` as this source spells it: ``CFVARIANTS['ACCOUNT_HASH']``, ``--account-hash``..."""
        if self.name == "django":
            return f"CFVARIANTS['{field.upper()}']"
        if self.name == "options":
            return f"OPTIONS['{field}']"
        if self.name == "flask":
            return f"app.config['{FLASK_PREFIX}{field.upper()}']"
        if self.name == "cli":
            return _CLI_OPTIONS.get(field, "--" + field.replace("_", "-"))
        return ENV_NAMES.get(field, field.upper())

    def raw_key(self, field: str) -> str:
        """The bare key (``ACCOUNT_HASH``, ``CFVARIANTS_ACCOUNT_HASH``, ``account_hash``) of ``field``."""
        if self.name == "django":
            return field.upper()
        if self.name == "flask":
            return FLASK_PREFIX + field.upper()
        if self.name == "cli":
            return self.key(field)
        if self.name == "env":
            return ENV_NAMES.get(field, field.upper())
        return field


DJANGO = Source("django", "settings.CFVARIANTS")
OPTIONS = Source("options", "the storage's OPTIONS")
FLASK = Source("flask", "app.config")
CLI = Source("cli", "the command line")
ENV = Source("env", "the environment")
SOURCES = {source.name: source for source in (DJANGO, OPTIONS, FLASK, CLI, ENV)}


def _meta(meaning: str, *sources: str, default: str | None = None) -> dict[str, Any]:
    return {"description": meaning, "json_schema_extra": {"sources": list(sources), "shown_default": default}}


class AdapterConfig(BaseModel):
    """What the adapters (Django, Flask) read besides the Cloudflare values: those are ``cloudflare``, a
    ``cfvariants.Settings``. A field left ``None`` is decided by the adapter (``dev``: ``ENV_NAME ==
    "dev"``; ``on_error``: raise in debug and tests, fall back otherwise; directories: under the app's own)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True)

    cloudflare: Settings = Field(default_factory=Settings.model_construct, exclude=True)
    dev: bool | None = Field(
        None, **_meta("development: the local emulator instead of Cloudflare", "django", "flask",
                      default='ENV_NAME == "dev"'),
    )  # fmt: skip
    data_dir: Path | None = Field(
        None, **_meta("the emulator's data directory in development", "django", "flask",
                      default="<MEDIA_ROOT>/cfimages (Django), <instance_path>/cfimages (Flask)"),
    )  # fmt: skip
    on_error: OnError | None = Field(
        None, **_meta("'raise' or 'fallback' for a template value that cannot give a URL", "django", "flask",
                      default="raise in debug and tests, fallback otherwise"),
    )  # fmt: skip
    placeholder: str | None = Field(
        None, **_meta("image URL rendered for a missing image (Django: a relative path goes through static())",
                      "django", "flask"),
    )  # fmt: skip
    signed_expires_in: int | float | timedelta = Field(
        DEFAULT_SIGNED_EXPIRES_IN, **_meta("lifetime of signed URLs: seconds or a timedelta", "django", "flask")
    )
    transform_defaults: Options | None = Field(
        None, **_meta("options under every Image Transformations URL, e.g. 'f=auto'", "django", "flask")
    )
    transform_roots: dict[str, str] = Field(
        default_factory=dict,
        **_meta("development: more URL prefixes -> directories the /cdn-cgi/image/ route may read", "flask",
                default="{} (the static folder always is)"),
    )  # fmt: skip
    transform_origins: tuple[str, ...] = Field(
        (), **_meta("development: https://host origins whose images the /cdn-cgi/image/ route may fetch", "flask")
    )
    direct_uploads: Any = Field(
        None, **_meta("True or a dict: browser uploads straight to Cloudflare (cfvariants.flask_direct)", "flask")
    )
    storage: str = Field(
        "cloudflare_images", **_meta("the STORAGES alias select_storage() uses outside development", "django")
    )
    variants_file: Path | None = Field(
        None, **_meta("a variants.toml declaring the named variants (applied in development and by "
                      "manage.py cfvariants_variants)", "django"),
    )  # fmt: skip
    uploads_dir: Path | None = Field(
        None, **_meta("where background uploads are staged until stored", "django", default="<MEDIA_ROOT>/cfuploads")
    )
    uploads_url: str | None = Field(
        None, **_meta("redis://...: stage background uploads in Redis, for workers on other machines", "django")
    )

    @field_validator("dev", mode="plain")
    @classmethod
    def _bool(cls, value: object) -> bool | None:
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"must be True or False, not {value!r}")
        return value

    @field_validator("data_dir", "variants_file", "uploads_dir", mode="plain")
    @classmethod
    def _path(cls, value: object) -> Path | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str | os.PathLike) or not os.fspath(value):
            raise ValueError(f"must be a path, not {value!r}")
        return Path(value)

    @field_validator("on_error", mode="plain")
    @classmethod
    def _on_error(cls, value: object) -> OnError | None:
        if value is not None and value not in ON_ERROR_CHOICES:
            raise ValueError(f"must be 'raise' or 'fallback', not {value!r}")
        return value

    @field_validator("placeholder", mode="plain")
    @classmethod
    def _placeholder(cls, value: object) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError(f"must be an image URL or a static path (str), not {type(value).__name__}")
        return value

    @field_validator("signed_expires_in", mode="plain")
    @classmethod
    def _expires_in(cls, value: object) -> int | float | timedelta:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | timedelta)
            or (value.total_seconds() if isinstance(value, timedelta) else value) <= 0
        ):
            raise ValueError(f"must be positive seconds or a timedelta, not {value!r}")
        return value

    @field_validator("transform_defaults", mode="plain")
    @classmethod
    def _defaults(cls, value: object) -> Options | None:
        if value is None or value == "":
            return None
        try:
            return Transformations(SAME_SITE, defaults=value).defaults  # type: ignore[arg-type]  # checked there
        except (CFVariantsError, TypeError) as exc:
            raise ValueError(f": {exc}") from None

    @field_validator("transform_roots", mode="plain")
    @classmethod
    def _roots(cls, value: object) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and k.startswith("/") and isinstance(v, str | os.PathLike) for k, v in value.items()
        ):
            raise ValueError("must map URL prefixes to directories, like {'/uploads/': '/srv/up'}")
        return {k: os.fspath(v) for k, v in value.items()}

    @field_validator("transform_origins", mode="plain")
    @classmethod
    def _origins(cls, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(item, str) for item in value):
            raise ValueError("must be a list of origins like ['https://cdn.example']")
        return tuple(value)

    @field_validator("storage", mode="plain")
    @classmethod
    def _storage(cls, value: object) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError(f"must be a STORAGES alias (str), not {value!r}")
        return value

    @field_validator("uploads_url", mode="plain")
    @classmethod
    def _uploads_url(cls, value: object) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or "://" not in value:
            raise ValueError("must be a redis://... URL (str)")
        return value

    def transformations(self) -> Transformations | None:
        """Image Transformations on the configured zone (root-relative in development), ``None`` without one."""
        if self.dev:
            return Transformations(SAME_SITE, defaults=self.transform_defaults)
        zone = self.cloudflare.zone
        return Transformations(zone, defaults=self.transform_defaults) if zone else None


def fields_of(source: Source) -> tuple[str, ...]:
    """The field names ``source`` may set, in table order (a Django storage's ``OPTIONS``: those of Django)."""
    name = "django" if source is OPTIONS else source.name
    return tuple(row.field for row in settings_table() if name in row.sources)


def check_keys(given: Iterable[str], source: Source) -> None:
    """Refuse a key ``source`` does not have (a typo must not fall back silently), suggesting the closest."""
    known = [source.raw_key(field) for field in fields_of(source)]
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SettingsError(f"{source.container} has an unknown key {key!r}{hint}; known: {', '.join(known)}")


def load_config(
    values: Mapping[str, Any],
    source: Source,
    *,
    default_dev: bool = False,
    env_file: str | None = None,
    given_by: Mapping[str, Source] | None = None,
    check_zone: bool = True,
) -> AdapterConfig:
    """Validate ``values`` (field name -> value from ``source``; ``None`` is absent) into an ``AdapterConfig``.

    ``dev`` not given is ``default_dev``. The Cloudflare values not given fall back to the environment and
    ``.env`` (``env_file`` instead of ``./.env``); in development none is read: the local emulator has its own
    account. ``given_by`` names another source for some fields (a Django storage's ``OPTIONS`` over
    ``settings.CFVARIANTS``). ``check_zone``: build the zone's Image Transformations now (the adapters render
    with it; the CLI only for ``url``). Raises a ``SettingsError`` naming each bad key as its source spells it,
    without the value of a secret."""
    given = {name: value for name, value in values.items() if value is not None}
    where = {name: (given_by or {}).get(name, source) for name in given}
    dev = given.pop("dev", None)
    if dev is None:
        dev = default_dev
    elif not isinstance(dev, bool):
        raise SettingsError(f"{where['dev'].key('dev')} must be True or False, not {dev!r}")
    cloudflare = {name: given.pop(name) for name in CLOUDFLARE_FIELDS if name in given}
    if dev:
        settings = Settings.model_construct()
    else:
        overrides: dict[str, Any] = dict(cloudflare)
        if env_file is not None:
            overrides["_env_file"] = env_file
        try:
            settings = Settings(**overrides)
        except ValidationError as exc:
            raise _error(exc, where) from None
        except UnicodeDecodeError as exc:
            raise SettingsError(
                f"{env_file or '.env'} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                "save it as UTF-8"
            ) from None
    try:
        config = AdapterConfig(cloudflare=settings, dev=dev, **given)
    except ValidationError as exc:
        raise _error(exc, where) from None
    if check_zone and not dev and settings.zone:
        try:
            config.transformations()
        except ValueError as exc:  # a CFVariantsError from Transformations: the zone is not a host or '/'
            raise SettingsError(f"{_name('zone', where)}: {exc}") from None
    return config


def _name(field: str, where: Mapping[str, Source]) -> str:
    """The key of ``field`` where its value came from: its source's spelling, else its environment variable."""
    return where.get(field, ENV).key(field)


def _error(exc: ValidationError, where: Mapping[str, Source]) -> SettingsError:
    return settings_error(exc, lambda field: _name(field, where))


@dataclass(frozen=True, slots=True)
class SettingRow:
    """One setting, for the configuration table: its key in each source (``None``: that source has none)."""

    field: str
    env: str | None
    django: str | None
    flask: str | None
    cli: str | None
    type: str
    default: str
    meaning: str
    secret: bool
    sources: tuple[str, ...]


def settings_table() -> list[SettingRow]:
    """Every setting of every adapter, read from the models: the Cloudflare values first, then the others."""
    rows = []
    for field, info in Settings.model_fields.items():
        keys = {"env": ENV_NAMES[field], "django": DJANGO.raw_key(field), "flask": FLASK.raw_key(field)}
        default = "" if info.default is None else str(info.default)
        rows.append(
            SettingRow(field, **keys, cli=_CLI_OPTIONS[field], type=_type_name(info), default=default,
                       meaning=_CLOUDFLARE_MEANINGS[field], secret=field in _SECRETS,
                       sources=("env", "django", "flask", "cli"))
        )  # fmt: skip
    for field, info in AdapterConfig.model_fields.items():
        if field == "cloudflare":
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        sources = tuple(str(name) for name in extra.get("sources", []))  # type: ignore[union-attr]
        shown = extra.get("shown_default")
        default = str(shown) if shown is not None else ("" if info.default in (None, (), {}) else str(info.default))
        django = DJANGO.raw_key(field) if "django" in sources else None
        flask = FLASK.raw_key(field) if "flask" in sources else None
        rows.append(
            SettingRow(field, env=None, django=django, flask=flask, cli=None, type=_type_name(info),
                       default=str(default), meaning=info.description or "", secret=False, sources=sources)
        )  # fmt: skip
    return rows


def _type_name(info: FieldInfo) -> str:
    text = str(info.annotation).replace("typing.", "").replace("datetime.", "").replace("pathlib.", "")
    text = text.replace("pydantic.types.", "").replace("cfvariants.", "")  # Options: its module is cfvariants
    return text.replace("NoneType", "None").replace("<class '", "").replace("'>", "")
