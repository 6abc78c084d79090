"""A local Cloudflare Images: the REST API, direct uploads, delivery with real transforms, signed URLs.

    from cfvariants.emulator import create_app
    app = create_app(data_dir=".cfimages")            # a WSGI app
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://127.0.0.1:8787")

or from a shell: ``cfvariants emulator --port 8787 --data .cfimages``. ``Emulator`` is the framework-neutral
object behind the app (upload, list, variants, keys, deliver...), for code that wants no HTTP at all.
"""

from __future__ import annotations

from .config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEV_ACCOUNT_HASH,
    DEV_ACCOUNT_ID,
    DEV_API_TOKEN,
    DEV_AUTH_EMAIL,
    DEV_AUTH_KEY,
    DEV_SIGNING_KEY,
    EmulatorConfig,
)
from .delivery import DeliveryResponse
from .emulator import PUBLIC_VARIANT, Emulator
from .errors import ApiError, DeliveryError
from .records import AccountSettings, ImageRecord, SigningKeyRecord, VariantRecord
from .server import EmulatorServer
from .wsgi import EmulatorApp, create_app

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEV_ACCOUNT_HASH",
    "DEV_ACCOUNT_ID",
    "DEV_API_TOKEN",
    "DEV_AUTH_EMAIL",
    "DEV_AUTH_KEY",
    "DEV_SIGNING_KEY",
    "PUBLIC_VARIANT",
    "AccountSettings",
    "ApiError",
    "DeliveryError",
    "DeliveryResponse",
    "Emulator",
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "ImageRecord",
    "SigningKeyRecord",
    "VariantRecord",
    "create_app",
]
