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
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

__all__ = [
    "FRAME_COLORS",
    "QUADRANTS",
    "avif",
    "decode",
    "encode",
    "exif_block",
    "gif_animated",
    "jpeg",
    "make",
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
