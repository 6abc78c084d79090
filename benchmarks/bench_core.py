"""Per-call cost of the core, warm and on first sight, as ratios to floors measured in the same run, beside peers.

    python3 dev.py bench core        (or: .venv/bin/python benchmarks/bench_core.py [--quick])

Two measurements of every operation:

* **first call**: 4,096 distinct image ids never seen before by this process, through a ``Delivery`` with
  ``cache_size=0`` (srcset: a default ``Delivery``, since ``cache_size=0`` would validate the request again each
  time); each pass gets a fresh batch, so no memo of an image can answer. A gallery of user images is mostly first
  calls.
* **warm**: a page of 1,000 ids rendered again and again through a default ``Delivery`` (its memo answers).

Each is the best of several passes of the thread's CPU time (``time.thread_time_ns``: on a shared machine the
wall clock also counts the time other processes hold the core), because the minimum is the measurement least
disturbed by neighbours, and each is divided by a floor (an f-string, ``hmac.new``, a precomputed page) timed the
same way in the same run, the jobs taking turns. Peers (imgix, cloudflare-images, libthumbor:
``pip install -e '.[bench]'``, which ``dev.py bench`` does) build the nearest equivalent URL, so the table compares
like with like; a peer that is not installed is left out.

A second table (``core-shape``) times ``Least``: methods with ``Delivery``'s signatures that do nothing but what
any implementation must (the call with its ``**options``, the exact id test, the lookups), against the same floors.
Where a goal is below what ``Least`` costs, no implementation of this API in Python can meet it.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from _results import publish
from jinja2 import Environment

from cfvariants import Delivery, PrivateImage
from cfvariants._urls import MAX_ID_LENGTH, PLAIN_ID_BYTES

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
KEY = "example-signing-key-123"
QUICK = "--quick" in sys.argv
PASSES = 5 if QUICK else 15  # passes per measurement; the best one counts
WARM_NUMBER = 5  # page renders per warm pass
FIRST_IDS = 4096
PAGE_IDS = 1000
WIDTHS = (320, 480, 640, 960, 1280)
EXP = int(time.time()) + 86_400

Run = Callable[[Any], object]  # one pass over prepared input (by default: the list of ids)


@dataclass(frozen=True)
class Job:
    """A pass to time, and what to make of the ids before the clock starts (precomputed messages, page data)."""

    run: Run
    prepare: Callable[[list[str]], Any] = lambda ids: ids


def fresh_ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


WARM = fresh_ids(PAGE_IDS)


def first_call_ns(jobs: dict[str, Job], count: int = FIRST_IDS) -> dict[str, float]:
    """Best nanoseconds per id of each job over PASSES rounds; in every round each job gets ``count`` ids nobody has
    seen yet, and the jobs take turns, so a floor and what is divided by it see the same neighbours."""
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(PASSES):
        for name, job in jobs.items():
            data = job.prepare(fresh_ids(count))
            start = time.thread_time_ns()
            job.run(data)
            best[name] = min(best[name], time.thread_time_ns() - start)
    return {name: ns / count for name, ns in best.items()}


def warm_ns(jobs: dict[str, Job]) -> dict[str, float]:
    """Best nanoseconds per id of each job over PASSES rounds of WARM_NUMBER renders of the same page, taking turns."""
    data = {name: job.prepare(WARM) for name, job in jobs.items()}
    for name, job in jobs.items():
        job.run(data[name])
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(PASSES):
        for name, job in jobs.items():
            start = time.thread_time_ns()
            for _ in range(WARM_NUMBER):
                job.run(data[name])
            best[name] = min(best[name], time.thread_time_ns() - start)
    return {name: ns / WARM_NUMBER / len(WARM) for name, ns in best.items()}


@dataclass
class Case:
    """One operation: its floor, cfvariants cold and warm, and the peers' nearest equivalents."""

    name: str
    floor_name: str
    floor: Job
    cold: Job  # through Delivery(cache_size=0)
    warm: Job  # through a default Delivery
    goal_first: float  # the first call's ratio must be at most this
    goal_warm: float  # the warm ratio before the first-call redesign (issue 14's table): it must not get slower
    peers: dict[str, Job] = field(default_factory=dict)


