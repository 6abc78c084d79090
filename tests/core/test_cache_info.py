"""``cache_info()`` of Delivery and Transformations: what a user reads to choose ``cache_size``. A call repeated
with the same arguments is answered from memory (no miss); a call with any one argument changed, or with an
equal argument of another type, is computed (one miss), and gives what a builder that remembers nothing gives."""

from __future__ import annotations

import gc
import pickle
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from cfvariants import CacheInfo, Delivery, Options, PrivateImage, Transformations

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
EXP = 2_000_000_000


class Markup(str):
    """A str subclass, as template engines hand ids on (markupsafe's Markup, Django's SafeString)."""

    __slots__ = ()


def answer(call: Callable[..., object], *args: Any, **kwargs: Any) -> object:
    """What ``call(*args, **kwargs)`` returned, or raised (its type and message)."""
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def misses(call: Callable[..., object], *args: Any, **kwargs: Any) -> tuple[int, object]:
    """How many misses a call of a builder's method added, and its answer."""
    builder: Delivery | Transformations = call.__self__  # type: ignore[attr-defined]
    before = builder.cache_info().misses
    result = answer(call, *args, **kwargs)
    return builder.cache_info().misses - before, result


def test_a_new_builder_remembers_nothing_and_says_its_cache_size() -> None:
    assert Delivery(HASH).cache_info() == CacheInfo(misses=0, entries=0, cache_size=8192)
    assert Delivery(HASH, cache_size=5).cache_info() == (0, 0, 5)
    assert Transformations("example.com", cache_size=7).cache_info() == CacheInfo(0, 0, 7)


# -- Delivery.url -------------------------------------------------------------------------------------------------

URL_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("named", (ID, "avatar"), {}),
    ("public", (ID,), {}),
    ("public, explicit", (ID, "public"), {}),
    ("other id", ("cat",), {}),
    ("id to encode", ("users/7/a b.png", "avatar"), {}),
    ("non-ASCII id", ("café", "avatar"), {}),
    ("delivery URL", (f"https://imagedelivery.net/{HASH}/{ID}/public", "avatar"), {}),
    ("str subclass", (Markup("dog"), "avatar"), {}),
    ("option string", (ID, "w=200"), {}),
    ("Options", (ID, Options(width=200)), {}),
    ("keyword", (ID,), {"width": 200}),
    ("keyword, other value", (ID,), {"width": 300}),
    ("keyword, other name", (ID,), {"height": 200}),
    ("keyword, float", (ID,), {"width": 200.0}),
    ("keyword, bool", (ID,), {"anim": True}),
    ("keywords over a variant", (ID, "w=100"), {"height": 200}),
    ("two keywords", (ID,), {"width": 200, "height": 100}),
    ("two keywords, swapped", (ID,), {"height": 100, "width": 200}),
    ("keyword on another id", ("cat",), {"width": 200}),
]


NOT_REMEMBERED: list[
    tuple[str, tuple[Any, ...], dict[str, Any]]
] = [  # keyword values of a type a memo key cannot carry exactly: computed every time (cfvariants._memo)
    ("keyword, str subclass", (ID,), {"fit": Markup("cover")}),
    ("keyword, tuple", (ID,), {"trim": (1, 2, 3, 4)}),
]


REFUSED: list[tuple[str, str, dict[str, Any]]] = [
    (ID, "nope!", {}), (ID, "w=0", {}), ("a//b", "avatar", {}), ("", "avatar", {}), (ID, "w=1", {"anim": 1}),
]  # fmt: skip


