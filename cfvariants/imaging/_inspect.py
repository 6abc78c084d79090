"""Image inspection: is this file an image Cloudflare Images would store, and what is it?

One implementation for every place that asks: upload validation (web forms, Django validators, the background
worker), the storage, and the emulator, so development and production refuse the same files.

``inspect_image`` applies Cloudflare's hosted-image limits (``cfvariants.limits``) in cheapest-first order, so a
hostile file is refused before any pixel is decoded: size in bytes, the format from its magic bytes (supported:
JPEG, PNG, GIF, WebP, AVIF, SVG; TIFF, HEIC/HEIF, BMP, ICO, PSD, JPEG 2000 and JPEG XL are named and refused), then
the dimensions from the header (100 megapixels, 12,000 px per side except WebP/AVIF; animations: total area of all
frames), and only then a decode check: JPEG is decoded at 1/8 scale (libjpeg's DCT scaling still reads every byte,
so truncation and corruption show), PNG chunk CRCs are verified (and small PNGs fully decoded), GIF/WebP/AVIF have
their first frame decoded. SVG is parsed and returned sanitised (``sanitize_svg``).

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is not changed: images above twice its value
raise ``DecompressionBombError`` in ``Image.open``, which we turn into the 100-megapixel refusal; its warning for
images between its value (~89 MP) and ours (100 MP) is silenced locally around the open call.

Upload error codes: Cloudflare publishes no list of Images API codes; ``ImageRejected`` carries the ones the
emulator answers with: 5400 (400) for empty/corrupt/not-an-image/over-limit images, 5413 (413) for files over
10 MB, 5455 (415) for image formats Cloudflare does not accept.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cfvariants._errors import CFVariantsError
from cfvariants.limits import MAX_AREA, MAX_SIDE, MAX_SIDE_EXEMPT_FORMATS, MAX_UPLOAD_BYTES

from ._svg import SVGError, looks_like_svg, sanitize_svg, svg_size

if TYPE_CHECKING:
    from PIL import Image

FULL_DECODE_AREA = 25_000_000  # PNGs up to this area are fully decoded at upload; larger ones are CRC-checked

UPLOAD_BAD = 5400
UPLOAD_TOO_LARGE = 5413
UPLOAD_UNSUPPORTED = 5455

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "svg": "image/svg+xml",
}
"""The media type of each image format the library recognises (``jpeg``: ``image/jpeg``...)."""
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "avif": "AVIF"}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError, KeyError)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"heif"}
_ORIENTATION = 0x0112


class ImageRejected(CFVariantsError):
    """Input Cloudflare would refuse, with the code/status Cloudflare would answer.

    Upload checks use 5xxx codes (see the module docstring); delivery uses Cloudflare's 9xxx codes (9412 not an
    image or SVG/raster conversion, 9413 too large / enlarged too much / zero size, 9516 decode or encode error).
    """

    def __init__(self, message: str, *, code: int, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"ImageRejected({self.message!r}, code={self.code}, status={self.status})"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self)._unpickle, (self.message, self.code, self.status))

    @classmethod
    def _unpickle(cls, *args: Any) -> Any:
        """Rebuilds a pickled ImageRejected: pickles name the public class, not a private module."""
        return _rebuild(*args)


def _rebuild(message: str, code: int, status: int) -> ImageRejected:
    return ImageRejected(message, code=code, status=status)


@dataclass(frozen=True)
class ImageInfo:
    """What an image is, as Cloudflare would record it.

    ``width``/``height`` are as displayed: EXIF orientation 5-8 swaps the stored axes (Cloudflare applies EXIF
    rotation on delivery). ``alpha`` says the image has transparency (an alpha channel or a transparent palette
    entry); ``output_format`` uses it to keep transparent images in PNG rather than JPEG for browsers that accept
    neither WebP nor AVIF.
    """

    format: str
    content_type: str
    width: int
    height: int
    frames: int
    animated: bool
    size: int
    alpha: bool = False


def _bad(message: str) -> ImageRejected:
    return ImageRejected(message, code=UPLOAD_BAD, status=400)


def _unsupported(what: str, extra: str = "") -> ImageRejected:
    return ImageRejected(
        f"{what} is not a supported image format; upload PNG, JPEG, GIF, WebP, AVIF or SVG{extra}",
        code=UPLOAD_UNSUPPORTED,
        status=415,
    )


def inspect_image(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[ImageInfo, bytes]:
    """Validate an upload against Cloudflare's limits and describe it; returns the info and the bytes to store (SVG:
    sanitised; others: unchanged). Raises ``ImageRejected`` with a message naming the problem. ``max_bytes``:
    the file-size limit (10 MB for uploads; Image Transformations sources may be larger)."""
    if not data:
        raise _bad("The file is empty (0 bytes): nothing to store")
    if len(data) > max_bytes:
        raise ImageRejected(
            f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes"
            + (" (Cloudflare Images accepts at most 10 MB)" if max_bytes == MAX_UPLOAD_BYTES else ""),
            code=UPLOAD_TOO_LARGE,
            status=413,
        )
    kind = sniff_format(data)
    if kind == "svg":
        return _inspect_svg(data)
    return _inspect_raster(data, kind), data


def sniff_format(data: bytes) -> str:
    """The supported format named by the file's magic bytes, or ``ImageRejected`` naming what it is instead."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return _sniff_isobmff(data)
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        raise _unsupported("TIFF", " (Cloudflare does not accept TIFF; convert it to PNG or JPEG first)")
    if head[:2] == b"BM":
        raise _unsupported("BMP")
    if head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00"):
        raise _unsupported("ICO/CUR (Windows icon)")
    if head[:4] == b"8BPS":
        raise _unsupported("PSD (Photoshop)")
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        raise _unsupported("JPEG 2000")
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        raise _unsupported("JPEG XL")
    if looks_like_svg(data):
        return "svg"
    raise _bad(f"The file is not an image: {_describe_non_image(data)}")


