"""Per-call cost of the core, as ratios to floors measured in the same run.

    python3 dev.py bench core        (or: .venv/bin/python benchmarks/bench_core.py [--quick])

Each case runs over 1,000 distinct image ids (a page's worth), repeated; the best of several repeats is kept,
because on a shared machine the minimum is the measurement least disturbed by neighbours. "warm" is the steady
state of a server that renders the same images again and again (the per-Delivery memo answers); "cold" uses a
Delivery with ``cache_size=0`` or fresh values on every call, so every call does the full work.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from jinja2 import Environment

from cfvariants import Delivery

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
KEY = "example-signing-key-123"
QUICK = "--quick" in sys.argv
REPEAT = 3 if QUICK else 9
IDS = [str(uuid.uuid4()) for _ in range(1000)]


def per_call(fn: Callable[[], object], calls: int = len(IDS), number: int = 20) -> float:
    """Best-of-REPEAT nanoseconds per call of a loop body that makes ``calls`` calls."""
    fn()
    best = min(timeit.repeat(fn, number=number, repeat=REPEAT))
    return best / number / calls * 1e9


@dataclass
class Row:
    name: str
    ns: float
    floor_name: str
    floor_ns: float
    target: float | None

    @property
    def ratio(self) -> float:
        return self.ns / self.floor_ns


def main() -> None:
    cf = Delivery(HASH, signing_key=KEY)
    cold = Delivery(HASH, signing_key=KEY, cache_size=0)
    key = KEY.encode()
    widths = (320, 480, 640, 960, 1280)
    prefix = f"https://imagedelivery.net/{HASH}"
    messages = [f"/{HASH}/{i}/avatar?exp=1767225600".encode() for i in IDS]

    # --- floors ---------------------------------------------------------------------------------------------
    def floor_named() -> None:
        variant = "avatar"
        for i in IDS:
            f"https://imagedelivery.net/{HASH}/{i}/{variant}"

    def floor_keywords() -> None:
        width, fit = 200, "cover"
        for i in IDS:
            f"https://imagedelivery.net/{HASH}/{i}/w={width},fit={fit}"

    def floor_hmac() -> None:
        for message in messages:
            hmac.new(key, message, hashlib.sha256).hexdigest()

    def floor_srcset() -> None:
        for i in IDS:
            ", ".join([f"{prefix}/{i}/w={w} {w}w" for w in widths])

    # --- ours -----------------------------------------------------------------------------------------------
    def make_named(d: Delivery) -> Callable[[], None]:
        def run() -> None:
            url = d.url
            for i in IDS:
                url(i, "avatar")

        return run

    def make_flexible(d: Delivery) -> Callable[[], None]:
        def run() -> None:
            url = d.url
            for i in IDS:
                url(i, "w=200,h=100,fit=cover")

        return run

    def make_keywords(d: Delivery) -> Callable[[], None]:
        def run() -> None:
            url = d.url
            for i in IDS:
                url(i, width=200, fit="cover")

        return run

    def signed_page() -> None:
        signed = cf.signed_url
        for i in IDS:
            signed(i, "avatar", expires_in=3600)

    flip = [0]

    def signed_fresh() -> None:  # each run uses a different lifetime than the last: no memo can answer
        flip[0] ^= 1
        lifetime = 3600 + flip[0]
        signed = cf.signed_url
        for i in IDS:
            signed(i, "avatar", expires_in=lifetime)

    def make_srcset(d: Delivery) -> Callable[[], None]:
        def run() -> None:
            srcset = d.srcset
            for i in IDS:
                srcset(i, widths=widths)

        return run

    f_named = per_call(floor_named)
    f_kw = per_call(floor_keywords)
    f_hmac = per_call(floor_hmac, number=5)
    f_srcset = per_call(floor_srcset, number=5)
    rows = [
        Row("named URL (warm)", per_call(make_named(cf)), "f-string", f_named, 1.5),
        Row("named URL (cold)", per_call(make_named(cold)), "f-string", f_named, None),
        Row("flexible from repeated string (warm)", per_call(make_flexible(cf)), "f-string", f_named, 1.5),
        Row("flexible from repeated string (cold)", per_call(make_flexible(cold)), "f-string", f_named, None),
        Row("flexible from keywords (warm)", per_call(make_keywords(cf)), "f-string w/ values", f_kw, 3.0),
        Row("flexible from keywords (cold)", per_call(make_keywords(cold)), "f-string w/ values", f_kw, None),
        Row("signed URL, page render (expires_in)", per_call(signed_page, number=5), "hmac.new", f_hmac, 0.6),
        Row("signed URL, fresh expiry every call", per_call(signed_fresh, number=5), "hmac.new", f_hmac, 0.6),
        Row("srcset of 5 widths (warm)", per_call(make_srcset(cf), number=5), "5 joined f-strings", f_srcset, 2.0),
        Row("srcset of 5 widths (cold)", per_call(make_srcset(cold), number=5), "5 joined f-strings", f_srcset, None),
    ]
    rows += jinja_rows(cf, cold)

    print(f"{'case':42s} {'ns/call':>10s} {'floor':>20s} {'floor ns':>10s} {'ratio':>7s} {'target':>7s}")
    for row in rows:
        target = f"<={row.target:g}" if row.target is not None else ""
        verdict = "" if row.target is None else ("  ok" if row.ratio <= row.target else "  MISSED")
        print(
            f"{row.name:42s} {row.ns:10.1f} {row.floor_name:>20s} {row.floor_ns:10.1f} {row.ratio:7.2f} {target:>7s}"
            f"{verdict}"
        )


def jinja_rows(cf: Delivery, cold: Delivery) -> list[Row]:
    """A page of 1,000 <img> tags: URLs built by a filter in the template vs precomputed in Python."""
    page_filter = (
        '{% for p in profiles %}<img src="{{ p.image_url | variant(\'w=200\') }}" alt="{{ p.name }}">{% endfor %}'
    )
    page_plain = '{% for p in profiles %}<img src="{{ p.url }}" alt="{{ p.name }}">{% endfor %}'

    def environment(delivery: Delivery) -> Environment:
        env = Environment(autoescape=True)
        env.filters["variant"] = delivery.url
        return env

    profiles = [{"image_url": i, "name": f"user {n}", "url": cf.url(i, "w=200")} for n, i in enumerate(IDS)]
    plain = Environment(autoescape=True).from_string(page_plain)
    warm_page = environment(cf).from_string(page_filter)
    cold_page = environment(cold).from_string(page_filter)
    assert warm_page.render(profiles=profiles) == plain.render(profiles=profiles)
    floor = per_call(lambda: plain.render(profiles=profiles), calls=1, number=5)
    warm = per_call(lambda: warm_page.render(profiles=profiles), calls=1, number=5)
    cold_ns = per_call(lambda: cold_page.render(profiles=profiles), calls=1, number=5)
    label = "precomputed page/1000"
    return [
        Row("Jinja page, 1,000 tags via filter (warm)", warm / 1000, label, floor / 1000, 1.5),
        Row("Jinja page, 1,000 tags via filter (cold)", cold_ns / 1000, label, floor / 1000, None),
    ]


if __name__ == "__main__":
    main()
