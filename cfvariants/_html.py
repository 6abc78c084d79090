"""Responsive-image markup: srcset candidates, ``<img>`` and ``<picture>`` tags, for both URL forms.

One builder for ``Delivery`` (hosted images) and ``Transformations`` (images anywhere): both inherit ``img`` and
``picture`` from ``ImageMarkup`` and build their srcsets from ``srcset_candidates`` + ``srcset_value``; the markup
asks the object for its URLs (``url``, ``srcset``) and options (``options_of``), so this module never writes a
URL prefix itself. Every attribute value is escaped, so a title or an alt text from a user cannot break out of
the tag.
"""

from __future__ import annotations

import binascii
import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, cast

from markupsafe import Markup, escape

from . import _layouts as layouts
from . import thumbhash
from ._errors import ArgumentError, VariantError, shown
from ._layouts import LayoutPlan, Original, plan_layout
from ._memo import remember
from ._options import MAX_INT, Options
from ._segments import VariantLike, merge_options

FLUID_MIN_WIDTH = 100
FLUID_MAX_WIDTH = 4096
FLUID_TOLERANCE = 0.08
PLACEHOLDER_WIDTH = 32
PLACEHOLDERS = (None, "thumbhash", "dominant-color", "blur")
"""``thumbhash`` and ``dominant-color`` paint from the ThumbHash recorded at upload (no request); ``blur`` asks
Cloudflare for a tiny blurred variant (one small request)."""
_EXACT_BOX_FITS = frozenset({"cover", "pad", "squeeze"})
_FORMAT_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "baseline-jpeg": "image/jpeg",
}
_ATTR_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")


@dataclass(frozen=True, slots=True)
class Source:
    """One art-direction ``<source>`` of a ``<picture>``: shown when ``media`` matches."""

    variant: VariantLike
    media: str | None = None
    widths: tuple[int, ...] | None = None
    densities: tuple[float, ...] | None = None
    sizes: str | None = None


def fluid_widths(
    min_width: int = FLUID_MIN_WIDTH, max_width: int = FLUID_MAX_WIDTH, tolerance: float = FLUID_TOLERANCE
) -> tuple[int, ...]:
    """Widths from ``min_width`` to ``max_width`` where each is at most ``2 * tolerance`` larger than the last
    (imgix's fluid srcset): a browser never downloads more than ``tolerance`` too many pixels per side."""
    if isinstance(min_width, bool) or not isinstance(min_width, int) or min_width < 1:
        raise VariantError(f"min_width must be a positive integer, not {shown(min_width)}")
    if isinstance(max_width, bool) or not isinstance(max_width, int) or not min_width <= max_width <= MAX_INT:
        raise VariantError(
            f"max_width must be an integer from min_width ({min_width}) to {MAX_INT}, not {shown(max_width)}"
        )
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0.01 <= tolerance <= 1:
        raise VariantError(f"tolerance must be a number from 0.01 to 1, not {tolerance!r}")
    widths: list[int] = []
    width = float(min_width)
    while width < max_width:
        even = 2 * int(width / 2 + 0.5)  # halves round up, as imgix's: never below min_width, never 0
        if not widths or even > widths[-1]:
            widths.append(even)
        width *= 1 + 2 * tolerance
    if not widths or widths[-1] < max_width:
        widths.append(max_width)
    return tuple(widths)


