"""When and how long to wait before sending a failed request again.

Exponential backoff with full jitter (a random delay between 0 and ``min(cap, base * 2**(n-1))`` before retry
``n``), so many clients failing together do not retry in lock-step. A ``Retry-After`` header (seconds or an
HTTP-date) replaces the backoff: the server knows best. A wait longer than ``max_retry_after`` gives up at once
instead of blocking (Cloudflare's global rate limit locks an account out for five minutes).

The random source and the clock are fields, so tests can fix them; the sleeping itself belongs to the clients
(``sleep=``), because it differs between threads and event loops.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

from ._errors import APIError, CloudflareImagesError, TransportError

#: 408 and 429 are "try again later"; every 5xx may be a passing fault of Cloudflare or a proxy in front of it.
DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({408, 429, *range(500, 600)})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed requests are retried.

    ``max_attempts`` counts the first try (1 means never retry). ``base`` and ``cap`` shape the backoff in
    seconds. ``max_retry_after``: a server-requested wait above this gives up instead. ``retry_statuses``: HTTP
    statuses worth retrying. ``retry_transport_errors``: retry refused/dropped connections and timeouts.
    ``uniform(a, b)`` draws the jitter and ``clock()`` is the current Unix time (for HTTP-date ``Retry-After``).
    """

    max_attempts: int = 4
    base: float = 0.5
    cap: float = 20.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    retry_transport_errors: bool = True
    uniform: Callable[[float, float], float] = field(default=random.uniform, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer >= 1, not {self.max_attempts!r}")
        for name in ("base", "cap", "max_retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))

    @classmethod
    def none(cls) -> RetryPolicy:
        """Send every request exactly once."""
        return cls(max_attempts=1)

    def backoff(self, retry: int) -> float:
        """The jittered delay before retry number ``retry`` (1 = the first retry)."""
        ceiling = min(self.cap, self.base * 2 ** (retry - 1))
        return self.uniform(0.0, ceiling)

    def should_retry(self, error: CloudflareImagesError) -> bool:
        """Whether ``error`` is worth another attempt (attempt limits aside)."""
        if isinstance(error, APIError):
            return error.status_code in self.retry_statuses
        if isinstance(error, TransportError):
            return self.retry_transport_errors and error.cause in RETRYABLE_TRANSPORT_ERRORS
        return False

    def delay(self, error: CloudflareImagesError, attempts: int) -> float | None:
        """Seconds to wait before the next attempt after ``attempts`` tries ended in ``error``; ``None`` means
        give up (not retryable, attempts used up, or the server asked for a longer wait than we accept)."""
        if attempts >= self.max_attempts or not self.should_retry(error):
            return None
        retry_after = error.retry_after if isinstance(error, APIError) else None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(attempts)


#: httpx failures that are worth retrying: the network or the peer, not our own request.
RETRYABLE_TRANSPORT_ERRORS = frozenset(
    {
        "ConnectError",
        "ConnectTimeout",
        "PoolTimeout",
        "ReadError",
        "ReadTimeout",
        "WriteError",
        "WriteTimeout",
        "RemoteProtocolError",
        "CloseError",
        "NetworkError",
        "TimeoutException",
    }
)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds (``"30"``) or an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``, relative to ``now``). ``None`` when absent or unreadable; never
    negative."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 9110 HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
