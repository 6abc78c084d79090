"""The last path segment of a delivery URL: a named variant or canonical flexible options (hosted images:
options of the other form, such as ``onerror``, are refused here).

Resolving a variant argument (``"avatar"``, ``"w=200,fit=cover"``, an ``Options``, ``None``) is cached per
distinct value, so the URL builder and the markup helpers pay for validation once per spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import VariantError
from ._memo import SCALAR_TYPES, Memo
from ._options import Options
from ._urls import check_variant_name

DEFAULT_VARIANT = "public"
"""The variant of a delivery URL that names none: every account has ``public``."""

VariantLike = str | Options | None
"""A named variant (``"avatar"``), an option string (``"w=200,fit=cover"``), an ``Options``, or ``None``
(the ``public`` variant)."""


class Segment:
    """A resolved last path segment: its text, and its options when it is a flexible variant."""

    __slots__ = ("named", "options", "text")

    def __init__(self, text: str, options: Options | None) -> None:
        self.text = text
        self.options = options
        self.named = options is None


_segments: Memo[object, Segment] = Memo(4096)


def resolve_variant(variant: VariantLike) -> Segment:
    """Validate a variant argument into its canonical segment (remembered per distinct value)."""
    try:
        segment = _segments.entries.get(variant)
    except TypeError:
        raise VariantError(
            f"variant must be a name, an option string or Options, not {type(variant).__name__}"
        ) from None
    if segment is not None:
        return segment
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
    return _segments.keep(variant, segment)


def merge_options(variant: VariantLike, options: Mapping[str, Any]) -> Options:
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


KeywordKey = tuple[object, ...]


_TYPED = object()  # opens a keyword key that carries its values' types, so it never equals one that does not
_UNTYPED = frozenset({str, int})  # exactly these: equal values of them are of equal types


def keyword_key(variant: object, options: Mapping[str, Any]) -> KeywordKey:
    """What a keyword call depends on, as a flat tuple (a tuple per item costs more to build than the rest of a
    remembered call). When every value is exactly a ``str`` or an ``int``, the variant, the names and the values:
    equal values are then of equal types, because what equals an int or a text without being one (``True``,
    ``1.0``, an ``IntEnum``, a ``str`` subclass) is not exactly of that type. Otherwise the values' types follow
    (``width=True`` must fail even after ``width=1`` succeeded, though ``True == 1``)."""
    for value in options.values():
        if type(value) not in _UNTYPED:  # Delivery.url inlines this test, with two `is` (faster for a str)
            return (_TYPED, variant, *options, *options.values(), *map(type, options.values()))
    return (variant, *options, *options.values())


def exact(options: Mapping[str, Any]) -> bool:
    """Whether ``keyword_key`` of these options is exact: every value a scalar (a tuple for ``trim`` holds
    elements whose types the key does not carry), so a result may be remembered under it."""
    return SCALAR_TYPES.issuperset(map(type, options.values()))


_keyword_options: Memo[KeywordKey, Options] = Memo(4096)


def keyword_options(variant: VariantLike, options: Mapping[str, Any]) -> Options:
    """``merge_options`` for keyword calls, remembered per ``keyword_key``, so that a keyword set seen before
    costs a lookup, not a validation."""
    key = keyword_key(variant, options)
    try:
        merged = _keyword_options.entries.get(key)
    except TypeError:  # an unhashable value (a list for trim): validated every time
        return merge_options(variant, options)
    if merged is None:
        merged = merge_options(variant, options)
        if exact(options):
            _keyword_options.keep(key, merged)
    return merged
