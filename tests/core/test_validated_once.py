"""A process validates each variant spelling, keyword set and option string once (what the process-wide memos of
``cfvariants._segments`` and ``cfvariants._options`` are for): a second ``Delivery``, which has none of the first
one's rows, costs no second validation. Counted where the validation happens (the name check, the merge of
keyword options, the option-string parser); the URLs are compared with what the first builder gave."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import cfvariants._options as options_module
import cfvariants._segments as segments_module
from cfvariants import Delivery, Options

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
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
