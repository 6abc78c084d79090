"""Encoding the emulator's output: format parameters, quality and metadata, as Cloudflare documents them.

* Quality: 1-100 as given; the perceptual levels, which Cloudflare does not translate into numbers, map to
  ``high`` 90, ``medium-high`` 80, ``medium-low`` 65, ``low`` 50 (Cloudflare calls 50-90 the useful range and 85
  the default). An explicit quality on PNG output produces PNG8 (a 256-colour palette); ``webp`` at quality 100 is
  lossless.
* JPEG: ``jpeg`` is progressive except when the output area is below 50×50 or above 3000×3000 px (Cloudflare
  falls back to baseline there); ``baseline-jpeg`` is always baseline.
* Metadata: for JPEG and AVIF output, ``keep`` keeps the EXIF data (GPS included), ``copyright`` (the default)
  keeps only the EXIF Copyright tag, ``none`` keeps nothing. The EXIF orientation is always dropped from what is
  kept, because the rotation has been applied to the pixels. WebP, PNG and GIF output never carry EXIF (Cloudflare:
  "WebP and PNG output formats will always discard EXIF metadata"). XMP and C2PA are not carried. The ICC colour
  profile is kept in every format that can hold one (it is colour, not metadata).
"""

from __future__ import annotations

import io

from PIL import Image

from cfvariants.imaging import ImageRejected

DEFAULT_QUALITY = 85
QUALITY_LEVELS = {"high": 90, "medium-high": 80, "medium-low": 65, "low": 50}
_COPYRIGHT = 0x8298
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_AVIF_SPEED = 8  # libavif speed 0 (slowest) - 10; a development server favours latency


def quality_number(value: int | str | None) -> int:
    if value is None:
        return DEFAULT_QUALITY
    if isinstance(value, str):
        return QUALITY_LEVELS[value]
    return value


def exif_for_output(source: Image.Exif | None, metadata: str | None, fmt: str) -> bytes:
    """The EXIF block to write (``b""`` for none)."""
    if fmt not in ("jpeg", "baseline-jpeg", "avif") or source is None or not len(source):
        return b""
    mode = metadata or "copyright"
    if mode == "none":
        return b""
    if mode == "copyright":
        if _COPYRIGHT not in source:
            return b""
        kept = Image.Exif()
        kept[_COPYRIGHT] = source[_COPYRIGHT]
        return kept.tobytes()
    for pointer in (_EXIF_IFD, _GPS_IFD):  # load the sub-directories so that they are written back
        if pointer in source:
            source.get_ifd(pointer)
    if _ORIENTATION in source:
        del source[_ORIENTATION]
    return source.tobytes()


def encode(
    frames: list[Image.Image],
    fmt: str,
    *,
    quality: int,
    explicit_quality: bool,
    exif: bytes,
    icc: bytes | None,
    durations: list[int],
    loop: int,
) -> bytes:
    """Encode one frame (or an animation, for GIF and WebP) in ``fmt``. Encoder failures become 9516."""
    out = io.BytesIO()
    first = frames[0]
    first.info = {}
    try:
        if fmt in ("jpeg", "baseline-jpeg"):
            area = first.width * first.height
            progressive = fmt == "jpeg" and 2500 <= area <= 9_000_000
            options: dict[str, object] = {"quality": quality, "progressive": progressive}
            if exif:
                options["exif"] = exif
            if icc:
                options["icc_profile"] = icc
            first.save(out, "JPEG", **options)
        elif fmt == "png":
            image = first.quantize(256, method=Image.Quantize.FASTOCTREE) if explicit_quality else first
            image.save(out, "PNG", compress_level=6, **({"icc_profile": icc} if icc else {}))
        elif fmt == "webp":
            options = {"quality": quality, "lossless": quality == 100, "method": 4}
            if icc:
                options["icc_profile"] = icc
            if len(frames) > 1:
                options.update(save_all=True, append_images=frames[1:], duration=durations, loop=loop)
            first.save(out, "WEBP", **options)
        elif fmt == "avif":
            options = {"quality": quality, "speed": _AVIF_SPEED}
            if exif:
                options["exif"] = exif
            if icc:
                options["icc_profile"] = icc
            first.save(out, "AVIF", **options)
        elif fmt == "gif":
            options = {"loop": loop, "disposal": 2}
            if len(frames) > 1:
                options.update(save_all=True, append_images=frames[1:], duration=durations)
            first.save(out, "GIF", **options)
        else:
            raise ImageRejected(f"Could not resize the image: unknown output format {fmt!r}", code=9401, status=400)
    except (OSError, ValueError) as exc:
        raise ImageRejected(
            f"Could not resize the image: error during encoding ({fmt}: {exc})", code=9516, status=500
        ) from None
    return out.getvalue()
