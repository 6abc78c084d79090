"""Caches change nothing a user can see: every sequence of calls gives the same URLs and the same errors through a
``Delivery`` (or ``Transformations``) that remembers (a small cache, so it also fills up and forgets) as through a
fresh one for each call that remembers no URL, with every process-wide memo emptied for that call.

The arguments are drawn to collide in memo keys: values equal under ``==`` but not the same to validation
(``True``/``1``/``1.0``, ``(1, 2, 3, 4)``/``(True, 2, 3, 4)``, ``'cover'``/a str subclass, an ``IntEnum``), one
argument changed between two calls, unhashable values, ids that need encoding and stored URLs standing in for ids.
"""

from __future__ import annotations

import enum
import functools
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cfvariants import Delivery, Options, Transformations
from cfvariants._memo import Memo

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
KEY = "differential-signing-key"


class Text(str):
    """A str subclass: equal to its text, and what a memo key must not take for a plain str."""


class Pixels(enum.IntEnum):
    """Equal to ints (and hashed like them) without being one."""

    ONE = 1
    WIDE = 200


images = st.sampled_from([
    "083eb7b2-5392-4565-b69e-aff66acddd00",
    "plain_id-2",
    "users/7/avatar.png",
    "with space?",
    "caf\u00e9",
    "",
    "a/../b",
    "x" * 1025,
    f"https://imagedelivery.net/{HASH}/stored-id/public",
    "/cdn-cgi/imagedelivery/OtherHash/stored/thumb",
    Text("plain_id-2"),
    "\ud800",
    7,
    ["list"],
])  # fmt: skip


def built(value: object) -> object:
    """Options given as ``partial(Options, ...)`` are built when an example is drawn, not at import: dev.py mutate
    then tests the mutants of Options against a fork server that has imported this module already (faster)."""
    return value() if isinstance(value, partial) else value


variants = st.sampled_from([
    None, "avatar", "thumb", "public", "w=200", "w=200,fit=cover", "fit=cover,w=200", "w=abc", "bad variant",
    partial(Options, width=100), partial(Options, width=100, fit="cover"), 1, True, ["w=200"], Text("avatar"),
    Text("w=200"),
]).map(built)  # fmt: skip
keyword_values: dict[str, st.SearchStrategy[Any]] = {
    "width": st.sampled_from([1, True, 1.0, 200, 200.0, 200.5, "auto", 0, False, -1, Pixels.ONE, Pixels.WIDE]),
    "w": st.sampled_from([100, True]),
    "height": st.sampled_from([1, True, 50, 50.0]),
    "fit": st.sampled_from(["cover", "contain", 1, None, Text("cover")]),
    "anim": st.sampled_from([True, False, 1, 0, "true", "false"]),
    "quality": st.sampled_from([1, True, 80, 80.0, "high", 0, Pixels.ONE]),
    "trim": st.sampled_from([(1, 2, 3, 4), (True, 2, 3, 4), (1.0, 2, 3, 4), [1, 2, 3, 4], "border"]),
    "gravity": st.sampled_from([(0.5, 1), (0.5, True), "face", "left"]),
    "rotate": st.sampled_from([90, 90.0, True]),
    "dpr": st.sampled_from([1, 1.0, True, 2]),
    "widht": st.just(200),
}
keywords = st.dictionaries(st.sampled_from(sorted(keyword_values)), st.none(), max_size=3).flatmap(
    lambda names: st.fixed_dictionaries({name: keyword_values[name] for name in names})
)
widths = st.sampled_from([None, (320, 640), [320, 640], (1, 2), (True, 2), (1.0, 2), (), (640, 320, 320)])
densities = st.sampled_from([None, (1, 2), (1.0, 2.0), (True, 2), (1, 1.5)])
srcset_extras: st.SearchStrategy[dict[str, Any]] = st.sampled_from([
    {}, {"min_width": 100}, {"min_width": True, "max_width": 400}, {"max_width": 400.0}, {"tolerance": 0.1},
    {"tolerance": 1}, {"layout": "constrained", "width": 300}, {"layout": "fixed", "width": True},
    {"original": (800, 600)}, {"layout": "full-width", "original": (True, 600)},
    {"layout": "constrained", "width": 300, "original": (Pixels.WIDE, 600)},
])  # fmt: skip
expiries = st.sampled_from([2_000_000_000, 2_000_000_001, 2_000_000_000.0, True, 1, 0, -5])


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["url", "url", "keywords", "signed", "srcset", "path"]))
    args: dict[str, Any] = {"image": draw(images), "variant": draw(variants)}
    if kind == "keywords":
        args.update(draw(keywords))
        kind = "url"
    elif kind == "signed":
        args["expires_at"] = draw(expiries)
    elif kind == "srcset":
        args.update(widths=draw(widths), densities=draw(densities))
        args.update({**draw(srcset_extras), **draw(keywords)})  # a keyword width replaces a layout's width
    return kind, args


