"""cfvariants: Cloudflare Images for Python web apps.

The pure core (no network, no disk) is importable from the top level::

    from cfvariants import Delivery, Options, Transformations, parse_url
"""

from ._delivery import Delivery
from ._errors import (
    ArgumentError,
    CFVariantsError,
    EmulatorError,
    ImageIdError,
    OptionsError,
    SettingsError,
    SigningError,
    URLError,
    VariantError,
)
from ._html import Source
from ._layouts import WIDTH_LADDER, Original
from ._logsetup import LOG_FORMAT, configure_logging
from ._memo import CacheInfo
from ._options import Options
from ._public import name_public_module as _name_public_module
from ._refs import LocalImage, PrivateImage, RemoteImage, image_ref
from ._segments import DEFAULT_VARIANT, VariantLike
from ._settings import ENV_NAMES, Settings
from ._signing import SigningKey, sign_url, verify
from ._templating import TemplateFilterError
from ._transformations import Transformations
from ._urls import ParsedURL, TransformationURL, encode_image_id, parse_url

__version__ = "0.1.0"
"""The version, written only here: the package metadata reads it (pyproject.toml, ``dynamic``).

Keep it a plain string literal: setuptools reads it without importing cfvariants."""

__all__ = [
    "DEFAULT_VARIANT",
    "ENV_NAMES",
    "LOG_FORMAT",
    "WIDTH_LADDER",
    "ArgumentError",
    "CFVariantsError",
    "CacheInfo",
    "Delivery",
    "EmulatorError",
    "ImageIdError",
    "LocalImage",
    "Options",
    "OptionsError",
    "Original",
    "ParsedURL",
    "PrivateImage",
    "RemoteImage",
    "Settings",
    "SettingsError",
    "SigningError",
    "SigningKey",
    "Source",
    "TemplateFilterError",
    "TransformationURL",
    "Transformations",
    "URLError",
    "VariantError",
    "VariantLike",
    "configure_logging",
    "encode_image_id",
    "image_ref",
    "parse_url",
    "sign_url",
    "verify",
]

_name_public_module(globals(), __all__)
