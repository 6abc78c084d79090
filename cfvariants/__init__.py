"""cfvariants: Cloudflare Images for Python web apps.

The pure core (no network, no disk) is importable from the top level::

    from cfvariants import Delivery, Options, Transformations, parse_url
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
from .transformations import Transformations
from .urls import ParsedURL, TransformationURL, encode_image_id, parse_url

__version__ = "0.1.0"
"""The version, written only here: the package metadata reads it (pyproject.toml, ``dynamic``).

Keep it a plain string literal: setuptools reads it without importing cfvariants."""

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
    "TransformationURL",
    "Transformations",
    "URLError",
    "Variant",
    "VariantError",
    "encode_image_id",
    "parse_url",
    "sign_url",
    "verify",
]
