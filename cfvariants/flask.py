"""Flask extension: ``CFImages(app)`` or ``CFImages().init_app(app)`` in an app factory.

It reads ``CFVARIANTS_*`` keys from ``app.config`` (falling back to the environment and ``.env``: ``CF_ACCT_ID``,
``CF_IMG_TOKEN``, ``CF_IMG_HASH``, ``CF_IMG_SIGNING_KEY``, ``CF_IMG_DOMAIN``, ``CF_API_BASE``), registers the Jinja
filters (``variant``, ``signed_variant``, ``srcset``, ``cf_img``, ``cf_picture``, ``cf_preload``;
``cfvariants.jinja``) on ``app.jinja_env``, and keeps its state in ``app.extensions["cfvariants"]`` (a
``CFImagesState``: ``.delivery``, ``.client``, ``.filters``, ``.local``).

========================== ================================================================================
key                        meaning
========================== ================================================================================
CFVARIANTS_ACCOUNT_ID      API account id (``CF_ACCT_ID``)
CFVARIANTS_API_TOKEN       API token (``CF_IMG_TOKEN``; secret)
CFVARIANTS_ACCOUNT_HASH    the account hash in delivery URLs (``CF_IMG_HASH``)
CFVARIANTS_SIGNING_KEY     URL-signing key (``CF_IMG_SIGNING_KEY``; secret)
CFVARIANTS_DOMAIN          custom delivery domain (``CF_IMG_DOMAIN``)
CFVARIANTS_ZONE            the site's zone for Image Transformations of images outside Cloudflare Images
                           (``CF_IMG_ZONE``); in development ``/``
CFVARIANTS_TRANSFORM_DEFAULTS  options under every Image Transformations URL, e.g. ``"f=auto"`` (AVIF/WebP)
CFVARIANTS_TRANSFORM_ROOTS development: more URL prefixes -> directories the ``/cdn-cgi/image/`` route may read
                           (e.g. ``{"/uploads/": app.config["UPLOAD_FOLDER"]}``); the static folder always is
CFVARIANTS_TRANSFORM_ORIGINS  development: ``https://host`` origins whose images the route may fetch (none)
CFVARIANTS_API_BASE        API base URL (``CF_API_BASE``)
CFVARIANTS_DEV             development on the local emulator; default: ``ENV_NAME == "dev"`` (``app.config``,
                           else the environment)
CFVARIANTS_DATA_DIR        the emulator's data directory in development (default ``<instance_path>/cfimages``)
CFVARIANTS_ON_ERROR        ``"raise"`` or ``"fallback"`` for bad template options; default: raise when
                           ``app.debug`` or ``app.testing``, fall back otherwise
CFVARIANTS_PLACEHOLDER     image URL rendered for a missing image
CFVARIANTS_SIGNED_EXPIRES_IN  lifetime of ``signed_variant`` URLs, seconds or a timedelta (default 3600)
CFVARIANTS_DIRECT_UPLOADS  ``True`` or a dict: browser uploads straight to Cloudflare (``cfvariants.flask_direct``)
========================== ================================================================================

In development the app needs no account: the emulator runs in process on ``CFVARIANTS_DATA_DIR``; the app's
client talks to it without a socket, delivery URLs are root-relative (``/cdn-cgi/imagedelivery/...``) and the
app itself serves them (and the emulator's API under ``/client/v4/``), on any host and port. Images outside
Cloudflare Images (static files, uploads kept on disk) get root-relative ``/cdn-cgi/image/...`` URLs, served by the
emulator's transformation route from the static folder and ``CFVARIANTS_TRANSFORM_ROOTS`` only.
"""

from __future__ import annotations

import difflib
import os
import threading
import weakref
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from . import jinja
from .client import AsyncImagesClient, ImagesClient
from .delivery import Delivery
from .errors import SettingsError
from .settings import ENV_NAMES, Settings
from .templating import DEFAULT_SIGNED_EXPIRES_IN, ON_ERROR_CHOICES, ImageFilters, OnError
from .transformations import Transformations
from .urls import SAME_SITE

