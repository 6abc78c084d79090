"""The REST API: routes under ``/client/v4/accounts/<account_id>/images/`` and on the batch host.

Each handler turns a werkzeug request into one ``Emulator`` call and the result into Cloudflare's v4 envelope.
Routing works on the raw, still percent-encoded path segments: an image id is everything between ``v1/`` and the
end (or ``/blob``), so ``/images/v1/a%2Fb`` and ``/images/v1/a/b`` both name the custom id ``a/b`` (whether
Cloudflare accepts unencoded slashes is unconfirmed; the emulator tolerates them). Words that are
routes (``keys``, ``variants``, ``stats``, ``config``, ``batch_token``) win over an image id; the emulator refuses
custom ids that would collide with them.

The batch host (``/images/v1...``, ``/images/v2...`` at the root, with a batch token) serves the subset the docs
list: upload, image get/update/delete, list v2 and direct upload.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from cfvariants.emulator._account._listing import parse_filters
from cfvariants.emulator._errors import (
    AUTH_ERROR,
    BAD_IDENTIFIER,
    METHOD_NOT_ALLOWED,
    NO_ROUTE,
    RATE_LIMITED,
    EmulatorAPIError,
    bad_request,
)
from cfvariants.emulator._paths import decode_segment
from cfvariants.emulator._storage._records import iso_time
from cfvariants.emulator._unset import UNSET, Unset

from ._auth import check_api_credentials, check_batch_credentials
from ._envelope import failure, success
from ._forms import (
    form_bool,
    form_metadata,
    is_multipart,
    json_metadata,
    json_object,
    multipart_form,
    optional_string,
    read_upload_file,
)
from ._representation import keys_object

if TYPE_CHECKING:
    from cfvariants.emulator._emulator import Emulator

_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JSON = "application/json"


@dataclass(frozen=True)
class _Call:
    emulator: Emulator
    request: Request
    base_url: str
    args: tuple[str, ...]  # decoded path parameters (image id, variant id, key name)


Handler = Callable[[_Call], Response]


def _json(status: int, body: bytes) -> Response:
    return Response(body, status=status, content_type=_JSON)


def _ok(result: Any, result_info: dict[str, Any] | None = None) -> Response:
    return _json(200, success(result, result_info=result_info))


def error_response(error: EmulatorAPIError) -> Response:
    return _json(error.status, failure(error))


# -- entry points -----------------------------------------------------------------------------------------------


def handle_account_api(emulator: Emulator, request: Request, segments: list[str], base_url: str) -> Response:
    """``segments``: the encoded path after ``/client/v4/``."""
    limiter = emulator.rate_limiter
    if limiter is not None and (wait := limiter.check()) is not None:
        limit = f"more than {limiter.requests} API requests in {limiter.window:g} s"
        response = error_response(EmulatorAPIError(429, RATE_LIMITED, f"Rate limited: {limit}; retry after the window"))
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    try:
        if len(segments) < 3 or segments[0] != "accounts" or segments[2] != "images":
            raise EmulatorAPIError(404, NO_ROUTE, f"No route for that URI: {request.path[:200]}")
        account_id = decode_segment(segments[1]) if _decodable(segments[1]) else ""
        if not _ACCOUNT_ID.fullmatch(account_id):
            raise EmulatorAPIError(
                400,
                BAD_IDENTIFIER,
                f"Could not route to {request.path[:200]}, perhaps your object identifier is invalid?",
            )
        handler, args = _route(request.method, segments[3:], batch=False)
        check_api_credentials(emulator.config, _lower_headers(request))
        if account_id != emulator.config.account_id:
            raise EmulatorAPIError(
                403, AUTH_ERROR, f"Authentication error: the API token has no access to account {account_id!r}"
            )
        return handler(_Call(emulator, request, base_url, args))
    except EmulatorAPIError as exc:
        return error_response(exc)


def handle_batch_api(emulator: Emulator, request: Request, segments: list[str], base_url: str) -> Response:
    """``segments``: the encoded path from ``images`` on (the batch host's ``/images/v1...``)."""
    try:
        handler, args = _route(request.method, segments[1:], batch=True)
        check_batch_credentials(_lower_headers(request), emulator.batch_token_valid)
        return handler(_Call(emulator, request, base_url, args))
    except EmulatorAPIError as exc:
        return error_response(exc)


def _lower_headers(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def _decodable(segment: str) -> bool:
    try:
        decode_segment(segment)
    except UnicodeDecodeError:
        return False
    return True


def _decode_id(parts: list[str]) -> str:
    try:
        return "/".join(decode_segment(part) for part in parts)
    except UnicodeDecodeError:
        raise bad_request("the image id in the path is not valid percent-encoded UTF-8") from None


# -- routing ----------------------------------------------------------------------------------------------------


def _route(method: str, parts: list[str], *, batch: bool) -> tuple[Handler, tuple[str, ...]]:
    """Pick the handler for ``method`` and the encoded path ``parts`` after ``images/``."""
    table: dict[str, Handler]
    args: tuple[str, ...] = ()
    name = "/".join(parts)
    if name == "v1":
        table = {"GET": _list_v1, "POST": _upload}
    elif name == "v2":
        table = {"GET": _list_v2}
    elif name == "v2/direct_upload":
        table = {"POST": _direct_upload}
    elif name == "v1/stats":
        table = {"GET": _stats}
    elif name == "v1/config":
        table = {"GET": _get_config, "PATCH": _patch_config}
    elif name == "v1/batch_token":
        table = {"GET": _batch_token}
    elif name == "v1/keys":
        table = {"GET": _list_keys}
    elif len(parts) == 3 and parts[:2] == ["v1", "keys"]:
        table, args = {"PUT": _put_key, "DELETE": _delete_key}, (_decode_id(parts[2:]),)
    elif name == "v1/variants":
        table = {"GET": _list_variants, "POST": _create_variant}
    elif len(parts) == 3 and parts[:2] == ["v1", "variants"]:
        table = {"GET": _get_variant, "PATCH": _patch_variant, "DELETE": _delete_variant}
        args = (_decode_id(parts[2:]),)
    elif len(parts) >= 3 and parts[0] == "v1" and parts[-1] == "blob":
        table, args = {"GET": _blob}, (_decode_id(parts[1:-1]),)
    elif len(parts) >= 2 and parts[0] == "v1" and all(parts[1:]):
        table, args = {"GET": _get_image, "PATCH": _patch_image, "DELETE": _delete_image}, (_decode_id(parts[1:]),)
    else:
        raise EmulatorAPIError(404, NO_ROUTE, f"No route for that URI: images/{name[:200]}")
    if batch:
        table = {m: h for m, h in table.items() if h in _BATCH_HANDLERS}
        if not table:
            raise EmulatorAPIError(404, NO_ROUTE, f"No route for that URI on the batch host: images/{name[:200]}")
    handler = table.get(method)
    if handler is None:
        raise EmulatorAPIError(405, METHOD_NOT_ALLOWED, f"Method {method} not allowed; use {', '.join(sorted(table))}")
    return handler, args


# -- images -----------------------------------------------------------------------------------------------------


def _upload(call: _Call) -> Response:
    form, files = multipart_form(call.request)
    data, filename = read_upload_file(form, files)
    url = form.get("url")
    if data is not None and url is not None:
        raise bad_request("file and url are mutually exclusive; send one of them")
    record = call.emulator.upload(
        data,
        url=url,
        filename=filename,
        image_id=form.get("id") or None,
        metadata=form_metadata(form),
        require_signed_urls=form_bool("requireSignedURLs", form.get("requireSignedURLs")),
        creator=form.get("creator") or None,
    )
    return _ok(call.emulator.image_object(record, call.base_url))


def _get_image(call: _Call) -> Response:
    return _ok(call.emulator.image_object(call.emulator.get_image(call.args[0]), call.base_url))


def _patch_image(call: _Call) -> Response:
    body = json_object(call.request, allowed=("metadata", "requireSignedURLs", "creator"))
    metadata: Any = json_metadata(body["metadata"]) if "metadata" in body else UNSET
    private: bool | Unset = (
        form_bool("requireSignedURLs", body["requireSignedURLs"]) if "requireSignedURLs" in body else UNSET
    )
    creator: str | Unset | None = optional_string("creator", body["creator"]) if "creator" in body else UNSET
    record = call.emulator.update_image(call.args[0], metadata=metadata, require_signed_urls=private, creator=creator)
    return _ok(call.emulator.image_object(record, call.base_url))


def _delete_image(call: _Call) -> Response:
    call.emulator.delete_image(call.args[0])
    return _ok({})


def _blob(call: _Call) -> Response:
    data, content_type = call.emulator.image_blob(call.args[0])
    return Response(data, status=200, content_type=content_type, headers={"X-Content-Type-Options": "nosniff"})


def _int_arg(call: _Call, name: str, default: int) -> int:
    text = call.request.args.get(name)
    if text is None or text == "":
        return default
    digits = text.lstrip("0") or "0"
    if not text.isascii() or not text.isdigit():  # no 1e300, no NaN, no non-ASCII digits
        raise bad_request(f"{name} must be a whole number, not {text[:40]!r}")
    if len(digits) > 9:
        raise bad_request(f"{name} is too large: {text[:40]!r}")
    return int(digits)


def _creator_arg(call: _Call) -> str | None:
    return call.request.args.get("creator") if "creator" in call.request.args else None


def _list_v1(call: _Call) -> Response:
    page, per_page = _int_arg(call, "page", 1), _int_arg(call, "per_page", 1000)
    creator = _creator_arg(call)
    records = call.emulator.list_images(page=page, per_page=per_page, creator=creator)
    images = call.emulator.image_objects(records, call.base_url)
    total = call.emulator.count_images(creator=creator)
    info = {"page": page, "per_page": per_page, "count": len(images), "total_count": total}
    return _ok({"images": images}, info)


def _list_v2(call: _Call) -> Response:
    args = call.request.args
    records, token = call.emulator.list_images_v2(
        per_page=_int_arg(call, "per_page", 1000),
        continuation_token=args.get("continuation_token") or None,
        sort_order=args.get("sort_order") or "desc",
        creator=_creator_arg(call),
        filters=parse_filters(args.items(multi=True)),
    )
    images = call.emulator.image_objects(records, call.base_url)
    return _ok({"images": images, "continuation_token": token})


def _stats(call: _Call) -> Response:
    current, allowed = call.emulator.stats()
    return _ok({"count": {"allowed": allowed, "current": current}})


def _direct_upload(call: _Call) -> Response:
    """Multipart (the schema) or JSON (the docs' curl example): both are accepted."""
    if is_multipart(call.request):
        form, _files = multipart_form(call.request)
        fields: dict[str, Any] = {
            "expiry": form.get("expiry"),
            "id": form.get("id"),
            "metadata": form_metadata(form),
            "requireSignedURLs": form.get("requireSignedURLs"),
            "creator": form.get("creator"),
        }
    elif call.request.mimetype in ("", _JSON) or call.request.mimetype.endswith("+json"):
        fields = json_object(call.request, allowed=("expiry", "id", "metadata", "requireSignedURLs", "creator"))
        fields["metadata"] = json_metadata(fields.get("metadata"))
    elif call.request.mimetype == "application/x-www-form-urlencoded":
        form = call.request.form
        fields = {name: form.get(name) for name in ("expiry", "id", "requireSignedURLs", "creator")}
        fields["metadata"] = form_metadata(form)
    else:
        raise bad_request(f"send the direct-upload request as multipart/form-data or JSON, not {call.request.mimetype}")
    record = call.emulator.create_direct_upload(
        expiry=optional_string("expiry", fields.get("expiry")),
        image_id=optional_string("id", fields.get("id")) or None,
        metadata=fields.get("metadata"),
        require_signed_urls=form_bool("requireSignedURLs", fields.get("requireSignedURLs")),
        creator=optional_string("creator", fields.get("creator")) or None,
    )
    return _ok({"id": record.id, "uploadURL": call.emulator.upload_url(record.id, call.base_url)})


# -- variants ---------------------------------------------------------------------------------------------------


def _list_variants(call: _Call) -> Response:
    variants = call.emulator.list_variants()
    return _ok({"variants": {v.id: call.emulator.variant_object(v) for v in variants}})


def _create_variant(call: _Call) -> Response:
    body = json_object(call.request, allowed=("id", "options", "neverRequireSignedURLs"), required=("id", "options"))
    variant = call.emulator.create_variant(
        body["id"],
        body["options"],
        never_require_signed_urls=form_bool("neverRequireSignedURLs", body.get("neverRequireSignedURLs")),
    )
    return _ok({"variant": call.emulator.variant_object(variant)})


def _get_variant(call: _Call) -> Response:
    return _ok({"variant": call.emulator.variant_object(call.emulator.get_variant(call.args[0]))})


def _patch_variant(call: _Call) -> Response:
    body = json_object(call.request, allowed=("options", "neverRequireSignedURLs"), required=("options",))
    never: bool | Unset = UNSET
    if "neverRequireSignedURLs" in body:
        never = form_bool("neverRequireSignedURLs", body["neverRequireSignedURLs"])
    variant = call.emulator.update_variant(call.args[0], body["options"], never_require_signed_urls=never)
    return _ok({"variant": call.emulator.variant_object(variant)})


def _delete_variant(call: _Call) -> Response:
    call.emulator.delete_variant(call.args[0])
    return _ok({})


# -- signing keys, settings, batch tokens -----------------------------------------------------------------------


def _list_keys(call: _Call) -> Response:
    return _ok(keys_object(call.emulator.list_signing_keys()))


def _put_key(call: _Call) -> Response:
    return _ok(keys_object(call.emulator.put_signing_key(call.args[0])))


def _delete_key(call: _Call) -> Response:
    return _ok(keys_object(call.emulator.delete_signing_key(call.args[0])))


def _get_config(call: _Call) -> Response:
    return _ok(call.emulator.settings().as_dict())


def _patch_config(call: _Call) -> Response:
    body = json_object(call.request, allowed=("flexible_variants", "browser_ttl", "preserve_content_credentials"))
    flags = {}
    for name in ("flexible_variants", "preserve_content_credentials"):
        if name in body:
            if not isinstance(body[name], bool):
                raise bad_request(f"{name} must be true or false")
            flags[name] = body[name]
    settings = call.emulator.update_settings(browser_ttl=body.get("browser_ttl"), **flags)
    return _ok(settings.as_dict())


def _batch_token(call: _Call) -> Response:
    token, expires = call.emulator.issue_batch_token()
    return _ok({"token": token, "expiresAt": iso_time(expires)})


_BATCH_HANDLERS: frozenset[Handler] = frozenset(
    {_upload, _get_image, _patch_image, _delete_image, _list_v2, _direct_upload}
)