def main() -> None:
    cases = core_cases(Delivery(HASH, signing_key=KEY), Delivery(HASH, signing_key=KEY, cache_size=0))
    print(
        f"{'operation':30s} {'floor':>18s} {'ns':>6s} {'warm':>6s} {'goal':>5s} {'first':>6s} {'goal':>5s} "
        + " ".join(f"{name:>17s}" for name in PEERS)
    )
    missed = []
    rows = []
    measured: dict[tuple[str, str], float] = {}
    for case in cases:
        firsts = first_call_ns({"floor": case.floor, "cfvariants": case.cold, **case.peers})
        floor = firsts["floor"]
        first = firsts["cfvariants"] / floor
        warms = warm_ns({"floor": case.floor, "cfvariants": case.warm})
        warm = warms["cfvariants"] / warms["floor"]
        peers = {name: firsts[name] / floor for name in case.peers}
        measured[case.name, "first"], measured[case.name, "warm"] = first, warm
        failed = [
            what for what, ok in (("warm", warm <= case.goal_warm), ("first", first <= case.goal_first)) if not ok
        ]
        if failed:
            missed.append(f"{case.name} ({' and '.join(failed)})")
        shown = " ".join(f"{peers[name]:16.2f}x" if name in peers else f"{'-':>17s}" for name in PEERS)
        print(
            f"{case.name:30s} {case.floor_name:>18s} {floor:6.0f} {warm:5.2f}x {case.goal_warm:4.2f}x {first:5.2f}x "
            f"{case.goal_first:4.1f}x "
            f"{shown}  {'MISSED ' + ' and '.join(failed) if failed else 'ok'}"
        )
        rows.append([
            f"`{case.name}`", f"{case.floor_name} {_duration(floor)}",
            f"{warm:.2f}", f"≤ {case.goal_warm:.2f}" + (" (missed)" if "warm" in failed else ""),
            f"{first:.2f}", f"≤ {case.goal_first:.1f}" + (" (missed)" if "first" in failed else ""),
            ", ".join(f"{name} {ratio:.2f}" for name, ratio in peers.items()) or "-",
        ])  # fmt: skip
    print(
        f"\nns: floor per call. warm: the same {PAGE_IDS} ids again through a default Delivery; its goal is the warm "
        f"ratio before the first-call redesign (issue 14), at most. first: {FIRST_IDS} never-seen ids through "
        "Delivery(cache_size=0) (srcset: a default Delivery), goal = at most. Peers: first pass over never-seen "
        "ids, same floor. Every ratio is time per call / floor per call, both timed in this run."
    )
    if missing_peers:
        print(f"peers not installed (pip install -e '.[bench]'): {', '.join(missing_peers)}")
    if missed:
        print(f"MISSED: {', '.join(missed)}")
    publish(
        "core",
        ["operation", "floor (same run)", "warm", "warm goal", "first call", "first-call goal", "peers, first call"],
        rows,
        f"Ratios to the floor, thread CPU time, best of {PASSES}. First call: never-seen ids through "
        "`Delivery(cache_size=0)` (srcset: a default `Delivery`, which knows the request but no id; `cache_size=0` "
        "remembers no request). Warm goal: the warm ratio before the first-call redesign (issue 14), which must not "
        "get worse.",
    )
    shape_floors(measured)


def _duration(ns: float) -> str:
    return f"{ns / 1000:.1f} µs" if ns >= 1000 else f"{ns:.0f} ns"


# --- the calls and their floors, shared by the cases and the shape floors ----------------------------------------


def named(call: Callable[..., object]) -> Job:
    """A job calling ``call(id, "avatar")`` per id, the way a template does (no argument forwarding)."""

    def run(ids: list[str]) -> None:
        for i in ids:
            call(i, "avatar")

    return Job(run)


