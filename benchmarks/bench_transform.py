"""Cost of the emulator's first (uncached) transform of a 12 MP photo, against floors measured in the same run.

    python3 dev.py bench        (or: .venv/bin/python benchmarks/bench_transform.py [--quick])

The source is a 4000×3000 JPEG (quality 90) with photo-like content: smooth gradients plus grain, so it neither
compresses like a flat test card nor like pure noise. Each case runs RUNS times; p50 and p95 are reported in
milliseconds (wall clock, one thread — the machine is shared, so read p50, and p95 as "how bad a neighbour can
make it"). Floors:

* ``full decode``: ``Image.open(...).load()`` — what any transform that decodes the whole photo pays first;
* ``Pillow thumbnail``: ``Image.open``, ``thumbnail((200, 200))`` (Pillow's own draft + reducing-gap path) and a
  JPEG encode — the cheapest plain-Pillow way to the same 200 px JPEG.

Target (issue 4): first render of ``w=200`` at most 150 ms.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable

from _results import publish
from PIL import Image

from cfvariants import Options
from cfvariants.emulator import render
from cfvariants.imaging import inspect_image

QUICK = "--quick" in sys.argv
RUNS = 8 if QUICK else 30
TARGET_MS = 150.0


def photo(width: int = 4000, height: int = 3000) -> bytes:
    red = Image.linear_gradient("L").resize((width, height))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    blue = Image.radial_gradient("L").resize((width, height))
    base = Image.merge("RGB", (red, green, blue))
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(base, grain, 0.2)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def timings(fn: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """p50 and p95 in milliseconds (nearest rank), after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
    return statistics.median(samples), p95


def main() -> None:
    data = photo()
    info, stored = inspect_image(data)
    print(f"source: {info.width}×{info.height} JPEG, {len(data) / 1e6:.1f} MB; {RUNS} runs per case\n")

    def full_decode() -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.load()

    def pillow_thumbnail() -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((200, 200))
            image.save(io.BytesIO(), "JPEG", quality=85)

    floor_decode = timings(full_decode)
    floor_thumb = timings(pillow_thumbnail)

    width_200 = Options.parse("w=200")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("render w=200 -> JPEG", lambda: render(stored, info, width_200, output_format="jpeg")),
        ("render w=200 -> WebP", lambda: render(stored, info, width_200, output_format="webp")),
        ("render w=200 -> AVIF", lambda: render(stored, info, width_200, output_format="avif")),
        (
            "render w=200,h=200,fit=cover,g=auto -> WebP",
            lambda: render(stored, info, Options.parse("w=200,h=200,fit=cover,g=auto"), output_format="webp"),
        ),
        ("render f=json", lambda: render(stored, info, Options.parse("w=200,f=json"), output_format="json")),
        ("inspect_image (upload check)", lambda: inspect_image(data)),
    ]

    header = f"{'case':46s} {'p50 ms':>8s} {'p95 ms':>8s} {'/thumbnail':>11s} {'/decode':>8s} {'target':>8s}"
    print(header)
    print("-" * len(header))
    for name, value in (("floor: full decode", floor_decode), ("floor: Pillow thumbnail + JPEG", floor_thumb)):
        print(f"{name:46s} {value[0]:8.1f} {value[1]:8.1f}")
    table = [[name, f"{value[0]:.1f}", f"{value[1]:.1f}", "", ""] for name, value in
             (("floor: full decode", floor_decode), ("floor: Pillow thumbnail + JPEG save", floor_thumb))]  # fmt: skip
    for name, fn in cases:
        p50, p95 = timings(fn)
        table.append([name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / floor_thumb[0]:.2f}", f"{p50 / floor_decode[0]:.2f}"])
        target = ""
        if name.startswith("render w=200 "):
            target = "ok" if p50 <= TARGET_MS else "MISSED"
        ratios = f"{p50 / floor_thumb[0]:11.2f} {p50 / floor_decode[0]:8.2f}"
        print(f"{name:46s} {p50:8.1f} {p95:8.1f} {ratios} {target:>8s}")
    publish(
        "transform",
        ["12 MP photo JPEG", "p50 ms", "p95 ms", "÷ Pillow thumbnail", "÷ full decode"],
        table,
        f"{info.width}×{info.height} JPEG of {len(data) / 1e6:.1f} MB, {RUNS} runs per case.",
    )


if __name__ == "__main__":
    main()