def _sequence(values: Iterable[Any], name: str) -> tuple[Any, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise VariantError(f"{name} must be a list of numbers, not {type(values).__name__}")
    return tuple(values)


def srcset_candidates(
    options: Options,
    *,
    widths: Iterable[int] | None = None,
    densities: Iterable[float] | None = None,
    min_width: int | None = None,
    max_width: int | None = None,
    tolerance: float | None = None,
    layout: str | None = None,
    width: int | None = None,
    height: int | None = None,
    original: Original | None = None,
) -> tuple[tuple[str, str], ...]:
    """``(segment, descriptor)`` pairs of a srcset for flexible ``options`` (no image, no prefix). Not cached
    here: ``Delivery.srcset`` remembers them per request, with a key that tells ``True`` from ``1``. With a
    ``layout`` the layout chooses the widths (``cfvariants._layouts``); ``width``/``height`` are then its CSS size."""
    for name, value, kind, what in (
        ("min_width", min_width, int, "an integer"),
        ("max_width", max_width, int, "an integer"),
        ("tolerance", tolerance, float, "a number"),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | kind)):
            raise VariantError(f"{name} must be {what}, not {shown(value)}")
    widths = None if widths is None else tuple(_widths(_sequence(widths, "srcset widths")))
    densities = None if densities is None else tuple(_positive_numbers(_sequence(densities, "densities"), "densities"))
    if layout is not None:
        if min_width is not None or max_width is not None or tolerance is not None:
            raise VariantError("min_width/max_width/tolerance do not combine with a layout (it makes the widths)")
        return plan_layout(
            options, layout, width=width, height=height, original=original, widths=widths, densities=densities
        ).segments()
    if width is not None or height is not None or original is not None:
        raise VariantError("width/height/original of a srcset need a layout (layout='constrained', ...)")
    ranged = min_width is not None or max_width is not None or tolerance is not None
    if widths is not None and densities is not None:
        raise VariantError("give widths or densities for a srcset, not both")
    if ranged and (widths is not None or densities is not None):
        raise VariantError("min_width/max_width/tolerance make the widths; do not also pass widths or densities")
    if widths is None and densities is None and not ranged and isinstance(options.width, int):
        densities = (1, 2)  # a fixed-width image: serve it sharp on high-density screens
    if densities is not None:
        return tuple(_density_candidate(options, d) for d in _positive_numbers(densities, "densities"))
    if widths is None:
        widths = fluid_widths(
            FLUID_MIN_WIDTH if min_width is None else min_width,
            FLUID_MAX_WIDTH if max_width is None else max_width,
            FLUID_TOLERANCE if tolerance is None else tolerance,
        )
    return tuple(_width_candidate(options, w) for w in _widths(widths))


def srcset_value(candidates: Iterable[tuple[str, str]], before: str, after: str = "") -> str:
    """The ``srcset`` text of ``(segment, descriptor)`` candidates: each URL is ``before + segment + after``
    (hosted: ``<prefix>/<id>/`` + options; transformations: ``<zone>/cdn-cgi/image/`` + options + ``/<source>``)."""
    return ", ".join([f"{before}{segment}{after} {descriptor}" for segment, descriptor in candidates])


def _positive_numbers(values: Iterable[float], name: str) -> list[float]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
            raise VariantError(f"{name} must be positive numbers, not {shown(value)}")
        out.append(value)
    if not out:
        raise VariantError(f"{name} is empty")
    return sorted(set(out))


def _widths(values: Iterable[int]) -> list[int]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise VariantError(f"srcset widths must be positive integers, not {shown(value)}")
        out.append(value)
    if not out:
        raise VariantError("srcset widths is empty")
    return sorted(set(out))


def _density_candidate(options: Options, density: float) -> tuple[str, str]:
    scaled = options.replace(dpr=None if density == 1 else density)
    if scaled.is_empty:
        scaled = options.replace(dpr=density)
    text = f"{density:g}"
    return str(scaled), f"{text}x"


def _width_candidate(options: Options, width: int) -> tuple[str, str]:
    if options.dpr is not None:
        raise VariantError("dpr cannot be combined with width descriptors (the browser picks the density)")
    if options.width == "auto":
        raise VariantError("width=auto cannot be combined with srcset widths; drop one of them")
    changes: dict[str, object] = {"width": width}
    if options.height is not None:
        if options.width is None:
            raise VariantError(
                "height without width cannot make width descriptors; give both (the aspect ratio is kept) or neither"
            )
        changes["height"] = max(1, round(width * options.height / int(options.width)))
    return str(options.replace(**changes)), f"{width}w"


def known_size(options: Options | None) -> tuple[int, int] | None:
    """The rendered CSS size when the options fix it exactly (both sides and a fit that fills the box)."""
    if options is None or options.fit not in _EXACT_BOX_FITS:
        return None
    if isinstance(options.width, int) and isinstance(options.height, int):
        return options.width, options.height
    return None


