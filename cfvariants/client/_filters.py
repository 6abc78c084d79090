"""Metadata filters for list v2: ``meta.<field>[<op>]=<value>`` query parameters (documented by Cloudflare after its
2024 OpenAPI schema: ops eq, eq:string, eq:number, eq:boolean, gt, gte, lt, lte, in, in:string, in:number).

``MetaFilter("status", "eq", "active")`` is one condition; a plain mapping ``{"status": "active", "stars": 5}``
means equality, typed from the Python value (``eq:string``, ``eq:number``, ``eq:boolean``), and a list or tuple
means ``in``. Conditions combine with AND. Cloudflare's limits are checked before sending: at most 5 filters, 5
nesting levels in a field path, 10 values for ``in``, numbers for range operators.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cfvariants.limits import MAX_FILTER_DEPTH, MAX_FILTER_IN_VALUES, MAX_FILTERS

from ._errors import ValidationError

OPERATORS = frozenset(
    {
        "eq", "eq:string", "eq:number", "eq:boolean",
        "gt", "gt:number", "gte", "gte:number", "lt", "lt:number", "lte", "lte:number",
        "in", "in:string", "in:number",
    }
)  # fmt: skip
_FIELD_PART = re.compile(r"[^.\[\]=&|#?\s]+")

Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class MetaFilter:
    """One metadata condition: ``field`` (dotted for nested keys, e.g. ``"region.name"``), an operator from
    Cloudflare's list (``eq``, ``gt:number``, ``in``...), and a value (a list of values for ``in``)."""

    field: str
    op: str
    value: Scalar | list[Scalar] | tuple[Scalar, ...]

    def query(self) -> tuple[str, str]:
        """The query parameter ``(name, value)``; raises ``ValidationError`` for a malformed condition."""
        parts = self.field.split(".") if isinstance(self.field, str) else []
        if not parts or not all(_FIELD_PART.fullmatch(part) for part in parts):
            raise ValidationError(f"metadata filter field {self.field!r} is not a dotted path of metadata keys")
        if len(parts) > MAX_FILTER_DEPTH:
            raise ValidationError(
                f"metadata filter field {self.field!r} nests {len(parts)} levels; at most {MAX_FILTER_DEPTH}"
            )
        if self.op not in OPERATORS:
            raise ValidationError(f"metadata filter operator {self.op!r} is not one of {', '.join(sorted(OPERATORS))}")
        base = self.op.split(":", 1)[0]
        if base == "in":
            values = self.value if isinstance(self.value, list | tuple) else [self.value]
            if not 1 <= len(values) <= MAX_FILTER_IN_VALUES:
                raise ValidationError(
                    f"metadata filter {self.field!r} [in] takes 1 to {MAX_FILTER_IN_VALUES} values, not {len(values)}"
                )
            text = "|".join(_render(self.field, value, in_list=True) for value in values)
        else:
            if isinstance(self.value, list | tuple):
                raise ValidationError(f"metadata filter {self.field!r} [{self.op}] takes one value, not a list")
            if base in ("gt", "gte", "lt", "lte") and (
                isinstance(self.value, bool) or not isinstance(self.value, int | float)
            ):
                raise ValidationError(f"metadata filter {self.field!r} [{self.op}] compares numbers only")
            text = _render(self.field, self.value, in_list=False)
        return f"meta.{self.field}[{self.op}]", text


MetaFilters = Mapping[str, Any] | Iterable[MetaFilter]


def _render(field: str, value: object, *, in_list: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"metadata filter {field!r}: {value!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        if in_list and "|" in value:
            raise ValidationError(f"metadata filter {field!r}: {value!r} contains '|', which separates 'in' values")
        return value
    raise ValidationError(f"metadata filter {field!r}: {type(value).__name__} is not a string, number or boolean")


def _typed_equality(field: str, value: Any) -> MetaFilter:
    if isinstance(value, list | tuple):
        kinds = {_kind(field, item) for item in value}
        op = "in:number" if kinds == {"number"} else "in:string" if kinds == {"string"} else "in"
        return MetaFilter(field, op, tuple(value))
    return MetaFilter(field, f"eq:{_kind(field, value)}", value)


def _kind(field: str, value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    raise ValidationError(f"metadata filter {field!r}: {type(value).__name__} is not a string, number or boolean")


def meta_query(filters: MetaFilters | None) -> list[tuple[str, str]]:
    """Query parameters for ``filters`` (a mapping of equalities, or ``MetaFilter`` conditions)."""
    if filters is None:
        return []
    if isinstance(filters, Mapping):
        conditions = [_typed_equality(str(field), value) for field, value in filters.items()]
    else:
        conditions = list(filters)
        for condition in conditions:
            if not isinstance(condition, MetaFilter):
                raise ValidationError(f"metadata filters must be MetaFilter objects, not {type(condition).__name__}")
    if len(conditions) > MAX_FILTERS:
        raise ValidationError(f"{len(conditions)} metadata filters; Cloudflare accepts at most {MAX_FILTERS}")
    return [condition.query() for condition in conditions]
