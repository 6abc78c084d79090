"""cfvariants: Cloudflare Images for Python web apps.

The pure core (no network, no disk) is importable from the top level::

    from cfvariants import Delivery, Options, parse_url
"""

from .delivery import DEFAULT_VARIANT, Delivery, Variant
from .errors import (
    CFVariantsError,
    ImageIdError,
    OptionsError,
    SettingsError,
    SigningError,
    URLError,
    VariantError,
)
from .html import Source
from .options import Options
from .signing import SigningKey, sign_url, verify
from .urls import ParsedURL, encode_image_id, parse_url

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_VARIANT",
    "CFVariantsError",
    "Delivery",
    "ImageIdError",
    "Options",
    "OptionsError",
    "ParsedURL",
    "SettingsError",
    "SigningError",
    "SigningKey",
    "Source",
    "URLError",
    "Variant",
    "VariantError",
    "encode_image_id",
    "parse_url",
    "sign_url",
    "verify",
]