def outcome(builder: Delivery | Transformations, kind: str, args: dict[str, Any]) -> tuple[str, object]:
    """What a user sees: the value, or the error's type and message."""
    try:
        return "value", getattr(builder, kind)(**args)
    except Exception as exc:  # every outcome is compared, errors included
        return type(exc).__name__, str(exc)


def process_caches() -> tuple[list[Memo[Any, Any]], list[Any]]:
    """Every process-wide memo and ``lru_cache`` of cfvariants (segments, keyword options, parsed option strings,
    sources, layout ladders...): a fresh instance still reads them."""
    memos, lru = [], []
    for name, module in list(sys.modules.items()):
        if name == "cfvariants" or name.startswith("cfvariants."):
            for value in vars(module).values():
                if isinstance(value, Memo):
                    memos.append(value)
                elif isinstance(value, functools._lru_cache_wrapper):
                    lru.append(value)
    return memos, lru


def remembering_nothing(make: Callable[[], Delivery | Transformations], kind: str, args: dict[str, Any]) -> object:
    """The outcome of a fresh ``cache_size=0`` instance with every process-wide cache emptied for the call (and
    the memos given back after it, so the remembering side keeps what it has filled): a stale entry in a shared
    memo would otherwise answer both sides alike."""
    memos, lru = process_caches()
    kept = [dict(memo.entries) for memo in memos]
    for memo in memos:
        memo.entries.clear()
    for cache in lru:
        cache.cache_clear()
    try:
        return outcome(make(), kind, args)
    finally:
        for memo, entries in zip(memos, kept, strict=True):
            memo.entries.clear()
            memo.entries.update(entries)


def twin(value: Any) -> Any:
    """A value equal to ``value`` under ``==`` (same hash) but of another type: what a memo key must tell apart."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return bool(value) if value in (0, 1) else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple | list) and value:
        return type(value)((twin(value[0]), *value[1:]))
    if isinstance(value, str):
        return Text(value) if type(value) is str else str(value)
    return value


def variations(sequence: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Each call, then the same call with one argument changed: another image, another variant, or a value
    swapped for its equal twin (a stale or too coarse memo entry shows up right there)."""
    out = []
    for kind, args in sequence:
        out.append((kind, args))
        out.append((kind, dict(args, image="plain_id-2")))
        out.append((kind, dict(args, variant="avatar")))
        for name, value in args.items():
            if name not in ("image", "variant") and twin(value) is not value:
                out.append((kind, dict(args, **{name: twin(value)})))
    return out


domains = st.sampled_from([None, "img.example.com", "http://127.0.0.1:9", "/"])


@given(st.lists(calls(), min_size=1, max_size=25), domains)
def test_a_remembering_delivery_answers_like_one_that_remembers_nothing(
    sequence: list[tuple[str, dict[str, Any]]], domain: str | None
) -> None:
    remembering = Delivery(HASH, signing_key=KEY, domain=domain, cache_size=3)
    for kind, args in variations(sequence) * 2:  # twice: the second round answers from the memo
        fresh = partial(Delivery, HASH, signing_key=KEY, domain=domain, cache_size=0)
        assert outcome(remembering, kind, args) == remembering_nothing(fresh, kind, args), (kind, args)


def test_a_value_equal_to_a_valid_one_is_still_refused_after_it() -> None:
    """True == 1 and (True, 2, 3, 4) == (1, 2, 3, 4), yet only the integers are valid."""
    cf = Delivery(HASH)
    image = "083eb7b2-5392-4565-b69e-aff66acddd00"
    assert cf.url(image, width=1).endswith("/w=1")
    assert outcome(cf, "url", {"image": image, "width": True})[0] == "OptionsError"
    assert cf.url(image, trim=(1, 2, 3, 4)).endswith("/trim=1;2;3;4")
    assert outcome(cf, "url", {"image": image, "trim": (True, 2, 3, 4)})[0] == "OptionsError"
    assert cf.srcset(image, widths=(1, 2)).endswith(" 2w")
    assert outcome(cf, "srcset", {"image": image, "widths": (True, 2)})[0] == "VariantError"
    assert cf.url(image, anim=True).endswith("/anim=true")
    assert outcome(cf, "url", {"image": image, "anim": 1})[0] == "OptionsError"


