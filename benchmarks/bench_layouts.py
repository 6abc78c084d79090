"""Layouts and placeholders: ``img`` with a layout and a ThumbHash placeholder against the plain ``img``.

    python3 dev.py bench layouts     (or: .venv/bin/python benchmarks/bench_layouts.py [--quick])

A page of 1,000 distinct images, each with its own ThumbHash (as recorded at upload). The floor is the plain
``cf.img(id, "w=800", alt=...)`` of the same images in the same run; the target is at most 3x it for
``layout="constrained"`` with a placeholder, warm: a server's steady state (the Delivery's memo and the layout tags
remembered per image answer). Cold: ``cache_size=0`` and nothing remembered (the floor too), and for the last row
ThumbHashes never decoded before, so every placeholder is decoded and PNG-encoded (about 1 ms each, once per image
per process). Best of several repeats.
"""

from __future__ import annotations

import base64
import random
import sys
import timeit
import uuid
from collections.abc import Callable

from bench_templates import Row

from cfvariants import Delivery
from cfvariants.html import _LAYOUT_TAGS, _thumbhash_style
from cfvariants.layouts import Original
from cfvariants.thumbhash import encode

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
QUICK = "--quick" in sys.argv
REPEAT = 3 if QUICK else 7
NUMBER = 1 if QUICK else 3
IDS = [str(uuid.uuid4()) for _ in range(1000)]


def thumbhashes(seed: int) -> list[str]:
    """One ThumbHash per image, of a random 8x6 picture (distinct, like real ones)."""
    rng = random.Random(seed)
    return [base64.b64encode(encode(8, 6, _opaque(rng))).decode() for _ in IDS]


def _opaque(rng: random.Random) -> bytes:
    return b"".join(bytes((rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)) for _ in range(48))


def per_page(render: Callable[[], object], *, before: Callable[[], object] | None = None) -> float:
    """Best-of-REPEAT microseconds per page; ``before`` runs untimed ahead of each page (a cold start)."""
    best = float("inf")
    for _ in range(REPEAT):
        total = 0.0
        for _ in range(NUMBER):
            if before is not None:
                before()
            total += timeit.timeit(render, number=1)
        best = min(best, total / NUMBER)
    return best * 1e6


def _forget() -> None:
    """A process that has never rendered these images: no remembered tags, no decoded placeholders."""
    _LAYOUT_TAGS.clear()
    _thumbhash_style.cache_clear()


def main() -> None:
    warm, cold = Delivery(HASH), Delivery(HASH, cache_size=0)
    originals = [Original(4000, 3000, text) for text in thumbhashes(1)]
    images = list(zip(IDS, originals, strict=True))

    def plain(cf: Delivery) -> Callable[[], list[str]]:
        return lambda: [cf.img(i, "w=800", alt="a photo") for i, _ in images]

    def layout(cf: Delivery) -> Callable[[], list[str]]:
        return lambda: [cf.img(i, alt="a photo", layout="constrained", width=800, original=o) for i, o in images]

    def placeholder(cf: Delivery, which: str = "thumbhash") -> Callable[[], list[str]]:
        return lambda: [
            cf.img(i, alt="a photo", layout="constrained", width=800, original=o, placeholder=which) for i, o in images
        ]

    page = placeholder(warm)()
    assert all("data:image/png;base64," in tag for tag in page) and len(set(page)) == len(IDS)
    warm_floor, cold_floor = per_page(plain(warm)), per_page(plain(cold))
    rows = [
        Row("layout (warm)", per_page(layout(warm)), warm_floor, None),
        Row("layout + thumbhash (warm)", per_page(placeholder(warm)), warm_floor, 3.0),
        Row("layout + dominant-color (warm)", per_page(placeholder(warm, "dominant-color")), warm_floor, 3.0),
        Row("layout (cold)", per_page(layout(cold), before=_LAYOUT_TAGS.clear), cold_floor, None),
        Row("layout + dominant-color (cold)", per_page(placeholder(cold, "dominant-color"), before=_forget),
            cold_floor, None),
        Row("layout + thumbhash (cold, hashes decoded before)", per_page(placeholder(cold), before=_LAYOUT_TAGS.clear),
            cold_floor, None),
        Row("layout + thumbhash (cold, never-seen hashes)", per_page(placeholder(cold), before=_forget),
            cold_floor, None),
    ]  # fmt: skip
    print(f"1,000 images per page, best of {REPEAT} x {NUMBER}; floor = cf.img(id, 'w=800', alt=...) in the same run")
    print(f"plain img: {warm_floor:.0f} us/page warm, {cold_floor:.0f} us/page cold (cache_size=0)")
    print(f"{'case':42s} {'us/page':>10s} {'floor us':>10s} {'ratio':>7s} {'target':>7s}")
    for row in rows:
        target = f"<={row.target:g}" if row.target is not None else ""
        verdict = "" if row.target is None else ("  ok" if row.ratio <= row.target else "  MISSED")
        print(f"{row.name:42s} {row.us:10.0f} {row.floor_us:10.0f} {row.ratio:7.2f} {target:>7s}{verdict}")


if __name__ == "__main__":
    main()
