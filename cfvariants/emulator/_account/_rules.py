"""The documented rules an upload or a definition must pass (Cloudflare's documented limits), as pure functions.

Each check raises ``EmulatorAPIError`` (5400, or 5413 for sizes) with a message naming the bad field and the rule.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cfvariants._options import MAX_INT
from cfvariants.emulator._errors import bad_request
from cfvariants.limits import (
    BROWSER_TTL_RANGE,
    DIRECT_UPLOAD_EXPIRY_DEFAULT,
    DIRECT_UPLOAD_EXPIRY_MAX,
    DIRECT_UPLOAD_EXPIRY_MIN,
    MAX_CUSTOM_ID_LENGTH,
    MAX_FILENAME_LENGTH,
    MAX_METADATA_BYTES,
    is_key_name,
    is_uuid,
    is_variant_id,
)

VARIANT_FITS = ("scale-down", "contain", "cover", "crop", "pad")
VARIANT_METADATA = ("keep", "copyright", "none")
EXPIRY_SLACK = timedelta(seconds=10)  # a client computing "now + 2 minutes" must not fail on latency

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Words that are API routes under /images/v1/: an id equal to one (or starting with "keys/" or "variants/",
# or ending in "/blob") would be routed to that endpoint when a client sends its slashes unencoded.
_ROUTE_WORDS = frozenset({"keys", "variants", "stats", "config", "batch_token"})


def check_custom_id(image_id: object) -> str:
    """Custom ids (as documented): at most 1,024 characters, any number of ``/``-separated segments, UTF-8, not
    starting or ending with ``/``, not a UUID. The emulator also refuses what would make the id unreachable or
    ambiguous in a URL: empty, ``.`` or ``..`` segments (browsers rewrite them), control characters, ``://``,
    and the API's own route words (see ``_ROUTE_WORDS``)."""
    if not isinstance(image_id, str) or not image_id:
        raise bad_request("id: a custom image id must be a non-empty string")
    shown = _show(image_id)
    if len(image_id) > MAX_CUSTOM_ID_LENGTH:
        raise bad_request(f"id: custom id {shown} is longer than {MAX_CUSTOM_ID_LENGTH} characters")
    if is_uuid(image_id):
        raise bad_request(f"id: custom id {shown} is a UUID, which Cloudflare reserves for its own ids")
    if image_id.startswith("/") or image_id.endswith("/"):
        raise bad_request(f"id: custom id {shown} must not start or end with '/'")
    if _CONTROL.search(image_id):
        raise bad_request(f"id: custom id {shown} contains a control character")
    if "://" in image_id:
        raise bad_request(f"id: custom id {shown} looks like a URL ('://')")
    segments = image_id.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise bad_request(f"id: custom id {shown} has an empty, '.' or '..' path segment; browsers rewrite those")
    if image_id in _ROUTE_WORDS or (
        len(segments) > 1 and (segments[0] in ("keys", "variants") or segments[-1] == "blob")
    ):
        raise bad_request(
            f"id: custom id {shown} collides with an API route (/images/v1/{segments[0]}... or .../blob); "
            "choose another id"
        )
    return image_id


def metadata_bytes(metadata: Mapping[str, Any]) -> int:
    return len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check_metadata(metadata: object) -> dict[str, Any]:
    """User metadata: a JSON object of at most 1,024 bytes (compact UTF-8 JSON)."""
    if not isinstance(metadata, Mapping):
        raise bad_request(f"metadata must be a JSON object, not {type(metadata).__name__}")
    size = metadata_bytes(metadata)
    if size > MAX_METADATA_BYTES:
        raise bad_request(f"metadata is {size} bytes as JSON; Cloudflare allows at most {MAX_METADATA_BYTES}")
    return dict(metadata)


def check_filename(filename: str | None) -> str:
    """File names are informational (``filename`` in the image object): kept to 255 characters."""
    if not filename:
        return ""
    return filename[:MAX_FILENAME_LENGTH]


