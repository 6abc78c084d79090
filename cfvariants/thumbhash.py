"""ThumbHash: a ~25-byte picture of an image, decoded into a blurry placeholder with no request.

An implementation of Evan Wallace's ThumbHash (the reference is the ``thumbhash`` JavaScript package): the image,
at most 100x100 pixels, becomes a DCT of its luminance, two colour channels and alpha, quantised to 4 bits per
coefficient. ``encode`` gives the same bytes as the reference ``rgbaToThumbHash`` (same arithmetic in the same
order, JavaScript's rounding), ``decode`` the same pixels as ``thumbHashToRGBA``; the tests check both against
vectors produced by the reference. (The PyPI packages were not usable: ``thumbhash-python`` pins Pillow below
11, and ``thumbhash`` 0.1.2 cannot encode an image with transparency and rounds halves to even.)

Pure Python, no Pillow: ``encode`` takes RGBA bytes (``cfvariants.imaging`` makes them from an upload);
``data_uri`` renders a hash as a tiny PNG ``data:`` URI, cached per hash, for a CSS background.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import struct
import zlib
from collections.abc import Sequence

from ._errors import CFVariantsError

__all__ = [
    "MAX_ENCODE_SIDE", "PLACEHOLDER_SIDE", "ThumbHashError", "aspect_ratio", "average_hex", "average_rgba", "data_uri",
    "decode", "encode", "has_alpha", "parse", "png",
]  # fmt: skip

MAX_ENCODE_SIDE = 100
"""The largest image ``encode`` takes per side (resize first: more pixels add nothing but time)."""

_PI = math.pi
_cos = math.cos


class ThumbHashError(CFVariantsError, ValueError):
    """Not a ThumbHash (bad base64, too short), or an image ``encode`` cannot take."""


def _round(value: float) -> int:
    """JavaScript's ``Math.round``: halves go up (Python's ``round`` sends them to the even neighbour)."""
    return math.floor(value + 0.5)


def encode(width: int, height: int, rgba: bytes | Sequence[int]) -> bytes:
    """The ThumbHash of a ``width``x``height`` image given as RGBA bytes (row by row, 4 bytes a pixel)."""
    w, h = width, height
    if not (isinstance(w, int) and isinstance(h, int) and 0 < w <= MAX_ENCODE_SIDE and 0 < h <= MAX_ENCODE_SIDE):
        side = MAX_ENCODE_SIDE
        raise ThumbHashError(f"{width}x{height} does not fit in {side}x{side}; resize the image first")
    if len(rgba) != w * h * 4:
        raise ThumbHashError(f"a {w}x{h} RGBA image has {w * h * 4} bytes, not {len(rgba)}")
    n = w * h
    avg_r = avg_g = avg_b = avg_a = 0.0
    for j in range(0, n * 4, 4):
        alpha = rgba[j + 3] / 255
        avg_r += alpha / 255 * rgba[j]
        avg_g += alpha / 255 * rgba[j + 1]
        avg_b += alpha / 255 * rgba[j + 2]
        avg_a += alpha
    if avg_a:
        avg_r /= avg_a
        avg_g /= avg_a
        avg_b /= avg_a

    alpha_image = avg_a < n
    l_limit = 5 if alpha_image else 7  # fewer luminance terms when alpha needs the room
    lx = max(1, _round(l_limit * w / max(w, h)))
    ly = max(1, _round(l_limit * h / max(w, h)))
    lum: list[float] = []
    yb: list[float] = []
    rg: list[float] = []
    alp: list[float] = []
    for j in range(0, n * 4, 4):  # composite atop the average colour, then to luminance and two colour axes
        alpha = rgba[j + 3] / 255
        r = avg_r * (1 - alpha) + alpha / 255 * rgba[j]
        g = avg_g * (1 - alpha) + alpha / 255 * rgba[j + 1]
        b = avg_b * (1 - alpha) + alpha / 255 * rgba[j + 2]
        lum.append((r + g + b) / 3)
        yb.append((r + g) / 2 - b)
        rg.append(r - g)
        alp.append(alpha)

    l_dc, l_ac, l_scale = _encode_channel(lum, w, h, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(yb, w, h, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(rg, w, h, 3, 3)
    landscape = w > h
    header24 = (
        _round(63 * l_dc)
        | (_round(31.5 + 31.5 * p_dc) << 6)
        | (_round(31.5 + 31.5 * q_dc) << 12)
        | (_round(31 * l_scale) << 18)
        | (int(alpha_image) << 23)
    )
    header16 = (ly if landscape else lx) | (_round(63 * p_scale) << 3) | (_round(63 * q_scale) << 9)
    header16 |= int(landscape) << 15
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    channels = [l_ac, p_ac, q_ac]
    if alpha_image:
        a_dc, a_ac, a_scale = _encode_channel(alp, w, h, 5, 5)
        out.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
        channels.append(a_ac)
    start = len(out)
    index = 0
    for ac in channels:
        for f in ac:
            slot = start + (index >> 1)
            if slot == len(out):
                out.append(0)
            out[slot] |= _round(15 * f) << ((index & 1) << 2)
            index += 1
    return bytes(out)


def _encode_channel(channel: list[float], w: int, h: int, nx: int, ny: int) -> tuple[float, list[float], float]:
    dc = 0.0
    ac: list[float] = []
    scale = 0.0
    rows = [[_cos(_PI / h * cy * (y + 0.5)) for y in range(h)] for cy in range(ny)]
    for cy in range(ny):
        fys = rows[cy]
        cx = 0
        while cx * ny < nx * (ny - cy):
            fx = [_cos(_PI / w * cx * (x + 0.5)) for x in range(w)]
            f = 0.0
            i = 0
            for y in range(h):
                fy = fys[y]
                for x in range(w):
                    f += channel[i] * fx[x] * fy  # the reference's terms, in its order
                    i += 1
            f /= w * h
            if cx or cy:
                ac.append(f)
                scale = max(scale, abs(f))
            else:
                dc = f
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale


def parse(text: str | bytes) -> bytes:
    """A ThumbHash from its base64 text (as stored in metadata; padding optional) or its bytes."""
    if isinstance(text, bytes):
        raw = text
    elif isinstance(text, str):
        try:
            raw = binascii.a2b_base64(text + "=" * (-len(text) % 4), strict_mode=True)  # b64decode(validate=True)
        except (binascii.Error, ValueError):
            raise ThumbHashError(f"{text[:40]!r} is not a base64 ThumbHash") from None
    else:
        raise ThumbHashError(f"a ThumbHash is base64 text, not {type(text).__name__}")
    if len(raw) < 5 or (raw[2] & 0x80 and len(raw) < 6):
        raise ThumbHashError(f"a ThumbHash has at least 5 bytes, not {len(raw)}")
    return raw


def has_alpha(thumbhash: bytes) -> bool:
    """Whether the hashed image had transparency (the hash then keeps an alpha channel)."""
    return bool(thumbhash[2] & 0x80)


def aspect_ratio(thumbhash: bytes) -> float:
    """The image's approximate width/height (the reference's ``thumbHashToApproximateAspectRatio``)."""
    header = thumbhash[3]
    alpha = thumbhash[2] & 0x80
    landscape = thumbhash[4] & 0x80
    lx = (5 if alpha else 7) if landscape else header & 7
    ly = header & 7 if landscape else (5 if alpha else 7)
    return lx / ly


def average_rgba(thumbhash: bytes) -> tuple[float, float, float, float]:
    """The image's average colour, each channel 0..1 (the reference's ``thumbHashToAverageRGBA``)."""
    header = thumbhash[0] | (thumbhash[1] << 8) | (thumbhash[2] << 16)
    lum = (header & 63) / 63
    p = ((header >> 6) & 63) / 31.5 - 1
    q = ((header >> 12) & 63) / 31.5 - 1
    a = (thumbhash[5] & 15) / 15 if header >> 23 else 1.0
    b = lum - 2 / 3 * p
    r = (3 * lum - b + q) / 2
    g = r - q
    return max(0.0, min(1.0, r)), max(0.0, min(1.0, g)), max(0.0, min(1.0, b)), a


def _hex_byte(numerator: int, denominator: int) -> str:
    """``numerator/denominator`` clamped to 0..1, times 255, rounded half to even, as two hex digits."""
    if numerator <= 0:
        return "00"
    if numerator >= denominator:
        return "ff"
    whole, rest = divmod(255 * numerator, denominator)
    return f"{whole + (2 * rest > denominator or (2 * rest == denominator and whole & 1)):02x}"


# average_rgba's red, green and blue are exact fractions of the header's 6-bit fields L, P and Q:
# r = (6L + 4P + 6Q - 315) / 378, g = (6L + 4P - 6Q + 63) / 378, b = (3L - 4P + 126) / 189.
_RED = tuple(_hex_byte(s - 315, 378) for s in range(1009))  # by 6L + 4P + 6Q
_GREEN = tuple(_hex_byte(s - 378 + 63, 378) for s in range(1009))  # by 6L + 4P - 6Q + 378
_BLUE = tuple(_hex_byte(s - 252 + 126, 189) for s in range(442))  # by 3L - 4P + 252


def average_hex(thumbhash: bytes) -> str:
    """The average colour as ``rrggbb``: ``average_rgba``'s red, green and blue rounded exactly to 0..255 (by
    table: a page paints one per image it has not seen, and float arithmetic costs more than the rest of it)."""
    header = thumbhash[0] | (thumbhash[1] << 8) | (thumbhash[2] << 16)
    lum, p, q = header & 63, (header >> 6) & 63, (header >> 12) & 63
    return _RED[6 * lum + 4 * p + 6 * q] + _GREEN[6 * lum + 4 * p - 6 * q + 378] + _BLUE[3 * lum - 4 * p + 252]


def decode(thumbhash: bytes, size: int = 32) -> tuple[int, int, bytes]:
    """``(width, height, rgba)`` of the placeholder, ``size`` pixels on its longer side (32, the default, is
    the reference ``thumbHashToRGBA``; the hash holds at most 7 terms a side, so 16 loses nothing visible)."""
    header24 = thumbhash[0] | (thumbhash[1] << 8) | (thumbhash[2] << 16)
    header16 = thumbhash[3] | (thumbhash[4] << 8)
    l_dc = (header24 & 63) / 63
    p_dc = ((header24 >> 6) & 63) / 31.5 - 1
    q_dc = ((header24 >> 12) & 63) / 31.5 - 1
    l_scale = ((header24 >> 18) & 31) / 31
    alpha = bool(header24 >> 23)
    p_scale = ((header16 >> 3) & 63) / 63
    q_scale = ((header16 >> 9) & 63) / 63
    landscape = bool(header16 >> 15)
    lx = max(3, (5 if alpha else 7) if landscape else header16 & 7)
    ly = max(3, header16 & 7 if landscape else (5 if alpha else 7))
    a_dc = (thumbhash[5] & 15) / 15 if alpha else 1.0
    a_scale = (thumbhash[5] >> 4) / 15 if alpha else 0.0
    reader = _Nibbles(thumbhash, 6 if alpha else 5)
    l_ac = reader.channel(lx, ly, l_scale)
    p_ac = reader.channel(3, 3, p_scale * 1.25)  # saturation boosted 1.25x against quantisation, as the reference
    q_ac = reader.channel(3, 3, q_scale * 1.25)
    a_ac = reader.channel(5, 5, a_scale) if alpha else []

    ratio = aspect_ratio(thumbhash)
    w = _round(size if ratio > 1 else size * ratio)
    h = _round(size / ratio if ratio > 1 else size)
    nx, ny = max(lx, 5 if alpha else 3), max(ly, 5 if alpha else 3)
    fxs = [[_cos(_PI / w * (x + 0.5) * cx) for cx in range(nx)] for x in range(w)]
    fys = [[_cos(_PI / h * (y + 0.5) * cy) for cy in range(ny)] for y in range(h)]
    l_terms = _terms(lx, ly)
    pq_terms = _terms(3, 3)
    a_terms = _terms(5, 5) if alpha else []
    out = bytearray(w * h * 4)
    i = 0
    for y in range(h):
        fy = fys[y]
        for x in range(w):
            fx = fxs[x]
            lum, p, q, a = l_dc, p_dc, q_dc, a_dc
            for j, (cx, cy) in enumerate(l_terms):
                lum += l_ac[j] * fx[cx] * (fy[cy] * 2)
            for j, (cx, cy) in enumerate(pq_terms):
                f = fx[cx] * (fy[cy] * 2)
                p += p_ac[j] * f
                q += q_ac[j] * f
            for j, (cx, cy) in enumerate(a_terms):
                a += a_ac[j] * fx[cx] * (fy[cy] * 2)
            b = lum - 2 / 3 * p
            r = (3 * lum - b + q) / 2
            g = r - q
            # a Uint8Array store truncates, as int() does for these non-negative values
            out[i] = int(max(0.0, 255 * min(1.0, r)))
            out[i + 1] = int(max(0.0, 255 * min(1.0, g)))
            out[i + 2] = int(max(0.0, 255 * min(1.0, b)))
            out[i + 3] = int(max(0.0, 255 * min(1.0, a)))
            i += 4
    return w, h, bytes(out)


@functools.cache
def _terms(nx: int, ny: int) -> tuple[tuple[int, int], ...]:
    """The (cx, cy) of each AC coefficient, in the order they are stored."""
    return tuple((cx, cy) for cy in range(ny) for cx in range(0 if cy else 1, nx) if cx * ny < nx * (ny - cy))


class _Nibbles:
    __slots__ = ("_data", "_index", "_start")

    def __init__(self, data: bytes, start: int) -> None:
        self._data, self._start, self._index = data, start, 0

    def channel(self, nx: int, ny: int, scale: float) -> list[float]:
        out = []
        for _ in _terms(nx, ny):
            slot = self._start + (self._index >> 1)
            if slot >= len(self._data):
                raise ThumbHashError("the ThumbHash is truncated")
            nibble = (self._data[slot] >> ((self._index & 1) << 2)) & 15
            out.append((nibble / 7.5 - 1) * scale)
            self._index += 1
        return out


PLACEHOLDER_SIDE = 16
"""Pixels on the longer side of a rendered placeholder; the browser's smooth scaling does the rest."""


