"""Flexible and named variants applied on real pixels: the emulator's image pipeline.

``output_format`` decides, without decoding, what the response will be (the app keys its cache and ``Vary`` on
it); ``render`` produces it. The pipeline is the documented order: EXIF orientation, trim, flip, rotate (clockwise;
Cloudflare does not say which way, clockwise is what image services and CSS do), fit/crop/resize, colour
adjustments, blur, sharpen, pad, background, encode. Geometry is planned first (``_transform_plan``), so oversized
requests are refused (9413) before anything is decoded, and a JPEG is decoded at the smallest DCT scale that still
leaves twice the output resolution (``Image.draft``), which makes ``w=200`` of a 12 MP photo cheap.

Format negotiation (``format=auto`` or no format; hosted images default to auto):

* AVIF if the ``Accept`` header names ``image/avif``, else WebP if it names ``image/webp``, else JPEG — or PNG
  when the image has transparency, GIF when the output is animated. (Cloudflare: "a compressed file in the
  original format", and "defaults to JPEG when possible due to the large size of PNG files".) Wildcards such as
  ``*/*`` do not count: Cloudflare's own example matches ``image/avif`` literally.
* AVIF only for still outputs of at most 1,200 px on the longest side (Cloudflare's limits list a 1,200 px AVIF
  dimension; Cloudflare falls back to WebP when AVIF would be too slow); ``format=avif`` falls back to WebP the
  same way ("AVIF if possible, with WebP as a fallback").
* ``compression=fast`` forces JPEG (Cloudflare: "usually override the format option and choose JPEG"), except for
  transparent or animated images, which keep their negotiated format.
* Animations (GIF/WebP input, ``anim`` not false) stay animated in GIF or WebP output; animations of more than
  50 megapixels in total are delivered untransformed (as documented). ``anim=false`` keeps the first frame.
* SVG is never transformed: every option is ignored and the sanitised SVG is returned; asking for a raster
  format (``format=webp`` ...) is error 9412, as on Cloudflare.

``Rendered.ignored`` names what was accepted but not honoured: ``segment``, ``upscale=generate`` (plain bicubic
interpolation is used), ``gravity=face`` (no face detector: the centre is used, which is Cloudflare's behaviour
when no face is found) and its ``zoom``, ``width=auto`` (no client hints: the source width is used) and
``slow-connection-quality`` (no client hints, so no slow connection is ever detected).

``format=json`` returns ``{"width", "height", "original": {"file_size", "width", "height", "format"}}`` — the
shape of Cloudflare's JSON output as observed in its responses (the docs only list "image size before and after
resizing, the source image's MIME type, and file size").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from PIL import Image

from cfvariants._colors import color_to_rgba
from cfvariants._options import Options
from cfvariants.imaging import ImageInfo, ImageRejected, SVGError, exif_orientation, open_raster, sanitize_svg
from cfvariants.limits import ANIMATION_TRANSFORM_AREA, AVIF_MAX_SIDE

from . import _transform_ops as ops
from ._masters import is_large, large_render, shared_master
from ._transform_encode import encode, exif_for_output, quality_number
from ._transform_plan import Plan, check_animation, explicit_trim, focal_point, plan_geometry

OUTPUT_FORMATS: dict[str, str] = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "baseline-jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "json": "application/json",
}
WEBP_MAX_SIDE = 16383
_RASTER_REQUESTS = ("jpeg", "baseline-jpeg", "webp", "avif")
_ALPHA_OUTPUTS = ("png", "webp", "avif", "gif")
_WHITE = (255, 255, 255, 255)
_ORIENT = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
_FLIP = {"h": Image.Transpose.FLIP_LEFT_RIGHT, "v": Image.Transpose.FLIP_TOP_BOTTOM, "hv": Image.Transpose.ROTATE_180}
_ROTATE_CLOCKWISE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


@dataclass(frozen=True)
class Rendered:
    """A delivered variant. ``ignored`` lists options accepted but not honoured: a bare option name when the
    whole option is ignored (``segment``), ``name=value`` when only that value is (``upscale=generate``)."""

    body: bytes
    content_type: str
    width: int | None
    height: int | None
    ignored: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------------
# Format negotiation


def output_format(options: Options | None, info: ImageInfo, accept: str | None) -> str:
    """The format the response will have (no decoding). One of ``OUTPUT_FORMATS``. Never raises: a request
    that cannot be served gets its error from ``render``."""
    requested = options.format if options else None
    if info.format == "svg":
        return requested if requested in _RASTER_REQUESTS else "svg"
    if requested == "json":
        return "json"
    if _passthrough(options, info):
        return info.format
    animated = info.animated and not (options and options.anim is False)
    longest = _longest_output_side(options, info)
    alpha = info.alpha
    if options and options.compression == "fast" and not animated and not alpha:
        return "baseline-jpeg" if requested == "baseline-jpeg" else "jpeg"
    if requested in ("jpeg", "baseline-jpeg"):
        return requested
    if requested in ("webp", "avif"):
        if requested == "avif" and not animated and longest <= AVIF_MAX_SIDE:
            return "avif"
        return "webp" if longest <= WEBP_MAX_SIDE else _fallback(alpha, animated)
    if not animated and longest <= AVIF_MAX_SIDE and _accepts(accept, "image/avif"):
        return "avif"
    if longest <= WEBP_MAX_SIDE and _accepts(accept, "image/webp"):
        return "webp"
    return _fallback(alpha, animated)


def _fallback(alpha: bool, animated: bool) -> str:
    if animated:
        return "gif"
    return "png" if alpha else "jpeg"


def _accepts(accept: str | None, media_type: str) -> bool:
    if not accept:
        return False
    for item in accept.split(","):
        name, _, params = item.partition(";")
        if name.strip().lower() != media_type:
            continue
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def _longest_output_side(options: Options | None, info: ImageInfo) -> int:
    try:
        trim = explicit_trim(options, info.width, info.height) if options else None
        plan = plan_geometry(options, info.width, info.height, trim)
    except ImageRejected:
        return max(info.width, info.height)
    return max(plan.canvas_w, plan.canvas_h)


def _passthrough(options: Options | None, info: ImageInfo) -> bool:
    """Animations over 50 megapixels in total are delivered without transformations, as Cloudflare documents."""
    keeps_animation = not (options and options.anim is False)
    return info.animated and keeps_animation and info.frames * info.width * info.height > ANIMATION_TRANSFORM_AREA


# ---------------------------------------------------------------------------------------------------------------
# Rendering


def render(data: bytes, info: ImageInfo, options: Options | None, *, output_format: str) -> Rendered:
    """Apply ``options`` to the stored original and encode it as ``output_format`` (from ``output_format()``).
    ``options=None`` re-encodes the original pixels. Raises ``ImageRejected`` and nothing else for bad input:
    9412 (SVG/raster conversion, not an image), 9413 (too large, enlarged too much, zero size), 9516 (the stored
    original cannot be decoded)."""
    fmt = output_format
    if fmt not in OUTPUT_FORMATS:
        raise ImageRejected(f"Could not resize the image: unknown output format {fmt!r}", code=9401, status=400)
    if info.format == "svg":
        return _render_svg(data, info, options, fmt)
    if fmt == "svg":
        raise ImageRejected("Conversion between SVG and raster formats is not supported", code=9412, status=415)
    if info.format not in ("jpeg", "png", "gif", "webp", "avif"):
        raise ImageRejected(f"Original image has unsupported format {info.format!r}", code=9412, status=415)
    if _passthrough(options, info) and fmt == info.format:
        ignored = tuple(_option_names(options, skip=("format",)))
        return Rendered(data, info.content_type, info.width, info.height, ignored)
    with open_raster(data, info.format, code=9516, status=422) as image:
        try:
            with large_render(*image.size):
                return _render_raster(image, data, options or Options(), fmt)
        except ImageRejected:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, Image.DecompressionBombError) as exc:
            raise ImageRejected(
                f"Could not resize the image: error during decoding ({exc})", code=9516, status=422
            ) from None


def _render_svg(data: bytes, info: ImageInfo, options: Options | None, fmt: str) -> Rendered:
    if fmt != "svg":
        raise ImageRejected("Conversion between SVG and raster formats is not supported", code=9412, status=415)
    try:
        body = sanitize_svg(data)
    except SVGError as exc:
        raise ImageRejected(f"The stored SVG cannot be served: {exc}", code=9412, status=415) from None
    ignored = tuple(_option_names(options, skip=("format",)))
    return Rendered(body, OUTPUT_FORMATS["svg"], info.width or None, info.height or None, ignored)


def _option_names(options: Options | None, skip: tuple[str, ...] = ()) -> list[str]:
    if options is None:
        return []
    names = []
    for field in options.to_kwargs():
        if field in skip:
            continue
        names.append("slow-connection-quality" if field == "slow_connection_quality" else field.replace("_", "."))
    return names


def _ignored(options: Options) -> tuple[str, ...]:
    ignored = []
    if options.width == "auto":
        ignored.append("width=auto")
    if options.gravity == "face":
        ignored.append("gravity=face")
    if options.zoom is not None:
        ignored.append("zoom")
    if options.segment is not None:
        ignored.append("segment")
    if options.upscale == "generate":
        ignored.append("upscale=generate")
    if options.slow_connection_quality is not None:
        ignored.append("slow-connection-quality")
    return tuple(ignored)


def _render_raster(image: Image.Image, data: bytes, options: Options, fmt: str) -> Rendered:
    size = len(data)
    raw_w, raw_h = image.size
    orientation = exif_orientation(image)
    src_w, src_h = (raw_h, raw_w) if orientation in (5, 6, 7, 8) else (raw_w, raw_h)
    plan = plan_geometry(options, src_w, src_h, explicit_trim(options, src_w, src_h))
    n_frames = int(getattr(image, "n_frames", 1)) if image.format in ("GIF", "WEBP", "AVIF") else 1
    animated = n_frames > 1 and options.anim is not False and fmt in ("gif", "webp")
    if animated:
        check_animation(plan, n_frames)
    border = options.trim == "border"
    if fmt == "json" and not border:
        return _json(plan, size, src_w, src_h, image, options)

    source_exif = image.getexif() if image.format in ("JPEG", "WEBP", "AVIF") else None
    icc = image.info.get("icc_profile")
    if image.format == "JPEG" and not border and plan.scale < 0.5:
        scale = plan.scale
        image.draft(None, (math.ceil(raw_w * scale * 2), math.ceil(raw_h * scale * 2)))

    frames: list[Image.Image] = []
    durations: list[int] = []
    focal: tuple[float, float] | None = None
    for index in range(n_frames if animated else 1):
        if index:
            image.seek(index)
        frame = _decoded(image, data, orientation, shared=not animated and is_large(*image.size))
        if animated and frame is image:
            frame = image.copy()  # detach from the file: the next seek replaces its pixels
        if border and index == 0:
            keep = int((options.trim_border_keep or 0) * (options.dpr or 1.0) + 0.5)
            box = ops.border_box(frame, options.trim_border_color, options.trim_border_tolerance, keep)
            plan = plan_geometry(options, src_w, src_h, box)
            if animated:
                check_animation(plan, n_frames)
            if fmt == "json":
                return _json(plan, size, src_w, src_h, image, options)
        frame = _geometry(frame, plan, src_w, src_h)
        if focal is None:
            focal = focal_point(options, plan, src_w, src_h) or ops.saliency_focal(frame, plan.crop_w, plan.crop_h)
        frame = _fit(frame, plan, focal)
        frame = _effects(frame, plan, options, fmt)
        frames.append(frame)
        durations.append(int(image.info.get("duration", 100) or 100))
    body = encode(
        frames,
        fmt,
        quality=quality_number(options.quality),
        explicit_quality=options.quality is not None,
        exif=exif_for_output(source_exif, options.metadata, fmt),
        icc=icc if isinstance(icc, bytes) else None,
        durations=durations,
        loop=int(image.info.get("loop", 0) or 0),
    )
    return Rendered(body, OUTPUT_FORMATS[fmt], plan.canvas_w, plan.canvas_h, _ignored(options))


def _json(plan: Plan, size: int, src_w: int, src_h: int, image: Image.Image, options: Options) -> Rendered:
    mime = Image.MIME.get(image.format or "", "application/octet-stream")
    document = {
        "width": plan.canvas_w,
        "height": plan.canvas_h,
        "original": {"file_size": size, "width": src_w, "height": src_h, "format": mime},
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    return Rendered(body, OUTPUT_FORMATS["json"], plan.canvas_w, plan.canvas_h, _ignored(options))


def _decoded(image: Image.Image, data: bytes, orientation: int, *, shared: bool) -> Image.Image:
    """The frame's pixels, upright, in RGB or RGBA; for a large still image the master decoded once and shared
    by every render of it (see ``_masters``), wrapped in an ``Image`` of this render's own."""
    if not shared:
        return _oriented(_normalized(image), orientation)
    master = shared_master(data, image.size, lambda: _own(_oriented(_normalized(image), orientation)))
    return _own(master)


