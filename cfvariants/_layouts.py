"""Responsive layouts: which widths a srcset lists, what ``sizes`` says and how big the box is, per layout.

The semantics are unpic's and Astro's:

==============  =============================================  =======================================
layout          srcset widths                                  ``sizes``
==============  =============================================  =======================================
``fixed``       the width at 1x and 2x (density descriptors)   none (density descriptors)
``constrained`` the ladder from ``min(width, 640)`` to 2x      ``(min-width: Wpx) Wpx, 100vw``
``full-width``  the ladder from 640 to 3840 (1920 CSS px @2x)  ``100vw``
==============  =============================================  =======================================

Widths are snapped up to ``WIDTH_LADDER``, so a site has a bounded number of distinct transformations per image
whatever widths its templates ask for (Cloudflare bills remote transformations per unique URL). When the
original's size is known (``Original``, recorded at upload) no candidate is wider than what the original can
give: the candidates above it collapse into one at the original's width, so Cloudflare never upscales and no two
candidates render the same pixels. The box (``width``/``height`` attributes, ``aspect-ratio``) comes from the
given size or the original's aspect ratio, so the page does not move when the image arrives.

Pure and cached: a plan depends only on its arguments, and a page asks the same few questions many times.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, cast

from ._errors import ArgumentError, VariantError, shown
from ._memo import remember
from ._options import MAX_INT, Options

Layout = Literal["fixed", "constrained", "full-width"]
LAYOUTS: tuple[Layout, ...] = ("fixed", "constrained", "full-width")

WIDTH_LADDER: tuple[int, ...] = (
    16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 480,
    640, 750, 828, 960, 1080, 1280, 1668, 1920, 2048, 2560, 3200, 3840,
)  # fmt: skip
"""Every width a layout asks Cloudflare for (unless ``widths=`` overrides it, or 2x a width beyond 3840 is
needed). Steps are at most about 1.5x below 640 px and 1.33x above, so a browser downloads at most that much
wider an image than it shows."""
FULL_WIDTH_MIN = 640
FULL_WIDTH_MAX = 3840
FULL_WIDTH_SRC = 1280  # the fallback src of a full-width image: the smallest candidate at least this wide
CONSTRAINED_MIN = 640
FIXED_DENSITIES = (1.0, 2.0)
MAX_DENSITY = 4

WIDTH_KEY = "cfv_width"
"""The metadata key of the original's width in pixels."""
HEIGHT_KEY = "cfv_height"
"""The metadata key of the original's height in pixels."""
THUMBHASH_KEY = "cfv_thumbhash"
"""Image metadata keys recorded at upload: the original's pixel size and its ThumbHash (base64)."""

_CROP_FITS = frozenset({"cover", "crop"})
_SIZE_OPTIONS = ("width", "height", "dpr")


@dataclass(frozen=True, slots=True)
class Original:
    """What is known of the uploaded original: its pixel size and its ThumbHash (base64), any of them ``None``.

    ``Original.of(value)`` reads the metadata recorded at upload (``image.meta`` of the API client, or that
    mapping itself), a ``(width, height)`` pair, or an ``Original``.

    >>> Original.of({"cfv_width": 4000, "cfv_height": 3000, "owner": 7})
    Original(width=4000, height=3000, thumbhash=None)
    """

    width: int | None = None
    height: int | None = None
    thumbhash: str | None = None

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INT
            ):
                raise ArgumentError(f"the original's {name} must be a positive integer, not {shown(value)}")
        if self.thumbhash is not None and not isinstance(self.thumbhash, str):
            raise ArgumentError(f"the original's thumbhash must be a base64 string, not {shown(self.thumbhash)}")

    @property
    def size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None

    @classmethod
    def of(cls, value: object) -> Original | None:
        """``value`` as an ``Original`` (``None`` stays ``None``); raises ``ArgumentError`` naming what is wrong."""
        if value is None or isinstance(value, Original):
            return value
        if isinstance(value, tuple | list):
            if len(value) != 2:
                raise ArgumentError(f"original must be (width, height), not {shown(value)}")
            return cls(_int(value[0], "width"), _int(value[1], "height"))
        meta = value if isinstance(value, Mapping) else getattr(value, "meta", None)
        if not isinstance(meta, Mapping):
            raise ArgumentError(
                f"original must be (width, height), an Original or the image's metadata (a mapping with "
                f"{WIDTH_KEY}/{HEIGHT_KEY}/{THUMBHASH_KEY}), not {type(value).__name__}"
            )
        width, height = meta.get(WIDTH_KEY), meta.get(HEIGHT_KEY)
        thumbhash = meta.get(THUMBHASH_KEY)
        return cls(
            None if width is None else _int(width, WIDTH_KEY),
            None if height is None else _int(height, HEIGHT_KEY),
            thumbhash if isinstance(thumbhash, str) and thumbhash else None,
        )


