"""What a srcset request may be given, as a user writes it: widths and densities as any iterable (a list, a range, a
generator read once), refused when they are no list at all, and validated element by element even when an equal
request of other types was answered before; a layout's width and height are its CSS size, never options. Each
case through a ``Delivery`` and a ``Transformations`` that remember, and through ones that remember nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from cfvariants import ArgumentError, Delivery, Original, Transformations, VariantError

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"

Srcset = Callable[..., str]


def builders() -> list[tuple[str, Srcset]]:
    """``(name, srcset of one image)`` for each builder: one that remembers (``-None``, the default cache size),
    and a new one for every call (``-0``, with cache_size=0), which has seen no request before."""
    delivery, transformations = Delivery(HASH), Transformations("www.example.com")
    return [
        ("delivery-None", lambda *a, **k: delivery.srcset(ID, *a, **k)),
        ("transformations-None", lambda *a, **k: transformations.srcset("/a.jpg", *a, **k)),
        ("delivery-0", lambda *a, **k: Delivery(HASH, cache_size=0).srcset(ID, *a, **k)),
        (
            "transformations-0",
            lambda *a, **k: Transformations("www.example.com", cache_size=0).srcset("/a.jpg", *a, **k),
        ),
    ]


def generated(values: Iterable[float]) -> Iterator[float]:
    yield from values


@pytest.mark.parametrize(
    "make",
    [list, tuple, lambda v: range(v[0], v[1] + 1, v[1] - v[0]), generated, dict.fromkeys],
    ids=["list", "tuple", "range", "generator", "dict"],
)
def test_widths_may_be_any_iterable_and_give_the_srcset_of_their_tuple(make: Callable[[Any], Any]) -> None:
    for name, srcset in builders():
        expected = srcset("fit=cover", widths=(320, 640))
        assert expected.endswith("640w") and expected.count(", ") == 1, name
        for _ in range(2):  # cold, then answered from what the first call remembered
            assert srcset("fit=cover", widths=make((320, 640))) == expected, name
        assert srcset("fit=cover", widths=make((320, 960))) != expected, name  # one width changed


@pytest.mark.parametrize("make", [list, generated], ids=["list", "generator"])
def test_densities_may_be_any_iterable_and_give_the_srcset_of_their_tuple(make: Callable[[Any], Any]) -> None:
    for name, srcset in builders():
        expected = srcset("w=300", densities=(1, 1.5))
        assert expected.endswith("1.5x"), name
        for _ in range(2):
            assert srcset("w=300", densities=make((1, 1.5))) == expected, name
        assert srcset("w=300", densities=make((1, 2))).endswith("2x"), name


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"widths": "320,640"}, "srcset widths must be a list of numbers, not str"),
        ({"widths": b"\x01"}, "srcset widths must be a list of numbers, not bytes"),
        ({"widths": 640}, "srcset widths must be a list of numbers, not int"),
        ({"densities": "12"}, "densities must be a list of numbers, not str"),
        ({"densities": 2}, "densities must be a list of numbers, not int"),
    ],
)
def test_widths_or_densities_that_are_no_list_are_refused_by_name(arguments: dict[str, object], message: str) -> None:
    for name, srcset in builders():
        srcset("w=300", widths=(320, 640))
        with pytest.raises(VariantError) as caught:
            srcset("w=300", **arguments)
        assert str(caught.value) == message, name


@pytest.mark.parametrize(
    ("good", "twin", "message"),
    [
        ({"widths": [1, 2]}, {"widths": [True, 2]}, "srcset widths must be positive integers, not True"),
        ({"widths": [320, 640]}, {"widths": [320.0, 640]}, "srcset widths must be positive integers, not 320.0"),
        ({"widths": [320, 640]}, {"widths": [320, 640.0]}, "srcset widths must be positive integers, not 640.0"),
        ({"densities": [1, 2]}, {"densities": [True, 2]}, "densities must be positive numbers, not True"),
        ({"densities": [1, 2]}, {"densities": [1, True]}, "densities must be positive numbers, not True"),
    ],
)
def test_an_equal_list_of_other_types_is_validated_again(
    good: dict[str, object], twin: dict[str, object], message: str
) -> None:
    """``[True, 2] == [1, 2]``: a remembered request must not answer for its equal twin, in either order."""
    for name, srcset in builders():
        valid = srcset("w=300", **good)
        for _ in range(2):
            with pytest.raises(VariantError) as caught:
                srcset("w=300", **twin)
            assert str(caught.value) == message, name
            assert srcset("w=300", **good) == valid, name


def test_an_equal_tuple_of_other_types_is_validated_again_after_a_list() -> None:
    for name, srcset in builders():
        valid = srcset("w=300", widths=[320, 640])
        with pytest.raises(VariantError, match="not True"):
            srcset("w=300", widths=(True, 640))
        assert srcset("w=300", widths=(320, 640)) == valid, name


def test_a_layouts_width_and_height_are_its_css_size_not_options() -> None:
    for name, srcset in builders():
        plain = srcset("fit=cover", width=300, height=200)  # options: every candidate 300x200, by density
        first = plain.split(", ")[0]
        assert "/w=300,h=200,fit=cover" in first and first.endswith(" 1x"), name
        for _ in range(2):
            laid_out = srcset("fit=cover", layout="constrained", width=300, height=200)
            candidates = [part.rsplit(" ", 1) for part in laid_out.split(", ")]
            assert all(descriptor.endswith("w") for _, descriptor in candidates), name
            for url, descriptor in candidates:  # resized to each width, keeping the 3:2 of the CSS size
                width = int(descriptor[:-1])
                assert f"/w={width},h={round(width * 2 / 3)},fit=cover" in url, (name, url)
            assert max(int(descriptor[:-1]) for _, descriptor in candidates) >= 600, name  # up to 2x of 300
        assert srcset("fit=cover", width=300, height=200) == plain, name  # the layout dropped again
        fixed = srcset("fit=cover", layout="fixed", width=300, height=200, quality=50)
        assert fixed.endswith(" 2x") and all(",q=50" in part for part in fixed.split(", ")), name


@pytest.mark.parametrize(
    "original",
    [(500, 400), Original(500, 400), {"cfv_width": 500, "cfv_height": 400}],
    ids=["pair", "Original", "meta"],
)
def test_the_original_caps_a_layouts_widths_and_gives_its_aspect_ratio(original: object) -> None:
    """No candidate is wider than the uploaded original, and its size gives the box's shape; the same request
    without the original is another request (here refused: a constrained layout needs an aspect ratio)."""
    for name, srcset in builders():
        for _ in range(2):
            capped = srcset("fit=cover", layout="constrained", width=800, original=original)
            assert capped.endswith("/w=500,h=400,fit=cover 500w") or "w=500,h=400,fit=cover/a.jpg 500w" in capped, name
            widths = [int(part.rsplit(" ", 1)[1][:-1]) for part in capped.split(", ")]
            assert max(widths) == 500, (name, capped)
            with pytest.raises(ArgumentError, match="needs the image's aspect ratio"):
                srcset("fit=cover", layout="constrained", width=800)
        uncapped = srcset("fit=cover", layout="constrained", width=800, height=640)
        assert max(int(part.rsplit(" ", 1)[1][:-1]) for part in uncapped.split(", ")) > 500, name


@pytest.mark.parametrize(("name", "what"), [("widths", "srcset widths"), ("densities", "densities")])
def test_a_generator_is_read_once_so_the_same_one_again_is_empty(name: str, what: str) -> None:
    for label, srcset in builders():
        values = iter((1, 2) if name == "densities" else (320, 640))
        assert srcset("w=300", **{name: values}).count(", ") == 1, label
        with pytest.raises(VariantError) as caught:
            srcset("w=300", **{name: values})  # exhausted: what it holds now is nothing
        assert str(caught.value) == f"{what} is empty", label


EXTRAS: list[dict[str, Any]] = [
    {}, {"min_width": 500}, {"max_width": 800}, {"tolerance": 0.2}, {"min_width": 500, "max_width": 800},
    {"layout": "fixed", "width": 300, "height": 200}, {"min_width": True}, {"max_width": 800.0}, {"tolerance": True},
    {"min_width": 500.0}, {"layout": "constrained", "width": 300, "original": (600, 400)},
    {"layout": "constrained", "width": 300, "height": 200}, {"tolerance": 1}, {"tolerance": True},
    {"densities": (1, 2)}, {"densities": (1, 3)},
]  # fmt: skip


def answer(srcset: Srcset, extras: dict[str, Any]) -> tuple[str, str]:
    try:
        return "srcset", srcset("fit=cover", **extras)
    except Exception as exc:  # an error is an answer too: its type and message
        return type(exc).__name__, str(exc)


def test_each_fluid_or_layout_argument_makes_another_request() -> None:
    """One argument added, changed or swapped for an equal value of another type (500 and 500.0, 1 and True)
    between two calls: a builder that remembers answers each call as one that remembers nothing."""
    fresh = dict(builders())
    for name, srcset in builders():
        if name.endswith("-0"):
            continue
        reference = fresh[name.replace("None", "0")]
        for extras in EXTRAS + EXTRAS[::-1]:
            assert answer(srcset, extras) == answer(reference, extras), (name, extras)
    assert answer(fresh["delivery-0"], {"min_width": 500}) != answer(fresh["delivery-0"], {})


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        ({"max_width": 800.0}, "max_width must be an integer, not 800.0"),
        ({"min_width": 320.5}, "min_width must be an integer, not 320.5"),
        ({"min_width": "320"}, "min_width must be an integer, not '320'"),
        ({"max_width": True}, "max_width must be an integer, not True"),
        ({"tolerance": "0.1"}, "tolerance must be a number, not '0.1'"),
        ({"tolerance": True}, "tolerance must be a number, not True"),
        ({"min_width": 0}, "min_width must be a positive integer, not 0"),
        ({"min_width": 900, "max_width": 800},
         "max_width must be an integer from min_width (900) to 999999999, not 800"),
        ({"tolerance": 2}, "tolerance must be a number from 0.01 to 1, not 2"),
    ],
)  # fmt: skip
def test_a_bad_fluid_argument_is_named_with_its_value(extras: dict[str, Any], message: str) -> None:
    for label, srcset in builders():
        for _ in range(2):
            with pytest.raises(VariantError) as caught:
                srcset("fit=cover", **extras)
            assert str(caught.value) == message, label


@pytest.mark.parametrize(
    ("min_width", "max_width", "tolerance"),
    [(1, 3, 0.08), (1, 40, 0.5), (3, 50, 0.1), (321, 1000, 0.08), (99, 101, 0.01), (101, 4096, 0.08), (7, 7, 1)],
)
def test_every_fluid_width_is_from_min_width_to_max_width(min_width: int, max_width: int, tolerance: float) -> None:
    """Widths are even (halves round up, as imgix's fluid srcset does) and never below min_width: min_width=1 is a
    valid range, not a 0 width."""
    for label, srcset in builders():
        value = srcset("fit=cover", min_width=min_width, max_width=max_width, tolerance=tolerance)
        widths = [int(candidate.rsplit(" ", 1)[1].removesuffix("w")) for candidate in value.split(", ")]
        assert widths == sorted(set(widths)) and widths[-1] == max_width, label
        assert all(min_width <= width <= max_width for width in widths), (label, widths)
        assert all(width % 2 == 0 for width in widths[:-1]), (label, widths)
    assert Delivery(HASH).srcset(ID, "fit=cover", min_width=1, max_width=3).endswith("/w=3,fit=cover 3w")
    assert (
        Delivery(HASH)
        .srcset(ID, "fit=cover", min_width=321, max_width=400)
        .startswith(f"https://imagedelivery.net/{HASH}/{ID}/w=322,fit=cover 322w, ")
    )


class Text(str):
    """A str subclass, as a template engine hands a layout name on (markupsafe's Markup)."""

    __slots__ = ()


def test_a_layout_of_a_str_subclass_is_the_layout_of_its_text() -> None:
    for label, srcset in builders():
        for layout in ("fixed", "constrained", "full-width"):
            expected = srcset("fit=cover", layout=layout, width=300, height=200)
            assert srcset("fit=cover", layout=Text(layout), width=300, height=200) == expected, label
        with pytest.raises(ArgumentError) as caught:
            srcset("fit=cover", layout=Text("fluid"), width=300)
        assert str(caught.value) == "layout must be one of 'fixed', 'constrained', 'full-width', not 'fluid'", label
