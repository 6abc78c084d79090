"""Sample photos, so a fresh app has something to show: drawn from code (no bundled files, no licence to track)
into ``DATA_DIR/samples`` at first start in development, on first request in production (so web workers start
fast), and served at ``/samples/<name>``. They stay outside Cloudflare
Images: templates show them through Image Transformations (``/cdn-cgi/image/...``; in development the
emulator's route reads them from the samples folder)."""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

__all__ = ["SAMPLES", "URL_PREFIX", "Sample", "ensure_sample", "ensure_samples"]

URL_PREFIX = "/samples/"


@dataclass(frozen=True)
class Sample:
    name: str
    title: str
    seed: int

    @property
    def url(self) -> str:
        return URL_PREFIX + self.name


SAMPLES = (
    Sample("alpine-lake.jpg", "Alpine lake at dusk", 11),
    Sample("desert-ridge.jpg", "Desert ridge", 23),
    Sample("northern-coast.jpg", "Northern coast", 37),
)
SIZE = (1600, 1067)


def ensure_samples(directory: Path) -> Path:
    """Draw the samples that are missing (about a second each); returns ``directory``."""
    for sample in SAMPLES:
        ensure_sample(directory, sample)
    return directory


def ensure_sample(directory: Path, sample: Sample) -> Path:
    """The sample's file, drawn if it is missing. Processes starting together each write their own temporary
    file and rename it into place, so none sees a half-written sample."""
    path = directory / sample.name
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{sample.name}.{os.getpid()}.{threading.get_ident()}.part")
        landscape(*SIZE, seed=sample.seed).save(partial, "JPEG", quality=86, optimize=True, progressive=True)
        partial.replace(path)
    return path


def landscape(width: int, height: int, *, seed: int) -> Image.Image:
    """A photo-like landscape: a graded sky with a low sun, layered hazy ridges and a foreground, under sensor
    grain, so it compresses (and resizes) like a real photograph rather than a flat test card."""
    rng = random.Random(seed)  # noqa: S311 - pictures, not secrets
    w, h = 400, 267
    image = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(image)
    top, horizon = _tone(rng, 40, 120), _tone(rng, 180, 250)
    for y in range(h):
        mix = min(1.0, y / (h * 0.6))
        draw.line((0, y, w, y), fill=tuple(round(a + (b - a) * mix) for a, b in zip(top, horizon, strict=True)))
    sun_x, sun_y = rng.randrange(60, w - 60), rng.randrange(50, 120)
    draw.ellipse((sun_x - 18, sun_y - 18, sun_x + 18, sun_y + 18), fill=(255, 236, 190))
    for layer in range(4):
        base = int(h * (0.45 + 0.13 * layer))
        shade = tuple(max(0, c - 45 * (layer + 1)) for c in horizon)
        points = [(0, h)]
        for x in range(0, w + 20, 20):
            points.append((x, base - rng.randrange(0, 60 - 10 * layer)))
        points.append((w, h))
        draw.polygon(points, fill=shade)
    image = image.filter(ImageFilter.GaussianBlur(1.2)).resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 28).convert("RGB")
    return Image.blend(image, grain, 0.08).filter(ImageFilter.DETAIL)


def _tone(rng: random.Random, low: int, high: int) -> tuple[int, int, int]:
    return (rng.randrange(low, high), rng.randrange(low, high), rng.randrange(low, high))
