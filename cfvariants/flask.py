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

import os
import threading
import weakref
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from . import jinja
from ._config import FLASK, FLASK_PREFIX, AdapterConfig, check_keys, fields_of, load_config
from ._delivery import Delivery
from ._errors import SettingsError
from ._settings import ENV_NAMES, Settings
from ._templating import ImageFilters, OnError
from ._transformations import Transformations
from .client import AsyncImagesClient, ImagesClient

if TYPE_CHECKING:
    from .direct_uploads import DirectUploads
    from .emulator import TransformationServer
    from .local import LocalCloudflare

__all__ = ["CONFIG_PREFIX", "EXTENSION_KEY", "CFImages", "CFImagesState", "get_state"]

CONFIG_PREFIX = FLASK_PREFIX
"""The prefix of the extension's Flask config keys (``CFVARIANTS_ACCOUNT_HASH``...)."""
EXTENSION_KEY = "cfvariants"
"""The extension's key in ``app.extensions``."""
KEYS = tuple(FLASK.raw_key(field)[len(CONFIG_PREFIX) :] for field in fields_of(FLASK))


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
        env_name = app.config.get("ENV_NAME") or os.environ.get("ENV_NAME")
        config = load_config(_read_config(app), FLASK, default_dev=env_name == "dev")
        self.config: AdapterConfig = config
        """The validated configuration (``cfvariants``' one adapter model; secrets hidden in its repr)."""
        self.app_name = app.name
        self.dev: bool = bool(config.dev)
        self.placeholder: str | None = config.placeholder
        self.signed_expires_in: int | float | timedelta = config.signed_expires_in
        self._on_error: OnError | Callable[[], OnError] = _on_error(app, config.on_error)
        self.local: LocalCloudflare | None = None
        self.direct_uploads_config: object = config.direct_uploads
        self.direct_uploads: DirectUploads | None = None
        """Browser uploads straight to Cloudflare (``cfvariants.flask_direct``), when ``DIRECT_UPLOADS`` is set."""
        self._delivery: Delivery | None = None
        self._transformations: Transformations | None = config.transformations()
        self._transform_roots = config.transform_roots
        self._transform_origins = config.transform_origins
        self._client: ImagesClient | None = None
        self._lock = threading.Lock()
        if self.dev:
            from .local import LocalCloudflare  # noqa: PLC0415 - the emulator is needed only in development

            self.local = LocalCloudflare.open(config.data_dir or Path(app.instance_path) / "cfimages")
            self.settings = self.local.settings
            self._delivery = self.local.delivery
        else:
            self.settings = config.cloudflare
            if self.settings.account_hash:
                self._delivery = _checked_delivery(self.settings)

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
    """The ``CFVARIANTS_*`` keys of ``app.config`` by field name; an unknown one is an error naming the closest."""
    given = {key: value for key, value in app.config.items() if key.startswith(CONFIG_PREFIX)}
    check_keys(given, FLASK)
    return {key[len(CONFIG_PREFIX) :].lower(): value for key, value in given.items()}


def _on_error(app: Flask, value: OnError | None) -> OnError | Callable[[], OnError]:
    if value is not None:
        return value

    def by_mode() -> OnError:
        return "raise" if app.debug or app.testing else "fallback"

    return by_mode


def _checked_delivery(settings: Settings) -> Delivery:
    try:
        return Delivery.from_settings(settings)
    except SettingsError:
        raise
    except ValueError as exc:  # a CFVariantsError from Delivery: a bad hash or domain
        raise SettingsError(f"{exc} (check {CONFIG_PREFIX}ACCOUNT_HASH / {CONFIG_PREFIX}DOMAIN)") from None
