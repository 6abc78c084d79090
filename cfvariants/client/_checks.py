"""Checks that refuse input Cloudflare is known to reject, before any byte is sent: its documented limits (10 MB files,
1,024-byte metadata, custom ids, direct-upload expiry of 2 minutes to 6 hours, ``per_page`` of 10 to 10,000, list v2
filters).

Each check names the bad part and the rule. Image-id shape rules reuse the core's ``encode_image_id`` (the same
rules keep ids usable in delivery URLs); what is specific to the API (no UUID-shaped custom ids, no private
custom ids, sizes, ranges) lives here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cfvariants._errors import CFVariantsError
from cfvariants._urls import check_variant_name, encode_image_id
from cfvariants.limits import (
    BROWSER_TTL_RANGE,
    DIRECT_UPLOAD_EXPIRY_MAX,
    DIRECT_UPLOAD_EXPIRY_MIN,
    MAX_METADATA_BYTES,
    MAX_UPLOAD_BYTES,
    PER_PAGE_RANGE,
    is_key_name,
    is_uuid,
)

from ._errors import ValidationError

VARIANT_FITS = frozenset({"scale-down", "contain", "cover", "crop", "pad"})
VARIANT_METADATA = frozenset({"keep", "copyright", "none"})


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def check_image_id(image_id: object) -> str:
    """An id of an existing image, for a request path: a non-empty string."""
    if not isinstance(image_id, str):
        raise ValidationError(f"image id must be a string, not {type(image_id).__name__}")
    if not image_id:
        raise ValidationError("image id is empty")
    return image_id


def check_custom_id(custom_id: object, *, private: bool) -> str:
    """A custom id for a new image: ≤ 1,024 characters, not UUID-shaped, no leading/trailing ``/`` and no
    empty, ``.`` or ``..`` segments; and the image cannot be private."""
    if not isinstance(custom_id, str):
        raise ValidationError(f"custom id must be a string, not {type(custom_id).__name__}")
    try:
        encode_image_id(custom_id)
    except CFVariantsError as exc:
        raise ValidationError(f"custom {exc}") from None
    if is_uuid(custom_id):
        raise ValidationError(
            f"custom id {_shown(custom_id)} looks like a UUID, which Cloudflare reserves for its own ids"
        )
    if private:
        raise ValidationError(
            f"custom id {_shown(custom_id)} with require_signed_urls=True: Cloudflare cannot make an image with a "
            "custom id private; drop the id or the signed-URL requirement"
        )
    return custom_id


def encode_metadata(metadata: object) -> str:
    """``metadata`` as the compact JSON text Cloudflare stores, at most 1,024 bytes of UTF-8."""
    if not isinstance(metadata, Mapping):
        raise ValidationError(f"metadata must be a mapping (a JSON object), not {type(metadata).__name__}")
    try:
        text = json.dumps(dict(metadata), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"metadata is not JSON-serialisable: {exc}") from None
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise ValidationError(f"metadata is {size} bytes as JSON; Cloudflare stores at most {MAX_METADATA_BYTES} bytes")
    return text


def check_upload_size(size: int, what: str) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"{what} is {size:,} bytes; Cloudflare Images accepts files up to {MAX_UPLOAD_BYTES:,} bytes (10 MB)"
        )
    if size == 0:
        raise ValidationError(f"{what} is empty")


def check_per_page(per_page: object) -> int:
    low, high = PER_PAGE_RANGE
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not low <= per_page <= high:
        raise ValidationError(f"per_page must be an integer from {low} to {high}, not {per_page!r}")
    return per_page


def check_direct_upload_expiry(expiry: object, now: datetime | None = None) -> str:
    """An absolute (aware ``datetime``) or relative (``timedelta``) expiry between 2 minutes and 6 hours from
    now, as the RFC 3339 text Cloudflare expects (UTC, whole seconds)."""
    now = now if now is not None else datetime.now(UTC)
    if isinstance(expiry, timedelta):
        when = now + expiry
    elif isinstance(expiry, datetime):
        if expiry.tzinfo is None or expiry.utcoffset() is None:
            raise ValidationError(
                "expiry must be timezone-aware (e.g. datetime.now(UTC) + timedelta(hours=1)) or a timedelta"
            )
        when = expiry
    else:
        raise ValidationError(f"expiry must be a datetime or a timedelta, not {type(expiry).__name__}")
    when = when.astimezone(UTC).replace(microsecond=0)
    ahead = when - now.replace(microsecond=0)
    if not DIRECT_UPLOAD_EXPIRY_MIN <= ahead <= DIRECT_UPLOAD_EXPIRY_MAX:
        raise ValidationError(
            f"expiry {when:%Y-%m-%dT%H:%M:%SZ} is {ahead.total_seconds():,.0f} s from now; Cloudflare accepts "
            "2 minutes to 6 hours"
        )
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"


def check_variant_id(variant_id: object) -> str:
    if not isinstance(variant_id, str):
        raise ValidationError(f"variant id must be a string, not {type(variant_id).__name__}")
    try:
        return check_variant_name(variant_id)
    except CFVariantsError:
        raise ValidationError(
            f"variant id {_shown(variant_id)} is not valid: letters and digits only, at most 99"
        ) from None


def check_variant_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``options`` object of a named variant; all four fields are required by Cloudflare's schema."""
    fit, width, height, metadata = (options.get(name) for name in ("fit", "width", "height", "metadata"))
    if fit not in VARIANT_FITS:
        raise ValidationError(f"fit must be one of {', '.join(sorted(VARIANT_FITS))}, not {fit!r}")
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{name} must be a positive integer (pixels), not {value!r}")
    if metadata not in VARIANT_METADATA:
        raise ValidationError(f"metadata must be one of keep, copyright, none, not {metadata!r}")
    return {"fit": fit, "width": width, "height": height, "metadata": metadata}


def check_key_name(name: object) -> str:
    if not isinstance(name, str) or not is_key_name(name):
        raise ValidationError(f"signing key name {name!r} is not valid: letters and digits only, at most 20")
    return name


def check_browser_ttl(seconds: object) -> int:
    low, high = BROWSER_TTL_RANGE
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not low <= seconds <= high:
        raise ValidationError(
            f"browser_ttl must be whole seconds from {low} (1 hour) to {high} (1 year), not {seconds!r}"
        )
    return seconds
