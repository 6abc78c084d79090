"""The client's exceptions: the ``CloudflareImagesError`` branch of the one tree under ``CFVariantsError``.

``CloudflareImagesError`` is the base of everything the API client raises (``except CFVariantsError`` catches
it too). ``APIError`` means Cloudflare (or
something in front of it) answered with a failure; its subclasses name the failures callers handle differently.
``ValidationError`` is raised before any byte is sent, for input Cloudflare is known to refuse; it is also a
``ValueError``. ``TransportError`` means no usable answer arrived (connection refused or dropped, timeout).

Messages are built from the attributes when shown, so the attempt count set by the retry loop is always current.
No exception holds a request, its headers or the API token. Every error pickles (task queues store them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cfvariants._errors import CFVariantsError


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One ``{"code": ..., "message": ...}`` entry of a v4 envelope's ``errors`` or ``messages``."""

    code: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.code is None else f"[{self.code}] {self.message}"


class CloudflareImagesError(CFVariantsError):
    """Base of every error raised by ``cfvariants.client``."""


class ValidationError(CloudflareImagesError, ValueError):
    """Input Cloudflare would refuse, caught before any request is sent; the message names the bad part."""


class _RequestFailure(CloudflareImagesError):
    """A request that did not succeed; knows which call it was and how many attempts were made."""

    method: str
    path: str
    attempts: int
    maybe_applied: bool
    note: str | None

    def _where(self) -> str:
        return f"{self.method} {self.path}" if self.method else "request"

    def _tail(self) -> str:
        parts = []
        if self.attempts > 1:
            parts.append(f"gave up after {self.attempts} attempts")
        if self.note:
            parts.append(self.note)
        return "" if not parts else " (" + "; ".join(parts) + ")"


class APIError(_RequestFailure):
    """Cloudflare answered with an error status or a ``success: false`` envelope.

    ``status_code`` is the HTTP status; ``errors`` and ``messages`` are Cloudflare's ``{code, message}`` lists;
    ``request_id`` is the ``cf-ray`` header when present; ``attempts`` is how many times the call was sent;
    ``retry_after`` the delay (seconds) the server asked for, if it did.
    """

    def __init__(
        self,
        status_code: int,
        errors: Sequence[ErrorDetail] = (),
        messages: Sequence[ErrorDetail] = (),
        *,
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
        reason: str | None = None,
        note: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.errors = list(errors)
        self.messages = list(messages)
        self.method = method
        self.path = path
        self.request_id = request_id
        self.attempts = attempts
        self.retry_after = retry_after
        self.reason = reason
        self.note = note
        self.maybe_applied = status_code >= 500  # a 5xx may come from a proxy after Cloudflare acted
        super().__init__(status_code)

    @property
    def codes(self) -> list[int]:
        """Cloudflare's error codes, in order."""
        return [error.code for error in self.errors if error.code is not None]

    def __str__(self) -> str:
        what = "; ".join(str(error) for error in self.errors) or self.reason or "no error details"
        ray = f" [cf-ray {self.request_id}]" if self.request_id else ""
        return f"{self._where()}: HTTP {self.status_code}: {what}{ray}{self._tail()}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self)._unpickle, (type(self), (self.status_code, self.errors, self.messages), self._state()))

    @classmethod
    def _unpickle(cls, *args: Any) -> Any:
        """Rebuilds a pickled APIError: pickles name the public class, not a private module."""
        return _rebuild(*args)

    def _state(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "request_id": self.request_id,
            "attempts": self.attempts,
            "retry_after": self.retry_after,
            "reason": self.reason,
            "note": self.note,
        }


class AuthenticationError(APIError):
    """The token was refused or lacks permission (HTTP 401/403, or Cloudflare's authentication error codes)."""


class NotFoundError(APIError):
    """The image, variant or key does not exist (HTTP 404)."""


class ConflictError(APIError):
    """The resource already exists, e.g. a custom image id that is taken (HTTP 409 or a duplicate-id error)."""


class RateLimitError(APIError):
    """HTTP 429. ``retry_after`` is the wait, in seconds, the server asked for (``Retry-After``), if any."""


class TransportError(_RequestFailure):
    """No usable response: the connection failed, dropped or timed out (after retries, when they apply).

    ``cause`` names the underlying failure (e.g. ``ConnectError``); ``maybe_applied`` is true when the request
    may have reached Cloudflare before the failure.
    """

    def __init__(
        self,
        cause: str,
        detail: str = "",
        *,
        method: str = "",
        path: str = "",
        attempts: int = 1,
        maybe_applied: bool = True,
        note: str | None = None,
    ) -> None:
        self.cause = cause
        self.detail = detail
        self.method = method
        self.path = path
        self.attempts = attempts
        self.maybe_applied = maybe_applied
        self.note = note
        super().__init__(cause)

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self._where()}: {self.cause}{detail}{self._tail()}"

    def __reduce__(self) -> tuple[Any, ...]:
        state = {
            "method": self.method,
            "path": self.path,
            "attempts": self.attempts,
            "maybe_applied": self.maybe_applied,
            "note": self.note,
        }
        return (type(self)._unpickle, (type(self), (self.cause, self.detail), state))

    @classmethod
    def _unpickle(cls, *args: Any) -> Any:
        """Rebuilds a pickled TransportError: pickles name the public class, not a private module."""
        return _rebuild(*args)


def _rebuild(cls: type[Any], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    return cls(*args, **state)
