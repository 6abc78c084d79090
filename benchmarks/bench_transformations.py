"""Image Transformations URLs cost no more, relative to an f-string, than hosted flexible URLs.

    python3 dev.py bench transformations      (or: .venv/bin/python benchmarks/bench_transformations.py [--quick])

Both forms build a page's worth of URLs (1,000 distinct images) from a repeated option string; each is divided by
the f-string that writes the same URL by hand, measured in the same run. "warm" is a server rendering the same
images again (the per-instance memo answers); "cold" is ``cache_size=0`` (every call validates, encodes and
formats). The check: the transformation ratio is at most the hosted ratio (with 15% for a shared machine's noise).
"""

from __future__ import annotations

import sys
import timeit
import uuid
from collections.abc import Callable

from _results import publish

from cfvariants import Delivery, Transformations

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ZONE = "www.example.com"
OPTIONS = "w=200,h=100,fit=cover"
QUICK = "--quick" in sys.argv
REPEAT = 3 if QUICK else 9
IDS = [str(uuid.uuid4()) for _ in range(1000)]
PATHS = [f"/media/avatars/{i}.jpg" for i in IDS]
NOISE = 1.15


def per_call(fn: Callable[[], object], number: int = 20) -> float:
    """Best-of-REPEAT nanoseconds per URL of a loop body that builds 1,000 URLs."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=REPEAT)) / number / len(IDS) * 1e9


def main() -> None:
    def floor_hosted() -> None:
        options = OPTIONS
        for i in IDS:
            f"https://imagedelivery.net/{HASH}/{i}/{options}"

    def floor_remote() -> None:
        options = OPTIONS
        for path in PATHS:
            f"https://{ZONE}/cdn-cgi/image/{options}{path}"

    def hosted(delivery: Delivery) -> Callable[[], None]:
        def run() -> None:
            url = delivery.url
            for i in IDS:
                url(i, OPTIONS)

        return run

    def remote(transformations: Transformations) -> Callable[[], None]:
        def run() -> None:
            url = transformations.url
            for path in PATHS:
                url(path, OPTIONS)

        return run

    assert Transformations(ZONE).url(PATHS[0], OPTIONS) == f"https://{ZONE}/cdn-cgi/image/{OPTIONS}{PATHS[0]}"
    f_hosted, f_remote = per_call(floor_hosted), per_call(floor_remote)
    print(f"{'case':44s} {'ns/URL':>8s} {'f-string':>9s} {'ratio':>6s}  check")
    table = []
    for state, cache_size in (("warm", 8192), ("cold", 0)):
        h = per_call(hosted(Delivery(HASH, cache_size=cache_size)))
        r = per_call(remote(Transformations(ZONE, cache_size=cache_size)))
        ratio_h, ratio_r = h / f_hosted, r / f_remote
        verdict = "ok" if ratio_r <= ratio_h * NOISE else "MISSED"
        print(f"{'hosted flexible URL, option string (' + state + ')':44s} {h:8.1f} {f_hosted:9.1f} {ratio_h:6.2f}")
        print(
            f"{'transformation URL, option string (' + state + ')':44s} {r:8.1f} {f_remote:9.1f} {ratio_r:6.2f}  "
            f"{verdict} (<= hosted x{NOISE:g})"
        )
        table.append([f"hosted flexible URL ({state})", f"{h:.0f}", f"{f_hosted:.0f}", f"{ratio_h:.2f}", ""])
        table.append([f"transformation URL ({state})", f"{r:.0f}", f"{f_remote:.0f}", f"{ratio_r:.2f}", "≤ hosted"])
    publish(
        "transformations",
        ["URL from a repeated option string", "ns per URL", "f-string floor ns", "ratio", "target"],
        table,
        "Warm: the default memo; cold: `cache_size=0`, every URL built from scratch.",
    )


if __name__ == "__main__":
    main()
