"""What the core promises to skip, counted where the skipped work happens: a process validates each variant
spelling, keyword set and option string once (the process-wide memos of ``cfvariants._segments`` and
``cfvariants._options``: a second ``Delivery``, which has none of the first one's rows, costs no second
validation), and the fast paths of ``Delivery`` never take the general path for what they handle (a plain id, an
integer lifetime). Their results are the same as the slower path's, so only the calls tell them apart."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import cfvariants._delivery as delivery_module
import cfvariants._options as options_module
import cfvariants._segments as segments_module
from cfvariants import Delivery, Options, sign_url, verify
from cfvariants._urls import MAX_EXP, MAX_ID_LENGTH

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
EXP = 2_000_000_000
_fresh = itertools.count(101)


def fresh_width() -> int:
    """A width no earlier test asked for, so no memo filled before this test can answer for it."""
    return 7000 + next(_fresh)


@pytest.fixture
def count(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any, str], list[object]]]:
    """``count(module, name)``: the arguments of every call of ``module.name`` from now on (it still runs)."""

    def counting(module: Any, name: str) -> list[object]:
        calls: list[object] = []
        real = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(args[0] if args else kwargs)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)
        return calls

    yield counting


def test_a_variant_name_is_checked_once_per_process(count: Callable[[Any, str], list[object]]) -> None:
    checks = count(segments_module, "check_variant_name")
    name = f"thumb{fresh_width()}"
    first = Delivery(HASH).url(ID, name)
    assert Delivery(HASH).url(ID, name) == first == f"https://imagedelivery.net/{HASH}/{ID}/{name}"
    assert Delivery(HASH, domain="img.example.com").options_of(name) is None
    assert checks == [name]


def test_a_variant_option_string_is_resolved_once_per_process(count: Callable[[Any, str], list[object]]) -> None:
    parses = count(options_module, "_parse")
    text = f"width={fresh_width()},fit=cover"
    first = Delivery(HASH).url(ID, text)
    assert Delivery(HASH).url(ID, text) == first and Delivery(HASH).options_of(text) == Options.parse(text)
    assert parses == [text]


def test_an_option_string_is_parsed_once_and_a_str_subclass_every_time(
    count: Callable[[Any, str], list[object]],
) -> None:
    class Text(str):
        __slots__ = ()

    parses = count(options_module, "_parse")
    text = f"w={fresh_width()},q=80"
    assert Options.parse(text) == Options.parse(text) == Options.parse(Text(text))
    assert parses == [text, text]  # the str subclass: no memo key carries its type, so it is parsed again


def test_a_keyword_set_is_merged_once_per_process(count: Callable[[Any, str], list[object]]) -> None:
    merges = count(segments_module, "merge_options")
    width = fresh_width()
    keyword_sets: list[dict[str, Any]] = [{"width": width}, {"width": width, "fit": "cover"}, {"height": width}]
    for keywords in keyword_sets:
        first = Delivery(HASH).url(ID, **keywords)
        assert Delivery(HASH).url(ID, **keywords) == first, keywords
        assert Delivery(HASH).url("cat", None, **keywords) == first.replace(ID, "cat"), keywords
    assert len(merges) == len(keyword_sets)
    brightness = 1 + width % 1000 / 1000  # a value no other test asks for
    srcset = Delivery(HASH).srcset(ID, widths=(320,), brightness=brightness)
    assert Delivery(HASH).srcset(ID, widths=(320,), brightness=brightness) == srcset
    assert len(merges) == len(keyword_sets) + 1


# -- the fast paths: what they skip is never called for what they take (counted at the slower path) -----------------

PLAIN_IDS = [ID, "abc_DEF-123", "x", "a" * MAX_ID_LENGTH]
OTHER_IDS = [
    "a b",
    "users/7/cat.png",
    "café",
    "a" * (MAX_ID_LENGTH + 1),
    f"https://imagedelivery.net/{HASH}/{ID}/public",
]


def test_a_plain_id_is_built_without_the_general_path(count: Callable[[Any, str], list[object]]) -> None:
    """An id of ASCII letters, digits, - and _ (up to the length limit) is pasted into the URL as it is; every
    other id goes through the general path, which encodes or refuses it. The URLs are the same either way, which
    is why only the calls tell the paths apart."""
    bases = count(delivery_module, "_image_base")
    paths = count(Delivery, "_origin_and_path")
    cf = Delivery(HASH, signing_key="k")
    for image in PLAIN_IDS:
        assert answer(cf.url, image, "avatar") == f"https://imagedelivery.net/{HASH}/{image}/avatar"
        assert answer(cf.signed_url, image, "avatar", expires_at=EXP) == answer(
            sign_url, cf.url(image, "avatar"), "k", exp=EXP
        )
    assert bases == [] and paths == []
    for image in OTHER_IDS:
        answer(cf.url, image, "avatar"), answer(cf.signed_url, image, "avatar", expires_at=EXP)
    assert len(bases) == len(paths) == len(OTHER_IDS)


def test_an_integer_lifetime_or_expiry_is_computed_without_expiry(count: Callable[[Any, str], list[object]]) -> None:
    """What signed_url computes inline for an int is what expiry() gives (tests/core/test_delivery_contracts.py);
    only other types, and lifetimes too long to add without overflow checks, take expiry()."""
    calls = count(delivery_module, "expiry")
    cf = Delivery(HASH, signing_key="k", cache_size=0)
    for kwargs in ({"expires_in": 1}, {"expires_in": 3600}, {"expires_at": 1}, {"expires_at": MAX_EXP}):
        assert verify(cf.signed_url(ID, "thumb", **kwargs), "k", now=0), kwargs
    assert calls == []
    others: list[dict[str, Any]] = [
        {"expires_in": 1.5}, {"expires_in": timedelta(seconds=60)}, {"expires_at": 2_000_000_000.0},
        {"expires_at": datetime(2033, 5, 18, tzinfo=UTC)}, {"expires_in": True}, {"expires_at": MAX_EXP + 1},
        {"expires_in": 0}, {"expires_at": 0},
    ]  # fmt: skip
    for kwargs in others:
        answer(cf.signed_url, ID, "thumb", **kwargs)
    assert len(calls) == len(others)


def answer(call: Callable[..., object], *args: Any, **kwargs: Any) -> object:
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        return type(exc).__name__, str(exc)