@pytest.mark.parametrize("size", [8192, 1])
def test_url_repeated_is_a_hit_and_any_argument_changed_is_a_miss(size: int) -> None:
    cf = Delivery(HASH, cache_size=size)
    for name, args, kwargs in URL_CALLS:
        added, url = misses(cf.url, *args, **kwargs)
        assert added == 1, name  # never seen: computed
        assert url == answer(Delivery(HASH, cache_size=0).url, *args, **kwargs), name
        assert misses(cf.url, *args, **kwargs) == (0, url), name  # the same call: remembered
    # each again, in the same order: with room for all, every one is remembered under its own key
    again = [misses(cf.url, *args, **kwargs)[0] for _, args, kwargs in URL_CALLS]
    assert (again == [0] * len(URL_CALLS)) if size > 1 else (1 in again)
    for _name, args, kwargs in NOT_REMEMBERED * 2:
        assert misses(cf.url, *args, **kwargs) == (1, answer(Delivery(HASH).url, *args, **kwargs))


def test_a_refused_call_is_no_miss_and_remembers_nothing() -> None:
    cf = Delivery(HASH)
    for image, variant, keywords in REFUSED * 2:
        added, refused = misses(cf.url, image, variant, **keywords)
        assert added == 0 and isinstance(refused, tuple) and refused[0].endswith("Error"), (image, variant)
    assert cf.cache_info().entries == 0


def test_url_entries_count_what_is_remembered_and_a_full_row_starts_again() -> None:
    cf = Delivery(HASH, cache_size=2)
    cf.url("a", "avatar"), cf.url("b", "avatar"), cf.url("a", "thumb")
    assert cf.cache_info() == (3, 3, 2)
    assert misses(cf.url, "c", "avatar")[0] == 1  # the avatar row was full: it forgets a and b
    assert cf.cache_info() == (4, 2, 2)
    assert misses(cf.url, "a", "avatar")[0] == 1
    assert misses(cf.url, "a", "thumb")[0] == 0


def test_cache_size_0_remembers_nothing_anywhere() -> None:
    cf = Delivery(HASH, signing_key="k", cache_size=0)
    tr = Transformations("example.com", cache_size=0)
    calls: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]] = [
        (cf.url, (ID, "avatar"), {}),
        (cf.url, (ID,), {"width": 200}),
        (cf.signed_url, (ID, "thumb"), {"expires_at": EXP}),
        (cf.signed_url, (PrivateImage(ID), "thumb"), {"expires_at": EXP}),
        (cf.srcset, (ID,), {"widths": (320, 640)}),
        (cf.srcset, (ID, "fit=cover"), {"min_width": 300, "max_width": 900}),
        (tr.url, ("/a.jpg", "w=200"), {}),
        (tr.url, ("/a.jpg",), {"width": 200}),
        (tr.srcset, ("/a.jpg",), {"widths": (320, 640)}),
    ]
    for call, args, kwargs in calls * 3:
        assert misses(call, *args, **kwargs)[0] == 1
    assert cf.cache_info().entries == 0 and tr.cache_info().entries == 0


