"""Helpers of the background-upload tests (tests/uploads): time that moves only when told, and the network between
the workers and the emulator, which a test can cut or put a proxy's answer in front of."""

from __future__ import annotations

import time
from typing import Any

import httpx


class Clock:
    """Time that moves only when told (starts at the real time, so stored times look ordinary)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Wire:
    """The network between the workers and the emulator: counts API requests, can drop every connection (an
    outage), or put a proxy's answer in front of uploads (``refuse_uploads``) or of every request (``refuse_all``)."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.requests = 0
        self.sent: list[httpx.Request] = []
        self.down = False
        self.refuse_uploads: httpx.Response | None = None
        self.refuse_all: httpx.Response | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.sent.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.refuse_all is not None:
            return self.refuse_all
        if self.refuse_uploads is not None and request.method == "POST":
            return self.refuse_uploads
        return self.inner.handle_request(request)
