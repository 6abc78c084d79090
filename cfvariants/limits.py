"""Cloudflare Images' limits and id rules, each defined once: the client, uploads, storage, the Django validators
and the emulator all read them from here, so a number cannot drift between the checks and the service they mimic.

>>> from cfvariants.limits import MAX_UPLOAD_BYTES, is_uuid
>>> MAX_UPLOAD_BYTES
10485760
>>> is_uuid("083eb7b2-5392-4565-b69e-aff66acddd00"), is_uuid("photos/cat.jpg")
(True, False)

Cloudflare writes "10 MB" for uploads; it is read as 10 MiB, so a file Cloudflare takes is never refused here
(whether the service means 10^7 or 2^20 bytes is not documented).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

__all__ = [
    "ANIMATION_TRANSFORM_AREA",
    "AVIF_MAX_SIDE",
    "BROWSER_TTL_DEFAULT",
    "BROWSER_TTL_RANGE",
    "DIRECT_UPLOAD_EXPIRY_DEFAULT",
    "DIRECT_UPLOAD_EXPIRY_MAX",
    "DIRECT_UPLOAD_EXPIRY_MIN",
    "KEY_NAME_PATTERN",
    "MAX_AREA",
    "MAX_CUSTOM_ID_LENGTH",
    "MAX_FILENAME_LENGTH",
    "MAX_FILTERS",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_IN_VALUES",
    "MAX_KEY_NAME_LENGTH",
    "MAX_METADATA_BYTES",
    "MAX_SIDE",
    "MAX_SIDE_EXEMPT_FORMATS",
    "MAX_UPLOAD_BYTES",
    "MAX_VARIANTS",
    "MAX_VARIANT_ID_LENGTH",
    "PER_PAGE_RANGE",
    "UUID_PATTERN",
    "VARIANT_ID_PATTERN",
    "is_key_name",
    "is_uuid",
    "is_variant_id",
]

# -- stored images -------------------------------------------------------------------------------------------------

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
"""The largest file Cloudflare Images stores ("10 MB", read as MiB)."""
MAX_AREA: Final = 100_000_000
"""100 megapixels: the largest image (for an animation: all frames together)."""
MAX_SIDE: Final = 12_000
"""The longest side in pixels, except for the formats in ``MAX_SIDE_EXEMPT_FORMATS``."""
MAX_SIDE_EXEMPT_FORMATS: Final = frozenset({"webp", "avif"})
"""The formats whose images may have a side longer than ``MAX_SIDE``."""
ANIMATION_TRANSFORM_AREA: Final = 50_000_000
"""Animations larger than this (all frames together) are delivered without transformations."""
AVIF_MAX_SIDE: Final = 1_200
"""The largest side Cloudflare encodes as AVIF on delivery (larger output falls back to WebP or JPEG)."""
MAX_METADATA_BYTES: Final = 1024
"""User metadata, as compact UTF-8 JSON."""
MAX_FILENAME_LENGTH: Final = 255
"""The longest file name an upload may carry, in characters."""

# -- ids and names -------------------------------------------------------------------------------------------------

MAX_CUSTOM_ID_LENGTH: Final = 1024
"""A custom image id: up to 1,024 characters, ``/``-separated sub-paths allowed, not a UUID, never private."""
MAX_VARIANT_ID_LENGTH: Final = 99
"""A variant's name: up to 99 ASCII letters or digits."""
MAX_KEY_NAME_LENGTH: Final = 20
"""A signing key's name: up to 20 ASCII letters or digits."""
MAX_VARIANTS: Final = 100
"""Named variants per account (``public`` included)."""

UUID_PATTERN: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""The 8-4-4-4-12 hex shape of the ids Cloudflare generates, which a custom id may not have."""
VARIANT_ID_PATTERN: Final = re.compile(rf"[A-Za-z0-9]{{1,{MAX_VARIANT_ID_LENGTH}}}")
"""What a variant's name may be: 1 to 99 ASCII letters or digits."""
KEY_NAME_PATTERN: Final = re.compile(rf"[A-Za-z0-9]{{1,{MAX_KEY_NAME_LENGTH}}}")
"""What a signing key's name may be: 1 to 20 ASCII letters or digits."""


def is_uuid(text: str) -> bool:
    """Whether ``text`` is UUID-shaped (8-4-4-4-12 hex digits, either case): Cloudflare's own ids, which a
    custom id may not be."""
    return UUID_PATTERN.fullmatch(text) is not None


def is_variant_id(text: str) -> bool:
    """Whether ``text`` can name a variant: 1 to 99 ASCII letters or digits."""
    return VARIANT_ID_PATTERN.fullmatch(text) is not None


def is_key_name(text: str) -> bool:
    """Whether ``text`` can name a signing key: 1 to 20 ASCII letters or digits."""
    return KEY_NAME_PATTERN.fullmatch(text) is not None


# -- the API -------------------------------------------------------------------------------------------------------

PER_PAGE_RANGE: Final = (10, 10_000)
"""``per_page`` of both list endpoints, inclusive."""
MAX_FILTERS: Final = 5
"""Metadata filters (``meta.<field>[<op>]``) in one list v2 request."""
MAX_FILTER_DEPTH: Final = 5
"""Levels of a filter's field path (``meta.a.b.c.d.e``)."""
MAX_FILTER_IN_VALUES: Final = 10
"""Values of one ``in`` filter."""
DIRECT_UPLOAD_EXPIRY_MIN: Final = timedelta(minutes=2)
"""The earliest expiry a direct creator upload URL may have: two minutes from now."""
DIRECT_UPLOAD_EXPIRY_MAX: Final = timedelta(hours=6)
"""The latest expiry a direct creator upload URL may have: six hours from now."""
DIRECT_UPLOAD_EXPIRY_DEFAULT: Final = timedelta(minutes=30)
"""The expiry of a direct creator upload URL that names none: 30 minutes."""
BROWSER_TTL_RANGE: Final = (3_600, 31_536_000)
"""An account's or a variant's browser TTL in seconds: one hour to one year."""
BROWSER_TTL_DEFAULT: Final = 2 * 24 * 3600
"""Two days."""
