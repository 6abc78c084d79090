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

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

from .errors import ArgumentError, VariantError, shown
from .options import MAX_INT, Options

__all__ = [
    "FULL_WIDTH_MAX",
    "FULL_WIDTH_MIN",
    "HEIGHT_KEY",
    "LAYOUTS",
    "THUMBHASH_KEY",
    "WIDTH_KEY",
    "WIDTH_LADDER",
    "Layout",
    "LayoutPlan",
    "Original",
    "plan_layout",
    "snap_width",
]

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
CONSTRAINED_MIN = 640
FIXED_DENSITIES = (1.0, 2.0)
MAX_DENSITY = 4

WIDTH_KEY = "cfv_width"
HEIGHT_KEY = "cfv_height"
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


@dataclass(frozen=True, slots=True)
class LayoutPlan:
    """Everything a layout decides: the candidates' options and descriptors, the fallback ``src``'s options,
    ``sizes``, the box (``width``/``height`` attributes) and the CSS the layout needs."""

    layout: Layout
    candidates: tuple[tuple[Options, str], ...]
    src: Options
    sizes: str | None
    width: int | None
    height: int | None
    style: str
    cropped: bool

    def segments(self) -> tuple[tuple[str, str], ...]:
        """``(segment, descriptor)`` pairs for ``html.srcset_value``."""
        return tuple((str(options), descriptor) for options, descriptor in self.candidates)


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
    return _plan(
        options,
        layout,
        width,
        height,
        original,
        None if widths is None else tuple(widths),
        None if densities is None else _densities(densities),
    )


@functools.lru_cache(maxsize=2048)
def _plan(
    options: Options | None,
    layout: str,
    width: int | None,
    height: int | None,
    original: Original | None,
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
    if cropped and base.fit is None:
        base = base.replace(fit="cover")  # the box has its own aspect ratio: fill it, as object-fit does
    elif base.fit in _CROP_FITS and ratio is not None:
        cropped = True
    cap = _cap(source, ratio if cropped else None)
    if layout == "fixed":
        assert width is not None
        plan = _fixed(base, width, ratio, cap, cropped, densities)
    else:
        plan = _fluid(base, layout, width, ratio, cap, cropped, widths)
    return plan


_WIDTH_MEANING = {"fixed": "displayed width", "constrained": "largest displayed width"}


def _source_size(options: Options, original: Original | None) -> tuple[int, int] | None:
    """The original's size as the options see it (rotated); unknown when a trim changes it."""
    size = original.size if original is not None else None
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


def _candidate(base: Options, width: int, ratio: tuple[int, int] | None, cropped: bool) -> Options:
    if cropped and ratio is not None:
        return base.replace(width=width, height=max(1, round(width * ratio[1] / ratio[0])))
    return base.replace(width=width)


def _fixed(
    base: Options,
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
    candidates = tuple((_candidate(base, px, ratio, cropped), f"{_density_text(d)}x") for px, d in chosen)
    height = _height(width, ratio)
    style = "object-fit:cover" if cropped else ""
    return LayoutPlan("fixed", candidates, candidates[0][0], None, width, height, style, cropped)


def _fluid(
    base: Options,
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
        low, high = snap_width(min(width, CONSTRAINED_MIN)), snap_width(2 * width)
        sizes = f"(min-width: {width}px) {width}px, 100vw"
    else:
        low, high = FULL_WIDTH_MIN, FULL_WIDTH_MAX
        sizes = "100vw"
    if widths is not None:
        wanted = sorted(set(widths))
    else:
        wanted = [w for w in WIDTH_LADDER if low <= w <= high]
        if not wanted or wanted[-1] < high:
            wanted.append(high)
    pixels = sorted({w if cap is None else min(w, cap) for w in wanted})
    candidates = tuple((_candidate(base, px, ratio, cropped), f"{px}w") for px in pixels)
    if layout == "constrained":
        assert width is not None
        src = next((opts for opts, d in candidates if int(d[:-1]) >= width), candidates[-1][0])
        box_w: int | None = width
        box_h = _height(width, ratio)
        assert ratio is not None
        css = [f"width:100%;max-width:{width}px;height:auto;aspect-ratio:{ratio[0]}/{ratio[1]}"]
    else:
        src = next((opts for opts, d in candidates if int(d[:-1]) >= 1280), candidates[-1][0])
        assert ratio is not None
        box_w, box_h = ratio
        css = [f"width:100%;height:auto;aspect-ratio:{ratio[0]}/{ratio[1]}"]
    if cropped:
        css.append("object-fit:cover")
    return LayoutPlan(cast(Layout, layout), candidates, src, sizes, box_w, box_h, ";".join(css), cropped)


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
