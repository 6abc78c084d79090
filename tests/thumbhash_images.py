"""Deterministic RGBA images for the ThumbHash reference vectors: pure Python (no Pillow, no ``random``), so the
same bytes come out on every machine and version; ``tests/fixtures/thumbhash_vectors.json`` holds what the
reference implementation (the ``thumbhash`` npm package, 0.1.1) computed from exactly these bytes."""

from __future__ import annotations

import math

CASES: dict[str, tuple[int, int, str, int]] = {
    "landscape-photo": (100, 75, "photo", 1),
    "portrait-photo": (60, 100, "photo", 2),
    "square-noise": (32, 32, "noise", 3),
    "alpha-disc": (80, 80, "alpha", 4),
    "alpha-gradient-wide": (100, 40, "alpha-gradient", 5),
    "tiny": (1, 1, "photo", 6),
    "solid": (50, 50, "solid", 7),
    "opaque-stripes": (97, 13, "stripes", 8),
}


def _lcg(seed: int):  # type: ignore[no-untyped-def]
    state = seed * 2654435761 % 2**32 or 1
    while True:
        state = (1103515245 * state + 12345) % 2**31
        yield state >> 16 & 255


def rgba_image(width: int, height: int, kind: str, seed: int) -> bytes:
    """A ``width``x``height`` RGBA image: a photo-like scene (sky gradient, a sun, ground, sensor noise), pure
    noise, a disc on transparency, a transparent gradient, a solid colour, or stripes."""
    noise = _lcg(seed)
    out = bytearray()
    for y in range(height):
        for x in range(width):
            u, v = (x + 0.5) / width, (y + 0.5) / height
            n = next(noise)
            a = 255
            if kind == "photo":
                if v < 0.55:
                    r, g, b = 70 + 120 * v, 130 + 90 * v, 230 - 60 * v
                else:
                    r, g, b = 60 + 40 * u, 110 - 30 * v, 40 + 20 * u
                if (u - 0.7) ** 2 + (v - 0.25) ** 2 < 0.012:
                    r, g, b = 255, 230, 120
                r, g, b = (c * 0.75 + n * 0.25 for c in (r, g, b))
            elif kind == "noise":
                r, g, b = n, next(noise), next(noise)
            elif kind == "alpha":
                inside = (u - 0.5) ** 2 + (v - 0.5) ** 2 < 0.16
                r, g, b = 200, 40 + 100 * u, 60
                a = 255 if inside else 0
            elif kind == "alpha-gradient":
                r, g, b = 255 * u, 128, 255 * (1 - u)
                a = round(255 * (0.5 + 0.5 * math.sin(6 * u + 2 * v)))
            elif kind == "solid":
                r, g, b = 30, 144, 255
            else:
                r, g, b = (230, 230, 40) if (x // 7) % 2 else (20, 20, 120)
            out += bytes((max(0, min(255, round(r))), max(0, min(255, round(g))), max(0, min(255, round(b))), a))
    return bytes(out)
