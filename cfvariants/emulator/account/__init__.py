"""The emulated account's rules and state changes, free of HTTP: ``Images`` (uploads, direct uploads, lists) and
``Account`` (settings, named variants, signing keys, batch tokens), with the checks Cloudflare documents."""

from __future__ import annotations

from ._account import BATCH_TOKEN_LIFETIME, PUBLIC_VARIANT, Account, new_key_value
from ._fetch import LocalFetcher, check_url
from ._images import Images
from ._listing import MetaFilter, decode_token, encode_token, parse_filters

__all__ = [
    "BATCH_TOKEN_LIFETIME",
    "PUBLIC_VARIANT",
    "Account",
    "Images",
    "LocalFetcher",
    "MetaFilter",
    "check_url",
    "decode_token",
    "encode_token",
    "new_key_value",
    "parse_filters",
]