def keywords(call: Callable[..., object]) -> Job:
    def run(ids: list[str]) -> None:
        for i in ids:
            call(i, width=200, height=100, fit="cover", quality=80, format="webp")

    return Job(run)


def srcset(call: Callable[..., object]) -> Job:
    def run(ids: list[str]) -> None:
        for i in ids:
            call(i, widths=WIDTHS, fit="cover")

    return Job(run)


def floor_named(ids: list[str]) -> None:
    variant = "avatar"
    for i in ids:
        f"https://imagedelivery.net/{HASH}/{i}/{variant}"


def floor_five(ids: list[str]) -> None:
    w, h, fit, q, f = 200, 100, "cover", 80, "webp"
    for i in ids:
        f"https://imagedelivery.net/{HASH}/{i}/w={w},h={h},fit={fit},q={q},f={f}"


def floor_srcset(ids: list[str]) -> None:
    prefix = f"https://imagedelivery.net/{HASH}"
    for i in ids:
        ", ".join([f"{prefix}/{i}/w={w},fit=cover {w}w" for w in WIDTHS])


# --- what the shape of a call costs ------------------------------------------------------------------------------


class Least:
    """The least a method with ``Delivery``'s signatures can do, without any of its work: what no implementation
    of the API can go below (the goals above that are missed are missed by less than these leave)."""

    __slots__ = ("_prefix", "_rows", "_srcsets", "_tails")
    _rows: dict[object, dict[str, str]]

    def __init__(self, ids: list[str]) -> None:
        self._prefix = f"https://imagedelivery.net/{HASH}/"
        self._rows = {"avatar": {i: f"{self._prefix}{i}/avatar" for i in ids}}
        self._rows[None, "width", "height", "fit", "quality", "format", 200, 100, "cover", 80, "webp"] = {
            i: f"{self._prefix}{i}/w=200,h=100,fit=cover,q=80,f=webp" for i in ids
        }
        self._srcsets = {(None, WIDTHS, "fit", "cover", str): dict.fromkeys(ids, "srcset")}
        self._tails = {"avatar": "/avatar"}

    def checked_url(self, image: str, variant: Any = None, **options: Any) -> str | None:
        """The first call: the exact id test (ASCII letters, digits, - and _), then the f-string."""
        if len(image) <= MAX_ID_LENGTH and image.encode().translate(PLAIN_ID_BYTES).isalnum():
            return f"{self._prefix}{image}/{variant}"
        return None

    def resolved_checked_url(self, image: str, variant: Any = None, **options: Any) -> str | None:
        """The same after one ``dict.get`` for the variant's validated segment, which any implementation needs."""
        tail = self._tails.get(variant)
        if len(image) <= MAX_ID_LENGTH and image.encode().translate(PLAIN_ID_BYTES).isalnum():
            return f"{self._prefix}{image}{tail}"
        return None

    def remembered_url(self, image: str, variant: Any = None, **options: Any) -> str | None:
        """A hit with no exception on a miss: two ``dict.get``."""
        return self._rows.get(variant).get(image)  # type: ignore[union-attr]

    def raising_url(self, image: str, variant: Any = None, **options: Any) -> str:
        """A hit through two subscripts, which raise ``KeyError`` on every miss (the design before issue 14)."""
        return self._rows[variant][image]

    def call(self, image: str, variant: Any = None, **options: Any) -> None:
        """The call alone: Python builds the ``**options`` dict (even an empty one)."""

    def values_key(self, image: str, variant: Any = None, **options: Any) -> tuple[object, ...]:
        """The call and a key of the values only (not exact: ``True == 1``), looked up nowhere."""
        return (variant, *options.values())

    def exact_key_url(self, image: str, variant: Any = None, **options: Any) -> str | None:
        """The call, an exact key (no types: every value is a str or an int, checked) and two ``dict.get``."""
        for value in options.values():
            if type(value) is not str and type(value) is not int:
                return None
        return self._rows.get((variant, *options, *options.values())).get(image)  # type: ignore[union-attr]

    def srcset_call(
        self, image: str, variant: Any = None, *, widths: Any = None, densities: Any = None, min_width: Any = None,
        max_width: Any = None, tolerance: Any = None, layout: Any = None, original: Any = None, **options: Any,
    ) -> None:  # fmt: skip
        """``srcset``'s signature alone: eight keyword parameters and ``**options``."""

    def srcset_remembered(
        self, image: str, variant: Any = None, *, widths: Any = None, densities: Any = None, min_width: Any = None,
        max_width: Any = None, tolerance: Any = None, layout: Any = None, original: Any = None, **options: Any,
    ) -> str | None:  # fmt: skip
        """The signature, the shortest exact key of a request of widths and options (each value's type), two
        ``dict.get``."""
        key: tuple[object, ...] = (variant, widths)
        for name, value in options.items():
            key += (name, value, type(value))
        return self._srcsets.get(key).get(image)  # type: ignore[union-attr]


