"""The last path segment of a delivery URL: a named variant or canonical flexible options (hosted images:
options of the other form, such as ``onerror``, are refused here).

Resolving a variant argument (``"avatar"``, ``"w=200,fit=cover"``, an ``Options``, ``None``) is cached per
distinct value, so the URL builder and the markup helpers pay for validation once per spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import VariantError
from .options import Options
from .urls import check_variant_name

__all__ = ["DEFAULT_VARIANT", "Segment", "Variant", "merge_options", "resolve_variant"]

DEFAULT_VARIANT = "public"

Variant = str | Options | None
"""A named variant (``"avatar"``), an option string (``"w=200,fit=cover"``), an ``Options``, or ``None``
(the ``public`` variant)."""


class Segment:
    """A resolved last path segment: its text, and its options when it is a flexible variant."""

    __slots__ = ("named", "options", "text")

    def __init__(self, text: str, options: Options | None) -> None:
        self.text = text
        self.options = options
        self.named = options is None


_segment_cache: dict[object, Segment] = {}
_SEGMENT_CACHE_MAX = 4096


def resolve_variant(variant: Variant) -> Segment:
    """Validate a variant argument into its canonical segment (cached per distinct value)."""
    try:
        return _segment_cache[variant]
    except KeyError:
        pass
    except TypeError:
        raise VariantError(
            f"variant must be a name, an option string or Options, not {type(variant).__name__}"
        ) from None
    if variant is None:
        segment = Segment(DEFAULT_VARIANT, None)
    elif isinstance(variant, Options):
        if variant.is_empty:
            raise VariantError("Options() with no options is not a variant; give at least one option")
        segment = Segment(str(variant), variant.check_form("hosted"))
    elif isinstance(variant, str):
        if "=" in variant:
            options = Options.parse(variant).check_form("hosted")
            segment = Segment(str(options), options)
        else:
            segment = Segment(check_variant_name(variant), None)
    else:
        raise VariantError(f"variant must be a name, an option string or Options, not {type(variant).__name__}")
    if len(_segment_cache) >= _SEGMENT_CACHE_MAX:
        _segment_cache.clear()
    _segment_cache[variant] = segment
    return segment


def merge_options(variant: Variant, options: Mapping[str, Any]) -> Options:
    """The flexible options of ``variant`` (``None`` = none) with keyword options laid over them."""
    if variant is None:
        return Options(**options)
    segment = resolve_variant(variant)
    if segment.options is None:
        raise VariantError(
            f"named variant {segment.text!r} cannot take options ({', '.join(options)}); its size and format are "
            "defined on the account. Use flexible options instead, e.g. 'w=200,fit=cover'"
        )
    return segment.options.replace(**options) if options else segment.options


_keyword_cache: dict[object, Options] = {}


def keyword_options(variant: Variant, options: Mapping[str, Any]) -> Options:
    """``merge_options`` for keyword calls, cached per distinct (variant, keywords) so that a new image with
    keywords seen before costs a lookup, not a validation. Value types are part of the key: ``width=True``
    must fail even after ``width=1`` succeeded."""
    try:
        key = (variant, *((name, value, type(value)) for name, value in options.items()))
        return _keyword_cache[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (a list for trim): validate without caching
        return merge_options(variant, options)
    merged = merge_options(variant, options)
    if len(_keyword_cache) >= _SEGMENT_CACHE_MAX:
        _keyword_cache.clear()
    _keyword_cache[key] = merged
    return merged
