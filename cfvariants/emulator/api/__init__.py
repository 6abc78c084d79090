"""The emulator's HTTP API: the REST routes (and the batch host), authentication, the v4 envelope, forms, the
JSON shapes of results, direct-upload URLs, the rate limit and the webhooks of finished direct uploads."""

from __future__ import annotations

from ._direct_upload import handle_upload
from ._ratelimit import WindowLimiter
from ._representation import image_object, keys_object, variant_object
from ._routes import error_response, handle_account_api, handle_batch_api
from ._webhooks import WebhookSender

__all__ = [
    "WebhookSender",
    "WindowLimiter",
    "error_response",
    "handle_account_api",
    "handle_batch_api",
    "handle_upload",
    "image_object",
    "keys_object",
    "variant_object",
]
