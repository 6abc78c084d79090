"""Jinja filters for Cloudflare Images: ``variant``, ``signed_variant``, ``srcset``, ``cf_img``, ``cf_picture``,
``cf_preload``.

Two ways in, same result::

    cfvariants.jinja.install(env, Delivery(...), on_error="fallback")             # a plain Environment

    env = Environment(extensions=["cfvariants.jinja.CFVariantsExtension"])       # setups that list extensions
    cfvariants.jinja.configure(env, Delivery(...))                                # optional, see below

The configuration lives on the environment as ``env.cfvariants`` (an ``ImageFilters``); ``configure`` changes it
in place, so templates compiled earlier follow. An extension that is never configured builds its ``Delivery``
from the environment (``CF_IMG_HASH``...) on first use, with ``on_error="raise"``.

The filters are thin: ``variant`` is ``ImageFilters.variant``, one type check away from ``Delivery.url``. Values
may be image ids, delivery URLs, or objects (``cfvariants.image_ref``); paths and URLs of images outside
Cloudflare Images go through ``Transformations`` (``install(env, delivery, transformations=...)``). Works with
autoescape on or off and in ``enable_async`` environments
(the filters are plain functions returning text or ``Markup``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

from ._errors import SettingsError
from ._segments import VariantLike
from ._templating import (
    DEFAULT_SIGNED_EXPIRES_IN,
    DeliverySource,
    ImageFilters,
    OnError,
    TransformationsSource,
    looks_like_descriptors,
    parse_descriptors,
)

__all__ = ["FILTER_NAMES", "CFVariantsExtension", "configure", "filters_for", "install"]

FILTER_NAMES = ("variant", "signed_variant", "srcset", "cf_img", "cf_picture", "cf_preload")
"""The Jinja filters the extension installs."""
_LOGGER = logging.getLogger("cfvariants.jinja")


class CFVariantsExtension(Extension):
    """Registers the cfvariants filters on the environment it is added to (``env.cfvariants`` holds their
    configuration; see ``configure``). Adding it again keeps the existing configuration."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(cfvariants=ImageFilters(on_error="raise", logger=_LOGGER))  # only if not already set
        environment.filters.update(filters_for(_images_of(environment)))


def install(
    env: Environment,
    delivery: DeliverySource = None,
    *,
    on_error: OnError | Callable[[], OnError] = "raise",
    placeholder: str | None = None,
    logger: logging.Logger | None = None,
    signed_expires_in: int | float | timedelta = DEFAULT_SIGNED_EXPIRES_IN,
    transformations: TransformationsSource = None,
) -> ImageFilters:
    """Add the extension to ``env`` (once) and configure it; returns ``env.cfvariants``.

    ``delivery``: a ``Delivery``, a function that builds one on first use, or ``None`` for
    ``Delivery.from_settings()``. ``on_error``: ``"raise"`` (default) or ``"fallback"`` (see
    ``cfvariants._templating``). ``placeholder``: the image URL rendered for a missing image (``None``/undefined)
    instead of an empty string. ``signed_expires_in``: the lifetime of ``signed_variant`` URLs (1 hour).
    ``transformations``: a ``Transformations`` (or a function making one) for images outside Cloudflare Images
    (paths and other URLs); ``None`` reads ``CF_IMG_ZONE``, and without a zone such images are a ``NoZoneError``.
    """
    if _EXTENSION_ID not in env.extensions:
        env.add_extension(CFVariantsExtension)
    return configure(
        env, delivery, on_error=on_error, placeholder=placeholder, logger=logger, signed_expires_in=signed_expires_in,
        transformations=transformations,
    )  # fmt: skip


def configure(
    env: Environment,
    delivery: DeliverySource = None,
    *,
    on_error: OnError | Callable[[], OnError] = "raise",
    placeholder: str | None = None,
    logger: logging.Logger | None = None,
    signed_expires_in: int | float | timedelta = DEFAULT_SIGNED_EXPIRES_IN,
    transformations: TransformationsSource = None,
) -> ImageFilters:
    """Configure the filters of an environment that has ``CFVariantsExtension`` (arguments as for ``install``)."""
    if _EXTENSION_ID not in env.extensions:
        raise SettingsError(
            f"this Jinja environment does not have {_EXTENSION_ID}; add it (extensions=[...]) or call "
            "cfvariants.jinja.install(env, delivery)"
        )
    images = _images_of(env)
    images.configure(
        delivery,
        on_error=on_error,
        placeholder=placeholder,
        logger=logger if logger is not None else _LOGGER,
        signed_expires_in=signed_expires_in,
        transformations=transformations,
    )
    return images


def filters_for(images: ImageFilters) -> dict[str, Callable[..., Any]]:
    """The Jinja filters over ``images``, by name (for registering them by hand, e.g. under other names)."""

    def srcset(
        value: object, /, widths: Any = None, variant: VariantLike = None, *, densities: Any = None, **kwargs: Any
    ) -> str:
        # ``srcset([320, 640], 'fit=cover')``; a string first is a width/density list ('320,640', '1x,2x') or,
        # when it is not one, the variant (``srcset('fit=cover', widths=[...])``).
        if isinstance(widths, str):
            if not looks_like_descriptors(widths):
                widths, variant = variant, widths
            elif densities is None and parse_descriptors(widths)[0] == "densities":
                widths, densities = None, widths
        return images.srcset("srcset filter", value, variant, widths=widths, densities=densities, **kwargs)

    return {
        "variant": images.variant,
        "signed_variant": images.signed_variant,
        "srcset": srcset,
        "cf_img": functools.partial(images.img, "cf_img filter"),
        "cf_picture": functools.partial(images.picture, "cf_picture filter"),
        "cf_preload": functools.partial(images.preload, "cf_preload filter"),
    }


_EXTENSION_ID = f"{CFVariantsExtension.__module__}.{CFVariantsExtension.__name__}"


def _images_of(env: Environment) -> ImageFilters:
    images = getattr(env, "cfvariants", None)
    if not isinstance(images, ImageFilters):
        raise SettingsError(
            f"env.cfvariants is a {type(images).__name__}, not the ImageFilters that {_EXTENSION_ID} sets; "
            "another extension uses the same attribute name"
        )
    return images
