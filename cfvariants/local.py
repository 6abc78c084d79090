"""``LocalCloudflare``: the local emulator wired into an app for development, the same way for every framework.

Development should take the production code path, only pointed somewhere else. ``LocalCloudflare(data_dir)``
opens an ``Emulator`` on a local data directory and hands out what production code reads from Cloudflare
settings:

* ``client()`` / ``async_client()``: an ``ImagesClient`` / ``AsyncImagesClient`` talking to the emulator in
  process (no socket);
* ``delivery``: a ``Delivery`` building root-relative URLs (``/cdn-cgi/imagedelivery/<hash>/<id>/<variant>``)
  that the app itself serves, on any host and port, signed with the emulator's key;
* ``middleware(app)``: WSGI middleware sending ``/cdn-cgi/imagedelivery/...`` (and with ``api=True`` the REST API
  and direct-upload URLs) to the emulator and everything else to ``app``, paths untouched. The REST API is
  guarded only by the emulator's well-known dev token, so it answers requests from this machine only (a 403
  that says why to others), unless ``CFVARIANTS_EMULATOR_API_PUBLIC=1`` asks for more;
* ``settings``: the equivalent ``cfvariants.Settings``.

``LocalCloudflare.open(data_dir)`` reuses one instance per data directory within a process (a Django storage,
the template tags and a Flask app all get the same one). Several processes (a web server and its background
workers) may open the same directory at once: the emulator keeps its records in SQLite in WAL mode and its files
are written atomically, so nothing here is per-process state.

Imports nothing from Django or Flask; it needs the ``emulator`` extra (Pillow, werkzeug).
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import httpx
from pydantic import SecretStr

from ._delivery import Delivery
from ._settings import Settings
from ._urls import DOMAIN_PREFIX, SAME_SITE
from .client import AsyncImagesClient, ImagesClient, RetryPolicy
from .emulator import (
    DEV_ACCOUNT_HASH,
    DEV_ACCOUNT_ID,
    DEV_API_TOKEN,
    DEV_SIGNING_KEY,
    DeliveryResponse,
    Emulator,
    EmulatorApp,
    EmulatorConfig,
    create_app,
    request_path,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["EMULATOR_API_PUBLIC", "LOCAL_ORIGIN", "LocalCloudflare", "LocalCloudflareMiddleware", "is_loopback"]

LOCAL_ORIGIN = "http://cfimages.localhost"
"""The origin the in-process clients use for the emulator (``.localhost`` never leaves the machine)."""

EMULATOR_API_PUBLIC = "CFVARIANTS_EMULATOR_API_PUBLIC"
"""Set to ``1`` to let the emulator's REST API answer other machines too (development on a shared network)."""

_DELIVERY_PATH = DOMAIN_PREFIX + "/"  # "/cdn-cgi/imagedelivery/"
_REST_API_PATH = "/client/v4/"
_API_PATHS = (_REST_API_PATH, "/upload/")  # direct-upload URLs are one-time capabilities: any client may use them
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


