"""Geometry of a transformation, computed from sizes and options alone (no pixels).

Order (as documented): trim (scaled by ``dpr``) -> flip -> rotate -> fit (crop and resize) -> pad. ``width`` and
``height`` refer to the rotated axes. Because everything here is arithmetic, the emulator knows the output size
and refuses oversized requests (9413) before it decodes or allocates anything.

Fit semantics (Cloudflare's fit table, docs revision with ``aspect-crop``):

* ``scale-down`` (the default when only width/height are given; an older docs revision said ``contain``): fit
  inside the box, never enlarge.
* ``contain``: fit inside the box, may enlarge; with one dimension, match it exactly.
* ``scale-up``: like ``contain`` but never shrink (an image already larger than the box keeps its size).
* ``cover``: fill the box exactly, cropping the excess around the gravity point; may enlarge.
* ``crop``: like ``cover`` but never enlarges: scale = min(1, cover scale), then crop to at most the box (an
  image smaller than the box keeps its size, like ``scale-down``).
* ``aspect-crop``: like ``crop`` but always crops to the box's aspect ratio (a 612×613 image asked for 1920×1120
  becomes 612×357, the docs' example).
* ``pad``: fit inside the box (may enlarge), then extend the canvas to exactly the box.
* ``squeeze``: resize to exactly width×height, distorting; a missing dimension keeps the source's.

Every mode with only one dimension (except ``squeeze``) resizes proportionally to that dimension under its
enlarge/shrink rule. Limits (Cloudflare's 9413 texts): the output may not exceed 100 megapixels (animations: all
frames together), and an output larger than its source on either axis may not exceed 5,000 px on a side ("The
image enlarged too much: 1000×10000, but maximum dimension allowed is 5000" — Cloudflare's own error text; the
exact rule behind it is not documented, so this is our reading).
"""

from __future__ import annotations

from dataclasses import dataclass

from cfvariants._options import Options
from cfvariants.imaging import ImageRejected
from cfvariants.limits import MAX_AREA

MAX_ENLARGED_SIDE = 5000
SIZE_EXCEEDED = 9413
Box = tuple[int, int, int, int]


def _too_large(message: str) -> ImageRejected:
    return ImageRejected(f"Could not resize the image: {message}", code=SIZE_EXCEEDED, status=403)


@dataclass(frozen=True)
class Plan:
    """Where pixels go. Sizes are in source pixels (after EXIF orientation) unless named ``out``/``canvas``."""

    trim: Box | None  # region of the source kept by trim (left, top, right, bottom)
    flip: str | None
    rotate: int  # clockwise degrees: 0, 90, 180, 270
    work_w: int  # size after trim + rotate: the image the fit works on
    work_h: int
    crop_w: float  # region of the work image that is kept (the whole image unless the fit crops)
    crop_h: float
    out_w: int  # that region is resized to out_w × out_h
    out_h: int
    canvas_w: int  # the final image (larger than out only with fit=pad)
    canvas_h: int

    @property
    def crops(self) -> bool:
        return self.crop_w < self.work_w - 1e-6 or self.crop_h < self.work_h - 1e-6

    @property
    def scale(self) -> float:
        """The largest per-axis resize factor (output pixels per work pixel)."""
        return max(self.out_w / self.crop_w, self.out_h / self.crop_h)

    def crop_box(self, focal: tuple[float, float]) -> tuple[float, float, float, float]:
        """The kept region of the work image, centred on ``focal`` (fractions of the work image) as far as the
        image edges allow."""
        x0 = _place(focal[0] * self.work_w, self.crop_w, self.work_w)
        y0 = _place(focal[1] * self.work_h, self.crop_h, self.work_h)
        return (x0, y0, x0 + self.crop_w, y0 + self.crop_h)


def _place(centre: float, length: float, total: float) -> float:
    """The start of a ``length`` window centred on ``centre`` as far as ``0..total`` allows (never negative, even
    when rounding made ``length`` a hair longer than ``total``)."""
    return max(min(centre - length / 2, total - length), 0.0)


def _px(value: float) -> int:
    return max(1, int(value + 0.5))


def explicit_trim(options: Options, width: int, height: int) -> Box | None:
    """The box kept by ``trim=top;right;bottom;left`` or ``trim.left/top/width/height`` (scaled by dpr); ``None``
    without an explicit trim (``trim=border`` needs pixels: see ``_transform_ops.border_box``)."""
    dpr = options.dpr or 1.0
    if isinstance(options.trim, tuple):
        top, right, bottom, left = (int(v * dpr + 0.5) for v in options.trim)
        box = (left, top, width - right, height - bottom)
    elif any(v is not None for v in (options.trim_left, options.trim_top, options.trim_width, options.trim_height)):
        left = int((options.trim_left or 0) * dpr + 0.5)
        top = int((options.trim_top or 0) * dpr + 0.5)
        right = width if options.trim_width is None else min(width, left + int(options.trim_width * dpr + 0.5))
        bottom = height if options.trim_height is None else min(height, top + int(options.trim_height * dpr + 0.5))
        box = (left, top, right, bottom)
    else:
        return None
    if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
        raise _too_large(f"The image has width or height of size 0 (trim removes the whole {width}×{height} image)")
    return box


