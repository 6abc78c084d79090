"""Values typed on the command line: JSON-or-text values, ``key=value`` pairs, durations and timestamps."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from ._errors import CLIUsageError


def parse_json_value(text: str) -> Any:
    """A value typed on the command line: JSON when it reads as JSON (``7``, ``true``, ``"7"``, ``[1, 2]``),
    otherwise the text itself (``cat``)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(values: Iterable[str], option: str) -> dict[str, Any]:
    """``key=value`` options into a dict (values as ``parse_json_value``); a malformed one is a usage error."""
    pairs: dict[str, Any] = {}
    for item in values:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise CLIUsageError(f"{option} {item!r} is not key=value")
        pairs[key.strip()] = parse_json_value(value)
    return pairs


if TYPE_CHECKING:
    _IntParam = click.ParamType[int, Any]
else:  # click < 8.2 has no type parameters
    _IntParam = click.ParamType


class Duration(_IntParam):
    """Seconds, or a duration such as ``90s``, ``15m``, ``2h``, ``7d``, ``1h30m``."""

    name = "duration"
    _PART = re.compile(r"(\d+)([smhdw]?)")
    _UNITS: Mapping[str, int] = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        parts = list(self._PART.finditer(text))
        if not text or "".join(m.group(0) for m in parts) != text:
            self.fail(f"{value!r} is not a duration such as 3600, 90s, 15m, 2h or 7d", param, ctx)
        seconds = sum(int(m.group(1)) * self._UNITS[m.group(2)] for m in parts)
        if seconds <= 0:
            self.fail(f"{value!r} must be longer than zero", param, ctx)
        return seconds


class Timestamp(_IntParam):
    """Unix seconds, or an ISO 8601 date-time with a time zone (``2026-01-01T00:00:00Z``)."""

    name = "timestamp"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is neither unix seconds nor an ISO 8601 date-time", param, ctx)
        if when.tzinfo is None:
            stem = text if "T" in text or " " in text else f"{text}T00:00:00"  # a date alone takes a time first
            self.fail(f"{value!r} has no time zone; add one, e.g. {stem}Z or {stem}+02:00", param, ctx)
        return int(when.timestamp())


DURATION = Duration()
TIMESTAMP = Timestamp()
