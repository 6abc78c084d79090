"""Shared fixtures and helpers for the API client tests (imported by tests/client/test_client_*.py).

``api`` runs a test body against both clients: ``Side.run`` awaits when the async client returned an
awaitable and passes a sync result through, so one test proves sync/async parity. ``cf`` is a respx router
for the account's API URL; nothing reaches the network.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx

from cfvariants import Delivery
from cfvariants.client import AsyncImagesClient, ImagesClient, RetryPolicy

T = TypeVar("T")

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "tok-Zq81-very-secret-token-value"
BASE = "https://api.cloudflare.com/client/v4"
API = f"{BASE}/accounts/{ACCOUNT}"
HASH = "ZWd9g1K7eljCn_KDTu_MWA"
SIGNING_KEY = "example-signing-key-123"
FIXTURES = Path(__file__).parent / "fixtures" / "api"
UID = "083eb7b2-5392-4565-b69e-aff66acddd00"
NOW = 1_767_225_600.0  # the clock of test retry policies: 2026-01-01T00:00:00Z


def fixture(name: str) -> Any:
    """A stored response body (tests/fixtures/api/<name>.json)."""
    return json.loads((FIXTURES / f"{name.removesuffix('.json')}.json").read_text())


def envelope(result: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result}


def failure(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


def upper_bound(low: float, high: float) -> float:
    """A jitter source that always picks the largest allowed delay, so tests can name the exact backoff."""
    return high


def retry_policy(**changes: Any) -> RetryPolicy:
    arguments: dict[str, Any] = {
        "max_attempts": 3,
        "base": 0.5,
        "cap": 8.0,
        "uniform": upper_bound,
        "clock": lambda: NOW,
    }
    arguments.update(changes)
    return RetryPolicy(**arguments)


async def resolve(value: T | Awaitable[T]) -> T:
    """``value``, awaited if it is awaitable (a sync client's result passes through)."""
    if inspect.isawaitable(value):
        return await value
    return value


async def close(client: ImagesClient | AsyncImagesClient) -> None:
    if isinstance(client, AsyncImagesClient):
        await client.aclose()
    else:
        client.close()


class Side:
    """One client under test, sync or async, with the delays it slept recorded instead of slept."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.kind = kind
        self.delays: list[float] = []
        self.options: dict[str, Any] = {
            "account_id": ACCOUNT,
            "api_token": TOKEN,
            "retry": retry_policy(),
            "delivery": Delivery(HASH, signing_key=SIGNING_KEY),
        }
        self.options.update(options)
        self.client = self._build()

    def _build(self) -> ImagesClient | AsyncImagesClient:
        if self.kind == "sync":
            return ImagesClient(sleep=self.delays.append, **self.options)

        async def sleep(seconds: float) -> None:
            self.delays.append(seconds)

        return AsyncImagesClient(sleep=sleep, **self.options)

    async def rebuild(self, **changes: Any) -> None:
        """Replace the client with one built with ``changes`` to its options (e.g. another retry policy)."""
        await self.close()
        self.options.update(changes)
        self.client = self._build()

    async def run(self, value: T | Awaitable[T]) -> T:
        """The result of a client call, awaited if the client is async."""
        return await resolve(value)

    async def collect(self, items: Iterable[T] | AsyncIterator[T]) -> list[T]:
        """All items of a sync or async iterator."""
        if isinstance(items, AsyncIterator):
            return [item async for item in items]
        return list(items)

    async def close(self) -> None:
        await close(self.client)

    def __repr__(self) -> str:
        return f"Side({self.kind})"


# -- reading requests ----------------------------------------------------------------------------------------


class Part:
    def __init__(self, message: Message) -> None:
        self.name = message.get_param("name", header="content-disposition")
        self.filename = message.get_filename()
        self.content_type = message.get("content-type")
        payload = message.get_payload(decode=True)
        self.data: bytes = payload if isinstance(payload, bytes) else b""

    @property
    def text(self) -> str:
        return self.data.decode()


def multipart(request: httpx.Request) -> dict[str, Part]:
    """The parts of a multipart/form-data request body, by field name."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary="), content_type
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.read()
    message = BytesParser(policy=HTTP).parsebytes(raw)
    parts = [Part(part) for part in message.iter_parts()]
    names = [part.name for part in parts]
    assert len(names) == len(set(names)), f"duplicate form fields: {names}"
    return {str(part.name): part for part in parts}


def form_fields(request: httpx.Request) -> dict[str, str]:
    """The text fields (parts without a filename) of a multipart request."""
    return {name: part.text for name, part in multipart(request).items() if part.filename is None}


def json_body(request: httpx.Request) -> Any:
    assert request.headers["content-type"] == "application/json"
    return json.loads(request.read())


def raw_path(request: httpx.Request) -> str:
    return request.url.raw_path.decode().split("?", 1)[0]


def account_path(request: httpx.Request) -> str:
    """The request path after /client/v4/accounts/<id>, still percent-encoded."""
    prefix = f"/client/v4/accounts/{ACCOUNT}"
    path = raw_path(request)
    assert path.startswith(prefix), path
    return path[len(prefix) :]


# -- a real local server, for what only a socket shows (connection reuse, httpcore logs) -------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _CountingServer

    def do_GET(self) -> None:
        self.server.record(self)
        body = json.dumps(fixture("image.json")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.peers: list[tuple[str, int]] = []
        self.authorizations: list[str | None] = []

    def record(self, handler: BaseHTTPRequestHandler) -> None:
        self.peers.append(handler.client_address)
        self.authorizations.append(handler.headers.get("Authorization"))


@contextmanager
def local_server() -> Iterator[_CountingServer]:
    """An HTTP/1.1 keep-alive server on 127.0.0.1 answering every GET with an image envelope; stops on exit."""
    server = _CountingServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def server_base(server: _CountingServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/client/v4"


# -- transports that consume request bodies chunk by chunk -----------------------------------------------------


class CountingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Reads each request body in chunks without keeping it (like a socket would) and answers with
    ``respond(request, received_bytes)``; a body is never held in memory in one piece."""

    def __init__(self, respond: Callable[[httpx.Request, int], httpx.Response]) -> None:
        self.respond = respond
        self.received: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        size = sum(len(chunk) for chunk in request.stream)
        self.received.append(size)
        return self.respond(request, size)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        size = 0
        async for chunk in request.stream:
            size += len(chunk)
        self.received.append(size)
        return self.respond(request, size)