class LocalCloudflare:
    """A local Cloudflare Images account for development, stored in ``data_dir``.

    ``account_id``, ``account_hash``, ``api_token`` and ``signing_key`` default to the emulator's stable dev
    values (they are not secrets; see ``cfvariants.emulator.EmulatorConfig``). Prefer
    ``LocalCloudflare.open(data_dir)``, which shares one instance per directory within the process.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        account_id: str = DEV_ACCOUNT_ID,
        account_hash: str = DEV_ACCOUNT_HASH,
        api_token: str = DEV_API_TOKEN,
        signing_key: str = DEV_SIGNING_KEY,
    ) -> None:
        config = EmulatorConfig(
            data_dir=Path(data_dir), account_id=account_id, account_hash=account_hash, api_token=api_token,
            signing_key=signing_key, dev_mode=True, base_url=SAME_SITE,
        )  # fmt: skip
        self._identity = (account_id, account_hash, api_token, signing_key)
        self.emulator: Emulator = Emulator(config)
        self.app: EmulatorApp = create_app(self.emulator)
        keys = self.emulator.list_signing_keys()
        default = next((key for key in keys if key.name == "default"), keys[0] if keys else None)
        self._signing_key = default.value if default is not None else None
        self.delivery: Delivery = Delivery(account_hash, domain=SAME_SITE, signing_key=self._signing_key)
        """Root-relative delivery URLs, served by whatever app mounts ``middleware`` (or the Django URLconf),
        signed with the emulator's ``default`` key as it was when this object was opened."""

    # -- one per data directory ---------------------------------------------------------------------------------

    _opened: dict[Path, LocalCloudflare] = {}  # noqa: RUF012 - the process-wide registry, guarded by _lock
    _lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str], **account: str) -> LocalCloudflare:
        """The process's ``LocalCloudflare`` for ``data_dir`` (opened on first use). Asking again with different
        account values (``account_hash=``...) is an error rather than a second, disagreeing account."""
        key = Path(data_dir).expanduser().resolve()
        with cls._lock:
            local = cls._opened.get(key)
            if local is None:
                local = cls._opened[key] = cls(key, **account)
                return local
        requested = (
            account.get("account_id", DEV_ACCOUNT_ID),
            account.get("account_hash", DEV_ACCOUNT_HASH),
            account.get("api_token", DEV_API_TOKEN),
            account.get("signing_key", DEV_SIGNING_KEY),
        )
        if requested != local._identity:
            raise ValueError(
                f"{key} is already open in this process with other account values; one data directory is one "
                "account (use another directory for another account)"
            )
        return local

    def close(self) -> None:
        """Close the emulator's database connections and forget this instance (``open`` makes a new one)."""
        with self._lock:
            key = self.data_dir.resolve()
            if self._opened.get(key) is self:
                del self._opened[key]
        self.emulator.close()

    # -- what production code reads from settings ---------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.emulator.config.data_dir

    @property
    def account_hash(self) -> str:
        return self.emulator.config.account_hash

    @property
    def api_base(self) -> str:
        """The API base the in-process clients use (``http://cfimages.localhost/client/v4``)."""
        return f"{LOCAL_ORIGIN}/client/v4"

    @property
    def settings(self) -> Settings:
        """``Settings`` describing this account, with ``domain="/"`` (root-relative delivery URLs). Its
        ``api_base`` is only reachable in process: build clients with ``client()``."""
        config = self.emulator.config
        key = self._signing_key
        return Settings(
            account_id=config.account_id,
            api_token=SecretStr(config.api_token),
            account_hash=config.account_hash,
            signing_key=SecretStr(key) if key is not None else None,
            domain=SAME_SITE,
            api_base=self.api_base,
        )

    def client(self, **overrides: Any) -> ImagesClient:
        """An ``ImagesClient`` for this account, in process (``httpx.WSGITransport``), building URLs with
        ``delivery``. Requests are not retried (there is no network to be flaky) unless ``retry=`` says so."""
        return ImagesClient(**self._client_arguments(httpx.WSGITransport(app=self.app), overrides))

    def async_client(self, **overrides: Any) -> AsyncImagesClient:
        """An ``AsyncImagesClient`` for this account, in process: each request runs the emulator in a worker
        thread (asyncio or trio), so the event loop never blocks on it."""
        return AsyncImagesClient(**self._client_arguments(AsyncWSGITransport(self.app), overrides))

    def _client_arguments(self, transport: object, overrides: dict[str, Any]) -> dict[str, Any]:
        config = self.emulator.config
        arguments: dict[str, Any] = {
            "account_id": config.account_id,
            "api_token": config.api_token,
            "base_url": self.api_base,
            "transport": transport,
            "delivery": self.delivery,
            "retry": RetryPolicy.none(),
        }
        arguments.update(overrides)
        return arguments

    # -- serving ------------------------------------------------------------------------------------------------

    def middleware(self, app: WSGIApplication, *, api: bool = False) -> LocalCloudflareMiddleware:
        """``app`` with this emulator's delivery routes (and with ``api=True`` its API and upload URLs) mounted."""
        return LocalCloudflareMiddleware(app, self, api=api)

    def deliver_environ(self, environ: WSGIEnvironment) -> DeliveryResponse:
        """Answer the delivery request in a WSGI (or Django ``request.META``) environ: its path from
        ``/cdn-cgi/imagedelivery/`` on (percent-encoding kept, as signatures need), query, method and headers."""
        full = request_path(dict(environ)).full
        start = full.find(_DELIVERY_PATH)
        path = full[start:] if start >= 0 else full
        headers = {
            name[5:].replace("_", "-").title(): str(value)
            for name, value in environ.items()
            if name.startswith("HTTP_") and isinstance(value, str)
        }
        return self.emulator.deliver(
            path,
            query=str(environ.get("QUERY_STRING", "") or ""),
            headers=headers,
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        )

    def __repr__(self) -> str:
        return f"LocalCloudflare(data_dir={str(self.data_dir)!r}, account_hash={self.account_hash!r})"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine only."""
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalCloudflareMiddleware:
    """WSGI middleware: ``/cdn-cgi/imagedelivery/...`` (and, with ``api``, ``/client/v4/...`` and
    ``/upload/...``) go to the emulator with their full path; everything else goes to the wrapped app.

    The token API (``/client/v4/``) answers only clients on this machine unless ``api_public`` (default: the
    ``CFVARIANTS_EMULATOR_API_PUBLIC`` variable) says otherwise: its token is printed in the docs."""

    def __init__(
        self, app: WSGIApplication, local: LocalCloudflare, *, api: bool = False, api_public: bool | None = None
    ) -> None:
        self.app = app
        self.local = local
        self.prefixes = (_DELIVERY_PATH, *_API_PATHS) if api else (_DELIVERY_PATH,)
        if api_public is None:
            api_public = os.environ.get(EMULATOR_API_PUBLIC, "").strip().lower() in ("1", "true", "yes")
        self.api_public = api_public

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        if path.startswith(self.prefixes):
            if path.startswith(_REST_API_PATH) and not self.api_public:
                client = str(environ.get("REMOTE_ADDR") or "")
                if client and not is_loopback(client):
                    return _refuse_remote_api(start_response)
            return self.local.app(environ, start_response)
        return self.app(environ, start_response)


def _refuse_remote_api(start_response: StartResponse) -> list[bytes]:
    message = (
        "The local Cloudflare emulator's API answers only this machine: its token is the well-known development "
        f"token. Set {EMULATOR_API_PUBLIC}=1 (python -m flask_app --expose-emulator-api) to serve it to others."
    )
    body = json.dumps({"success": False, "errors": [{"code": 10000, "message": message}], "messages": [],
                       "result": None}).encode()  # fmt: skip
    start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class AsyncWSGITransport(httpx.AsyncBaseTransport):
    """httpx's ``WSGITransport`` for async clients: the request body is read, then the WSGI app runs in a
    worker thread (``anyio.to_thread``, so asyncio and trio both work) and its whole answer comes back."""

    def __init__(self, app: WSGIApplication) -> None:
        self._sync = httpx.WSGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _FRAMING_HEADERS]
        sync_request = httpx.Request(request.method, request.url, headers=headers, content=body)
        status, raw_headers, content = await anyio.to_thread.run_sync(self._call, sync_request)
        return httpx.Response(status, headers=raw_headers, content=content)

    def _call(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = self._sync.handle_request(request)
        try:
            return response.status_code, response.headers.raw, response.read()
        finally:
            response.close()