class Unhashable(str):
    """A str subclass without a hash: no memo can hold it, and it is still an id or a source."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


def test_cache_size_0_holds_no_memory_however_many_srcset_requests() -> None:
    """What cache_size=0 is for: a builder that keeps nothing. 400 distinct srcset requests used to stay behind
    (about 130 KB)."""
    for builder, source in ((Delivery(HASH, cache_size=0), ID), (Transformations("example.com", cache_size=0), "/a")):
        builder.srcset(source, "fit=cover", min_width=99)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for width in range(100, 500):
                builder.srcset(source, "fit=cover", min_width=width)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert held < 20_000, (type(builder).__name__, held)


def test_unhashable_arguments_are_computed_every_time() -> None:
    cf = Delivery(HASH, signing_key="k")
    tr = Transformations("example.com")
    fresh = Delivery(HASH, signing_key="k", cache_size=0)
    not_list = "must be a name, an option string or Options, not list"
    calls: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any], object]] = [
        (cf.url, (ID,), {"width": [200]},
         ("OptionsError", "\"width=[200]\": width must be a positive integer or 'auto'")),
        (cf.url, (ID, ["w=200"]), {}, ("VariantError", f"variant {not_list}")),
        (cf.url, ([ID], "avatar"), {}, ("ImageIdError", "image id must be a string, not list")),
        (cf.url, (Unhashable("a b"), "avatar"), {}, f"https://imagedelivery.net/{HASH}/a%20b/avatar"),
        (cf.url, (Unhashable(ID),), {"width": 200}, f"https://imagedelivery.net/{HASH}/{ID}/w=200"),
        (cf.signed_url, (ID, ["thumb"]), {"expires_at": EXP}, ("VariantError", f"variant {not_list}")),
        (cf.signed_url, ([ID], "thumb"), {"expires_at": EXP}, ("ImageIdError", "image id must be a string, not list")),
        (cf.signed_url, (Unhashable(ID), "thumb"), {"expires_at": EXP}, fresh.signed_url(ID, "thumb", expires_at=EXP)),
        (cf.srcset, (ID,), {"widths": (320, 640), "fit": ["cover"]},
         ("OptionsError", "\"fit=['cover']\": fit must be one of scale-down, contain, cover, crop, pad, squeeze, "
                          "aspect-crop, scale-up")),
        (cf.srcset, ([ID],), {"widths": (320, 640)}, ("ImageIdError", "image id must be a string, not list")),
        (cf.srcset, (ID, "fit=cover"), {"widths": (320,), "trim": [1, 2, 3, 4]},
         f"https://imagedelivery.net/{HASH}/{ID}/w=320,fit=cover,trim=1;2;3;4 320w"),
        (cf.srcset, (Unhashable("a b"),), {"widths": (320, 640)}, fresh.srcset("a b", widths=(320, 640))),
        (cf.srcset, (ID,), {"widths": [[320], 640]},
         ("VariantError", "srcset widths must be positive integers, not [320]")),
        (tr.url, ("/a.jpg", {"width": 200}), {}, "https://example.com/cdn-cgi/image/w=200/a.jpg"),
        (tr.url, (["/a.jpg"], "w=200"), {}, ("URLError", "the source image must be a path or a URL (str), not list")),
        (tr.url, (Unhashable("/a b.jpg"), "w=200"), {}, "https://example.com/cdn-cgi/image/w=200/a%20b.jpg"),
        (tr.srcset, ("/a.jpg", {"fit": "cover"}), {"widths": (320,)},
         "https://example.com/cdn-cgi/image/w=320,fit=cover/a.jpg 320w"),
        (tr.srcset, (["/a.jpg"], "fit=cover"), {"widths": (320, 640)},
         ("URLError", "the source image must be a path or a URL (str), not list")),
        (tr.srcset, (Unhashable("/a.jpg"), "fit=cover"), {"widths": (320,)},
         "https://example.com/cdn-cgi/image/w=320,fit=cover/a.jpg 320w"),
    ]  # fmt: skip
    for call, args, kwargs, expected in calls:
        for _ in range(2):  # a refused call is no miss
            assert misses(call, *args, **kwargs) == (0 if isinstance(expected, tuple) else 1, expected), (args, kwargs)
    assert cf.cache_info().entries == tr.cache_info().entries == 0
    keyless = Delivery(HASH)
    assert answer(keyless.signed_url, ID, ["thumb"], expires_in=60) == answer(keyless.signed_url, ID, expires_in=60)
    assert answer(keyless.signed_url, ID, expires_in=60)[0] == "SigningError"  # type: ignore[index]


# -- Delivery.signed_url ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", [None, "img.example.com", "/"])
def test_a_signed_url_is_remembered_per_image_variant_and_expiry(domain: str | None) -> None:
    cf = Delivery(HASH, signing_key="k", domain=domain)
    fresh = Delivery(HASH, signing_key="k", domain=domain, cache_size=0)
    images = [ID, "users/7/a b.png", "café", PrivateImage(ID), Markup(ID), PrivateImage("users/7/a b.png")]
    images.append(f"https://imagedelivery.net/{HASH}/{ID}/public")
    for image in images:
        for variant, exp in (("thumb", EXP), ("thumb", EXP + 1), ("avatar", EXP)):
            added, url = misses(cf.signed_url, image, variant, expires_at=exp)
            assert added == 1 and url == fresh.signed_url(image, variant, expires_at=exp), (image, variant, exp)
            assert misses(cf.signed_url, image, variant, expires_at=exp) == (0, url)
            assert misses(cf.signed_url, image, variant, expires_at=exp) == (0, url)
    assert cf.cache_info().entries == 2 * len(images)  # one per image and variant: its path and last signature


def test_a_private_image_is_remembered_apart_from_the_same_text() -> None:
    """A PrivateImage and a str of the same id sign alike; each is remembered under a key of its own type, so
    neither answers for the other, and a PrivateImage through a template is signed once per page."""
    cf = Delivery(HASH, signing_key="k")
    plain = cf.signed_url(ID, "thumb", expires_at=EXP)
    assert misses(cf.signed_url, PrivateImage(ID), "thumb", expires_at=EXP) == (1, plain)
    assert misses(cf.signed_url, Markup(ID), "thumb", expires_at=EXP) == (1, plain)
    for image in (ID, PrivateImage(ID), Markup(ID)):
        assert misses(cf.signed_url, image, "thumb", expires_at=EXP) == (0, plain)
    assert cf.cache_info().entries == 3


def test_a_remembered_path_is_signed_again_for_another_expiry() -> None:
    cf = Delivery(HASH, signing_key="k")
    first = cf.signed_url(ID, "thumb", expires_at=EXP)
    assert misses(cf.signed_url, ID, "thumb", expires_at=EXP + 60) == (
        1,
        Delivery(HASH, signing_key="k", cache_size=0).signed_url(ID, "thumb", expires_at=EXP + 60),
    )
    assert misses(cf.signed_url, ID, "thumb", expires_at=EXP)[0] == 1  # only the last is kept
    assert cf.signed_url(ID, "thumb", expires_at=EXP) == first and cf.cache_info().entries == 1


# -- srcset ---------------------------------------------------------------------------------------------------------

SRCSET_CALLS: list[dict[str, Any]] = [
    {"widths": (320, 640)},
    {"widths": (320, 641)},
    {"widths": (True, 640)},
    {"widths": [320, 960]},
    {"widths": (320.0, 960)},
    {"densities": (1, 2)},
    {"densities": (1, 3)},
    {"densities": [1.5, 3]},
    {},
    {"min_width": 300},
    {"min_width": 300, "max_width": 900},
    {"max_width": 900},
    {"tolerance": 0.2},
    {"layout": "constrained", "width": 300},
    {"layout": "constrained", "width": 300, "original": (600, 400)},
    {"layout": "constrained", "width": 300, "original": (601, 400)},
    {"layout": "fixed", "width": 300, "height": 200},
    {"width": 300},
    {"widths": (320, 640), "quality": 80},
    {"widths": (320, 640), "quality": 81},
]


def test_srcset_repeated_is_a_hit_and_any_argument_changed_is_a_miss() -> None:
    cf = Delivery(HASH)
    tr = Transformations("example.com")
    made = 0
    for builder, source, fresh in (
        (cf, ID, Delivery(HASH, cache_size=0)),
        (tr, "/a.jpg", Transformations("example.com", cache_size=0)),
    ):
        for kwargs in SRCSET_CALLS:
            added, srcset = misses(builder.srcset, source, "fit=cover", **kwargs)
            assert srcset == answer(fresh.srcset, source, "fit=cover", **kwargs), kwargs
            assert added == (0 if isinstance(srcset, tuple) else 1), kwargs  # a refused request is no miss
            made += added
            assert misses(builder.srcset, source, "fit=cover", **kwargs) == (0, srcset), kwargs
        assert misses(builder.srcset, "other" if builder is cf else "/b.jpg", "fit=cover")[0] == 1
        assert misses(builder.srcset, source, "fit=contain")[0] == 1
        again = [misses(builder.srcset, source, "fit=cover", **kwargs)[0] for kwargs in SRCSET_CALLS]
        assert again == [0] * len(SRCSET_CALLS)
    assert cf.cache_info().entries == tr.cache_info().entries == made // 2 + 2 and made > 2 * 12


def test_an_equal_request_of_other_types_is_computed_for_itself() -> None:
    """``(1, 2)`` and ``(1, 2.0)`` are equal, and so are ``[1, 2]`` and ``(1, 2)``; only equal values of the same
    types share what was made (the element types decide what is valid: ``(True, 2)`` is refused)."""
    for builder, source in ((Delivery(HASH), ID), (Transformations("example.com"), "/a.jpg")):
        ints = builder.srcset(source, "fit=cover", densities=(1, 2))
        assert misses(builder.srcset, source, "fit=cover", densities=[1, 2]) == (0, ints)
        assert misses(builder.srcset, source, "fit=cover", densities=(1, 2.0)) == (1, ints)
        assert misses(builder.srcset, source, "fit=cover", densities=(1, 2.0)) == (0, ints)
        assert misses(builder.srcset, source, "fit=cover", densities=(1, 2)) == (1, ints)


# -- Transformations.url --------------------------------------------------------------------------------------------


def test_transformations_url_repeated_is_a_hit_and_any_argument_changed_is_a_miss() -> None:
    tr = Transformations("example.com", defaults={"format": "auto"})
    fresh = Transformations("example.com", defaults={"format": "auto"}, cache_size=0)
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("/a.jpg", "w=200"), {}), (("/b.jpg", "w=200"), {}), (("/a.jpg", "w=300"), {}), (("/a.jpg",), {}),
        (("/a.jpg", Options(width=200)), {}), (("/a.jpg",), {"width": 200}), (("/a.jpg",), {"width": 200.0}),
        (("/a.jpg", "w=200"), {"height": 100}), (("https://other.example/a b.jpg", "w=200"), {}),
    ]  # fmt: skip
    for args, kwargs in calls:
        added, url = misses(tr.url, *args, **kwargs)
        assert added == 1 and url == answer(fresh.url, *args, **kwargs), (args, kwargs)
        assert misses(tr.url, *args, **kwargs) == (0, url)
    assert tr.cache_info() == (len(calls), len(calls), 8192)


def test_a_copy_starts_with_nothing_remembered() -> None:
    cf = Delivery(HASH, cache_size=10)
    cf.url(ID)
    copy = pickle.loads(pickle.dumps(cf))
    assert copy.cache_info() == (0, 0, 10) and cf.cache_info() == (1, 1, 10)
    tr = Transformations("example.com", cache_size=10)
    tr.url("/a.jpg", "w=1")
    assert pickle.loads(pickle.dumps(tr)).cache_info() == (0, 0, 10)


class LooksLikeText:
    """Equal to a text and hashed like it, without being one: a memo keyed by value alone would take it for one
    (url and srcset key an image by its value, one type test less on every remembered call: they would)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return other == self.text

    def __hash__(self) -> int:
        return hash(self.text)


@pytest.mark.parametrize("image", [5, None, b"cat", LooksLikeText(ID)])
def test_an_image_that_is_no_text_is_refused_even_after_its_text_was_remembered(image: object) -> None:
    cf = Delivery(HASH, signing_key="k")
    for _ in range(2):
        cf.url(ID, "thumb"), cf.signed_url(ID, "thumb", expires_at=EXP), cf.srcset(ID, widths=(320,))
        calls = [(cf.url, ("thumb",)), (cf.signed_url, ("thumb",)), (cf.srcset, ())]
        for call, args in calls[1:2] if isinstance(image, LooksLikeText) else calls:
            kwargs: dict[str, Any] = {"expires_at": EXP} if call == cf.signed_url else {}
            if call == cf.srcset:
                kwargs["widths"] = (320,)
            added, refused = misses(call, image, *args, **kwargs)
            assert added == 0 and refused == ("ImageIdError", f"image id must be a string, not {type(image).__name__}")