# -- markup ---------------------------------------------------------------------------------------------------------


class MarkupBuilder(Protocol):
    """What the markup needs from a URL builder (``Delivery``, ``Transformations``)."""

    def url(self, image: str, variant: VariantLike = None, /) -> str: ...

    def srcset(
        self,
        image: str,
        variant: VariantLike = None,
        /,
        *,
        widths: Iterable[int] | None = None,
        densities: Iterable[float] | None = None,
        layout: str | None = None,
        original: Original | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> str: ...

    def options_of(self, variant: VariantLike) -> Options | None:
        """The options ``variant`` stands for in this form; ``None`` for a named variant."""
        ...

    def srcset_options(self, variant: VariantLike) -> Options:
        """The options every resized candidate starts from; raises ``VariantError`` for a named variant."""
        ...

    def srcset_affixes(self, image: str, /) -> tuple[str, str]:
        """What comes before and after a candidate's options in ``image``'s srcset URLs (``srcset_value``)."""
        ...


class Responsive(NamedTuple):
    """How an image is sized: a ``layout`` with its CSS ``width``/``height`` and what is known of the
    ``original``, or (no layout) explicit ``widths``/``densities``; ``sizes`` overrides the computed one. A named
    tuple: one is made per call, and is part of the key of the tag remembered for it."""

    layout: str | None = None
    width: int | None = None
    height: int | None = None
    original: Original | None = None
    widths: tuple[int, ...] | None = None
    densities: tuple[float, ...] | None = None
    sizes: str | None = None

    @classmethod
    def of(
        cls,
        layout: str | None,
        width: int | None,
        height: int | None,
        original: object,
        widths: Iterable[int] | None,
        densities: Iterable[float] | None,
        sizes: str | None,
    ) -> Responsive:
        return cls(
            layout,
            width,
            height,
            Original.of(original),
            None if widths is None else _sequence(widths, "srcset widths"),
            None if densities is None else _sequence(densities, "densities"),
            sizes,
        )


NO_SIZING = Responsive()
"""No layout, no widths: the ``src`` alone."""


class ImageMarkup:
    """``img()``, ``picture()`` and ``preload_link()`` for a URL builder that has ``url``, ``srcset``,
    ``options_of`` and ``srcset_options``; the one implementation behind ``Delivery`` and ``Transformations``."""

    __slots__ = ()

    def img(
        self: MarkupBuilder,
        image: str,
        variant: VariantLike = None,
        *,
        alt: str,
        layout: str | None = None,
        width: int | None = None,
        height: int | None = None,
        original: object = None,
        priority: bool = False,
        widths: Iterable[int] | None = None,
        densities: Iterable[float] | None = None,
        sizes: str | None = None,
        placeholder: str | None = None,
        **attrs: Any,
    ) -> Markup:
        """An ``<img>`` tag (escaped ``Markup``).

        With a ``layout`` (``"fixed"``, ``"constrained"``, ``"full-width"``; see ``cfvariants._layouts``) the
        layout writes ``srcset``/``sizes``, ``width``/``height`` (the CSS size given, or the original's aspect
        ratio from ``original``: ``image.meta`` as recorded at upload, or ``(width, height)``) and the style that
        keeps the box; without one, ``widths``/``densities`` make the srcset and ``width``/``height`` are plain
        attributes. ``loading="lazy"`` and ``decoding="async"`` unless ``priority=True`` (``loading="eager"``,
        ``fetchpriority="high"``, ``decoding="sync"``: the page's main image); any attribute overrides them
        (``loading=None`` drops it). ``placeholder``: ``"thumbhash"`` (a blurred miniature) or
        ``"dominant-color"`` painted from the ThumbHash in ``original`` (no request), or ``"blur"`` (a tiny
        blurred variant from Cloudflare: one small request).
        """
        return img_tag(
            self, image, variant, alt=alt,
            sizing=Responsive.of(layout, width, height, original, widths, densities, sizes),
            priority=priority, placeholder=placeholder, attrs=attrs,
        )  # fmt: skip

    def picture(
        self: MarkupBuilder,
        image: str,
        variant: VariantLike = None,
        *,
        alt: str,
        formats: Iterable[str] = (),
        sources: Iterable[Source] = (),
        layout: str | None = None,
        width: int | None = None,
        height: int | None = None,
        original: object = None,
        priority: bool = False,
        widths: Iterable[int] | None = None,
        densities: Iterable[float] | None = None,
        sizes: str | None = None,
        placeholder: str | None = None,
        **attrs: Any,
    ) -> Markup:
        """A ``<picture>`` with one ``<source>`` per format (and per art-direction ``Source``) and an ``<img>``;
        the sizing keywords are ``img``'s and apply to every format."""
        return picture_tag(
            self, image, variant, alt=alt, formats=formats, sources=sources,
            sizing=Responsive.of(layout, width, height, original, widths, densities, sizes),
            priority=priority, placeholder=placeholder, attrs=attrs,
        )  # fmt: skip

    def preload_link(
        self: MarkupBuilder,
        image: str,
        variant: VariantLike = None,
        *,
        layout: str | None = None,
        width: int | None = None,
        height: int | None = None,
        original: object = None,
        widths: Iterable[int] | None = None,
        densities: Iterable[float] | None = None,
        sizes: str | None = None,
        **attrs: Any,
    ) -> Markup:
        """``<link rel="preload" as="image" imagesrcset=... imagesizes=... fetchpriority="high">`` for the
        ``<head>``: the same candidates and ``sizes`` as ``img`` with the same arguments, so the browser starts
        the download before it has seen the ``<img>``. (No ``href`` with a srcset: Safari would fetch both.)
        What only the ``<img>`` uses (``alt``, ``priority``, ``placeholder``, ``loading``, ``decoding``) is checked
        as ``img`` checks it and left off the link."""
        return preload_tag(
            self, image, variant, sizing=Responsive.of(layout, width, height, original, widths, densities, sizes),
            attrs=attrs,
        )  # fmt: skip


def attr_name(name: str) -> str:
    if name.endswith("_"):
        name = name[:-1]
    name = name.replace("_", "-")
    if not _ATTR_NAME.fullmatch(name):
        raise ArgumentError(f"{name!r} is not a valid HTML attribute name")
    return name


def render_attrs(attrs: Mapping[str, Any]) -> str:
    """`` name="value"`` pairs, escaped; ``True`` gives a bare attribute, ``None``/``False`` omit it.

    Every value is escaped as attribute text, whatever its type: ``Markup``, Django's ``SafeString`` and a Jinja
    gettext result say "safe as HTML", which is not "safe inside quotes" (a ``"`` in them would end the attribute).
    """
    out = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {name}")
        else:
            out.append(f' {name}="{escape(_plain_text(value))}"')
    return "".join(out)


def _plain_text(value: object) -> str:
    """``value`` as a plain ``str``: safe-string subclasses (whose ``__str__`` returns themselves) and their
    ``__html__`` are dropped, so ``escape`` escapes the text instead of trusting it."""
    text = str(value)
    return text if type(text) is str else str.__str__(text)


def _blur_style(builder: MarkupBuilder, image: str, options: Options | None) -> str:
    tiny = Options(width=PLACEHOLDER_WIDTH, blur=5, quality=30)
    if options is not None:
        height = None
        if isinstance(options.width, int) and options.height is not None:
            height = max(1, round(PLACEHOLDER_WIDTH * options.height / options.width))
        tiny = options.replace(width=PLACEHOLDER_WIDTH, height=height, dpr=None, blur=5, quality=30)
    url = builder.url(image, tiny)
    return f'background-image:url("{url}");background-size:cover;background-position:center;background-repeat:no-repeat'


def _painted_style(text: str, placeholder: str) -> str:
    """The placeholder painted from the ThumbHash recorded at upload: no request (the PNG is decoded once per
    hash per process, by ``thumbhash.data_uri``). Nothing for an image with transparency: it would show through
    once loaded. The data URI goes unquoted into ``url()`` (base64 has no character CSS would need quoted, nor
    one HTML escapes), so the style never needs escaping. Layout tags call this once per tag they remember."""
    if placeholder == "dominant-color":
        raw = thumbhash.parse(text)
        return "" if thumbhash.has_alpha(raw) else "background-color:#" + thumbhash.average_hex(raw)
    uri = thumbhash.data_uri(text)  # checks the hash the first time it sees it; then its first 3 bytes are enough
    if thumbhash.has_alpha(binascii.a2b_base64(text[:4])):
        return ""
    return f"background-image:url({uri});background-size:cover;background-position:center;background-repeat:no-repeat"


_thumbhash_style = functools.lru_cache(maxsize=4096)(_painted_style)  # for tags that are not remembered whole


def _sized(
    builder: MarkupBuilder, image: str, variant: VariantLike, sizing: Responsive, *, lazy: bool
) -> tuple[dict[str, Any], Options | None, LayoutPlan | None]:
    """``src``, ``srcset``, ``sizes``, ``width``, ``height`` of an image; without a layout the options its
    ``src`` shows, with one the layout's plan (whose ``src`` has them)."""
    if sizing.layout is None:
        options = builder.options_of(variant)
        out: dict[str, Any] = {"src": builder.url(image, variant)}
        if sizing.widths is not None or sizing.densities is not None:
            out["srcset"] = builder.srcset(image, variant, widths=sizing.widths, densities=sizing.densities)
            if sizing.widths is not None:
                out["sizes"] = sizing.sizes if sizing.sizes is not None else ("auto, 100vw" if lazy else "100vw")
        elif sizing.sizes is not None:
            raise ArgumentError("sizes only applies with widths (width descriptors) or a layout")
        size = known_size(options)
        out["width"], out["height"] = size if size else (None, None)
        if sizing.width is not None:  # without a layout these are plain attributes, as given
            out["width"] = sizing.width
        if sizing.height is not None:
            out["height"] = sizing.height
        return out, options, None
    plan = plan_layout(
        _srcset_options(builder, variant), sizing.layout, width=sizing.width, height=sizing.height,
        original=sizing.original, widths=None if sizing.widths is None else _widths(sizing.widths),
        densities=sizing.densities,
    )  # fmt: skip
    before, after = builder.srcset_affixes(image)
    out = {
        "src": f"{before}{plan.src_text}{after}",  # one of the candidates: the URL its srcset entry has
        # the plan's text, one join per image: "<before><segment> <descriptor>, <before><segment> <descriptor>..."
        "srcset": before + f", {before}".join(plan.entries) if not after else srcset_value(plan.texts, before, after),
        "sizes": sizing.sizes if sizing.sizes is not None else plan.sizes,
        "width": plan.width,
        "height": plan.height,
    }
    if lazy and out["sizes"] is not None and sizing.sizes is None:
        out["sizes"] = f"auto, {out['sizes']}"  # lazy images: the browser may use the laid-out width
    return out, None, plan


def _srcset_options(builder: MarkupBuilder, variant: VariantLike) -> Options:
    """``builder.srcset_options(variant)``, remembered per builder for ``None`` and option strings: the same
    ``Options`` object every time, which the layout plans find by identity."""
    if variant is not None and type(variant) is not str:
        return builder.srcset_options(variant)
    key = (id(builder), variant)  # by identity: a builder's __hash__ is Python code, run per image otherwise
    known = _SRCSET_OPTIONS.get(key)
    if known is None or known[0] is not builder:
        known = remember(_SRCSET_OPTIONS, 1024, key, (builder, builder.srcset_options(variant)))
    return known[1]


_SRCSET_OPTIONS: dict[tuple[int, str | None], tuple[MarkupBuilder, Options]] = {}  # the builder kept: its id stays


def _img_attrs(
    builder: MarkupBuilder,
    image: str,
    variant: VariantLike,
    *,
    alt: str,
    sizing: Responsive,
    priority: bool,
    placeholder: str | None,
    attrs: Mapping[str, Any],
) -> dict[str, Any]:
    _check_img_arguments(alt, priority, placeholder)
    extra = {attr_name(name): value for name, value in attrs.items()}
    lazy = not priority and extra.get("loading", "lazy") == "lazy"
    out, options, plan = _sized(builder, image, variant, sizing, lazy=lazy)
    out["alt"] = alt
    if priority:
        out.update(loading="eager", fetchpriority="high", decoding="sync")
    else:
        out.update(loading="lazy", decoding="async")
    style = _style(builder, image, options, plan, sizing.original, placeholder, extra.pop("style", None))
    if style:
        out["style"] = style
    out.update(extra)
    return out


def _check_img_arguments(alt: object, priority: object, placeholder: object) -> None:
    if not isinstance(alt, str):
        raise ArgumentError("alt must be a string (use alt='' for a purely decorative image)")
    if placeholder not in PLACEHOLDERS:
        choices = ", ".join(map(repr, PLACEHOLDERS))
        raise ArgumentError(f"placeholder must be one of {choices}, not {shown(placeholder)}")
    if not isinstance(priority, bool):
        raise ArgumentError(f"priority must be True or False, not {priority!r}")


def _style(
    builder: MarkupBuilder,
    image: str,
    options: Options | None,
    plan: LayoutPlan | None,
    original: Original | None,
    placeholder: str | None,
    user_style: object,
) -> str:
    """The ``style`` of an ``<img>``: the layout's, then the placeholder's, then the caller's."""
    styles = [plan.style] if plan is not None and plan.style else []
    if placeholder == "blur":
        styles.append(_blur_style(builder, image, plan.src if plan is not None else options))
    elif placeholder is not None and original is not None and original.thumbhash:
        styles.append(_thumbhash_style(original.thumbhash, placeholder))
    if user_style:
        styles.append(str(user_style))
    return ";".join([style for style in styles if style])


def img_tag(
    builder: MarkupBuilder,
    image: str,
    variant: VariantLike,
    *,
    alt: str,
    sizing: Responsive = NO_SIZING,
    priority: bool = False,
    placeholder: str | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> Markup:
    """See ``ImageMarkup.img``."""
    attrs = attrs or {}
    if sizing.layout is not None:
        fast = _layout_img(builder, image, variant, alt, sizing, priority, placeholder, attrs)
        if fast is not None:
            return fast
    values = _img_attrs(
        builder, image, variant, alt=alt, sizing=sizing, priority=priority, placeholder=placeholder, attrs=attrs
    )
    return Markup(f"<img{render_attrs(values)}>")  # noqa: S704 - every value went through escape()


_LAYOUT_TAGS: dict[Any, tuple[str, str, str, str, MarkupBuilder]] = {}  # the builder kept: its id stays its
_LAYOUT_TAGS_LIMIT = 8192
_OWN_ATTRS = frozenset({"src", "srcset", "sizes", "width", "height", "alt", "loading", "fetchpriority", "decoding"})


def _layout_img(
    builder: MarkupBuilder,
    image: str,
    variant: VariantLike,
    alt: str,
    sizing: Responsive,
    priority: bool,
    placeholder: str | None,
    attrs: Mapping[str, Any],
) -> Markup | None:
    """A layout ``<img>`` from its remembered parts: what depends only on the image and the layout (src, srcset,
    sizes, box, loading, style) is rendered once; alt text and other attributes every time. ``None`` when the
    call is not one the memo can key exactly (then ``img_tag`` builds it in full)."""
    if not (
        type(image) is str
        and type(alt) is str
        and type(priority) is bool
        and (variant is None or type(variant) is str or type(variant) is Options)
        and type(sizing.width) in _EXACT_SIZES
        and type(sizing.height) in _EXACT_SIZES
        and sizing.widths is None
        and sizing.densities is None
        and (placeholder is None or type(placeholder) is str)
    ):
        return None
    extra = {attr_name(name): value for name, value in attrs.items()}
    if not _OWN_ATTRS.isdisjoint(extra):
        return None
    key = (id(builder), image, variant, sizing, priority, placeholder)  # by identity, as _srcset_options
    try:
        parts = _LAYOUT_TAGS.get(key)
    except TypeError:  # an unhashable sizes=: built in full, where it is refused or rendered
        return None
    if parts is None or parts[4] is not builder:
        _check_img_arguments(alt, priority, placeholder)
        head, plan = _layout_head(builder, image, variant, sizing, lazy=not priority)
        original = sizing.original
        if placeholder == "blur":
            style = _style(builder, image, None, plan, original, placeholder, None)
            styled = _style_attr(style) if style else ""
        else:  # the layout's CSS and a ThumbHash style: text with nothing to escape, written as it is
            known = original.thumbhash if placeholder and original is not None else None
            painted = _painted_style(known, placeholder) if known and placeholder else ""
            style = ";".join(filter(None, (plan.style, painted)))
            styled = f' style="{style}"' if style else ""
        parts = (head, _LOADING[priority], style, styled, builder)
        remember(_LAYOUT_TAGS, _LAYOUT_TAGS_LIMIT, key, parts)
    head, loading, style, styled, _builder = parts
    if extra:
        user_style = extra.pop("style", None)
        if user_style:
            styled = render_attrs({"style": f"{style};{user_style}" if style else user_style})
        return Markup(f'<img{head} alt="{escape(alt)}"{loading}{styled}{render_attrs(extra)}>')  # noqa: S704
    return Markup(f'<img{head} alt="{escape(alt)}"{loading}{styled}>')  # noqa: S704 - escaped parts only


def _layout_head(
    builder: MarkupBuilder, image: str, variant: VariantLike, sizing: Responsive, *, lazy: bool
) -> tuple[str, LayoutPlan]:
    """`` src=... srcset=... sizes=... width=... height=...`` of a layout ``<img>``, escaped: ``_sized``'s values
    as text, with the plan's candidate texts pasted as they are when they need no escaping (most variants)."""
    plan = plan_layout(
        _srcset_options(builder, variant), cast(str, sizing.layout), width=sizing.width, height=sizing.height,
        original=sizing.original,
    )  # fmt: skip
    before, after = builder.srcset_affixes(image)
    if plan.plain and not after and _plain(before):
        # "<before><segment> <descriptor>, <before><segment> <descriptor>...": one join, nothing to escape
        urls = f' src="{before}{plan.src_text}" srcset="{before}{f", {before}".join(plan.entries)}"'
    else:
        srcset = before + f", {before}".join(plan.entries) if not after else srcset_value(plan.texts, before, after)
        urls = f' src="{escape(f"{before}{plan.src_text}{after}")}" srcset="{escape(srcset)}"'
    sizes = sizing.sizes if sizing.sizes is not None else plan.sizes
    if lazy and sizes is not None and sizing.sizes is None:
        sizes = f"auto, {sizes}"  # lazy images: the browser may use the laid-out width
    sizes_text = _SIZES_TEXTS.get(sizes)
    if sizes_text is None:  # the same for every image of a layout
        sizes_text = remember(_SIZES_TEXTS, 1024, sizes, render_attrs({"sizes": sizes}))
    box_text = sizes_text
    if plan.width is not None:
        box_text += f' width="{plan.width}"'  # integers: nothing to escape
    if plan.height is not None:
        box_text += f' height="{plan.height}"'
    return urls + box_text, plan


def _style_attr(style: str) -> str:
    """`` style="..."``, escaped (a layout's and a colour's style have nothing to escape)."""
    return f' style="{style}"' if _plain(style) else f' style="{escape(style)}"'


def _plain(text: str) -> bool:
    """Whether ``text`` has no character HTML escapes in an attribute (five substring searches beat a regex)."""
    return not ("&" in text or "<" in text or ">" in text or '"' in text or "'" in text)


_EXACT_SIZES = frozenset({int, type(None)})
_SIZES_TEXTS: dict[str | None, str] = {}
_LOADING = {
    False: render_attrs({"loading": "lazy", "decoding": "async"}),
    True: render_attrs({"loading": "eager", "fetchpriority": "high", "decoding": "sync"}),
}


def forget_rendered() -> None:
    """Forget every remembered layout tag, placeholder and layout plan (as a fresh process starts): for
    benchmarks of a first render, and for tests."""
    _LAYOUT_TAGS.clear()
    _SIZES_TEXTS.clear()
    _SRCSET_OPTIONS.clear()
    _thumbhash_style.cache_clear()
    thumbhash.forget()
    layouts.forget()


_IMG_ONLY = ("alt", "priority", "placeholder", "loading", "decoding")
"""Arguments of ``img`` that a preload link takes so that both can be given the same ones, and leaves out:
the link only starts the download (``fetchpriority="high"`` always)."""


def preload_tag(
    builder: MarkupBuilder,
    image: str,
    variant: VariantLike,
    *,
    sizing: Responsive = NO_SIZING,
    attrs: Mapping[str, Any] | None = None,
) -> Markup:
    """See ``ImageMarkup.preload_link``."""
    attrs = dict(attrs or {})
    given = {name: attrs.pop(name) for name in _IMG_ONLY if name in attrs}  # the img's, nothing on a link
    _check_img_arguments(given.get("alt", ""), given.get("priority", False), given.get("placeholder"))
    extra = {attr_name(name): value for name, value in attrs.items()}
    sized, _options, _plan = _sized(builder, image, variant, sizing, lazy=False)
    values: dict[str, Any] = {"rel": "preload", "as": "image"}
    if "srcset" in sized:
        values["imagesrcset"] = sized["srcset"]
        values["imagesizes"] = sized.get("sizes")
    else:
        values["href"] = sized["src"]
    values["fetchpriority"] = "high"
    values.update(extra)
    return Markup(f"<link{render_attrs(values)}>")  # noqa: S704 - every value went through escape()


def picture_tag(
    builder: MarkupBuilder,
    image: str,
    variant: VariantLike,
    *,
    alt: str,
    formats: Iterable[str] = (),
    sources: Iterable[Source] = (),
    sizing: Responsive = NO_SIZING,
    priority: bool = False,
    placeholder: str | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> Markup:
    """See ``ImageMarkup.picture``: art-direction sources first, then one source per explicit format, then the img."""
    options = builder.options_of(variant)  # a variant this form cannot take fails here, before any source
    parts = ["<picture>"]
    for source in sources:
        if not isinstance(source, Source):
            raise ArgumentError(f"sources must be cfvariants.Source objects, not {type(source).__name__}")
        parts.append(_source_tag(builder, image, source.variant, source.media, Responsive(
            widths=source.widths, densities=source.densities, sizes=source.sizes), None, lazy=False))  # fmt: skip
    formats = tuple(formats)
    if formats and options is None and variant is not None:
        raise VariantError(
            f"named variant {str(variant)!r} cannot change format; Cloudflare already negotiates "
            "AVIF/WebP from the Accept header. Pass formats=() or use flexible options"
        )
    lazy = not priority and (attrs or {}).get("loading", "lazy") == "lazy"
    for fmt in formats:
        if not isinstance(fmt, str) or fmt not in _FORMAT_TYPES:
            raise ArgumentError(f"format {fmt!r} has no MIME type for <source>; use one of {', '.join(_FORMAT_TYPES)}")
        with_format = merge_options(options, {"format": fmt})
        parts.append(_source_tag(builder, image, with_format, None, sizing, _FORMAT_TYPES[fmt], lazy=lazy))
    parts.append(
        img_tag(
            builder, image, variant, alt=alt, sizing=sizing, priority=priority, placeholder=placeholder,
            attrs=attrs,
        )
    )  # fmt: skip
    parts.append("</picture>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped tags only


def _source_tag(
    builder: MarkupBuilder,
    image: str,
    variant: VariantLike,
    media: str | None,
    sizing: Responsive,
    mime: str | None,
    *,
    lazy: bool,
) -> str:
    if sizing.layout is not None or sizing.widths is not None or sizing.densities is not None:
        sized, _options, _plan = _sized(builder, image, variant, sizing, lazy=lazy)
        srcset, sizes = sized["srcset"], sized.get("sizes")
    else:
        srcset, sizes = builder.url(image, variant), None
    if sizing.layout is None and sizing.widths is not None and sizing.sizes is None:
        sizes = "100vw"
    values = {"media": media, "type": mime, "srcset": srcset, "sizes": sizes}
    return f"<source{render_attrs(values)}>"