def _own(image: Image.Image) -> Image.Image:
    """A new ``Image`` on the same pixels: no copy, and independent of the file object (which is closed after the
    render) and of attributes other renders set on theirs (``save`` writes ``encoderinfo`` on its image)."""
    return image._new(image.im)


def _normalized(image: Image.Image) -> Image.Image:
    """The frame in RGB or RGBA (palette, grey, 16-bit, CMYK and 1-bit inputs converted)."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        image.load()
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    if mode in ("LA", "PA", "La", "RGBa") or (mode in ("P", "L", "1", "RGB") and "transparency" in image.info):
        return image.convert("RGBA")
    return image.convert("RGB")


def _oriented(image: Image.Image, orientation: int) -> Image.Image:
    for step in _ORIENT.get(orientation, ()):
        image = image.transpose(step)
    return image


def _geometry(frame: Image.Image, plan: Plan, src_w: int, src_h: int) -> Image.Image:
    """Trim, flip and rotate; coordinates scaled to the (possibly draft-reduced) frame."""
    if plan.trim is not None:
        sx, sy = frame.width / src_w, frame.height / src_h
        left, top, right, bottom = plan.trim
        box = (round(left * sx), round(top * sy), round(right * sx), round(bottom * sy))
        box = (box[0], box[1], max(box[2], box[0] + 1), max(box[3], box[1] + 1))
        frame = frame.crop(box)
    if plan.flip:
        frame = frame.transpose(_FLIP[plan.flip])
    if plan.rotate:
        frame = frame.transpose(_ROTATE_CLOCKWISE[plan.rotate])
    return frame


def _fit(frame: Image.Image, plan: Plan, focal: tuple[float, float]) -> Image.Image:
    sx, sy = frame.width / plan.work_w, frame.height / plan.work_h
    x0, y0, x1, y1 = plan.crop_box(focal)
    box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
    size = (plan.out_w, plan.out_h)
    integral = all(abs(v - round(v)) < 1e-6 for v in box)
    if integral and (round(box[2] - box[0]), round(box[3] - box[1])) == size:
        whole = box == (0.0, 0.0, float(frame.width), float(frame.height))
        return frame if whole else frame.crop(tuple(round(v) for v in box))  # type: ignore[arg-type]
    enlarging = plan.out_w > box[2] - box[0] or plan.out_h > box[3] - box[1]
    resample = Image.Resampling.BICUBIC if enlarging else Image.Resampling.LANCZOS
    return frame.resize(size, resample, box=box, reducing_gap=None if enlarging else 3.0)


def _effects(frame: Image.Image, plan: Plan, options: Options, fmt: str) -> Image.Image:
    frame = ops.adjust_colors(
        frame,
        brightness=options.brightness,
        contrast=options.contrast,
        gamma=options.gamma,
        saturation=options.saturation,
    )
    if options.blur:
        frame = ops.blur(frame, options.blur)
    if options.sharpen:
        frame = ops.sharpen(frame, options.sharpen)
    background = color_to_rgba(options.background) if options.background else None
    if (plan.canvas_w, plan.canvas_h) != frame.size:
        # With a background the padding is left transparent and filled by the flattening below, so a
        # translucent background is applied once, to the padding and the image alike.
        frame = ops.pad(frame, (plan.canvas_w, plan.canvas_h), (0, 0, 0, 0) if background else _WHITE)
    keep_alpha = fmt in _ALPHA_OUTPUTS
    if frame.mode == "RGBA" and (background is not None or not keep_alpha):
        frame = ops.flatten(frame, background or _WHITE, keep_alpha=keep_alpha)
    return frame
