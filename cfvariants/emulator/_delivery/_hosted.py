"""Serving delivery URLs: ``/<hash>/<id>/<variant>`` and ``/cdn-cgi/imagedelivery/<hash>/<id>/<variant>``.

The steps, in order, each failing with Cloudflare's documented code in ``Cf-Resized: err=<code>`` and a
short text body: the path must have a hash, an id and a last segment (9426, 403); the hash must be this
account's (9427, 403); options in the last segment need flexible variants switched on (9429, 403) and must parse
with the core's ``Options.parse`` (9401, 400); the image and the named variant must exist (9431, 404); a private
image needs a valid signature unless the variant has ``neverRequireSignedURLs`` (9425, 403), and cannot be
served through flexible options at all (9425 too: it is an access refusal, and Cloudflare documents no other
code for it). Rendering errors keep the renderer's code (9412, 9413...).

Renders are cached on disk per (image file, canonical options, output format); the response carries a strong
ETag (304 for a matching ``If-None-Match``), ``Cache-Control`` (Cloudflare's: ``public, max-age=<browser TTL>,
stale-while-revalidate=7200``; signed responses: ``private, max-age=<seconds until exp>``), ``Vary: Accept`` when
the format was negotiated, and ``Cf-Emulator-Ignored`` naming options accepted but not honoured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from cfvariants._errors import OptionsError, VariantError
from cfvariants._options import Options
from cfvariants._urls import DOMAIN_PREFIX, check_variant_name
from cfvariants.emulator._config import EmulatorConfig
from cfvariants.emulator._errors import (
    ACCESS_DENIED,
    ACCOUNT_MISMATCH,
    BAD_OPTIONS,
    DELIVERY_NOT_FOUND,
    FLEXIBLE_DISABLED,
    MALFORMED_URL,
    DeliveryError,
)
from cfvariants.emulator._storage._files import CachedVariant
from cfvariants.emulator._storage._records import ImageRecord, VariantRecord
from cfvariants.emulator._storage._storage import Storage
from cfvariants.imaging import ImageRejected

from ._access import signature_refusal
from ._transform import output_format, render

IGNORED_HEADER = "Cf-Emulator-Ignored"
STALE_WHILE_REVALIDATE = 7200


@dataclass(frozen=True)
class DeliveryResponse:
    """What to send back: a status, headers and the body (empty for HEAD and 304)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


@dataclass(frozen=True)
class _Target:
    image: ImageRecord
    options: Options
    variant: VariantRecord | None  # None for flexible options
    signed_exp: int | None  # set when access was granted by a signature


class HostedDelivery:
    """Answers the delivery URLs of the images in ``storage`` for the account in ``config`` (its hash, its
    signature leniency and its clock)."""

    def __init__(self, config: EmulatorConfig, storage: Storage) -> None:
        self.config = config
        self.storage = storage
        self.db = storage.db
        self.originals = storage.originals
        self.cache = storage.cache

    def now(self) -> float:
        return self.config.clock()

    def deliver(
        self, path: str, *, query: str = "", headers: Mapping[str, str] | None = None, method: str = "GET"
    ) -> DeliveryResponse:
        """Answer one delivery request (``path`` percent-encoded, as sent)."""
        return _deliver(self, path, query=query, headers=headers or {}, method=method)


def _deliver(
    service: HostedDelivery, path: str, *, query: str, headers: Mapping[str, str], method: str
) -> DeliveryResponse:
    if method not in ("GET", "HEAD"):
        return DeliveryResponse(
            405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")], b"Method not allowed\n"
        )
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        target = _resolve(service, path, query)
        return _respond(service, target, lowered, head=method == "HEAD")
    except DeliveryError as exc:
        return error_response(exc, head=method == "HEAD")


def error_response(exc: DeliveryError, *, head: bool = False) -> DeliveryResponse:
    body = f"ERROR {exc.code}: {exc.message}\n".encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cf-Resized", f"err={exc.code}"),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return DeliveryResponse(exc.status, headers, b"" if head else body)