def check_variant_id(variant_id: object) -> str:
    if not isinstance(variant_id, str) or not is_variant_id(variant_id):
        raise bad_request(f"id: variant id {_show(str(variant_id))} must be 1 to 99 letters or digits")
    return variant_id


def check_key_name(name: str) -> str:
    if not is_key_name(name):
        raise bad_request(f"signing key name {_show(name)} must be 1 to 20 letters or digits")
    return name


def check_variant_options(options: object) -> dict[str, Any]:
    """A named variant's ``options``: ``fit``, ``width``, ``height`` and ``metadata`` are all
    required, as in the schema; ``browser_ttl`` (docs only) is optional."""
    if not isinstance(options, Mapping):
        raise bad_request("options must be an object with fit, width, height and metadata")
    unknown = sorted(set(options) - {"fit", "width", "height", "metadata", "browser_ttl"})
    if unknown:
        raise bad_request(f"options: unknown field(s) {', '.join(unknown)}; allowed: fit, width, height, metadata")
    missing = [name for name in ("fit", "width", "height", "metadata") if name not in options]
    if missing:
        raise bad_request(f"options: missing required field(s) {', '.join(missing)}")
    if options["fit"] not in VARIANT_FITS:
        raise bad_request(f"options.fit must be one of {', '.join(VARIANT_FITS)}, not {options['fit']!r}")
    if options["metadata"] not in VARIANT_METADATA:
        raise bad_request(f"options.metadata must be one of {', '.join(VARIANT_METADATA)}, not {options['metadata']!r}")
    out: dict[str, Any] = {"fit": options["fit"], "metadata": options["metadata"]}
    for name in ("width", "height"):
        out[name] = _whole_number(f"options.{name}", options[name], 1)
    if options.get("browser_ttl") is not None:
        out["browser_ttl"] = _whole_number("options.browser_ttl", options["browser_ttl"], *BROWSER_TTL_RANGE)
    return out


def _whole_number(name: str, value: object, lo: int, hi: int = MAX_INT) -> int:
    """A whole number from ``lo`` to ``hi`` (by default the bound of flexible options, so that a variant's size is
    one a URL can also say; NaN, infinity and 1e300 are 5400 errors, not a crash in ``int()`` or in SQLite)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not -math.inf < value < math.inf:
        raise bad_request(f"{name} must be a whole number, not {_show(str(value), 40)}")
    if not lo <= value <= hi:
        raise bad_request(f"{name} must be between {lo} and {hi}, not {_show(str(value), 40)}")
    if value != int(value):
        raise bad_request(f"{name} must be a whole number, not {value!r}")
    return int(value)


def parse_expiry(value: object, now: float) -> float:
    """A direct upload's ``expiry`` (RFC 3339; a time without offset is taken as UTC): between now + 2 minutes
    and now + 6 hours (as documented), default now + 30 minutes. Returns unix seconds."""
    if value is None or value == "":
        return now + DIRECT_UPLOAD_EXPIRY_DEFAULT.total_seconds()
    if not isinstance(value, str):
        raise bad_request(f"expiry must be an RFC 3339 date-time string, not {type(value).__name__}")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_request(f"expiry {_show(value)} is not an RFC 3339 date-time such as 2026-01-02T02:20:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = when.timestamp()
    earliest = now + (DIRECT_UPLOAD_EXPIRY_MIN - EXPIRY_SLACK).total_seconds()
    latest = now + (DIRECT_UPLOAD_EXPIRY_MAX + EXPIRY_SLACK).total_seconds()
    if not earliest <= seconds <= latest:
        raise bad_request(
            f"expiry {_show(value)} must be between 2 minutes and 6 hours from now "
            f"(now is {datetime.fromtimestamp(now, UTC).isoformat(timespec='seconds')})"
        )
    return seconds


def _show(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