def shape_floors(measured: dict[tuple[str, str], float]) -> None:
    """Time ``Least``'s methods against the same floors, and print/publish them beside the goals they bound."""
    least = Least(WARM)

    name = "url(id, 'avatar')"
    rows = []
    groups = [
        (name, "first", 3.0, floor_named, [
            ("the call and the exact id test", named(least.checked_url)),
            ("the call, the variant's segment (one dict.get) and the id test", named(least.resolved_checked_url)),
        ]),
        (name, "warm", 1.31, floor_named, [
            ("the call and two dict.get (no exception on a miss)", named(least.remembered_url)),
            ("the call and two subscripts (KeyError on every miss)", named(least.raising_url)),
        ]),
        ("url(id, five keywords)", "warm", 1.8, floor_five, [
            ("the call with five keywords", keywords(least.call)),
            ("the call and a key of the values (not exact)", keywords(least.values_key)),
            ("the call, an exact key and two dict.get", keywords(least.exact_key_url)),
        ]),
        ("srcset(id, 5 widths)", "warm", 0.40, floor_srcset, [
            ("srcset's signature, called", srcset(least.srcset_call)),
            ("the signature, an exact key and two dict.get", srcset(least.srcset_remembered)),
        ]),
    ]  # fmt: skip
    print(f"\nwhat the call's shape costs (nothing else), same floors:\n{'operation':24s} {'':6s} {'goal':>5s} "
          f"{'cfv':>6s}  least")  # fmt: skip
    for operation, state, goal, floor, jobs in groups:
        timing = first_call_ns if state == "first" else warm_ns
        ns = timing({"floor": Job(floor), **dict(jobs)})
        for what, _ in jobs:
            ratio = ns[what] / ns["floor"]
            print(f"{operation:24s} {state:6s} {goal:4.2f}x {measured[operation, state]:5.2f}x  {ratio:5.2f}x {what}")
            rows.append([f"`{operation}`", state, f"≤ {goal:.2f}", f"{measured[operation, state]:.2f}", what,
                         f"{ratio:.2f}"])  # fmt: skip
    publish(
        "core-shape",
        ["operation", "", "goal", "cfvariants", "the least a method of this shape does", "its ratio"],
        rows,
        f"Same floors and timing as the table above, in the same run (best of {PASSES}); `Least` in "
        "benchmarks/bench_core.py.",
        command="core",
    )


# --- peers -----------------------------------------------------------------------------------------------------

PEERS = ("cloudflare-images", "imgix", "libthumbor")
missing_peers: list[str] = []


def _peer(name: str, make: Callable[[], Any]) -> Any:
    try:
        return make()
    except ImportError:
        missing_peers.append(name)
        return None