def _sniff_isobmff(data: bytes) -> str:
    box_size = int.from_bytes(data[:4], "big")
    end = min(max(box_size, 16), 256, len(data))
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & {b"avif", b"avis"}:
        return "avif"
    if brands & _HEIF_BRANDS:
        raise _unsupported("HEIC/HEIF", " (the emulator cannot decode HEIC; Cloudflare's documentation disagrees")
    raise _bad("The file is not an image: it is an ISO media file (video or other), not AVIF")


def _describe_non_image(data: bytes) -> str:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head[:64].lower()
    if head.startswith(b"%PDF"):
        return "it is a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive (or an office document)"
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "it is an HTML document (an error page or a login page?)"
    if lowered.startswith((b"<?xml", b"<")):
        return "it is an XML/markup document whose root element is not <svg>"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "its content matches no image format (unrecognised binary data)"
    return "it is plain text"


def _inspect_svg(data: bytes) -> tuple[ImageInfo, bytes]:
    try:
        cleaned = sanitize_svg(data)
        width, height = svg_size(cleaned)
    except SVGError as exc:
        raise _bad(f"The SVG was refused: {exc}") from None
    info = ImageInfo("svg", CONTENT_TYPES["svg"], width, height, 1, False, len(cleaned), alpha=True)
    return info, cleaned


@contextmanager
def open_raster(data: bytes, kind: str, *, code: int = UPLOAD_BAD, status: int = 400) -> Iterator[Image.Image]:
    """Open ``data`` as ``kind`` with only that Pillow plugin, reading the header only. Oversized images (Pillow's
    bomb guard) and undecodable headers become ``ImageRejected`` with the given code/status.

    ``warnings.catch_warnings`` restores the filters on exit; on Python 3.11 it is not thread-safe, so a warning
    raised by another thread during an open may be silenced too (only ``DecompressionBombWarning`` is filtered)."""
    from PIL import Image  # noqa: PLC0415 - Pillow only when a raster image is inspected

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]])
    except Image.DecompressionBombError:
        raise ImageRejected(
            f"The image is larger than {MAX_AREA // 1_000_000} megapixels (decompression bomb guard)",
            code=code,
            status=status,
        ) from None
    except _DECODE_ERRORS as exc:
        raise ImageRejected(
            f"The {kind.upper()} header cannot be read: the file is corrupt{_detail(exc)}", code=code, status=status
        ) from None
    try:
        yield image
    finally:
        image.close()


