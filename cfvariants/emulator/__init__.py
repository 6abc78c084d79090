"""A local Cloudflare Images: the REST API, direct uploads, delivery with real transforms, signed URLs, and Image
Transformations (``/cdn-cgi/image/``) of local files.

    from cfvariants.emulator import create_app
    app = create_app(data_dir=".cfimages")            # a WSGI app
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://127.0.0.1:8787")

or from a shell: ``cfvariants emulator --port 8787 --data .cfimages``. ``Emulator`` is the framework-neutral
object behind the app (upload, list, variants, keys, deliver...), for code that wants no HTTP at all.

Inside, by responsibility: ``storage`` (records, originals, rendered variants), ``account`` (the rules and state
of images, variants and keys), ``api`` (the HTTP API), ``delivery`` (delivery URLs, ``/cdn-cgi/image/`` and the
transform engine); ``Emulator`` composes them and ``EmulatorApp`` routes requests to them.
"""

from cfvariants._public import name_public_module as _name_public_module

from ._account._account import PUBLIC_VARIANT
from ._app import EmulatorApp, create_app
from ._config import (
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
from ._delivery._hosted import DeliveryResponse
from ._delivery._transform import output_format, render
from ._delivery._transformations import TransformationServer, TransformationsMiddleware
from ._emulator import Emulator
from ._errors import DeliveryError, EmulatorAPIError
from ._paths import RequestPath, request_path
from ._server import EmulatorServer
from ._storage._records import AccountSettings, ImageRecord, SigningKeyRecord, VariantRecord

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
    "DeliveryError",
    "DeliveryResponse",
    "Emulator",
    "EmulatorAPIError",
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "ImageRecord",
    "RequestPath",
    "SigningKeyRecord",
    "TransformationServer",
    "TransformationsMiddleware",
    "VariantRecord",
    "create_app",
    "output_format",
    "render",
    "request_path",
]

_name_public_module(globals(), __all__)