sources = st.sampled_from([
    "/media/cat.jpg", "/media/cat.jpg?v=2", "https://cdn.example.com/a b.png", "/a/../b.jpg", "media/cat.jpg",
    "/cdn-cgi/image/w=1/x.jpg", 7, ["list"],
])  # fmt: skip
transformation_options = st.sampled_from([
    None, "w=200", "w=200,fit=cover", "fit=cover,w=200", "onerror=redirect", "avatar", "w=abc",
    partial(Options, width=100), {"width": 100}, {"width": True}, 1,
]).map(built)  # fmt: skip


@st.composite
def transformation_calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["url", "url", "srcset", "options_of"]))
    args: dict[str, Any] = {"options": draw(transformation_options)}
    if kind == "options_of":
        return kind, {"variant": args["options"]}
    args.update(source=draw(sources), **draw(keywords))
    if kind == "srcset":
        args.update(widths=draw(widths), densities=draw(densities), **draw(srcset_extras))
    return kind, args


@given(st.lists(transformation_calls(), min_size=1, max_size=25), st.sampled_from([None, "format=auto"]))
def test_a_remembering_transformations_answers_like_one_that_remembers_nothing(
    sequence: list[tuple[str, dict[str, Any]]], defaults: str | None
) -> None:
    remembering = Transformations("www.example.com", defaults=defaults, cache_size=3)
    changed = []
    for kind, args in sequence:
        changed.append((kind, args))
        for name, value in args.items():
            if twin(value) is not value:
                changed.append((kind, dict(args, **{name: twin(value)})))
    for kind, args in changed * 2:  # twice: the second round answers from the memo
        fresh = partial(Transformations, "www.example.com", defaults=defaults, cache_size=0)
        assert outcome(remembering, kind, args) == remembering_nothing(fresh, kind, args), (kind, args)


srcset_requests = st.fixed_dictionaries(
    {
        "widths": widths,
        "densities": densities,
        "fit": st.sampled_from(["cover", 1]),
        "quality": st.sampled_from([1, 80]),
    }
).flatmap(lambda base: st.just(base) | srcset_extras.map(lambda extras: {**base, **extras}))


@given(st.lists(srcset_requests, min_size=1, max_size=10))
def test_srcsets_of_equal_but_different_requests_are_each_validated(requests: list[dict[str, Any]]) -> None:
    """Valid images and options, so that the widths, densities and extras decide (a srcset memo keyed too coarsely
    answers a refused request with the srcset of its valid twin)."""
    changed = []
    for args in requests:
        changed.append(args)
        changed.extend(dict(args, **{name: twin(value)}) for name, value in args.items() if twin(value) is not value)
    builders: list[tuple[Callable[[int], Delivery | Transformations], str]] = [
        (lambda size: Delivery(HASH, cache_size=size), "image"),
        (lambda size: Transformations("www.example.com", cache_size=size), "source"),
    ]
    for make, image in builders:
        remembering = make(3)
        for args in changed * 2:
            call = {image: "083eb7b2-5392-4565-b69e-aff66acddd00" if image == "image" else "/a.jpg", **args}
            assert outcome(remembering, "srcset", call) == remembering_nothing(partial(make, 0), "srcset", call), call


keyword_requests = st.dictionaries(
    st.sampled_from(["width", "height", "quality", "fit", "anim", "dpr", "rotate"]), st.none(), min_size=1, max_size=3
).flatmap(lambda names: st.fixed_dictionaries({name: keyword_values[name] for name in names}))


@given(st.lists(st.tuples(st.sampled_from([None, "fit=cover", Text("w=100")]), keyword_requests), max_size=10))
def test_keyword_urls_of_equal_but_different_values_are_each_validated(
    requests: list[tuple[str | None, dict[str, Any]]],
) -> None:
    """Valid images, so that the keyword values decide: each request, then each value swapped for its equal twin
    (``1``/``True``/``1.0``, ``'cover'``/a str subclass, an ``IntEnum``), through one remembering ``Delivery`` and
    ``Transformations`` against fresh ones (a key too coarse answers a refused value with its valid twin's URL)."""
    changed = []
    for variant, options in requests:
        changed.append((variant, options))
        changed.extend((variant, {**options, name: twin(value)}) for name, value in options.items())
    delivery, transformations = Delivery(HASH, cache_size=3), Transformations("www.example.com", cache_size=3)
    for variant, options in changed * 2:
        call = {"image": "083eb7b2-5392-4565-b69e-aff66acddd00", "variant": variant, **options}
        fresh: Callable[[], Delivery | Transformations] = partial(Delivery, HASH, cache_size=0)
        assert outcome(delivery, "url", call) == remembering_nothing(fresh, "url", call), call
        call = {"source": "/a.jpg", "options": variant, **options}
        fresh = partial(Transformations, "www.example.com", cache_size=0)
        assert outcome(transformations, "url", call) == remembering_nothing(fresh, "url", call), call
