"""List v2's query language: metadata filters and continuation tokens, as Cloudflare documents them.

Filters are ``meta.<field>[<op>]=<value>`` query parameters, at most 5, a field path of at most 5 levels
(``meta.a.b[eq]``), AND semantics. Operators: ``eq`` (matches a string equal to the text, a number equal to it,
or a boolean spelled ``true``/``false``), ``eq:string``, ``eq:number``, ``eq:boolean``; ``gt``, ``gte``, ``lt``,
``lte`` with or without ``:number`` (numbers only); ``in``, ``in:string``, ``in:number`` with at most 10
``|``-separated values. A field that is missing, or of another type, does not match.

A continuation token is an opaque 22-character string encoding the position (upload time, insertion order) of
the last image returned, so pages stay consistent while images are added or deleted.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cfvariants.emulator._errors import bad_request
from cfvariants.limits import MAX_FILTER_DEPTH, MAX_FILTER_IN_VALUES, MAX_FILTERS

_FILTER = re.compile(r"meta\.([^\[\]]+)\[([a-z:]+)\]")
_OPERATORS = frozenset(
    {
        "eq", "eq:string", "eq:number", "eq:boolean",
        "gt", "gt:number", "gte", "gte:number", "lt", "lt:number", "lte", "lte:number",
        "in", "in:string", "in:number",
    }
)  # fmt: skip
_TOKEN = struct.Struct(">QQ")
_INT64_LIMIT = 2**63  # SQLite integers are signed 64-bit


@dataclass(frozen=True)
class EmulatorMetaFilter:
    """One ``meta.<path>[<op>]=<value>`` condition as the emulator parsed it from a list request, with its test
    compiled; what a caller sends is ``cfvariants.client.MetaFilter``, and this is what the server matches."""

    path: tuple[str, ...]
    op: str
    test: Callable[[Any], bool]

    def matches(self, meta: dict[str, Any]) -> bool:
        value: Any = meta
        for key in self.path:
            if not isinstance(value, dict) or key not in value:
                return False
            value = value[key]
        return self.test(value)


def parse_filters(params: Iterable[tuple[str, str]]) -> list[EmulatorMetaFilter]:
    """The metadata filters among the query parameters (others are ignored); raises 5400 for a bad one."""
    filters: list[EmulatorMetaFilter] = []
    for name, value in params:
        if not name.startswith("meta."):
            continue
        match = _FILTER.fullmatch(name)
        if not match:
            raise bad_request(f"metadata filter {name!r} must look like meta.<field>[<operator>], e.g. meta.status[eq]")
        path, op = tuple(match.group(1).split(".")), match.group(2)
        if op not in _OPERATORS:
            raise bad_request(
                f"metadata filter {name!r}: unknown operator {op!r}; use one of {', '.join(sorted(_OPERATORS))}"
            )
        if len(path) > MAX_FILTER_DEPTH or "" in path:
            raise bad_request(
                f"metadata filter {name!r}: the field path must have 1 to {MAX_FILTER_DEPTH} non-empty levels"
            )
        filters.append(EmulatorMetaFilter(path, op, _test(name, op, value)))
    if len(filters) > MAX_FILTERS:
        raise bad_request(f"at most {MAX_FILTERS} metadata filters are allowed, got {len(filters)}")
    return filters


def _number(name: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise bad_request(f"metadata filter {name}: {text!r} is not a number") from None
    if not math.isfinite(number):
        raise bad_request(f"metadata filter {name}: {text!r} is not a finite number")
    return number


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _loose_equal(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if _is_number(value):
        try:
            return float(value) == float(text)
        except ValueError:
            return False
    return isinstance(value, str) and value == text


def _test(name: str, op: str, text: str) -> Callable[[Any], bool]:
    base, _, kind = op.partition(":")
    if base == "in":
        values = text.split("|")
        if len(values) > MAX_FILTER_IN_VALUES:
            raise bad_request(f"metadata filter {name}: at most {MAX_FILTER_IN_VALUES} values, got {len(values)}")
        if kind == "number":
            numbers = {_number(name, v) for v in values}
            return lambda value: _is_number(value) and float(value) in numbers
        if kind == "string":
            return lambda value: isinstance(value, str) and value in values
        return lambda value: any(_loose_equal(value, v) for v in values)
    if base == "eq":
        if kind == "number":
            number = _number(name, text)
            return lambda value: _is_number(value) and float(value) == number
        if kind == "boolean":
            if text not in ("true", "false"):
                raise bad_request(f"metadata filter {name}: {text!r} is not true or false")
            flag = text == "true"
            return lambda value: isinstance(value, bool) and value is flag
        if kind == "string":
            return lambda value: isinstance(value, str) and value == text
        return lambda value: _loose_equal(value, text)
    bound = _number(name, text)
    compare: dict[str, Callable[[float], bool]] = {
        "gt": lambda v: v > bound,
        "gte": lambda v: v >= bound,
        "lt": lambda v: v < bound,
        "lte": lambda v: v <= bound,
    }
    check = compare[base]
    return lambda value: _is_number(value) and check(float(value))


def encode_token(position: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(_TOKEN.pack(*position)).decode("ascii").rstrip("=")


def decode_token(token: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        uploaded_ns, seq = _TOKEN.unpack(raw)
    except (binascii.Error, struct.error, ValueError):
        uploaded_ns = seq = _INT64_LIMIT  # refused below
    if uploaded_ns >= _INT64_LIMIT or seq >= _INT64_LIMIT or encode_token((uploaded_ns, seq)) != token:
        # decodes, but not to a position SQLite can compare (or not in the form this API writes)
        raise bad_request(f"continuation_token {token[:40]!r} is not a token this API returned")
    return int(uploaded_ns), int(seq)