if TYPE_CHECKING:
    from .direct_uploads import DirectUploads
    from .emulator import TransformationServer
    from .local import LocalCloudflare

__all__ = ["CONFIG_PREFIX", "EXTENSION_KEY", "CFImages", "CFImagesState", "get_state"]

CONFIG_PREFIX = "CFVARIANTS_"
EXTENSION_KEY = "cfvariants"
_SETTINGS_KEYS = ("ACCOUNT_ID", "API_TOKEN", "ACCOUNT_HASH", "SIGNING_KEY", "DOMAIN", "ZONE", "API_BASE")
_OTHER_KEYS = (
    "DEV", "DATA_DIR", "ON_ERROR", "PLACEHOLDER", "SIGNED_EXPIRES_IN", "TRANSFORM_DEFAULTS", "TRANSFORM_ROOTS",
    "TRANSFORM_ORIGINS", "DIRECT_UPLOADS",
)  # fmt: skip
KEYS = _SETTINGS_KEYS + _OTHER_KEYS


class CFImages:
    """The extension object. It keeps nothing per app: ``init_app`` may be called for any number of apps."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> CFImagesState:
        """Read the configuration, register the Jinja filters, and in development mount the emulator."""
        state = CFImagesState(app)
        app.extensions[EXTENSION_KEY] = state
        state.filters = jinja.install(
            app.jinja_env, state._delivery_for_templates, on_error=state._on_error, placeholder=state.placeholder,
            signed_expires_in=state.signed_expires_in, transformations=state._transformations_for_templates,
        )  # fmt: skip
        if state.local is not None:
            from .local import LocalCloudflareMiddleware  # noqa: PLC0415 - the emulator only in development

            wrapped: Any = app.wsgi_app
            while isinstance(wrapped, LocalCloudflareMiddleware):  # init_app again: replace, never stack
                wrapped = wrapped.app
            from .emulator import TransformationsMiddleware  # noqa: PLC0415

            while isinstance(wrapped, TransformationsMiddleware):
                wrapped = wrapped.app
            with_transformations = state.transformation_server(app).middleware(wrapped)
            app.wsgi_app = state.local.middleware(with_transformations, api=True)  # type: ignore[method-assign]
        if state.direct_uploads_config:
            from .flask_direct import install  # noqa: PLC0415 - direct uploads only when switched on

            install(app, state, state.direct_uploads_config)
        return state

    @staticmethod
    def state(app: Flask | None = None) -> CFImagesState:
        """The ``CFImagesState`` of ``app`` (default: the current app)."""
        return get_state(app)


def get_state(app: Flask | None = None) -> CFImagesState:
    """``app.extensions["cfvariants"]`` of ``app`` (default: the current app), or a clear error."""
    app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, CFImagesState):
        raise SettingsError(f"cfvariants is not set up on app {app.name!r}: call CFImages(app) or init_app(app)")
    return state


class CFImagesState:
    """What ``init_app`` set up for one app (``app.extensions["cfvariants"]``).

    ``delivery``: the ``Delivery`` every URL is built with. ``client``: one ``ImagesClient`` per app, made on
    first use and closed when the app goes away or the process exits (not per request). ``async_client()``: a
    new ``AsyncImagesClient`` (close it yourself). ``filters``: the ``ImageFilters`` behind the Jinja filters.
    ``local``: the ``LocalCloudflare`` in development, else ``None``. ``settings``: the resolved ``Settings``
    (secrets hidden in its repr).
    """

    filters: ImageFilters

    def __init__(self, app: Flask) -> None:
        config = _read_config(app)
        self.app_name = app.name
        self.dev: bool = _dev_flag(app, config.get("DEV"))
        self.placeholder: str | None = _placeholder(config.get("PLACEHOLDER"))
        self.signed_expires_in: int | float | timedelta = _expires_in(config.get("SIGNED_EXPIRES_IN"))
        self._on_error: OnError | Callable[[], OnError] = _on_error(app, config.get("ON_ERROR"))
        self.local: LocalCloudflare | None = None
        self.direct_uploads_config: object = config.get("DIRECT_UPLOADS")
        self.direct_uploads: DirectUploads | None = None
        """Browser uploads straight to Cloudflare (``cfvariants.flask_direct``), when ``DIRECT_UPLOADS`` is set."""
        self._delivery: Delivery | None = None
        self._transformations: Transformations | None = None
        self._transform_roots = _roots(config.get("TRANSFORM_ROOTS"))
        self._transform_origins = _origins(config.get("TRANSFORM_ORIGINS"))
        defaults = config.get("TRANSFORM_DEFAULTS") or None
        self._client: ImagesClient | None = None
        self._lock = threading.Lock()
        if self.dev:
            from .local import LocalCloudflare  # noqa: PLC0415 - the emulator is needed only in development

            data_dir = config.get("DATA_DIR") or Path(app.instance_path) / "cfimages"
            if not isinstance(data_dir, str | os.PathLike):
                raise SettingsError(f"{CONFIG_PREFIX}DATA_DIR must be a directory path, not {data_dir!r}")
            self.local = LocalCloudflare.open(data_dir)
            self.settings = self.local.settings
            self._delivery = self.local.delivery
            self._transformations = _transformations(SAME_SITE, defaults)
        else:
            overrides = {key.lower(): config[key] for key in _SETTINGS_KEYS if config.get(key) is not None}
            try:
                self.settings = Settings.load(**overrides)
            except SettingsError as exc:
                raise SettingsError(f"{exc} (from app.config {CONFIG_PREFIX}* or the environment)") from None
            if self.settings.account_hash:
                self._delivery = _checked_delivery(self.settings)
            if self.settings.zone:
                self._transformations = _transformations(self.settings.zone, defaults)
            elif defaults is not None:
                _transformations(SAME_SITE, defaults)  # a bad value fails now, not on the first page

    # -- delivery and clients -----------------------------------------------------------------------------------

    @property
    def delivery(self) -> Delivery:
        """The ``Delivery`` of this app; a ``SettingsError`` naming the keys when no account hash is configured."""
        if self._delivery is None:
            raise SettingsError(
                f"no Cloudflare Images account hash: set {CONFIG_PREFIX}ACCOUNT_HASH in app.config or "
                f"{ENV_NAMES['account_hash']} in the environment (or {CONFIG_PREFIX}DEV=True for the local emulator)"
            )
        return self._delivery

    def _delivery_for_templates(self) -> Delivery:
        return self.delivery

    @property
    def transformations(self) -> Transformations | None:
        """Image Transformations for images outside Cloudflare Images (``None`` without a zone)."""
        return self._transformations

    def _transformations_for_templates(self) -> Transformations | None:
        return self._transformations

    def transformation_server(self, app: Flask) -> TransformationServer:
        """The development ``TransformationServer`` of ``app``: its static folder and ``TRANSFORM_ROOTS``."""
        from .emulator import TransformationServer  # noqa: PLC0415 - development only

        roots = dict(self._transform_roots)
        if app.static_folder and app.static_url_path is not None:
            roots.setdefault(app.static_url_path.rstrip("/") + "/", app.static_folder)
        return TransformationServer(roots, allowed_origins=self._transform_origins)

    @property
    def client(self) -> ImagesClient:
        """This app's ``ImagesClient`` (in development: in process, against the local emulator)."""
        client = self._client
        if client is None:
            with self._lock:
                client = self._client
                if client is None:
                    client = self._client = self._new_client()
                    weakref.finalize(self, client.close)  # at garbage collection or interpreter exit
        return client

    def _new_client(self) -> ImagesClient:
        if self.local is not None:
            return self.local.client()
        try:
            return ImagesClient.from_settings(self.settings, delivery=self._delivery)
        except SettingsError as exc:
            raise SettingsError(f"{exc} (or set it as {CONFIG_PREFIX}* in app.config)") from None

    def async_client(self, **overrides: Any) -> AsyncImagesClient:
        """A new ``AsyncImagesClient`` for this app (``async with state.async_client() as api: ...``)."""
        if self.local is not None:
            return self.local.async_client(**overrides)
        overrides.setdefault("delivery", self._delivery)
        return AsyncImagesClient.from_settings(self.settings, **overrides)

    def close(self) -> None:
        """Close the client now (it is also closed when the app is garbage-collected or the process exits)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        where = f"local={self.local!r}" if self.local is not None else f"delivery={self._delivery!r}"
        return f"CFImagesState(app={self.app_name!r}, dev={self.dev}, {where})"


# -- configuration ------------------------------------------------------------------------------------------------


def _read_config(app: Flask) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in app.config.items():
        if not key.startswith(CONFIG_PREFIX):
            continue
        name = key[len(CONFIG_PREFIX) :]
        if name not in KEYS:
            close = difflib.get_close_matches(name, KEYS, n=1)
            hint = f" (did you mean {CONFIG_PREFIX}{close[0]}?)" if close else ""
            raise SettingsError(
                f"app.config has an unknown key {key!r}{hint}; known: {', '.join(CONFIG_PREFIX + k for k in KEYS)}"
            )
        if value is not None:
            values[name] = value
    return values


def _transformations(zone: str, defaults: Any) -> Transformations:
    try:
        return Transformations(zone, defaults=defaults)
    except ValueError as exc:
        raise SettingsError(f"{exc} (check {CONFIG_PREFIX}ZONE and {CONFIG_PREFIX}TRANSFORM_DEFAULTS)") from None


def _roots(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k.startswith("/") and isinstance(v, str | os.PathLike) for k, v in value.items()
    ):
        raise SettingsError(
            f"{CONFIG_PREFIX}TRANSFORM_ROOTS must map URL prefixes to directories, like {{'/uploads/': '/srv/up'}}"
        )
    return {k: os.fspath(v) for k, v in value.items()}


def _origins(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(item, str) for item in value):
        raise SettingsError(f"{CONFIG_PREFIX}TRANSFORM_ORIGINS must be a list of origins like ['https://cdn.example']")
    return tuple(value)


def _dev_flag(app: Flask, value: object) -> bool:
    if value is None:
        env_name = app.config.get("ENV_NAME") or os.environ.get("ENV_NAME")
        return env_name == "dev"
    if not isinstance(value, bool):
        raise SettingsError(f"{CONFIG_PREFIX}DEV must be True or False, not {value!r}")
    return value


def _on_error(app: Flask, value: object) -> OnError | Callable[[], OnError]:
    if value is None:

        def by_mode() -> OnError:
            return "raise" if app.debug or app.testing else "fallback"

        return by_mode
    if value not in ON_ERROR_CHOICES:
        raise SettingsError(f"{CONFIG_PREFIX}ON_ERROR must be 'raise' or 'fallback', not {value!r}")
    return value


def _placeholder(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{CONFIG_PREFIX}PLACEHOLDER must be an image URL (str), not {type(value).__name__}")
    return value


def _expires_in(value: object) -> int | float | timedelta:
    if value is None:
        return DEFAULT_SIGNED_EXPIRES_IN
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise SettingsError(f"{CONFIG_PREFIX}SIGNED_EXPIRES_IN must be seconds or a timedelta, not {value!r}")
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if seconds <= 0:
        raise SettingsError(f"{CONFIG_PREFIX}SIGNED_EXPIRES_IN must be positive, not {value!r}")
    return value


def _checked_delivery(settings: Settings) -> Delivery:
    try:
        return Delivery.from_settings(settings)
    except SettingsError:
        raise
    except ValueError as exc:  # a CFVariantsError from Delivery: a bad hash or domain
        raise SettingsError(f"{exc} (check {CONFIG_PREFIX}ACCOUNT_HASH / {CONFIG_PREFIX}DOMAIN)") from None
