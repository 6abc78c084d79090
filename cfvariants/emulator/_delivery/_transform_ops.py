"""Pixel operations of the emulator's transforms, each a small function over a Pillow image (no numpy).

Choices where Cloudflare documents the effect but not the formula:

* ``brightness`` multiplies channel values; ``contrast`` scales the distance from mid-grey (128); ``gamma`` maps
  v -> 255·(v/255)^gamma, so values below 1 lighten the midtones and above 1 darken them (the current docs'
  direction; an older revision described the opposite). 0 (and 1) leave the image unchanged for all three.
* ``saturation`` blends with the greyscale image (0 = greyscale, 2 = twice as saturated).
* ``blur=N`` is a Gaussian blur with standard deviation N/2 output pixels (N read as a radius of about 2σ).
* ``sharpen=S`` is an unsharp mask of radius 1 px and strength 50·S % (S=1, the recommended value after
  downscaling, is a mild 50 %; S=10 is 500 %).
* ``gravity=auto``: Cloudflare uses saliency ("maximum symmetric surround"); here the crop window is slid along
  the cropped axis to the position holding the most edge energy (a Sobel-like edge map of a ≤128 px thumbnail),
  which keeps the detailed subject and drops flat background.
* ``trim=border``: the border colour is ``trim.border.color`` or the top-left pixel; a pixel matches when every
  channel differs by at most 255 - tolerance (tolerance 255 = exact match, 0 = anything matches, per the docs; the
  default is 245, i.e. ±10, which absorbs JPEG noise). ``trim.border.keep`` pixels of border are left on each
  trimmed side. If everything matches, nothing is trimmed.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageEnhance, ImageFilter

from cfvariants._colors import color_to_rgba

DEFAULT_BORDER_TOLERANCE = 245
_SALIENCY_SIZE = 128


def border_box(
    image: Image.Image, color: str | None, tolerance: int | None, keep: int
) -> tuple[int, int, int, int] | None:
    """The box inside a uniform border (``trim=border``), or ``None`` when there is nothing to trim."""
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    reference = color_to_rgba(color) if color else rgba.getpixel((0, 0))
    assert isinstance(reference, tuple)
    allowed = 255 - (DEFAULT_BORDER_TOLERANCE if tolerance is None else tolerance)
    difference = ImageChops.difference(rgba, Image.new("RGBA", rgba.size, reference))
    channels = difference.split()
    strongest = channels[0]
    for channel in channels[1:]:
        strongest = ImageChops.lighter(strongest, channel)
    content = strongest.point(lambda v: 255 if v > allowed else 0).getbbox()
    if content is None or content == (0, 0, *rgba.size):
        return None
    left, top, right, bottom = content
    width, height = rgba.size
    return (max(0, left - keep), max(0, top - keep), min(width, right + keep), min(height, bottom + keep))


def saliency_focal(image: Image.Image, crop_w: float, crop_h: float) -> tuple[float, float]:
    """The centre (as fractions) of the crop window holding the most edge energy."""
    thumb = image.convert("L")
    thumb.thumbnail((_SALIENCY_SIZE, _SALIENCY_SIZE), Image.Resampling.BILINEAR)
    edges = thumb.filter(ImageFilter.FIND_EDGES)
    width, height = image.size
    fx = _best_window(edges, crop_w / width, horizontal=True) if crop_w < width - 1e-6 else 0.5
    fy = _best_window(edges, crop_h / height, horizontal=False) if crop_h < height - 1e-6 else 0.5
    return (fx, fy)


def _best_window(edges: Image.Image, fraction: float, *, horizontal: bool) -> float:
    size = edges.width if horizontal else edges.height
    profile_image = edges.resize((size, 1) if horizontal else (1, size), Image.Resampling.BOX)
    profile = list(profile_image.tobytes())
    # The edge filter marks the thumbnail's own border; ignore the outermost line on both ends.
    if size > 2:
        profile[0] = profile[-1] = 0
    window = max(1, min(size, round(fraction * size)))
    best_start, best, current = 0, -1, sum(profile[:window])
    for start in range(size - window + 1):
        if start:
            current += profile[start + window - 1] - profile[start - 1]
        if current > best:
            best_start, best = start, current
    return (best_start + window / 2) / size


def adjust_colors(
    image: Image.Image,
    *,
    brightness: float | None,
    contrast: float | None,
    gamma: float | None,
    saturation: float | None,
) -> Image.Image:
    """Brightness, contrast and gamma as one lookup table on the colour channels; then saturation."""
    b = brightness if brightness not in (None, 0, 1) else None
    c = contrast if contrast not in (None, 0, 1) else None
    g = gamma if gamma not in (None, 0, 1) else None
    if b is not None or c is not None or g is not None:
        table = [_curve(v, b, c, g) for v in range(256)]
        bands = image.getbands()
        lut = [table[v % 256] if band != "A" else v % 256 for band in bands for v in range(256)]
        image = image.point(lut)
    if saturation is not None and saturation != 1:
        image = ImageEnhance.Color(image).enhance(saturation)
    return image


def _curve(value: int, brightness: float | None, contrast: float | None, gamma: float | None) -> int:
    v = float(value)
    if brightness is not None:
        v *= brightness
    if contrast is not None:
        v = (v - 128.0) * contrast + 128.0
    if gamma is not None:
        v = 255.0 * (min(max(v, 0.0), 255.0) / 255.0) ** gamma
    return min(max(round(v), 0), 255)


def blur(image: Image.Image, radius: int) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius / 2))


def sharpen(image: Image.Image, amount: float) -> Image.Image:
    if amount <= 0:
        return image
    return image.filter(ImageFilter.UnsharpMask(radius=1, percent=round(amount * 50), threshold=0))


def pad(image: Image.Image, size: tuple[int, int], color: tuple[int, int, int, int]) -> Image.Image:
    """Centre ``image`` on a canvas of ``size`` filled with ``color`` (fit=pad)."""
    canvas = Image.new("RGBA", size, color)
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    offset = ((size[0] - image.width) // 2, (size[1] - image.height) // 2)
    canvas.alpha_composite(rgba, offset)
    return canvas


def flatten(image: Image.Image, color: tuple[int, int, int, int], *, keep_alpha: bool) -> Image.Image:
    """Put ``image`` over a background ``color``. Without alpha in the output, a translucent background is itself
    put over white first (there is nothing else to show through)."""
    if image.mode != "RGBA":
        return image
    if not keep_alpha and color[3] < 255:
        color = _over_white(color)
    background = Image.new("RGBA", image.size, color)
    background.alpha_composite(image)
    return background if keep_alpha else background.convert("RGB")


def _over_white(color: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    alpha = color[3] / 255
    r, g, b = (round(channel * alpha + 255 * (1 - alpha)) for channel in color[:3])
    return (r, g, b, 255)