def _int(value: object, name: str) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INT:
        raise ArgumentError(f"{name} must be a positive integer (pixels), not {shown(value)}")
    return value


def snap_width(width: int) -> int:
    """The smallest ladder width at least ``width`` (``width`` itself beyond the ladder)."""
    for step in WIDTH_LADDER:
        if step >= width:
            return step
    return width


class LayoutPlan(NamedTuple):
    """Everything a layout decides: the candidates (``(segment, descriptor)`` text), the fallback ``src``'s
    segment, ``sizes``, the box (``width``/``height`` attributes) and the CSS the layout needs. Text, not
    ``Options``: an image seen for the first time costs string work only (``candidates``/``src`` parse it).
    A named tuple: an original size seen for the first time makes one, and a frozen dataclass costs 5x more."""

    layout: Layout
    texts: tuple[tuple[str, str], ...]
    entries: tuple[str, ...]  # "<segment> <descriptor>" of each candidate: a srcset is their join around the URLs
    src_text: str
    sizes: str | None
    width: int | None
    height: int | None
    style: str
    cropped: bool
    plain: bool  # no candidate text has a character HTML escapes (&<>"'): the markup pastes them as they are

    @property
    def candidates(self) -> tuple[tuple[Options, str], ...]:
        """The candidates' options and descriptors."""
        return tuple((Options.parse(text), descriptor) for text, descriptor in self.texts)

    @property
    def src(self) -> Options:
        """The options of the fallback ``src`` (one of the candidates)."""
        return Options.parse(self.src_text)

    def segments(self) -> tuple[tuple[str, str], ...]:
        """``(segment, descriptor)`` pairs for ``html.srcset_value``."""
        return self.texts


def plan_layout(
    options: Options | None,
    layout: str,
    *,
    width: int | None = None,
    height: int | None = None,
    original: Original | None = None,
    widths: Iterable[int] | None = None,
    densities: Iterable[float] | None = None,
) -> LayoutPlan:
    """The plan for ``layout`` over the base ``options`` (a flexible variant without a size, or ``None``).

    ``width``/``height`` are the CSS size of the box (``fixed``), its largest size (``constrained``) or, for
    ``full-width``, only its aspect ratio; a missing side comes from the original's aspect ratio. ``widths``
    (positive integers, checked by the caller) replaces the ladder with exact widths, still capped at the
    original; ``densities`` replaces 1x/2x for ``fixed``.
    """
    # Checked before the cache, whose keys do not tell True from 1 (and cannot hold a list).
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ArgumentError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, not {shown(layout)}")
    if options is not None and not isinstance(options, Options):
        raise VariantError(f"a layout's options must be Options, not {type(options).__name__}")
    if original is not None and not isinstance(original, Original):
        raise ArgumentError(f"original must be an Original here, not {type(original).__name__}")
    for name, value in (("width", width), ("height", height)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INT):
            raise ArgumentError(f"{name} must be a positive integer (CSS pixels), not {shown(value)}")
    size = None if original is None else original.size  # not its ThumbHash: the plan is the same for every hash
    chosen = None if widths is None else tuple(widths)
    levels = None if densities is None else _densities(densities)
    if size is not None and width is not None and height is not None and layout in LAYOUTS:
        size = _size_if_capping(options, layout, width, height, size, chosen, levels)
    # By the options' identity first: hashing or comparing Options costs more than planning a layout does.
    key = (id(options), layout, width, height, size, chosen, levels)
    known = _PLANS.get(key)
    if known is not None and known[0] is options:
        return known[1]
    plan = _plan(options, layout, width, height, size, chosen, levels)
    remember(_PLANS, 4096, key, (options, plan))  # the options kept alive: their id stays theirs
    return plan


_PLANS: dict[tuple[object, ...], tuple[Options | None, LayoutPlan]] = {}


