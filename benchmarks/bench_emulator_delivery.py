"""Delivery speed of the emulator: a 12-megapixel JPEG served as ``w=200`` through the WSGI app, in-process.

    .venv/bin/python benchmarks/bench_emulator_delivery.py [--quick]

Measures, as p50 and p95 over many requests:

* first: the uncached render (the variant cache is emptied before every request): read the original, decode
  (Pillow draft mode), resize, encode, write the cache entry, answer;
* cached: the same request again (served from the on-disk cache, with its headers);

against floors measured in the same run on the same machine: the WSGI app answering a trivial 404 (routing and
werkzeug's request/response cost), reading the cache entry's file from disk, and Pillow alone doing the same
decode+resize+encode with draft mode (the transform floor). Targets (issue 4): first <= 150 ms, cached <= 3 ms p50.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from io import BytesIO
from pathlib import Path
from typing import Any

from _results import publish
from PIL import Image
from werkzeug.test import create_environ

from cfvariants.emulator import DEV_ACCOUNT_HASH, create_app

QUICK = "--quick" in sys.argv
FIRST_RUNS = 5 if QUICK else 25
CACHED_RUNS = 200 if QUICK else 2000


def make_photo() -> bytes:
    """A 4000x3000 photo-like JPEG (smooth gradients plus noise, so it compresses like a photo)."""
    red = Image.linear_gradient("L").resize((4000, 3000))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((4000, 3000))
    noise = Image.effect_noise((4000, 3000), 40)
    image = Image.merge("RGB", (red, green, noise))
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95


def timed(run: Callable[[], object], count: int, before: Callable[[], object] | None = None) -> list[float]:
    samples = []
    for _ in range(count):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return samples


def call_wsgi(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(code: str, headers: Iterable[tuple[str, str]], exc_info: object = None) -> None:
        status.append(code)

    body = b"".join(app(dict(environ), start_response))
    return status[0], body


def main() -> None:
    photo = make_photo()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(data_dir=Path(tmp) / "cfimages", base_url="http://127.0.0.1:8787")
        emulator = app.emulator
        record = emulator.upload(photo, filename="photo.jpg")
        assert record.file_key is not None
        file_key = record.file_key
        accept = "image/avif,image/webp,*/*"
        environ = create_environ(f"/{DEV_ACCOUNT_HASH}/{record.id}/w=200", headers={"Accept": accept})
        not_found = create_environ("/favicon.ico")

        status, body = call_wsgi(app, environ)
        assert status.startswith("200"), status
        size = Image.open(BytesIO(body)).size
        fmt = str(Image.open(BytesIO(body)).format)  # the floor encodes the same format

        def purge() -> None:
            emulator.cache.purge_image(file_key)

        first = timed(lambda: call_wsgi(app, environ), FIRST_RUNS, before=purge)
        call_wsgi(app, environ)
        cached = timed(lambda: call_wsgi(app, environ), CACHED_RUNS)

        # floors
        floor_404 = timed(lambda: call_wsgi(app, not_found), CACHED_RUNS)
        entry = next(p for p in (Path(tmp) / "cfimages" / "cache").rglob("*") if p.is_file())
        floor_read = timed(entry.read_bytes, CACHED_RUNS)

        def pillow_only() -> bytes:
            image = Image.open(BytesIO(photo))
            image.draft("RGB", (400, 300))
            small = image.resize((200, 150), Image.Resampling.LANCZOS)
            out = BytesIO()
            small.save(out, fmt, quality=85)
            return out.getvalue()

        floor_pillow = timed(pillow_only, FIRST_RUNS)
        emulator.close()

    rows = [
        ("first (uncached) w=200", first, f"Pillow alone (draft+resize+{fmt})", floor_pillow, 150.0),
        ("cached repeat", cached, "WSGI app answering a 404", floor_404, 3.0),
        ("cached repeat", cached, "reading the cache file", floor_read, None),
    ]
    print(f"12 MP JPEG ({len(photo) / 1e6:.1f} MB) -> w=200 ({size[0]}x{size[1]} {fmt}), Accept: {accept}")
    print(f"runs: first {FIRST_RUNS}, cached {CACHED_RUNS}{' (quick)' if QUICK else ''}\n")
    print(f"{'case':<24} {'p50 ms':>8} {'p95 ms':>8}   {'floor':<36} {'p50 ms':>8} {'ratio':>6}  target")
    table = []
    for name, samples, floor_name, floor, target in rows:
        p50, p95 = percentiles(samples)
        f50, _ = percentiles(floor)
        goal = "" if target is None else f"≤ {target:g} ms"
        times = [f"{p50 * 1e3:.2f}", f"{p95 * 1e3:.2f}"]
        table.append([name, *times, floor_name, f"{f50 * 1e3:.3f}", f"{p50 / f50:.1f}", goal])
        verdict = "" if target is None else f"<= {target:g} ms p50: {'met' if p50 * 1e3 <= target else 'MISSED'}"
        print(
            f"{name:<24} {p50 * 1e3:>8.2f} {p95 * 1e3:>8.2f}   {floor_name:<36} {f50 * 1e3:>8.3f} "
            f"{p50 / f50:>6.1f}  {verdict}"
        )
    publish(
        "emulator_delivery",
        ["delivery, in-process", "p50 ms", "p95 ms", "floor", "floor p50 ms", "ratio", "target"],
        table,
        f"A 12 MP JPEG ({len(photo) / 1e6:.1f} MB) as w=200 ({size[0]}×{size[1]} {fmt}); first {FIRST_RUNS} runs, "
        f"cached {CACHED_RUNS}.",
    )


if __name__ == "__main__":
    main()
