"""Staying under Cloudflare's API rate limit: a token bucket in front of an async transport.

Cloudflare allows 1,200 API requests per five minutes per account (dashboard, keys and tokens together), and
answers more with HTTP 429 and a lock-out for the rest of the window; a batch token allows 200 requests per
second of its own. ``RateLimit`` describes such a budget and ``RateLimitedTransport`` spends it: every request
(first tries, retries and lookups alike) takes a token before it is sent, so the client never asks for more
than the budget, however many workers share it.

A token bucket with burst ``b`` and refill rate ``r`` sends at most ``b + r * w`` requests in any window of
``w`` seconds. So that no window of ``per`` seconds ever sees more than ``requests``, the refill rate is
``(requests * (1 - headroom) - burst) / per``: the bucket starts full (``burst`` requests at once) and then
refills evenly. The ``headroom`` (5 % by default) is for the clocks not being the same: Cloudflare counts
requests when they arrive, and requests sent evenly can arrive bunched (a slow moment in the network or at the
server); 5 % of five minutes is 15 seconds of such bunching.

A 429 stops everybody: the bucket is emptied and closed for the ``Retry-After`` the server gave (or the whole
window when it gave none); the client's retry policy then sends the refused request again.

    transport = RateLimitedTransport(httpx.AsyncHTTPTransport(), RateLimit(1200, 300))
    client = AsyncImagesClient.from_settings(transport=transport)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from ._retry import parse_retry_after

_EPSILON = 1e-6
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([smh]?)\s*")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` requests in any window of ``per`` seconds; ``burst`` of them may go at once (default:
    a tenth of the budget, at most 20); ``headroom``: the fraction of the budget left unused (module docs)."""

    requests: int = 1200
    per: float = 300.0
    burst: int | None = None
    headroom: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.requests, bool) or not isinstance(self.requests, int) or self.requests < 1:
            raise ValueError(f"requests must be a whole number >= 1, not {self.requests!r}")
        if isinstance(self.per, bool) or not isinstance(self.per, int | float) or not 0 < self.per < float("inf"):
            raise ValueError(f"per must be a positive number of seconds, not {self.per!r}")
        if self.burst is not None and (
            isinstance(self.burst, bool) or not isinstance(self.burst, int) or not 1 <= self.burst <= self.requests
        ):
            raise ValueError(f"burst must be a whole number from 1 to requests ({self.requests}), not {self.burst!r}")
        if isinstance(self.headroom, bool) or not isinstance(self.headroom, int | float) or not 0 <= self.headroom < 1:
            raise ValueError(f"headroom must be a fraction from 0 to below 1, not {self.headroom!r}")

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"1200/5m"``, ``"1200/300"``, ``"200/s"``, ``"200/1s"``: requests per window."""
        match = _SPEC.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a rate limit such as 1200/5m, 1200/300 or 200/s (requests/window)")
        count, amount, unit = match.groups()
        seconds = (float(amount) if amount else 1.0) * _UNITS[unit]
        if seconds <= 0:
            raise ValueError(f"{text!r}: the window must be longer than zero")
        return cls(int(count), seconds)

    @property
    def burst_size(self) -> int:
        if self.burst is not None:
            return self.burst
        return max(1, min(20, self.requests // 10))

    @property
    def rate(self) -> float:
        """Tokens added per second. When the burst leaves nothing to refill (``burst == requests``), the bucket
        refills once per window (``requests / per``), which can let up to twice the budget through one window."""
        spare = self.requests * (1 - self.headroom) - self.burst_size
        return (spare if spare > 0 else self.requests) / self.per

    def __str__(self) -> str:
        return f"{self.requests} requests per {self.per:g} s"


DEFAULT_LIMIT = RateLimit(1200, 300.0)
"""Cloudflare's global API limit: 1,200 requests per five minutes per account."""
BATCH_TOKEN_LIMIT = RateLimit(200, 1.0)
"""What one batch token allows (``GET /images/v1/batch_token``): 200 requests per second."""


class TokenBucket:
    """The async token bucket behind ``RateLimitedTransport``. ``clock`` (seconds, monotonic) and ``sleep`` are
    injectable for tests. Waiters are served in arrival order."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst_size)
        self._stamp = clock()
        self._blocked_until = 0.0
        self._lock: asyncio.Lock | None = None
        self.waited = 0.0
        """Seconds spent waiting for tokens so far (for reports)."""

    def _refill(self, now: float) -> None:
        self._tokens = min(float(self.limit.burst_size), self._tokens + (now - self._stamp) * self.limit.rate)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait until a request may be sent, and take its token."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = self._clock()
                self._refill(now)
                if self._blocked_until > now:
                    wait = self._blocked_until - now
                elif self._tokens >= 1.0 - _EPSILON:  # rounding must not leave a waiter a hair short forever
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                else:
                    wait = (1.0 - self._tokens) / self.limit.rate
                self.waited += wait
                await self._sleep(wait)

    def block(self, seconds: float) -> None:
        """The server said "too many": send nothing for ``seconds``, then start again from an empty bucket."""
        now = self._clock()
        self._refill(now)
        self._tokens = 0.0
        self._blocked_until = max(self._blocked_until, now + max(0.0, seconds))


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """An async transport that sends through ``inner`` no faster than ``limit`` allows, and pauses every request
    after a 429 for the ``Retry-After`` it carried (the whole window when it had none). ``throttled`` counts the
    429 answers seen."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: RateLimit | TokenBucket = DEFAULT_LIMIT) -> None:
        self._inner = inner
        self.bucket = limit if isinstance(limit, TokenBucket) else TokenBucket(limit)
        self.throttled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.bucket.acquire()
        response = await self._inner.handle_async_request(request)
        if response.status_code == 429:
            self.throttled += 1
            wait = parse_retry_after(response.headers.get("retry-after"))
            self.bucket.block(self.bucket.limit.per if wait is None else wait)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
