"""The request path as the client sent it, percent-encoding intact.

WSGI hands applications a *decoded* ``PATH_INFO``, which loses the difference between ``/`` and ``%2F`` (a custom
id's slash in an API path) and changes what a signature covers. Servers that keep the raw request line (werkzeug's,
gunicorn) put it in ``RAW_URI``/``REQUEST_URI``; that is used when present. Otherwise (httpx's ``WSGITransport``,
some test clients) the path is re-encoded the way the core's URL builder encodes it, which reproduces every URL
the core builds; the only loss is ``%2F`` versus ``/`` inside API ids, which the API tolerates either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

# What a WHATWG parser (and the core's encode_image_id) leaves unencoded in a path.
_PATH_SAFE = "/!$&'()*+,;=:@[]|~"


@dataclass(frozen=True)
class RequestPath:
    """A request's path as sent: ``full`` (what a signature covers) and ``app`` (what the app routes on)."""

    full: str  # SCRIPT_NAME + PATH_INFO, percent-encoded: the pathname a signature covers
    app: str  # PATH_INFO only, percent-encoded: what this app routes on

    @property
    def segments(self) -> list[str]:
        """The app path's segments, still percent-encoded (``"a%2Fb"`` stays one segment)."""
        return self.app[1:].split("/") if self.app.startswith("/") else self.app.split("/")


def _wsgi_text(value: str) -> str:
    """PEP 3333 strings are bytes decoded as latin-1; some transports pass real text instead. Accept both."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def request_path(environ: dict[str, Any]) -> RequestPath:
    """A WSGI request's path as the client sent it (percent-encoding intact), for routing and signatures."""
    script = _wsgi_text(environ.get("SCRIPT_NAME", "") or "")
    info = _wsgi_text(environ.get("PATH_INFO", "") or "")
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        raw_path = urlsplit(raw).path if "://" in raw else raw.split("?", 1)[0]
        encoded_script = quote(script, safe=_PATH_SAFE)
        if raw_path.startswith(encoded_script) and unquote(raw_path, errors="replace") == script + info:
            return RequestPath(full=raw_path, app=raw_path[len(encoded_script) :] or "/")
    return RequestPath(full=quote(script + info, safe=_PATH_SAFE), app=quote(info, safe=_PATH_SAFE) or "/")


def decode_segment(segment: str) -> str:
    """Percent-decode one path segment (strict UTF-8); raises ``UnicodeDecodeError``."""
    return unquote(segment, errors="strict")
