"""The JSON shapes of the API's results (Cloudflare's docs, its OpenAPI schema, its SDK's models).

Image objects list one delivery URL per named variant in the custom-domain form on the emulator's own base URL
(``http://127.0.0.1:8787/cdn-cgi/imagedelivery/<hash>/<id>/<variant>``), built by the core's ``Delivery`` so that
``cfvariants.parse_url`` and ``Delivery(hash, domain=base)`` agree with them byte for byte.

Choices where Cloudflare's docs are silent: ``meta`` is always present (``{}`` when empty); ``creator`` appears only
when set; drafts carry ``draft: true`` and no ``filename``; ``public`` comes first in ``variants``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from cfvariants._delivery import Delivery
from cfvariants._urls import SAME_SITE
from cfvariants.emulator._storage._records import ImageRecord, SigningKeyRecord, VariantRecord, iso_time


@functools.lru_cache(maxsize=64)
def delivery_for(account_hash: str, base_url: str) -> Delivery:
    """The core's URL builder pointed at the emulator (one per base URL, cached; "" for root-relative URLs)."""
    return Delivery(account_hash, domain=base_url or SAME_SITE)


def image_object(
    record: ImageRecord, *, account_hash: str, base_url: str, variant_ids: Iterable[str]
) -> dict[str, Any]:
    delivery = delivery_for(account_hash, base_url)
    result: dict[str, Any] = {"id": record.id}
    if not record.draft:
        result["filename"] = record.filename
    result["meta"] = record.meta
    result["requireSignedURLs"] = record.require_signed_urls
    result["uploaded"] = iso_time(record.uploaded)
    result["variants"] = [delivery.url(record.id, variant) for variant in variant_ids]
    if record.creator:
        result["creator"] = record.creator
    if record.draft:
        result["draft"] = True
    return result


def variant_object(variant: VariantRecord) -> dict[str, Any]:
    return {
        "id": variant.id,
        "options": variant.options_dict(),
        "neverRequireSignedURLs": variant.never_require_signed_urls,
    }


def keys_object(keys: Iterable[SigningKeyRecord]) -> dict[str, Any]:
    return {"keys": [{"name": key.name, "value": key.value} for key in keys]}
