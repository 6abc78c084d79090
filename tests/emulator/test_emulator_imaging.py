"""Upload inspection: what Cloudflare Images would store is described, everything else is refused by name."""

from __future__ import annotations

import io
import pickle
import struct
import tracemalloc
import zlib

import pytest
from imagegen import avif, decode, gif_animated, jpeg, png, webp
from PIL import Image

from cfvariants.imaging import ImageInfo, ImageRejected, inspect_image
from cfvariants.limits import MAX_UPLOAD_BYTES


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` but whose data is a few bytes (a decompression bomb's
    shape: decoding it would allocate width×height×3 bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def rejected(data: bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        inspect_image(data)
    return caught.value


# --- accepted ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(120, 80), ImageInfo("jpeg", "image/jpeg", 120, 80, 1, False, 0, alpha=False)),
        (png(50, 40), ImageInfo("png", "image/png", 50, 40, 1, False, 0, alpha=False)),
        (png(50, 40, alpha=True), ImageInfo("png", "image/png", 50, 40, 1, False, 0, alpha=True)),
        (gif_animated(frames=4), ImageInfo("gif", "image/gif", 40, 30, 4, True, 0, alpha=False)),
        (webp(64, 32), ImageInfo("webp", "image/webp", 64, 32, 1, False, 0, alpha=False)),
        (webp(30, 20, frames=3), ImageInfo("webp", "image/webp", 30, 20, 3, True, 0, alpha=False)),
        (avif(48, 24), ImageInfo("avif", "image/avif", 48, 24, 1, False, 0, alpha=False)),
    ],
    ids=["jpeg", "png", "png-alpha", "gif-animated", "webp", "webp-animated", "avif"],
)
def test_supported_images_are_described_and_stored_unchanged(data: bytes, expected: ImageInfo) -> None:
    info, stored = inspect_image(data)
    assert stored == data
    assert info == ImageInfo(**{**expected.__dict__, "size": len(data)})


def test_exif_rotated_jpeg_reports_the_displayed_size() -> None:
    from imagegen import exif_block

    info, _ = inspect_image(jpeg(120, 80, exif=exif_block(orientation=6)))
    assert (info.width, info.height) == (80, 120)


def test_webp_may_exceed_twelve_thousand_pixels_on_a_side() -> None:
    data = webp(13_000, 4, (10, 20, 30))
    info, _ = inspect_image(data)
    assert (info.format, info.width) == ("webp", 13_000)


def test_svg_with_script_is_accepted_and_stored_sanitised() -> None:
    data = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20" onload="alert(1)">'
        b"<script>alert(2)</script><rect width='10' height='10' fill='red'/></svg>"
    )
    info, stored = inspect_image(data)
    assert (info.format, info.content_type, info.width, info.height) == ("svg", "image/svg+xml", 30, 20)
    assert b"alert" not in stored and b"<rect" in stored
    assert info.size == len(stored)


# --- refused ------------------------------------------------------------------------------------------------------


def test_empty_file() -> None:
    error = rejected(b"")
    assert (error.code, error.status) == (5400, 400)
    assert "empty" in error.message


def test_over_ten_megabytes() -> None:
    data = jpeg(16, 16) + b"\0" * MAX_UPLOAD_BYTES
    error = rejected(data)
    assert (error.code, error.status) == (5413, 413)
    assert "10 MB" in error.message


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"hello, this is a text file\n", "plain text"),
        (b"<!DOCTYPE html><html><body>Please log in</body></html>", "HTML"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
        (bytes(range(256)) * 4, "unrecognised"),
    ],
    ids=["text", "html", "pdf", "zip", "binary"],
)
def test_non_images_are_named(data: bytes, named: str) -> None:
    error = rejected(data)
    assert (error.code, error.status) == (5400, 400)
    assert "not an image" in error.message and named in error.message


def heic_header() -> bytes:
    return struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic" + b"\0" * 32


def pillow_file(fmt: str) -> bytes:
    from imagegen import encode, make

    return encode(make(16, 16), fmt)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (pillow_file("TIFF"), "TIFF"),
        (pillow_file("BMP"), "BMP"),
        (pillow_file("ICO"), "ICO"),
        (heic_header(), "HEIC"),
    ],
    ids=["tiff", "bmp", "ico", "heic"],
)
def test_unsupported_formats_are_named(data: bytes, named: str) -> None:
    error = rejected(data)
    assert (error.code, error.status) == (5455, 415)
    assert named in error.message


@pytest.mark.parametrize(
    "data",
    [
        jpeg(300, 200, "noise")[:-3000],
        jpeg(300, 200, "noise", progressive=True)[:-3000],
        png(200, 100, "noise")[:-500],
        webp(100, 100, "noise")[:-200],
        gif_animated(frames=3)[:-40],
    ],
    ids=["jpeg", "progressive-jpeg", "png", "webp", "gif"],
)
def test_truncated_images(data: bytes) -> None:
    error = rejected(data)
    assert (error.code, error.status) == (5400, 400)
    assert "truncated or corrupt" in error.message or "corrupt" in error.message


def test_corrupt_jpeg_scan_header() -> None:
    data = bytearray(jpeg(300, 200, "noise"))
    scan = data.find(b"\xff\xda")
    data[scan + 4] = 7  # the start-of-scan header now claims 7 colour components
    error = rejected(bytes(data))
    assert error.code == 5400 and "JPEG" in error.message and "corrupt" in error.message


def test_corrupt_png_chunk() -> None:
    data = bytearray(png(100, 100, "noise"))
    data[len(data) // 2] ^= 0xFF  # breaks the IDAT CRC
    error = rejected(bytes(data))
    assert error.code == 5400 and "PNG" in error.message


@pytest.mark.parametrize(
    ("width", "height", "words"),
    [
        (40_000, 40_000, "megapixels"),  # 1.6 gigapixels: Pillow's own bomb guard fires
        (10_500, 10_000, "105.0 megapixels"),  # just over 100 MP, under Pillow's guard
        (12_001, 100, "12,000 px"),
    ],
)
def test_oversized_images_are_refused_from_the_header_alone(width: int, height: int, words: str) -> None:
    data = png_header_only(width, height)
    tracemalloc.start()
    try:
        error = rejected(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (error.code, error.status) == (5400, 400)
    assert words in error.message
    assert peak < 5_000_000  # nothing near width×height was allocated


def test_animation_total_area_counts_every_frame() -> None:
    frames = [Image.new("P", (2000, 2000), i) for i in range(26)]  # 26 × 4 MP = 104 MP
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50)
    error = rejected(out.getvalue())
    assert error.code == 5400
    assert "26 frames" in error.message and "across all frames" in error.message


def test_svg_with_entities_is_refused() -> None:
    data = b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>'
    error = rejected(data)
    assert error.code == 5400 and "SVG" in error.message and "entit" in error.message


def test_rejection_is_an_exception_with_code_status_and_message() -> None:
    error = ImageRejected("nope", code=9413, status=403)
    assert str(error) == "nope" and error.message == "nope"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.code, copy.status) == ("nope", 9413, 403)


def test_accepted_jpeg_really_decodes() -> None:
    data = jpeg(64, 48, "noise")
    inspect_image(data)
    assert decode(data).size == (64, 48)
