"""Running ``cfvariants`` commands in tests: against the in-process emulator, through Click's ``CliRunner``.

``CLI`` invokes the real ``main`` group with a ``Runtime`` whose transports lead to the test's emulator app (no
socket), in an empty working directory with the emulator's ``CF_*`` settings in the environment; the ``cli``
fixture (``cli_fixtures.py``) makes one per test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from cfvariants import ENV_NAMES, Settings
from cfvariants.cli import main
from cfvariants.cli._runtime import Runtime
from cfvariants.emulator import EmulatorApp


class AsyncBridge(httpx.AsyncBaseTransport):
    """An async transport over a blocking one (``httpx.WSGITransport``): each request runs in a worker thread,
    so concurrent requests of the async client are served concurrently, as by a real server."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        blocking = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        def send() -> tuple[int, httpx.Headers, bytes]:
            response = self._transport.handle_request(blocking)
            try:
                return response.status_code, response.headers, response.read()
            finally:
                response.close()

        status, headers, content = await asyncio.to_thread(send)
        return httpx.Response(status, headers=headers, content=content, request=request)


class DyingTransport(httpx.BaseTransport):
    """Passes ``healthy`` uploads through; the next upload is stored but its answer is lost (the connection
    drops), and from then on every request fails to connect: a run interrupted part way."""

    def __init__(self, inner: httpx.BaseTransport, healthy: int) -> None:
        self._inner = inner
        self._healthy = healthy
        self._uploads = 0
        self._dead = False
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._dead:
                raise httpx.ConnectError("network unreachable", request=request)
            if request.method == "POST" and request.url.path.endswith("/images/v1"):
                self._uploads += 1
                if self._uploads > self._healthy:
                    self._dead = True
                    self._inner.handle_request(request).close()  # it reaches the server...
                    raise httpx.ReadError("connection reset before the answer", request=request)  # ...the answer not
        return self._inner.handle_request(request)


@dataclass
class CLI:
    """``cli("list", "--json")`` runs ``cfvariants list --json`` against the emulator."""

    runtime: Runtime
    env: dict[str, str | None]
    cwd: Path
    app: EmulatorApp

    def __call__(self, *args: str, input: str | None = None, runtime: Runtime | None = None) -> Result:
        return CliRunner().invoke(
            main, list(args), obj=runtime or self.runtime, env=self.env, input=input, catch_exceptions=False
        )

    def with_transport(self, transport: httpx.BaseTransport) -> Runtime:
        """A runtime whose API calls (sync and async) go through ``transport``."""
        return replace(self.runtime, transport=transport, async_transport=AsyncBridge(transport))


def emulator_env(settings: Settings) -> dict[str, str | None]:
    """The ``CF_*`` variables for ``settings`` (as ``cf_env`` would set them)."""
    return {name: getattr(settings, field) and settings.require(field) for field, name in ENV_NAMES.items()}


def invoke(args: Sequence[str], env: dict[str, str | None] | None = None, input: str | None = None) -> Result:
    """Run ``cfvariants`` with no emulator attached (commands that need no API)."""
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)