def _cloudflare_images() -> Any:
    from cloudflare_images.main import CloudflareImagesAPI  # noqa: PLC0415 - optional peer

    return CloudflareImagesAPI(CF_ACCT_ID="0" * 32, CF_IMG_HASH=HASH, CF_IMG_TOKEN="unused")


def _imgix(sign_key: str | None = None) -> Any:
    from imgix import UrlBuilder  # noqa: PLC0415 - optional peer

    return UrlBuilder("demo.imgix.net", include_library_param=False, sign_key=sign_key)


def _libthumbor() -> Any:
    from libthumbor import CryptoURL  # noqa: PLC0415 - optional peer

    return CryptoURL(key=KEY)


def _unsafe_thumbor_url(**options: Any) -> str:
    from libthumbor.url import unsafe_url  # noqa: PLC0415 - optional peer

    return str(unsafe_url(**options))


def _each(call: Callable[[str], object] | None) -> Job | None:
    """A job calling ``call(id)`` once per id (None when the peer is missing)."""
    if call is None:
        return None

    def run(ids: list[str]) -> None:
        for i in ids:
            call(i)

    return Job(run)


def _present(peers: Iterable[tuple[str, Job | None]]) -> dict[str, Job]:
    return {name: job for name, job in peers if job is not None}


# --- the cases -------------------------------------------------------------------------------------------------


def core_cases(warm_cf: Delivery, cold_cf: Delivery) -> list[Case]:
    cfi = _peer("cloudflare-images", _cloudflare_images)
    ix = _peer("imgix", _imgix)
    ix_signed = None if ix is None else _imgix(KEY)
    thumbor = _peer("libthumbor", _libthumbor)
    unsafe = None if thumbor is None else _unsafe_thumbor_url
    key = KEY.encode()

    def flexible(d: Delivery) -> Job:
        def run(ids: list[str]) -> None:
            url = d.url
            for i in ids:
                url(i, "w=200")

        return Job(run)

    def signed(d: Delivery, private: bool = False) -> Job:
        def run(ids: list[str]) -> None:
            sign = d.signed_url
            for i in ids:
                sign(i, "thumb", expires_at=EXP)

        return Job(run, (lambda ids: [PrivateImage(i) for i in ids]) if private else lambda ids: ids)

    def floor_flexible(ids: list[str]) -> None:
        width = 200
        for i in ids:
            f"https://imagedelivery.net/{HASH}/{i}/w={width}"

    def floor_hmac(messages: list[bytes]) -> None:
        for message in messages:
            hmac.new(key, message, hashlib.sha256).hexdigest()

    def messages(ids: list[str]) -> list[bytes]:
        return [f"/{HASH}/{i}/thumb?exp={EXP}".encode() for i in ids]

    five = {"w": 200, "h": 100, "fit": "crop", "q": 80, "fm": "webp"}
    return [
        Case("url(id, 'avatar')", "f-string", Job(floor_named), named(cold_cf.url), named(warm_cf.url), 3.0, 1.31,
             _present([("cloudflare-images", _each(cfi and (lambda i: cfi.url(i, "avatar"))))])),
        Case("url(id, 'w=200')", "f-string", Job(floor_flexible), flexible(cold_cf), flexible(warm_cf), 3.0, 1.02,
             _present([
                 ("cloudflare-images", _each(cfi and (lambda i: cfi.url(i, "w=200")))),
                 ("imgix", _each(ix and (lambda i: ix.create_url(i, {"w": 200})))),
                 ("libthumbor", _each(unsafe and (lambda i: _unsafe_thumbor_url(image_url=i, width=200)))),
             ])),
        Case("url(id, five keywords)", "5-value f-string", Job(floor_five), keywords(cold_cf.url),
             keywords(warm_cf.url), 5.0, 1.8,
             _present([
                 ("cloudflare-images", cfi and five_string(cfi)),
                 ("imgix", _each(ix and (lambda i: ix.create_url(i, five)))),
                 ("libthumbor", _each(unsafe and (lambda i: _unsafe_thumbor_url(
                     image_url=i, width=200, height=100, smart=True, filters=["quality(80)", "format(webp)"])))),
             ])),
        Case("signed_url(id, 'thumb', exp)", "hmac.new", Job(floor_hmac, messages), signed(cold_cf), signed(warm_cf),
             0.8, 0.18,
             _present([
                 ("imgix", _each(ix_signed and (lambda i: ix_signed.create_url(i, {"expires": EXP})))),
                 ("libthumbor", _each(thumbor and (lambda i: thumbor.generate(image_url=i, width=200)))),
             ])),
        Case("signed_url(PrivateImage(id), 'thumb', exp)", "hmac.new", Job(floor_hmac, messages),
             signed(cold_cf, private=True), signed(warm_cf, private=True), 0.8, 0.18),
        # cache_size=0 remembers no srcset request either: a request known, an image never seen is a default
        # Delivery's first sight (each pass brings new ids, so no image's srcset is ever remembered)
        Case("srcset(id, 5 widths)", "5 joined f-strings", Job(floor_srcset), srcset(Delivery(HASH).srcset),
             srcset(warm_cf.srcset), 2.0, 0.40,
             _present([("imgix", _each(ix and (lambda i: ix.create_srcset(i, {"fit": "crop"}, widths=[*WIDTHS]))))])),
        jinja_case(warm_cf, cold_cf, cfi, ix),
    ]  # fmt: skip


