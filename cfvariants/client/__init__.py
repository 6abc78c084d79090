"""The Cloudflare Images API client: sync and async, every endpoint, typed results, typed errors, retries.

    from cfvariants.client import ImagesClient
    with ImagesClient.from_settings() as api:
        image = api.upload("cat.jpg", metadata={"owner": 7})
        for image in api.iter_images():
            ...

Both clients share one request-building/response-parsing layer and one retry loop (``_flow.py``); they differ
only in how they send and sleep.
"""

from cfvariants._public import name_public_module as _name_public_module
from cfvariants._settings import DEFAULT_API_BASE
from cfvariants.limits import MAX_METADATA_BYTES, MAX_UPLOAD_BYTES

from ._aio import AsyncImagesClient
from ._base import BATCH_API_BASE
from ._errors import (
    APIError,
    AuthenticationError,
    CloudflareImagesError,
    ConflictError,
    ErrorDetail,
    NotFoundError,
    RateLimitError,
    TransportError,
    ValidationError,
)
from ._filters import MetaFilter
from ._models import (
    AccountConfig,
    AccountSigningKey,
    BatchToken,
    DirectUpload,
    Image,
    ImagesPage,
    Stats,
    StatsCount,
    Variant,
    VariantOptions,
)
from ._ratelimit import BATCH_TOKEN_LIMIT, DEFAULT_LIMIT, RateLimit, RateLimitedTransport
from ._retry import RetryPolicy
from ._sync import ImagesClient
from ._uploads import MARKER_KEY as UPLOAD_MARKER_KEY

__all__ = [
    "BATCH_API_BASE",
    "BATCH_TOKEN_LIMIT",
    "DEFAULT_API_BASE",
    "DEFAULT_LIMIT",
    "MAX_METADATA_BYTES",
    "MAX_UPLOAD_BYTES",
    "UPLOAD_MARKER_KEY",
    "APIError",
    "AccountConfig",
    "AccountSigningKey",
    "AsyncImagesClient",
    "AuthenticationError",
    "BatchToken",
    "CloudflareImagesError",
    "ConflictError",
    "DirectUpload",
    "ErrorDetail",
    "Image",
    "ImagesClient",
    "ImagesPage",
    "MetaFilter",
    "NotFoundError",
    "RateLimit",
    "RateLimitError",
    "RateLimitedTransport",
    "RetryPolicy",
    "Stats",
    "StatsCount",
    "TransportError",
    "ValidationError",
    "Variant",
    "VariantOptions",
]

_name_public_module(globals(), __all__)
