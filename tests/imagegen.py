"""Test images made in code with Pillow: no binary fixtures in the repository.

Every builder returns encoded bytes; ``decode`` and ``sniff`` read results back independently of the emulator
(``sniff`` looks at magic bytes only, so a test never trusts the code under test to name its own output).

    jpeg(400, 300)                           photo-like gradient JPEG
    jpeg(400, 300, pattern="quadrants")      four solid quadrants (see QUADRANTS) to check crops
    png(64, 64, alpha=True)                  half-transparent PNG
    gif_animated(frames=4)                   animated GIF, one solid colour per frame
    webp(100, 80, frames=3)                  animated WebP
    avif(100, 80)
    jpeg(..., exif=exif_block(copyright="ACME", gps=True, orientation=6))
    photo_jpeg(5 * MB, seed=1)               camera-like noisy JPEG of exactly 5 MB (also photo_png)

Sizes matter for uploads: a smooth gradient compresses to a few KB whatever its dimensions, so anything that
tests size limits, buffering or streaming uses ``photo_jpeg``/``photo_png``: high-entropy like a real photo,
exactly the requested number of bytes, the same bytes for the same seed.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter

__all__ = [
    "FRAME_COLORS",
    "MB",
    "PHOTO_SIZES",
    "QUADRANTS",
    "avif",
    "decode",
    "encode",
    "exif_block",
    "gif_animated",
    "jpeg",
    "make",
    "photo",
    "photo_jpeg",
    "photo_png",
    "png",
    "quadrant_at",
    "sniff",
    "webp",
]

RGB = tuple[int, int, int]
# Top-left, top-right, bottom-left, bottom-right: far apart in every channel so JPEG noise cannot confuse them.
QUADRANTS: dict[str, RGB] = {
    "top-left": (230, 20, 20),
    "top-right": (20, 200, 20),
    "bottom-left": (20, 20, 230),
    "bottom-right": (240, 240, 20),
}
FRAME_COLORS: tuple[RGB, ...] = ((230, 20, 20), (20, 200, 20), (20, 20, 230), (240, 240, 20), (20, 220, 220))


def make(width: int, height: int, pattern: str | RGB = "gradient", *, alpha: bool = False) -> Image.Image:
    """An RGB (or RGBA) image: ``gradient`` (smooth photo-like), ``quadrants``, ``noise``, ``checker`` or a colour.

    With ``alpha`` the right half is fully transparent."""
    if isinstance(pattern, tuple):
        image = Image.new("RGB", (width, height), pattern)
    elif pattern == "gradient":
        red = Image.linear_gradient("L").resize((width, height))
        green = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
        image = Image.merge("RGB", (red, green, Image.new("L", (width, height), 128)))
    elif pattern == "quadrants":
        image = Image.new("RGB", (width, height))
        draw = ImageDraw.Draw(image)
        half_w, half_h = width // 2, height // 2
        draw.rectangle((0, 0, half_w - 1, half_h - 1), fill=QUADRANTS["top-left"])
        draw.rectangle((half_w, 0, width - 1, half_h - 1), fill=QUADRANTS["top-right"])
        draw.rectangle((0, half_h, half_w - 1, height - 1), fill=QUADRANTS["bottom-left"])
        draw.rectangle((half_w, half_h, width - 1, height - 1), fill=QUADRANTS["bottom-right"])
    elif pattern == "noise":
        grey = Image.effect_noise((width, height), 64)
        image = Image.merge("RGB", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grey))
    elif pattern == "checker":
        image = Image.new("RGB", (width, height), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        for y in range(0, height, 8):
            for x in range((y // 8 % 2) * 8, width, 16):
                draw.rectangle((x, y, x + 7, y + 7), fill=(0, 0, 0))
    else:
        raise ValueError(f"unknown pattern {pattern!r}")
    if alpha:
        image = image.convert("RGBA")
        mask = Image.new("L", (width, height), 255)
        ImageDraw.Draw(mask).rectangle((width // 2, 0, width, height), fill=0)
        image.putalpha(mask)
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def jpeg(
    width: int,
    height: int,
    pattern: str | RGB = "gradient",
    *,
    quality: int = 92,
    exif: bytes | None = None,
    progressive: bool = False,
) -> bytes:
    params: dict[str, object] = {"quality": quality, "progressive": progressive}
    if exif:
        params["exif"] = exif
    return encode(make(width, height, pattern), "JPEG", **params)


def png(width: int, height: int, pattern: str | RGB = "gradient", *, alpha: bool = False) -> bytes:
    return encode(make(width, height, pattern, alpha=alpha), "PNG")


def webp(width: int, height: int, pattern: str | RGB = "gradient", *, alpha: bool = False, frames: int = 1) -> bytes:
    if frames > 1:
        images = [make(width, height, FRAME_COLORS[i % len(FRAME_COLORS)]) for i in range(frames)]
        return encode(images[0], "WEBP", save_all=True, append_images=images[1:], duration=80, loop=0, lossless=True)
    return encode(make(width, height, pattern, alpha=alpha), "WEBP", quality=90)


def avif(width: int, height: int, pattern: str | RGB = "gradient", *, alpha: bool = False) -> bytes:
    return encode(make(width, height, pattern, alpha=alpha), "AVIF", quality=80, speed=10)


def gif_animated(frames: int = 3, width: int = 40, height: int = 30, colors: Sequence[RGB] = FRAME_COLORS) -> bytes:
    """An animated GIF, frame ``i`` a solid ``colors[i]`` (so frames are told apart by colour), 100 ms each."""
    images = [Image.new("RGB", (width, height), colors[i % len(colors)]) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)


def exif_block(
    *, copyright: str | None = None, artist: str | None = None, gps: bool = False, orientation: int | None = None
) -> bytes:
    """EXIF bytes for ``jpeg(exif=...)``: Copyright (0x8298), Artist (0x013B), a GPS latitude, an orientation."""
    exif = Image.Exif()
    if copyright is not None:
        exif[0x8298] = copyright
    if artist is not None:
        exif[0x013B] = artist
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 12.0)})
    return exif.tobytes()


def decode(data: bytes) -> Image.Image:
    """Fully decoded image (raises if the bytes are not a complete image)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def sniff(data: bytes) -> str:
    """The format named by the magic bytes: jpeg, png, gif, webp, avif, svg or unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"GIF8":
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    if data.lstrip().startswith((b"<svg", b"<?xml")):
        return "svg"
    return "unknown"


def quadrant_at(image: Image.Image, x: int, y: int) -> str | None:
    """Which quadrant colour the pixel at (x, y) is closest to (within 40 per channel), else None."""
    pixel = image.convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple)
    for name, color in QUADRANTS.items():
        if all(abs(a - b) <= 40 for a, b in zip(pixel, color, strict=True)):
            return name
    return None


MB = 1024 * 1024
"""A megabyte as the app counts it (``MAX_UPLOAD_MB=10`` is 10 * MB bytes)."""
PHOTO_SIZES: tuple[int, ...] = (int(0.1 * MB), 1 * MB, 5 * MB, int(9.9 * MB))
"""The sizes upload tests cover: a small phone picture up to just under the default 10 MB limit."""


def photo(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """A camera-like RGB image: soft structure (a sky-to-ground gradient, blurred shapes) under per-pixel sensor
    noise, so it compresses about as badly as a real photo. The same ``seed`` gives the same pixels."""
    rng = random.Random(seed)
    small = Image.new("RGB", (64, 48))
    draw = ImageDraw.Draw(small)
    top, bottom = _color(rng), _color(rng)
    for y in range(48):
        mix = y / 47
        draw.line((0, y, 63, y), fill=tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)))
    for _ in range(12):
        x, y, r = rng.randrange(64), rng.randrange(48), rng.randrange(3, 16)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_color(rng))
    base = small.filter(ImageFilter.GaussianBlur(2)).resize((width, height), Image.Resampling.BICUBIC)
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    return Image.blend(base, noise, 0.3)


def photo_jpeg(size: int, *, seed: int = 0, quality: int = 90) -> bytes:
    """A photo-like JPEG of exactly ``size`` bytes (4:3; the few bytes the pixels do not fill go into random
    comment segments, as cameras fill theirs with maker notes)."""
    return _photo(size, seed, "jpeg", quality)


def photo_png(size: int, *, seed: int = 0) -> bytes:
    """A photo-like PNG of exactly ``size`` bytes (the remainder in a private ancillary chunk decoders skip)."""
    return _photo(size, seed, "png", 0)


@functools.lru_cache(maxsize=16)
def _photo(size: int, seed: int, fmt: str, quality: int) -> bytes:
    if size < 4096:
        raise ValueError(f"a photo-like image needs at least 4096 bytes, not {size}")
    pad = _pad_jpeg if fmt == "jpeg" else _pad_png
    minimum = 4 if fmt == "jpeg" else 12  # the smallest padding segment or chunk

    def encoded(pixels: float) -> bytes:
        width = max(16, round((pixels * 4 / 3) ** 0.5))
        height = max(12, width * 3 // 4)
        image = photo(width, height, seed=seed)
        return encode(image, "JPEG", quality=quality) if fmt == "jpeg" else encode(image, "PNG", compress_level=6)

    sample = encoded(256 * 192)
    pixels = 256 * 192 * size * 0.97 / len(sample)
    for _ in range(8):
        data = encoded(pixels)
        if minimum <= size - len(data) <= size * 0.08 + 4096:
            return pad(data, size - len(data), random.Random(seed ^ size))
        pixels *= (size * 0.97 - minimum) / len(data)
    raise AssertionError(f"could not make a {fmt} of {size} bytes")  # pragma: no cover - the estimate converges


def _color(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _pad_jpeg(data: bytes, extra: int, rng: random.Random) -> bytes:
    """``extra`` more bytes as COM segments (marker, 2-byte length, at most 65533 bytes each) right after SOI."""
    segments = []
    count = -(-extra // 65537)
    for index in range(count):
        total = extra // count + (1 if index < extra % count else 0)
        segments.append(b"\xff\xfe" + struct.pack(">H", total - 2) + rng.randbytes(total - 4))
    return data[:2] + b"".join(segments) + data[2:]


def _pad_png(data: bytes, extra: int, rng: random.Random) -> bytes:
    """``extra`` more bytes as one private ancillary chunk (``cfPd``) before IEND."""
    body = rng.randbytes(extra - 12)
    chunk = struct.pack(">I", len(body)) + b"cfPd" + body + struct.pack(">I", zlib.crc32(b"cfPd" + body))
    return data[:-12] + chunk + data[-12:]