def plan_geometry(options: Options | None, width: int, height: int, trim: Box | None = None) -> Plan:
    """The plan for a ``width``×``height`` source (as displayed). Raises ``ImageRejected`` (9413) for outputs
    Cloudflare would refuse."""
    opts = options or Options()
    if trim is not None:
        width, height = trim[2] - trim[0], trim[3] - trim[1]
    rotate = int(opts.rotate or 0)
    work_w, work_h = (height, width) if rotate in (90, 270) else (width, height)
    dpr = opts.dpr or 1.0
    box_w = _px(opts.width * dpr) if isinstance(opts.width, int) else None
    box_h = _px(opts.height * dpr) if opts.height is not None else None
    fit = opts.fit or "scale-down"
    crop_w, crop_h = float(work_w), float(work_h)
    if box_w is None and box_h is None:
        out_w, out_h = work_w, work_h
    elif fit == "squeeze":
        out_w, out_h = box_w or work_w, box_h or work_h
    elif box_w is None or box_h is None or fit in ("scale-down", "contain", "scale-up", "pad"):
        scales = [s for s in (box_w and box_w / work_w, box_h and box_h / work_h) if s]
        scale = min(scales)
        if fit in ("scale-down", "crop", "aspect-crop"):
            scale = min(scale, 1.0)
        elif fit == "scale-up":
            scale = max(scale, 1.0)
        out_w, out_h = _px(work_w * scale), _px(work_h * scale)
    else:  # cover, crop, aspect-crop with both dimensions
        scale = max(box_w / work_w, box_h / work_h)
        if fit == "cover":
            out_w, out_h = box_w, box_h
            crop_w, crop_h = min(work_w, box_w / scale), min(work_h, box_h / scale)
        elif fit == "crop" or scale < 1:
            scale = min(scale, 1.0)
            crop_w, crop_h = min(work_w, box_w / scale), min(work_h, box_h / scale)
            out_w, out_h = min(box_w, _px(crop_w * scale)), min(box_h, _px(crop_h * scale))
        else:  # aspect-crop of an image not larger than the box: crop to the box's aspect ratio, keep the scale
            aspect = box_w / box_h
            crop_w = min(float(work_w), work_h * aspect)
            crop_h = min(float(work_h), crop_w / aspect)  # w=1,h=38 of 40x30: 30.000000000000004 otherwise
            out_w, out_h = _px(crop_w), _px(crop_h)
    canvas_w, canvas_h = out_w, out_h
    if fit == "pad" and box_w is not None and box_h is not None:
        canvas_w, canvas_h = box_w, box_h
    plan = Plan(trim, opts.flip, rotate, work_w, work_h, crop_w, crop_h, out_w, out_h, canvas_w, canvas_h)
    _check_limits(plan)
    return plan


def _check_limits(plan: Plan) -> None:
    width, height = plan.canvas_w, plan.canvas_h
    enlarged = width > plan.work_w or height > plan.work_h
    if enlarged and max(width, height) > MAX_ENLARGED_SIDE:
        raise _too_large(
            f"The image enlarged too much: {width}×{height}, but maximum dimension allowed is {MAX_ENLARGED_SIDE}"
        )
    if width * height > MAX_AREA:
        raise _too_large(f"The output {width}×{height} is more than {MAX_AREA // 1_000_000} megapixels")


def check_animation(plan: Plan, frames: int) -> None:
    """Animated output: the area of all frames together may not exceed 100 megapixels."""
    total = plan.canvas_w * plan.canvas_h * frames
    if total > MAX_AREA:
        raise _too_large(
            f"The animation is too large. Animation resolution is {plan.canvas_w}×{plan.canvas_h} with {frames} "
            f"frames (total area of all frames together must be less than {MAX_AREA})"
        )


_SIDES = {"left": (0.0, 0.5), "right": (1.0, 0.5), "top": (0.5, 0.0), "bottom": (0.5, 1.0)}


def focal_point(options: Options | None, plan: Plan, source_w: int, source_h: int) -> tuple[float, float] | None:
    """The gravity point as fractions of the work image, or ``None`` for ``gravity=auto`` (saliency decides).

    Gravity is given in the original image (Cloudflare: "coordinates in the original image"), so it is moved
    through the trim, the flip and the rotation. ``face`` has no detector here and falls back to the centre —
    what Cloudflare does when it finds no face.
    """
    gravity = options.gravity if options else None
    if gravity == "auto":
        return None
    if isinstance(gravity, tuple):
        fx, fy = gravity
    else:
        fx, fy = _SIDES.get(str(gravity), (0.5, 0.5))
    if plan.trim is not None:
        left, top, right, bottom = plan.trim
        fx = _clamp01((fx * source_w - left) / (right - left))
        fy = _clamp01((fy * source_h - top) / (bottom - top))
    if plan.flip in ("h", "hv"):
        fx = 1.0 - fx
    if plan.flip in ("v", "hv"):
        fy = 1.0 - fy
    if plan.rotate == 90:
        fx, fy = 1.0 - fy, fx
    elif plan.rotate == 180:
        fx, fy = 1.0 - fx, 1.0 - fy
    elif plan.rotate == 270:
        fx, fy = fy, 1.0 - fx
    return (fx, fy)


def _clamp01(value: float) -> float:
    return min(max(value, 0.0), 1.0)
