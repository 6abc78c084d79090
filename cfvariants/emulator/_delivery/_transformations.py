"""Serving ``/cdn-cgi/image/<options>/<source>`` in development: Image Transformations of local files.

``TransformationServer`` answers what Cloudflare's edge would for a transformation URL, with the same Pillow
pipeline as hosted delivery (``render``), so ``{{ profile.image|variant('w=200') }}`` on a file in
Django's media folder or Flask's static folder renders a real 200-pixel image, with no account.

What it may read is fixed up front and nothing else:

* ``roots``: URL prefixes mapped to directories (``{"/media/": MEDIA_ROOT}``). A path source is decoded once,
  refused if any segment is ``.``/``..`` (also percent-encoded), empty, or holds ``\\`` or NUL, then resolved
  (symlinks included) and served only if it is a regular file inside its root's directory. Everything else is a
  4xx, before the file system is touched beyond that root.
* ``allowed_origins``: ``https://host[:port]`` origins whose images may be fetched (empty by default: absolute
  URL sources are refused). Only http(s), no redirects, a timeout, at most ``max_source_bytes``.

Answers: 200 with the image, ``ETag`` (304 on a match), ``Cache-Control`` (one hour: Cloudflare keeps
transformations at least that long), ``Vary: Accept`` for ``format=auto``; errors as text with
``Cf-Resized: err=<code>``: 9401/400 bad options or a named variant, 9419/400 a source that is not an allowed path
or origin, 9404/404 no such file, 9412/415 not an image, 9413 too large, 9420/502 the origin failed. Without
``format`` the output is what Cloudflare documents for transformations: "a standard format like JPEG or PNG"
(JPEG unless the image has transparency, GIF for animations), never AVIF/WebP by negotiation. ``onerror=redirect``
on a failed path source answers ``302`` to the source itself, as Cloudflare does for same-zone images.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import httpx

from cfvariants._errors import CFVariantsError
from cfvariants._options import Options
from cfvariants._urls import TRANSFORM_PREFIX
from cfvariants.emulator._errors import BAD_OPTIONS, NOT_AN_IMAGE, SIZE_EXCEEDED, DeliveryError
from cfvariants.emulator._paths import request_path
from cfvariants.imaging import ImageRejected, inspect_image

from ._hosted import DeliveryResponse, error_response
from ._transform import output_format, render

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

DEFAULT_MAX_SOURCE_BYTES = 20 * 1024 * 1024  # a development server; Cloudflare itself takes up to 100 MB
SOURCE_REFUSED = 9419  # our code: the source is outside the configured roots and origins
SOURCE_NOT_FOUND = 9404
ORIGIN_FAILED = 9420
CACHE_SECONDS = 3600
_CACHE_BYTES = 64 * 1024 * 1024
_FETCH_TIMEOUT = 10.0


class TransformationServer:
    """Answers ``/cdn-cgi/image/<options>/<source>`` from local ``roots`` (URL prefix -> directory) and, only
    when listed, ``allowed_origins``. Thread-safe; renders are kept in a bounded in-memory cache keyed by the
    file's identity (path, size, modification time), the canonical options and the output format."""

    def __init__(
        self,
        roots: Mapping[str, str | os.PathLike[str]] | Iterable[tuple[str, str | os.PathLike[str]]] = (),
        *,
        allowed_origins: Iterable[str] = (),
        max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        pairs = roots.items() if isinstance(roots, Mapping) else roots
        self.roots: tuple[tuple[str, Path], ...] = tuple(
            sorted(((_prefix(url), Path(directory).resolve()) for url, directory in pairs), key=lambda r: -len(r[0]))
        )
        self.allowed_origins: frozenset[str] = frozenset(_origin(origin) for origin in allowed_origins)
        self.max_source_bytes = max_source_bytes
        self._transport = transport
        self._cache: OrderedDict[tuple[object, ...], tuple[bytes, str]] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        roots = ", ".join(f"{url}={directory}" for url, directory in self.roots)
        return f"TransformationServer(roots=[{roots}], allowed_origins={sorted(self.allowed_origins)})"

    # -- WSGI ---------------------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """A WSGI app for ``/cdn-cgi/image/...`` (mount it with ``middleware`` or route to it)."""
        answer = self.serve_environ(environ)
        start_response(f"{answer.status} {_REASONS.get(answer.status, 'Error')}", answer.headers)
        return [answer.body]

    def serve_environ(self, environ: WSGIEnvironment) -> DeliveryResponse:
        """Answer the request in a WSGI (or Django ``request.META``) environ."""
        full = request_path(dict(environ)).full
        start = full.find(TRANSFORM_PREFIX)
        headers = {
            name[5:].replace("_", "-").lower(): str(value)
            for name, value in environ.items()
            if name.startswith("HTTP_") and isinstance(value, str)
        }
        return self.serve(
            full[start:] if start >= 0 else full,
            query=str(environ.get("QUERY_STRING", "") or ""),
            headers=headers,
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        )

    # -- one request --------------------------------------------------------------------------------------------

    def serve(
        self, path: str, *, query: str = "", headers: Mapping[str, str] | None = None, method: str = "GET"
    ) -> DeliveryResponse:
        """Answer ``path`` (``/cdn-cgi/image/<options>/<source>``, percent-encoded as sent)."""
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            return DeliveryResponse(405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")], b"")
        lowered = {key.lower(): value for key, value in (headers or {}).items()}
        options: Options | None = None
        source = ""
        try:
            options, source = _split(path)
            data, identity = self._read_source(source, query)
            return self._respond(data, identity, options, lowered, head=head)
        except DeliveryError as exc:
            redirect = options is not None and options.onerror == "redirect" and source.startswith("/")
            if redirect and exc.code not in (SOURCE_REFUSED, SOURCE_NOT_FOUND, BAD_OPTIONS):
                location = source + (f"?{query}" if query else "")
                return DeliveryResponse(302, [("Location", location), ("Cache-Control", "no-store")], b"")
            return error_response(exc, head=head)

    def _read_source(self, source: str, query: str) -> tuple[bytes, tuple[object, ...]]:
        if source.startswith(("https://", "http://")):
            return self._fetch(source + (f"?{query}" if query else ""))
        return self._read_local(source)

    def _read_local(self, source: str) -> tuple[bytes, tuple[object, ...]]:
        try:
            decoded = unquote(source, errors="strict")
        except UnicodeDecodeError:
            raise _refused(source, "is not UTF-8 once percent-decoded") from None
        if "\\" in decoded or "\x00" in decoded:
            raise _refused(source, "holds a backslash or NUL")
        segments = decoded.split("/")[1:]
        if any(segment in ("", ".", "..") for segment in segments):
            raise _refused(source, "has an empty, '.' or '..' segment")
        for prefix, directory in self.roots:
            if not decoded.startswith(prefix):
                continue
            candidate = directory.joinpath(*decoded[len(prefix) :].split("/"))
            try:
                resolved = candidate.resolve(strict=True)
            except (OSError, RuntimeError):
                raise DeliveryError(404, SOURCE_NOT_FOUND, f"Source image not found: {source[:200]!r}") from None
            if not resolved.is_relative_to(directory) or not resolved.is_file():
                raise _refused(source, "is not a file inside its root")
            stat = resolved.stat()
            if stat.st_size > self.max_source_bytes:
                raise DeliveryError(403, SIZE_EXCEEDED, f"Source image is larger than {self.max_source_bytes:,} bytes")
            return resolved.read_bytes(), (str(resolved), stat.st_size, stat.st_mtime_ns)
        allowed = ", ".join(prefix for prefix, _ in self.roots) or "none configured"
        raise _refused(source, f"is not under a configured root ({allowed})")

    def _fetch(self, url: str) -> tuple[bytes, tuple[object, ...]]:
        try:
            parts = urlsplit(url)
            origin = _origin(f"{parts.scheme}://{parts.netloc}")
        except ValueError:
            raise _refused(url, "is not a valid http(s) URL") from None
        if "@" in parts.netloc or origin not in self.allowed_origins:
            raise _refused(url, "is on an origin that is not allowed (allowed_origins; none by default)")
        body = bytearray()
        try:
            with (
                httpx.Client(transport=self._transport, timeout=_FETCH_TIMEOUT, follow_redirects=False) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise DeliveryError(
                        502, ORIGIN_FAILED, f"The origin answered {response.status_code} for {url[:200]!r}"
                    )
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_source_bytes:
                        raise DeliveryError(
                            403, SIZE_EXCEEDED, f"Source image is larger than {self.max_source_bytes:,} bytes"
                        )
                etag = response.headers.get("etag", "")
        except httpx.HTTPError as exc:
            raise DeliveryError(502, ORIGIN_FAILED, f"Could not fetch {url[:200]!r}: {type(exc).__name__}") from None
        data = bytes(body)
        return data, (url, etag or hashlib.sha256(data).hexdigest())

    def _respond(
        self, data: bytes, identity: tuple[object, ...], options: Options, headers: Mapping[str, str], *, head: bool
    ) -> DeliveryResponse:
        try:
            info, data = inspect_image(data, max_bytes=self.max_source_bytes)
        except ImageRejected as exc:
            code, status = (SIZE_EXCEEDED, 403) if exc.status == 413 else (NOT_AN_IMAGE, 415)
            raise DeliveryError(status, code, exc.message) from None
        auto = options.format == "auto"
        fmt = output_format(options, info, headers.get("accept") if auto else None)
        key = (*identity, str(options), fmt)
        etag = '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:32] + '"'
        common = [("ETag", etag), ("Cache-Control", f"public, max-age={CACHE_SECONDS}")]
        if auto:
            common.append(("Vary", "Accept"))
        if any(item.strip().removeprefix("W/") in (etag, "*") for item in headers.get("if-none-match", "").split(",")):
            return DeliveryResponse(304, common, b"")
        cached = self._cached(key)
        if cached is None:
            try:
                rendered = render(data, info, options, output_format=fmt)
            except ImageRejected as exc:
                raise DeliveryError(exc.status, exc.code, exc.message) from None
            cached = (rendered.body, rendered.content_type)
            self._store(key, cached)
        body, content_type = cached
        content = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if content_type == "image/svg+xml":
            content.append(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:"))
        return DeliveryResponse(200, content + common, b"" if head else body)

    def _cached(self, key: tuple[object, ...]) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def _store(self, key: tuple[object, ...], value: tuple[bytes, str]) -> None:
        size = len(value[0])
        if size > _CACHE_BYTES // 8:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = value
            self._cached_bytes += size
            while self._cached_bytes > _CACHE_BYTES:
                _, (old, _type) = self._cache.popitem(last=False)
                self._cached_bytes -= len(old)

    # -- mounting -----------------------------------------------------------------------------------------------

    def middleware(self, app: object) -> TransformationsMiddleware:
        """``app`` (a WSGI app) with ``/cdn-cgi/image/...`` answered by this server."""
        return TransformationsMiddleware(app, self)


class TransformationsMiddleware:
    """WSGI middleware: ``/cdn-cgi/image/...`` goes to a ``TransformationServer``, everything else to ``app``."""

    def __init__(self, app: object, server: TransformationServer) -> None:
        self.app = app
        self.server = server

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        if path.startswith(TRANSFORM_PREFIX):
            return self.server(environ, start_response)
        return self.app(environ, start_response)  # type: ignore[operator, no-any-return]


_REASONS = {200: "OK", 302: "Found", 304: "Not Modified", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
            502: "Bad Gateway"}  # fmt: skip


def _split(path: str) -> tuple[Options, str]:
    """``(options, source)`` of ``/cdn-cgi/image/<options>/<source>``; the source still percent-encoded."""
    if not path.startswith(TRANSFORM_PREFIX):
        raise DeliveryError(400, BAD_OPTIONS, "Not an Image Transformations URL: expected /cdn-cgi/image/<options>/...")
    segment, slash, source = path[len(TRANSFORM_PREFIX) :].partition("/")
    if not slash or not source:
        raise DeliveryError(400, BAD_OPTIONS, "No source image after /cdn-cgi/image/<options>/")
    if "=" not in segment:
        raise DeliveryError(
            400, BAD_OPTIONS, f"{unquote(segment)[:60]!r} is not a list of options; Image Transformations have no "
            "named variants",
        )  # fmt: skip
    try:
        options = Options.parse(segment).check_form("remote")
    except CFVariantsError as exc:
        raise DeliveryError(400, BAD_OPTIONS, str(exc)) from None
    if source.startswith(("https:/", "http:/")) and not source.startswith(("https://", "http://")):
        source = source.replace(":/", "://", 1)  # a proxy that merged the slashes of the embedded URL
    return options, source if source.startswith(("https://", "http://")) else "/" + source


def _prefix(url: str) -> str:
    if not isinstance(url, str) or not url.startswith("/"):
        raise ValueError(f"a root's URL prefix must start with '/', like /media/, not {url!r}")
    return url if url.endswith("/") else url + "/"


def _origin(origin: str) -> str:
    parts = urlsplit(origin.strip().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        raise ValueError(f"an allowed origin is scheme://host[:port] with http or https, not {origin!r}")
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def _refused(source: str, why: str) -> DeliveryError:
    return DeliveryError(400, SOURCE_REFUSED, f"Source {source[:200]!r} {why}")
