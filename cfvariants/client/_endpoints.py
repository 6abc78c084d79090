"""Every Cloudflare Images API endpoint (images, variants, signing keys, stats, config, batch token) as a
``Call``: validated arguments in, one request out.

Paths are relative to ``/accounts/<account id>`` (the client adds it, except on the batch host); ids are
percent-encoded in full. Argument checks raise ``ValidationError`` here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

import httpx

from . import _requests as rq
from ._checks import (
    check_browser_ttl,
    check_custom_id,
    check_direct_upload_expiry,
    check_image_id,
    check_key_name,
    check_per_page,
    check_variant_id,
    check_variant_options,
    encode_metadata,
)
from ._errors import APIError, NotFoundError, TransportError, ValidationError
from ._filters import MetaFilters, meta_query
from ._models import AccountConfig, AccountSigningKey, BatchToken, DirectUpload, Image, ImagesPage, Stats, Variant
from ._requests import Call, Context, Request, segment

SortOrder = Literal["asc", "desc"]


def image_id_of(image: str | Image) -> str:
    """The id of ``image`` (an id or an ``Image``)."""
    return image.id if isinstance(image, Image) else check_image_id(image)


def _image_path(image: str | Image, suffix: str = "") -> str:
    return f"/images/v1/{segment(image_id_of(image))}{suffix}"


def _deleted_already(error: APIError | TransportError) -> bool:
    # A DELETE repeated after a failure that may have gone through: "not found" means the first one worked.
    return isinstance(error, NotFoundError)


# -- images --------------------------------------------------------------------------------------------------


def get_image(image: str | Image) -> Call[Image]:
    return Call(Request("GET", _image_path(image)), rq.image_result, batch=True)


def update_image(
    image: str | Image,
    *,
    metadata: Mapping[str, Any] | None = None,
    require_signed_urls: bool | None = None,
    creator: str | None = None,
) -> Call[Image]:
    body: dict[str, Any] = {}
    if metadata is not None:
        encode_metadata(metadata)
        body["metadata"] = dict(metadata)
    if require_signed_urls is not None:
        body["requireSignedURLs"] = _flag("require_signed_urls", require_signed_urls)
    if creator is not None:
        body["creator"] = _text("creator", creator)
    if not body:
        raise ValidationError("nothing to update: pass metadata, require_signed_urls or creator")
    return Call(Request("PATCH", _image_path(image), json=body), rq.image_result, batch=True)


def delete_image(image: str | Image) -> Call[None]:
    return Call(Request("DELETE", _image_path(image)), rq.nothing, batch=True, after_uncertain=_deleted_already)


def download(image: str | Image) -> Call[httpx.Response]:
    """The original file, streamed: the result is the open response (the client reads and closes it)."""
    request = Request("GET", _image_path(image, "/blob"), headers={"Accept": "image/*"}, stream=True)
    return Call(request, _the_response)


def _the_response(result: Any, context: Context) -> httpx.Response:
    assert isinstance(result, httpx.Response)
    return result


def list_images_v1(page: int = 1, per_page: int | None = None, creator: str | None = None) -> Call[ImagesPage]:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValidationError(f"page must be an integer >= 1, not {page!r}")
    params = [("page", str(page))]
    if per_page is not None:
        params.append(("per_page", str(check_per_page(per_page))))
    if creator is not None:
        params.append(("creator", _text("creator", creator)))
    parse = partial(_page_v1, page=page, per_page=per_page)
    return Call(Request("GET", "/images/v1", params=params), parse)


def _page_v1(result: Any, context: Context, *, page: int, per_page: int | None) -> ImagesPage:
    return rq.images_page(result, context, page=page, per_page=per_page)


def list_images(
    continuation_token: str | None = None,
    per_page: int | None = None,
    sort_order: SortOrder | None = None,
    creator: str | None = None,
    meta: MetaFilters | None = None,
) -> Call[ImagesPage]:
    params: list[tuple[str, str]] = []
    if continuation_token is not None:
        params.append(("continuation_token", _text("continuation_token", continuation_token)))
    if per_page is not None:
        params.append(("per_page", str(check_per_page(per_page))))
    if sort_order is not None:
        if sort_order not in ("asc", "desc"):
            raise ValidationError(f"sort_order must be 'asc' or 'desc', not {sort_order!r}")
        params.append(("sort_order", sort_order))
    if creator is not None:
        params.append(("creator", _text("creator", creator)))
    params.extend(meta_query(meta))
    return Call(Request("GET", "/images/v2", params=params), rq.images_page, batch=True)


def create_direct_upload(
    *,
    expiry: datetime | timedelta | None = None,
    id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    require_signed_urls: bool | None = None,
    creator: str | None = None,
) -> Call[DirectUpload]:
    private = bool(_flag("require_signed_urls", require_signed_urls)) if require_signed_urls is not None else False
    form: list[tuple[str, str]] = [("requireSignedURLs", "true" if private else "false")]
    if expiry is not None:
        form.append(("expiry", check_direct_upload_expiry(expiry)))
    if id is not None:
        form.append(("id", check_custom_id(id, private=private)))
    if metadata is not None:
        form.append(("metadata", encode_metadata(metadata)))
    if creator is not None:
        form.append(("creator", _text("creator", creator)))
    request = Request("POST", "/images/v2/direct_upload", form=form)
    return Call(request, rq.direct_upload_result, batch=True)


def stats() -> Call[Stats]:
    return Call(Request("GET", "/images/v1/stats"), rq.stats_result)


# -- variants ------------------------------------------------------------------------------------------------


def list_variants() -> Call[dict[str, Variant]]:
    return Call(Request("GET", "/images/v1/variants"), rq.variants_result)


def get_variant(variant_id: str) -> Call[Variant]:
    return Call(Request("GET", f"/images/v1/variants/{segment(check_variant_id(variant_id))}"), rq.variant_result)


OPTION_NAMES = ("fit", "width", "height", "metadata")


def variant_definition(
    variant: str | Variant, options: Mapping[str, Any], never_require_signed_urls: bool | None
) -> tuple[str, dict[str, Any], bool | None]:
    """The id, options and signed-URL exemption of a variant given as an id plus keywords, or as a ``Variant``
    (e.g. one read from another account) with the keywords that are not ``None`` overriding it."""
    given = {name: value for name, value in options.items() if value is not None}
    if isinstance(variant, Variant):
        current = variant.options.model_dump(include=set(OPTION_NAMES))
        merged = {**{name: value for name, value in current.items() if value is not None}, **given}
        never = variant.never_require_signed_urls if never_require_signed_urls is None else never_require_signed_urls
        return variant.id, merged, never
    return variant, given, never_require_signed_urls


def create_variant(variant_id: str, options: Mapping[str, Any], never_require_signed_urls: bool) -> Call[Variant]:
    body = {
        "id": check_variant_id(variant_id),
        "options": check_variant_options(options),
        "neverRequireSignedURLs": _flag("never_require_signed_urls", never_require_signed_urls),
    }
    return Call(Request("POST", "/images/v1/variants", json=body), rq.variant_result)


def update_variant(
    variant_id: str, options: Mapping[str, Any], never_require_signed_urls: bool | None
) -> Call[Variant]:
    body: dict[str, Any] = {"options": check_variant_options(options)}
    if never_require_signed_urls is not None:
        body["neverRequireSignedURLs"] = _flag("never_require_signed_urls", never_require_signed_urls)
    path = f"/images/v1/variants/{segment(check_variant_id(variant_id))}"
    return Call(Request("PATCH", path, json=body), rq.variant_result)


def delete_variant(variant_id: str) -> Call[None]:
    if variant_id == "public":
        raise ValidationError("the 'public' variant cannot be deleted")
    path = f"/images/v1/variants/{segment(check_variant_id(variant_id))}"
    return Call(Request("DELETE", path), rq.nothing, after_uncertain=_deleted_already)


# -- signing keys --------------------------------------------------------------------------------------------


def list_signing_keys() -> Call[list[AccountSigningKey]]:
    return Call(Request("GET", "/images/v1/keys"), rq.keys_result)


def create_signing_key(name: str) -> Call[AccountSigningKey]:
    path = f"/images/v1/keys/{segment(check_key_name(name))}"
    return Call(Request("PUT", path), partial(_the_key, name=name))


def _the_key(result: Any, context: Context, *, name: str) -> AccountSigningKey:
    for key in rq.keys_result(result, context):
        if key.name == name:
            return key
    raise APIError(200, method="PUT", path=f"/images/v1/keys/{name}", reason=f"key {name!r} is not in the response")


def delete_signing_key(name: str) -> Call[list[AccountSigningKey]]:
    path = f"/images/v1/keys/{segment(check_key_name(name))}"
    return Call(Request("DELETE", path), rq.keys_result)


# -- account -------------------------------------------------------------------------------------------------


def get_config() -> Call[AccountConfig]:
    # Not in Cloudflare's OpenAPI schema nor its docs (which show only PATCH); the dashboard reads the same
    # path. Provided so a caller can see the current state; expect NotFoundError if the API lacks it [U].
    return Call(Request("GET", "/images/v1/config"), rq.config_result)


def update_config(
    *,
    flexible_variants: bool | None = None,
    browser_ttl: int | None = None,
    preserve_content_credentials: bool | None = None,
) -> Call[AccountConfig]:
    # Documented, but absent from Cloudflare's OpenAPI schema: PATCH with any of the three fields; the response
    # body is not documented, so what Cloudflare returns is laid over what was sent.
    body: dict[str, Any] = {}
    if flexible_variants is not None:
        body["flexible_variants"] = _flag("flexible_variants", flexible_variants)
    if browser_ttl is not None:
        body["browser_ttl"] = check_browser_ttl(browser_ttl)
    if preserve_content_credentials is not None:
        body["preserve_content_credentials"] = _flag("preserve_content_credentials", preserve_content_credentials)
    if not body:
        raise ValidationError("nothing to update: pass flexible_variants, browser_ttl or preserve_content_credentials")
    return Call(Request("PATCH", "/images/v1/config", json=body), partial(_config_after, sent=body))


def _config_after(result: Any, context: Context, *, sent: dict[str, Any]) -> AccountConfig:
    return AccountConfig.model_validate({**sent, **(result if isinstance(result, dict) else {})})


def batch_token() -> Call[BatchToken]:
    # Documented (the Batch API), absent from the OpenAPI schema: GET, result {"token", "expiresAt"}.
    return Call(Request("GET", "/images/v1/batch_token"), rq.batch_token_result)


# -- argument helpers ----------------------------------------------------------------------------------------


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be True or False, not {value!r}")
    return value


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, not {type(value).__name__}")
    return value