def _size_if_capping(
    options: Options | None,
    layout: str,
    width: int,
    height: int,
    size: tuple[int, int],
    widths: tuple[int, ...] | None,
    densities: tuple[float, ...] | None,
) -> tuple[int, int] | None:
    """``size``, or ``None`` when a box of a given size makes the same plan without it: the box has its own
    aspect ratio, so the original matters only where it caps a candidate. Most originals are larger than every
    candidate, so their images share one plan instead of making one per original size."""
    source = _source_size(options if options is not None else _NO_OPTIONS, size)
    if source is None:
        return None
    if layout == "fixed":
        widest = snap_width(math.ceil(width * max(densities or FIXED_DENSITIES)))
    else:
        widest = _ladder(layout, width, widths)[-1]
    cap = _cap(source, (width, height))
    return size if cap is not None and cap < widest else None


_NO_OPTIONS = Options()


def _plan(
    options: Options | None,
    layout: str,
    width: int | None,
    height: int | None,
    original: tuple[int, int] | None,
    widths: tuple[int, ...] | None,
    densities: tuple[float, ...] | None,
) -> LayoutPlan:
    base = options if options is not None else Options()
    taken = [name for name in _SIZE_OPTIONS if getattr(base, name) is not None]
    if taken:
        raise VariantError(
            f"layout={layout!r} chooses the size of every candidate; give width=/height= to the layout, not "
            f"{'/'.join(taken)} in the variant ({base})"
        )
    if widths is not None and layout == "fixed":
        raise ArgumentError("widths do not apply to layout='fixed' (1x/2x of its width); use densities=")
    if densities is not None and layout != "fixed":
        raise ArgumentError(f"densities only apply to layout='fixed'; layout={layout!r} uses width descriptors")
    source = _source_size(base, original)
    if layout != "full-width" and width is None:
        raise ArgumentError(f"layout={layout!r} needs width= (the {_WIDTH_MEANING[layout]} in CSS pixels)")
    ratio = _aspect(width, height, source, layout)
    cropped = width is not None and height is not None
    cover = cropped and base.fit is None  # the box has its own aspect ratio: fill it, as object-fit does
    if base.fit in _CROP_FITS and ratio is not None:
        cropped = True
    texts = _SegmentTexts.of(options, cover, ratio if cropped else None)
    cap = _cap(source, ratio if cropped else None)
    if layout == "fixed":
        assert width is not None
        plan = _fixed(texts, width, ratio, cap, cropped, densities)
    else:
        plan = _fluid(texts, layout, width, ratio, cap, cropped, widths)
    return plan


_WIDTH_MEANING = {"fixed": "displayed width", "constrained": "largest displayed width"}


def _source_size(options: Options, size: tuple[int, int] | None) -> tuple[int, int] | None:
    """The original's size as the options see it (rotated); unknown when a trim changes it."""
    if size is None or options.trim is not None or options.trim_width is not None or options.trim_height is not None:
        return None
    if options.rotate in (90, 270):
        return size[1], size[0]
    return size


def _aspect(
    width: int | None, height: int | None, source: tuple[int, int] | None, layout: str
) -> tuple[int, int] | None:
    """The box's aspect ratio as (width, height): given, or the original's."""
    if width is not None and height is not None:
        return width, height
    if source is not None:
        return source
    if height is not None:
        raise ArgumentError(f"layout={layout!r} with height= needs width= too (or the original's size)")
    raise ArgumentError(
        f"layout={layout!r} needs the image's aspect ratio to reserve its box before it loads: give "
        "width= and height=, or the original's size (original=image.meta, recorded at upload, or (width, height))"
    )


def _cap(source: tuple[int, int] | None, crop: tuple[int, int] | None) -> int | None:
    """The widest candidate the original can give without upscaling (for a crop, at the box's aspect ratio)."""
    if source is None:
        return None
    if crop is None:
        return source[0]
    return max(1, min(source[0], math.floor(source[1] * crop[0] / crop[1])))


_WIDTH_SLOT, _HEIGHT_SLOT = 1_000_003, 1_000_033  # stand-in sizes that mark where a candidate's size goes