def _resolve(service: HostedDelivery, path: str, query: str) -> _Target:
    rest = path[len(DOMAIN_PREFIX) :] if path.startswith(DOMAIN_PREFIX + "/") else path
    segments = rest[1:].split("/") if rest.startswith("/") else []
    if len(segments) < 3 or "" in segments:
        raise DeliveryError(
            403, MALFORMED_URL, "Malformed delivery URL: expected /<account hash>/<image id>/<variant or options>"
        )
    if segments[0] != service.config.account_hash:
        raise DeliveryError(403, ACCOUNT_MISMATCH, f"Account mismatch: {segments[0][:64]!r} is not this account's hash")
    try:
        image_id = unquote("/".join(segments[1:-1]), errors="strict")
    except UnicodeDecodeError:
        raise DeliveryError(403, MALFORMED_URL, "Malformed delivery URL: the image id is not UTF-8") from None
    last = segments[-1]
    flexible = "=" in last
    db = service.db.read()
    variant: VariantRecord | None = None
    options: Options | None = None
    if flexible:
        if not db.account_settings().flexible_variants:
            raise DeliveryError(
                403,
                FLEXIBLE_DISABLED,
                "Flexible variants are not enabled for the account (PATCH /images/v1/config "
                '{"flexible_variants": true})',
            )
        try:
            options = Options.parse(last).check_form("hosted")
        except OptionsError as exc:
            raise DeliveryError(400, BAD_OPTIONS, str(exc)) from None
    else:
        try:
            name = check_variant_name(unquote(last))
        except VariantError as exc:
            raise DeliveryError(400, BAD_OPTIONS, str(exc)) from None
        variant = db.get_variant(name)
    image = db.get_image(image_id)
    if image is None or image.draft or image.file_key is None:
        raise DeliveryError(404, DELIVERY_NOT_FOUND, f"Image not found: {image_id[:200]!r}")
    if variant is not None:
        options = variant.as_options()
    elif not flexible:
        raise DeliveryError(404, DELIVERY_NOT_FOUND, f"Variant not found: {unquote(last)[:100]!r}")
    assert options is not None
    signed_exp = None
    if image.require_signed_urls:
        if variant is None:
            raise DeliveryError(
                403,
                ACCESS_DENIED,
                "Image access denied: a private image cannot be served through flexible variants; use a named variant",
            )
        if not variant.never_require_signed_urls:
            keys = [key.value for key in db.list_signing_keys()]
            problem = signature_refusal(path, query, keys, now=service.now(), lenient=service.config.lenient_signatures)
            if problem is not None:
                raise DeliveryError(403, ACCESS_DENIED, f"Image access denied: {problem}")
            signed_exp = next(int(v) for k, v in parse_qsl(query) if k == "exp")
    return _Target(image, options, variant, signed_exp)


def _respond(service: HostedDelivery, target: _Target, headers: Mapping[str, str], *, head: bool) -> DeliveryResponse:
    image, options = target.image, target.options
    assert image.info is not None and image.file_key is not None
    fmt = output_format(options, image.info, headers.get("accept"))
    options_key = str(options)
    cached = service.cache.get(image.file_key, options_key, fmt)
    if cached is None:
        try:
            rendered = render(service.originals.read(image.file_key), image.info, options, output_format=fmt)
        except ImageRejected as exc:
            raise DeliveryError(exc.status, exc.code, exc.message) from None
        cached = service.cache.put(
            image.file_key, options_key, fmt, rendered.body, rendered.content_type, rendered.ignored
        )
    common = [("ETag", cached.etag), ("Cache-Control", _cache_control(service, target))]
    if options.format in (None, "auto") and image.info.format != "svg":
        common.append(("Vary", "Accept"))
    if _etag_matches(headers.get("if-none-match"), cached.etag):
        return DeliveryResponse(304, common, b"")
    return DeliveryResponse(200, _content_headers(cached) + common, b"" if head else cached.body)


def _content_headers(cached: CachedVariant) -> list[tuple[str, str]]:
    out = [
        ("Content-Type", cached.content_type),
        ("Content-Length", str(len(cached.body))),
        ("X-Content-Type-Options", "nosniff"),
        ("Access-Control-Allow-Origin", "*"),  # as imagedelivery.net: pages may draw the image on a canvas
    ]
    if cached.content_type == "image/svg+xml":
        out.append(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:"))
    if cached.ignored:
        out.append((IGNORED_HEADER, ",".join(cached.ignored)))
    return out


def _cache_control(service: HostedDelivery, target: _Target) -> str:
    if target.signed_exp is not None:
        return f"private, max-age={max(0, target.signed_exp - int(service.now()))}"
    ttl = target.variant.browser_ttl if target.variant is not None else None
    if ttl is None:
        ttl = service.db.read().account_settings().browser_ttl
    return f"public, max-age={ttl}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"


def _etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` uses the weak comparison: ``W/"x"`` matches ``"x"``; ``*`` matches anything."""
    if not header:
        return False
    for item in header.split(","):
        candidate = item.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