def five_string(cfi: Any) -> Job:
    """cloudflare-images takes the option string as given: format it, pass it through."""

    def run(ids: list[str]) -> None:
        w, h, fit, q, f = 200, 100, "cover", 80, "webp"
        for i in ids:
            cfi.url(i, f"w={w},h={h},fit={fit},q={q},f={f}")

    return Job(run)


PAGE = '{% for p in profiles %}<img src="{{ p.image_url | variant(\'w=200\') }}" alt="{{ p.name }}">{% endfor %}'
PLAIN = '{% for p in profiles %}<img src="{{ p.url }}" alt="{{ p.name }}">{% endfor %}'


def profiles(ids: list[str]) -> list[list[dict[str, str]]]:
    """Pages of PAGE_IDS profiles; the precomputed URL is an f-string, so no cfvariants memo sees the ids."""
    people = [{"image_url": i, "name": f"user {n}", "url": f"https://imagedelivery.net/{HASH}/{i}/w=200"}
              for n, i in enumerate(ids)]  # fmt: skip
    return [people[start : start + PAGE_IDS] for start in range(0, len(people), PAGE_IDS)]


def jinja_case(warm_cf: Delivery, cold_cf: Delivery, cfi: Any, ix: Any) -> Case:
    """A page of 1,000 <img> tags through the ``variant`` filter, against the same page with its URLs precomputed
    (the first-call passes render pages of never-seen ids)."""

    def pages(url: Callable[[str, str], str] | None, source: str = PAGE) -> Job:
        env = Environment(autoescape=True)
        env.filters["variant"] = url
        template = env.from_string(source)

        def run(batches: list[list[dict[str, str]]]) -> None:
            for batch in batches:
                template.render(profiles=batch)

        return Job(run, profiles)

    check = profiles(fresh_ids(10))[0]
    expected = Environment(autoescape=True).from_string(PLAIN).render(profiles=check)
    for delivery in (warm_cf, cold_cf):
        env = Environment(autoescape=True)
        env.filters["variant"] = delivery.url
        assert env.from_string(PAGE).render(profiles=check) == expected
    peers = {}
    if cfi is not None:
        peers["cloudflare-images"] = pages(cfi.url)
    if ix is not None:
        peers["imgix"] = pages(lambda i, v: ix.create_url(i, {"w": 200}))
    return Case("Jinja page, 1,000 |variant", "precomputed page, per image", pages(None, PLAIN), pages(cold_cf.url),
                pages(warm_cf.url), 1.8, 1.38, peers)  # fmt: skip


if __name__ == "__main__":
    main()
