"""Signed delivery URLs, byte-exact with Cloudflare's documented procedure.

The message is the URL's pathname (as a browser normalises it), ``?``, and the query re-serialised the way
``URLSearchParams`` does with ``exp`` set; the MAC is HMAC-SHA256 keyed with the UTF-8 text of the signing key
(not its base64 decoding), written as lowercase hex and appended as the last parameter ``sig``.

``SigningKey`` keys the two SHA-256 states once and copies them per signature, which is roughly half the cost of
``hmac.new`` per call; the key text is not kept in a readable attribute and never appears in a repr.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

from pydantic import SecretStr

from ._errors import SigningError, shown
from ._urls import MAX_EXP, normalize_path, parse_exp

_BLOCK = 64  # SHA-256 block size
_HEX_SIG = re.compile(r"[0-9a-fA-F]{1,128}")


class SigningKey:
    """An HMAC-SHA256 key with its inner and outer states precomputed. Accepts the key as text (the way the
    dashboard and the API show it), bytes, or a ``SecretStr``."""

    __slots__ = ("_inner", "_outer", "_secret")

    def __init__(self, key: str | bytes | SecretStr) -> None:
        if isinstance(key, SecretStr):
            key = key.get_secret_value()
        if not isinstance(key, str | bytes | bytearray):
            raise SigningError(f"the signing key must be text or bytes, not {type(key).__name__}")
        try:
            raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        except UnicodeEncodeError:
            raise SigningError("the signing key is not valid text (it holds a lone surrogate)") from None
        if not raw:
            raise SigningError("the signing key is empty")
        if len(raw) > _BLOCK:
            raw = hashlib.sha256(raw).digest()
        raw = raw.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(raw.translate(_IPAD))
        self._outer = hashlib.sha256(raw.translate(_OPAD))
        self._secret = SecretStr(raw.hex())  # only to compare and pickle keys; never shown

    def hexdigest(self, message: str) -> str:
        """HMAC-SHA256 of the UTF-8 message, lowercase hex."""
        inner = self._inner.copy()
        inner.update(message.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def states(self) -> tuple[Any, Any]:
        """The keyed inner and outer SHA-256 states, to ``copy()`` and finish an HMAC inline on a hot path."""
        return self._inner, self._outer

    def __repr__(self) -> str:
        return "SigningKey('**********')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return hmac.compare_digest(self._secret.get_secret_value(), other._secret.get_secret_value())

    def __hash__(self) -> int:
        return hash(self._inner.digest())

    def __reduce__(self) -> tuple[object, ...]:
        # The padded key signs identically to the original text, so it is enough to rebuild the key.
        return (type(self)._unpickle, (self._secret,))

    @classmethod
    def _unpickle(cls, *args: Any) -> Any:
        """Rebuilds a pickled SigningKey: pickles name the public class, not a private module."""
        return _rebuild_key(*args)


def _rebuild_key(secret: SecretStr) -> SigningKey:
    padded = bytes.fromhex(secret.get_secret_value())
    return SigningKey(padded.rstrip(b"\0") or padded)


_IPAD = bytes((x ^ 0x36) for x in range(256))
_OPAD = bytes((x ^ 0x5C) for x in range(256))


def _as_key(key: str | bytes | SecretStr | SigningKey) -> SigningKey:
    return key if isinstance(key, SigningKey) else SigningKey(key)


def expiry(
    *,
    expires_in: float | timedelta | None = None,
    expires_at: datetime | float | None = None,
    now: float | None = None,
) -> int:
    """The ``exp`` value (unix seconds) from a lifetime or an absolute time; exactly one must be given."""
    if (expires_in is None) == (expires_at is None):
        raise SigningError("give exactly one of expires_in (seconds or timedelta) and expires_at (datetime or unix)")
    if expires_in is not None:
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < math.inf:
            raise SigningError(f"expires_in must be a positive number of seconds, not {shown(expires_in)}")
        return _checked_exp((time.time() if now is None else now) + min(seconds, MAX_EXP + 1))  # no overflow
    if isinstance(expires_at, datetime):
        if expires_at.tzinfo is None:
            raise SigningError("expires_at is a naive datetime; give it a timezone (e.g. datetime.now(UTC))")
        return _checked_exp(expires_at.timestamp())
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float) or not 0 < expires_at < math.inf:
        raise SigningError(f"expires_at must be a datetime or unix seconds, not {shown(expires_at)}")
    return _checked_exp(expires_at)


def _checked_exp(when: float) -> int:
    """``int(when)``, refused past year 9999 so that every ``exp`` we write is one the parsers read back."""
    if not when <= MAX_EXP:  # also False for NaN
        raise SigningError(f"the expiry is after year 9999 (exp at most {MAX_EXP}); give a shorter lifetime")
    return int(when)


def _serialize_query(pairs: Iterable[tuple[str, str]]) -> str:
    """application/x-www-form-urlencoded, as URLSearchParams.toString() writes it (space as '+', '~' escaped)."""
    return "&".join(
        f"{quote_plus(name, safe='*')}={quote_plus(value, safe='*')}".replace("~", "%7E") for name, value in pairs
    )


def _set_param(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """URLSearchParams.set: replace the first ``name`` in place, drop the others, or append."""
    out: list[tuple[str, str]] = []
    done = False
    for key, old in pairs:
        if key != name:
            out.append((key, old))
        elif not done:
            out.append((key, value))
            done = True
    if not done:
        out.append((name, value))
    return out


def _split(url: str) -> tuple[str, str, list[tuple[str, str]], str]:
    """``(origin, pathname, query pairs, fragment)``; a root-relative URL (``/cdn-cgi/...``) has no origin."""
    if not isinstance(url, str):
        raise SigningError(f"a URL to sign or verify must be a string, not {type(url).__name__}")
    if not url.isascii():
        try:
            url.encode("utf-8")
        except UnicodeEncodeError:
            raise SigningError(f"cannot sign {url[:80]!r}: it is not valid text (it holds a lone surrogate)") from None
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise SigningError(f"cannot sign {url[:80]!r}: {exc}") from None
    relative = not parts.scheme and not parts.netloc and url.startswith("/")
    if not relative and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise SigningError(f"cannot sign {url[:80]!r}: not an absolute http(s) URL or a root-relative path")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    origin = "" if relative else f"{parts.scheme}://{parts.netloc}"
    return origin, normalize_path(parts.path), pairs, parts.fragment


def sign_url(url: str, key: str | bytes | SecretStr | SigningKey, *, exp: int | datetime) -> str:
    """Sign a delivery URL: set (or replace) ``exp``, keep other parameters, append ``sig`` last.

    An existing ``sig`` is removed first, so signing a signed URL re-signs it.
    """
    exp_value = expiry(expires_at=exp)
    origin, path, pairs, fragment = _split(url)
    pairs = _set_param([(k, v) for k, v in pairs if k != "sig"], "exp", str(exp_value))
    message = f"{path}?{_serialize_query(pairs)}"
    signed = f"{origin}{message}&sig={_as_key(key).hexdigest(message)}"
    return f"{signed}#{fragment}" if fragment else signed


def signature_problem(url: str, key: str | bytes | SecretStr | SigningKey, *, now: float | None = None) -> str | None:
    """Why ``url`` is not validly signed with ``key`` (missing, malformed, expired, wrong), or ``None`` if it is."""
    try:
        _origin, path, pairs, _fragment = _split(url)
    except SigningError as exc:
        return str(exc)
    sigs = [value for name, value in pairs if name == "sig"]
    exps = [value for name, value in pairs if name == "exp"]
    if not sigs or not exps:
        return "the URL has no exp and sig parameters"
    if len(sigs) > 1 or len(exps) > 1:
        return "the URL has more than one exp or sig parameter"
    exp = parse_exp(exps[0])
    if exp is None:
        return "exp is not a unix timestamp"
    if not _HEX_SIG.fullmatch(sigs[0]):
        return "sig is not a signature (hexadecimal digits)"
    if exp < (time.time() if now is None else now):
        return "the signature has expired"
    message = f"{path}?{_serialize_query((k, v) for k, v in pairs if k != 'sig')}"
    if not hmac.compare_digest(_as_key(key).hexdigest(message), sigs[0].lower()):
        return "the signature does not match"
    return None


def verify(url: str, key: str | bytes | SecretStr | SigningKey, *, now: float | None = None) -> bool:
    """True when ``url`` carries a valid, unexpired ``exp``/``sig`` for ``key`` (constant-time comparison)."""
    return signature_problem(url, key, now=now) is None