def data_uri(thumbhash: str) -> str:
    """The placeholder as a ``data:image/png;base64,...`` URI (about 400 bytes), cached per hash."""
    return _data_uri(thumbhash)


@functools.lru_cache(maxsize=4096)
def _data_uri(thumbhash: str) -> str:
    raw = parse(thumbhash)
    w, h, rgba = decode(raw, PLACEHOLDER_SIDE)
    return "data:image/png;base64," + base64.b64encode(png(w, h, rgba, alpha=has_alpha(raw))).decode("ascii")


def _bytewise_difference(a: int, b: int, length: int) -> int:
    """``(a[i] - b[i]) mod 256`` for every byte of two ``length``-byte big-endian integers at once (SIMD within a
    register: the high bit of each byte is set aside so no borrow crosses into the next byte)."""
    high = int.from_bytes(b"\x80" * length)
    low = high ^ ((1 << (8 * length)) - 1)
    return ((a | high) - (b & low)) ^ ((a ^ ~b) & high)


def png(width: int, height: int, rgba: bytes, *, alpha: bool = True) -> bytes:
    """A small PNG of RGBA pixels: RGB only when ``alpha`` is false, each row as its difference from the row
    above (PNG filter "Up"), which smooth placeholders compress best with."""
    channels = 4 if alpha else 3
    if alpha:
        pixels = bytes(rgba)
    else:
        rgb = bytearray(len(rgba) // 4 * 3)
        for channel in range(3):
            rgb[channel::3] = rgba[channel::4]
        pixels = bytes(rgb)
    stride = width * channels
    raw = bytearray()
    previous = 0
    for y in range(height):
        row = int.from_bytes(pixels[y * stride : (y + 1) * stride])
        raw.append(2)
        raw += _bytewise_difference(row, previous, stride).to_bytes(stride)
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def forget() -> None:
    """Forget the placeholders rendered so far (benchmarks of a fresh process)."""
    _data_uri.cache_clear()