class _SegmentTexts:
    """The segment text of every candidate over one base (and crop): the base's canonical text with the
    candidate's ``w=``/``h=`` in their places, remembered per width. Built from one ``Options`` per base, so the
    candidates of an original size seen for the first time (its own cap) cost string work, not validation.
    The base is the variant's ``options`` (``None``: none), with ``fit=cover`` when ``cover``."""

    __slots__ = ("_base", "_crop", "_fluids", "_given", "_ladders", "_made", "_parts", "_slots", "plain")

    def __init__(self, options: Options | None, cover: bool, crop: tuple[int, int] | None) -> None:
        base = options if options is not None else Options()
        if cover:
            base = base.replace(fit="cover")
        self._given, self._base, self._crop, self._made = options, base, crop, dict[int, str]()
        self._ladders: dict[tuple[int, ...], tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {}
        self._fluids: dict[tuple[object, ...], tuple[tuple[tuple[str, str], ...], tuple[str, ...], str]] = {}
        marked = base.replace(width=_WIDTH_SLOT, height=_HEIGHT_SLOT if crop is not None else None)
        parts = str(marked).split(",")  # canonical text: fixed order, commas inside values percent-encoded
        slots = [i for i, part in enumerate(parts) if part.endswith((f"={_WIDTH_SLOT}", f"={_HEIGHT_SLOT}"))]
        self._parts, self._slots = parts, slots
        self.plain = _HTML_SPECIAL.search(str(marked)) is None  # a candidate differs only in its digits
        if len(slots) != (1 if crop is None else 2) or self._build(640) != str(_candidate(base, 640, crop)):
            self._slots = []  # not the shape assumed: every candidate through Options (never seen so far)

    @classmethod
    def of(cls, options: Options | None, cover: bool, crop: tuple[int, int] | None) -> _SegmentTexts:
        """The shape for these arguments: found by the options' identity first (hashing Options costs more than
        a plan), then by their value (equal options made anew), else built."""
        key = (id(options), cover, crop)
        shape = _SHAPES.get(key)
        if shape is None or shape._given is not options:
            shape = _SHAPES_BY_VALUE.get((options, cover, crop))
            if shape is None:
                shape = remember(_SHAPES_BY_VALUE, 256, (options, cover, crop), cls(options, cover, crop))
            if shape._given is options:
                remember(_SHAPES, 256, key, shape)  # the shape keeps its options alive: their id stays theirs
        return shape

    def texts(self, chosen: Iterable[tuple[int, str]]) -> tuple[tuple[str, str], ...]:
        """``(segment, descriptor)`` of each ``(pixels, descriptor)``."""
        return tuple((self.text(px), descriptor) for px, descriptor in chosen)

    def width_texts(self, pixels: tuple[int, ...]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """``(segment, "<pixels>w")`` of each width and their ``entries``, remembered per list of widths (a
        ladder: most images)."""
        made = self._ladders.get(pixels)
        if made is None:
            texts = self.texts((px, f"{px}w") for px in pixels)
            made = remember(self._ladders, 256, pixels, (texts, _entries(texts)))
        return made

    def fluid(
        self, layout: str, width: int | None, pixels: tuple[int, ...], cap: int | None
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], str]:
        """The texts, entries and ``src`` segment of a fluid layout's ``pixels`` (the ladder) below ``cap``, the
        original's width when it caps the ladder: the widths below it, then one at it. Remembered."""
        key = (layout, width, pixels, cap)
        made = self._fluids.get(key)
        if made is None:
            texts, entries = self.width_texts(pixels)
            if cap is not None:
                below = bisect.bisect_left(pixels, cap)
                pixels = (*pixels[:below], cap)
                last = (self.text(cap), f"{cap}w")
                texts, entries = (*texts[:below], last), (*entries[:below], f"{last[0]} {last[1]}")
            fits = bisect.bisect_left(pixels, width if layout == "constrained" and width else FULL_WIDTH_SRC)
            src = texts[min(fits, len(pixels) - 1)][0]  # the first candidate at least as wide as the box
            made = remember(self._fluids, 4096, key, (texts, entries, src))
        return made

    def text(self, width: int) -> str:
        made = self._made.get(width)
        if made is None:
            made = self._build(width) if self._slots else None
            if made is None:
                made = str(_candidate(self._base, width, self._crop))  # validated (and refused) by Options
            made = remember(self._made, 4096, width, made)
        return made

    def _build(self, width: int) -> str | None:
        """The text with ``width`` (and its crop's height) in place; ``None`` for a size Options refuses."""
        height = _HEIGHT_SLOT if self._crop is None else max(1, round(width * self._crop[1] / self._crop[0]))
        if width > MAX_INT or height > MAX_INT:
            return None
        parts = list(self._parts)
        parts[self._slots[0]] = parts[self._slots[0]].replace(str(_WIDTH_SLOT), str(width))
        if self._crop is not None:
            parts[self._slots[1]] = parts[self._slots[1]].replace(str(_HEIGHT_SLOT), str(height))
        return ",".join(parts)


_HTML_SPECIAL = re.compile("[&<>\"']")
_SHAPES: dict[tuple[int, bool, tuple[int, int] | None], _SegmentTexts] = {}
_SHAPES_BY_VALUE: dict[tuple[Options | None, bool, tuple[int, int] | None], _SegmentTexts] = {}


def _candidate(base: Options, width: int, crop: tuple[int, int] | None) -> Options:
    if crop is not None:
        return base.replace(width=width, height=max(1, round(width * crop[1] / crop[0])))
    return base.replace(width=width)


def _fixed(
    shape: _SegmentTexts,
    width: int,
    ratio: tuple[int, int] | None,
    cap: int | None,
    cropped: bool,
    densities: tuple[float, ...] | None,
) -> LayoutPlan:
    levels = FIXED_DENSITIES if densities is None else densities
    chosen: list[tuple[int, float]] = []
    for level in levels:
        pixels, density = snap_width(math.ceil(width * level)), level
        if cap is not None and pixels > cap:
            pixels, density = cap, max(1.0, min(level, cap / width))
        if chosen and pixels <= chosen[-1][0]:
            continue  # the same pixels as the last one: one candidate, not two
        chosen.append((pixels, density))
    texts = shape.texts((px, f"{_density_text(d)}x") for px, d in chosen)
    height = _height(width, ratio)
    style = "object-fit:cover" if cropped else ""
    return LayoutPlan("fixed", texts, _entries(texts), texts[0][0], None, width, height, style, cropped, shape.plain)


def _fluid(
    shape: _SegmentTexts,
    layout: str,
    width: int | None,
    ratio: tuple[int, int] | None,
    cap: int | None,
    cropped: bool,
    widths: tuple[int, ...] | None,
) -> LayoutPlan:
    if layout == "constrained":
        assert width is not None
        if cap is not None and cap < width:
            width = cap  # a constrained box never grows past what the original can fill
        sizes = f"(min-width: {width}px) {width}px, 100vw"
    else:
        sizes = "100vw"
    pixels = _ladder(layout, width, widths)
    # the candidates depend on the original only through the cap: remembered per cap that caps one
    texts, entries, src = shape.fluid(layout, width, pixels, cap if cap is not None and cap < pixels[-1] else None)
    assert ratio is not None
    if layout == "constrained":
        assert width is not None
        box_w: int | None = width
        box_h = _height(width, ratio)
        css = [f"width:100%;max-width:{width}px;height:auto;aspect-ratio:{ratio[0]}/{ratio[1]}"]
    else:
        box_w, box_h = ratio
        css = [f"width:100%;height:auto;aspect-ratio:{ratio[0]}/{ratio[1]}"]
    if cropped:
        css.append("object-fit:cover")
    return LayoutPlan(
        cast(Layout, layout), texts, entries, src, sizes, box_w, box_h, ";".join(css), cropped, shape.plain
    )


def _entries(texts: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple([f"{segment} {descriptor}" for segment, descriptor in texts])


@functools.lru_cache(maxsize=1024)
def _ladder(layout: str, width: int | None, widths: tuple[int, ...] | None) -> tuple[int, ...]:
    """The widths a fluid layout asks for before the original caps them: ``widths`` (sorted, distinct), or
    the ladder from the layout's smallest to its largest width."""
    if widths is not None:
        return tuple(sorted(set(widths)))
    if layout == "constrained":
        assert width is not None
        low, high = snap_width(min(width, CONSTRAINED_MIN)), snap_width(2 * width)
    else:
        low, high = FULL_WIDTH_MIN, FULL_WIDTH_MAX
    wanted = [w for w in WIDTH_LADDER if low <= w <= high]
    if not wanted or wanted[-1] < high:
        wanted.append(high)
    return tuple(wanted)


def _height(width: int, ratio: tuple[int, int] | None) -> int | None:
    return None if ratio is None else max(1, round(width * ratio[1] / ratio[0]))


def _density_text(density: float) -> str:
    return f"{math.floor(density * 100) / 100:g}"


def _densities(values: Iterable[float]) -> tuple[float, ...]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= MAX_DENSITY:
            raise ArgumentError(f"densities must be numbers from 1 to {MAX_DENSITY} (1x, 2x...), not {shown(value)}")
        out.append(float(value))
    if not out:
        raise ArgumentError("densities is empty")
    return tuple(sorted(set(out)))


def forget() -> None:
    """Forget the plans made so far (benchmarks of a fresh process)."""
    _PLANS.clear()
    _SHAPES.clear()
    _ladder.cache_clear()
    _SHAPES_BY_VALUE.clear()
