"""Cloudflare's global API rate limit, emulated: ``requests`` per sliding window of ``window`` seconds.

Cloudflare allows 1,200 API requests per five minutes per account; a request over that is answered 429 with a
``Retry-After`` and the account is locked out for the rest of the window. The emulator does the same when
configured with ``EmulatorConfig(rate_limit=(1200, 300))`` (off by default), so clients can be tested against
it; a shorter window with the same count (``(1200, 3)``) makes such a test run in seconds.

The limit counts REST API requests (``/client/v4``); the batch host and upload URLs have their own limits on
Cloudflare and are not counted. The count lives in memory, per process (a test's emulator is one process);
``stats()`` tells how many requests were let through and refused, and the most seen in any one window.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimitStats:
    accepted: int
    refused: int
    busiest_window: int
    """The most requests let through within any one window."""


class WindowLimiter:
    """``check()`` before each counted request: ``None`` to let it through, or the seconds to put in
    ``Retry-After``."""

    def __init__(self, requests: int, window: float, clock: Callable[[], float]) -> None:
        if requests < 1 or window <= 0:
            raise ValueError("rate_limit must be (requests >= 1, window seconds > 0)")
        self.requests = requests
        self.window = float(window)
        self._clock = clock
        self._times: deque[float] = deque()
        self._blocked_until = -math.inf
        self._accepted = 0
        self._refused = 0
        self._busiest = 0
        self._lock = threading.Lock()

    def check(self) -> float | None:
        with self._lock:
            now = self._clock()
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if now < self._blocked_until:
                self._refused += 1
                return self._blocked_until - now
            if len(self._times) >= self.requests:
                self._refused += 1
                self._blocked_until = now + self.window  # locked out for a whole window, as Cloudflare does
                return self.window
            self._times.append(now)
            self._accepted += 1
            self._busiest = max(self._busiest, len(self._times))
            return None

    def stats(self) -> RateLimitStats:
        with self._lock:
            return RateLimitStats(self._accepted, self._refused, self._busiest)