def oriented_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as displayed, after the EXIF orientation (5-8 swap the axes)."""
    width, height = image.size
    return (height, width) if exif_orientation(image) in (5, 6, 7, 8) else (width, height)


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 when absent or unreadable), read without decoding pixels (for PNG only an
    eXIf chunk placed before the image data counts: Pillow would decode the whole image to find a later one)."""
    if image.format == "GIF" or (image.format == "PNG" and "exif" not in image.info):
        return 1
    try:
        value = image.getexif().get(_ORIENTATION, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _detail(exc: BaseException) -> str:
    """Pillow's own words when they help a person (" (broken data stream)"), never object reprs."""
    text = str(exc)
    if not text or "<" in text or "object at 0x" in text:
        return ""
    return f" ({text})"


def has_alpha(image: Image.Image) -> bool:
    """Alpha channel or a transparent palette/colour entry."""
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _inspect_raster(data: bytes, kind: str) -> ImageInfo:
    from PIL import Image  # noqa: PLC0415 - Pillow only when a raster image is inspected

    with open_raster(data, kind) as image:
        width, height = image.size
        name = kind.upper()
        if width <= 0 or height <= 0:
            raise _bad(f"The {name} has a width or height of 0")
        area = width * height
        if area > MAX_AREA:
            raise _bad(
                f"The image is {width}×{height} = {area / 1e6:.1f} megapixels; "
                f"Cloudflare Images accepts at most {MAX_AREA // 1_000_000} megapixels"
            )
        if kind not in MAX_SIDE_EXEMPT_FORMATS and max(width, height) > MAX_SIDE:
            raise _bad(
                f"The image is {width}×{height}; Cloudflare Images accepts at most {MAX_SIDE:,} px on a side "
                "(WebP and AVIF excepted)"
            )
        frames = _frame_count(image, kind)
        if frames * area > MAX_AREA:
            raise _bad(
                f"The animation is {width}×{height} × {frames} frames = {frames * area / 1e6:.1f} megapixels in "
                f"total; Cloudflare Images accepts at most {MAX_AREA // 1_000_000} megapixels across all frames"
            )
        alpha = has_alpha(image)
        shown_w, shown_h = oriented_size(image)
        try:
            _decode_check(image, kind, area, frames)
        except (*_DECODE_ERRORS, Image.DecompressionBombError) as exc:
            raise _bad(f"The {name} is truncated or corrupt and cannot be decoded ({exc})") from None
    return ImageInfo(kind, CONTENT_TYPES[kind], shown_w, shown_h, frames, frames > 1, len(data), alpha=alpha)


def _frame_count(image: Image.Image, kind: str) -> int:
    """Animation frames for GIF/WebP/AVIF. An animated PNG (APNG) counts as one frame: Cloudflare does not list
    APNG animation, so only its default image is used."""
    from PIL import Image  # noqa: PLC0415 - Pillow only when a raster image is inspected

    if kind == "png":
        return 1
    try:
        frames = int(getattr(image, "n_frames", 1))
    except (*_DECODE_ERRORS, Image.DecompressionBombError) as exc:
        raise _bad(f"The {kind.upper()} animation is truncated or corrupt ({exc})") from None
    image.seek(0)
    return max(frames, 1)


def _decode_check(image: Image.Image, kind: str, area: int, frames: int) -> None:
    """Decode enough to know the file is whole: JPEG at 1/8 scale, PNG fully (or CRC-checked when large),
    GIF/WebP/AVIF every frame (their total area is already bounded by the 100 MP rule)."""
    if kind == "jpeg":
        width, height = image.size
        image.draft(None, (max(1, width // 8), max(1, height // 8)))
        image.load()
    elif kind == "png":
        if area <= FULL_DECODE_AREA:
            image.load()
        else:
            image.verify()
    else:
        for index in range(frames):
            image.seek(index)
            image.load()
        image.seek(0)
