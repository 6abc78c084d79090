"""What ``Delivery.srcset`` and ``Transformations.srcset`` remember: a srcset request as an exact memo key, and the
row of srcsets (by image or source) that the request's candidates made.

A request is validated once (``cfvariants._html.srcset_candidates``); its ``(segment, descriptor)`` candidates are
kept in a ``SrcsetRow``, and each image's srcset in the row's memo, because a page renders the same srcsets again.
The key carries the type of every scalar (``True == 1 == 1.0``, yet only ``1`` is a width); the row checks the
elements of ``widths`` and ``densities`` (``made_from``), the same tuple object in the usual case of a constant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import VariantError
from ._html import srcset_candidates
from ._memo import SCALAR_TYPES, Memo, remember
from ._options import Options

MAX_REQUESTS = 1024
"""Distinct srcset requests remembered per ``Delivery`` or ``Transformations``."""


def as_tuple(values: Iterable[Any], name: str) -> tuple[Any, ...]:
    """``values`` as a tuple (a generator is read once, here, and the tuple used from then on); callers keep
    ``None`` and tuples as they are, without a call."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise VariantError(f"{name} must be a list of numbers, not {type(values).__name__}")
    return tuple(values)


def request_key(
    variant: object,
    widths: tuple[Any, ...] | None,
    densities: tuple[Any, ...] | None,
    min_width: object,
    max_width: object,
    tolerance: object,
    layout: object,
    original: object,
    options: Mapping[str, Any],
) -> tuple[object, ...]:
    """The memo key of a srcset request (``widths``/``densities`` already tuples, ``original`` an ``Original``).

    Written out rather than unpacked (``*options``), which costs more than the rest of a remembered call; the
    usual request (widths or nothing, a few options) has a short key of its own, which no full key can equal
    (its third element, if any, is an option's name, a full key's is ``densities``: ``None`` or a tuple). The
    types of the scalars that validation tells apart (``True`` is no width) are part of the key; a layout's is
    not: only a text is a layout, and a ``str`` subclass is one as its text is."""
    if (
        densities is None
        and min_width is None
        and max_width is None
        and tolerance is None
        and layout is None
        and original is None
    ):
        key: tuple[object, ...] = (variant, widths)
    else:
        key = (
            variant, widths, densities, min_width, max_width, tolerance, layout, original,
            type(min_width), type(max_width), type(tolerance),
        )  # fmt: skip
    for name, value in options.items():
        key += (name, value, type(value))
    return key


class SrcsetRow(Memo[str, str]):
    """The srcsets made for one srcset request, by image id (or source): the request's ``(segment,
    descriptor)`` candidates, and the widths and densities it was made from."""

    __slots__ = ("candidates", "densities", "widths")

    def __init__(
        self,
        limit: int,
        candidates: tuple[tuple[str, str], ...],
        widths: tuple[Any, ...] | None,
        densities: tuple[Any, ...] | None,
    ) -> None:
        super().__init__(limit)
        self.candidates = candidates
        self.widths = widths
        self.densities = densities

    def made_from(self, widths: tuple[Any, ...] | None, densities: tuple[Any, ...] | None) -> bool:
        """Whether the (equal) ``widths`` and ``densities`` of a request are of the same types as this row's: the
        same tuples (the usual case: a constant) or tuples whose elements have the same types."""
        return (widths is self.widths or _kinds(widths) == _kinds(self.widths)) and (
            densities is self.densities or _kinds(densities) == _kinds(self.densities)
        )


def make_row(
    limit: int,
    request: tuple[Any, ...],
    options: dict[str, Any],
    resolve: Callable[[dict[str, Any]], Options],
) -> SrcsetRow:
    """Validate a srcset ``request`` (``widths, densities, min_width, max_width, tolerance, layout, original``)
    with keyword ``options`` (``resolve`` makes them the candidates' base options) into a row of ``limit``."""
    widths, densities, min_width, max_width, tolerance, layout, original = request
    size: dict[str, Any] = {}
    if layout is not None:  # width/height are the layout's CSS size, not options
        options = dict(options)
        size = {"width": options.pop("width", None), "height": options.pop("height", None)}
    candidates = srcset_candidates(
        resolve(options), widths=widths, densities=densities, min_width=min_width, max_width=max_width,
        tolerance=tolerance, layout=layout, original=original, **size,
    )  # fmt: skip
    return SrcsetRow(limit, candidates, widths, densities)


def remember_row(
    table: dict[tuple[object, ...], SrcsetRow], key: tuple[object, ...], row: SrcsetRow, scalars: Iterable[object]
) -> SrcsetRow:
    """Keep ``row`` under ``key`` when the key is exact: every value whose type it carries (``scalars``) is a
    scalar (a tuple value's elements would need types of their own); never when the row keeps no srcset
    (``cache_size=0``: nothing is remembered)."""
    if row.limit and SCALAR_TYPES.issuperset(map(type, scalars)):
        remember(table, MAX_REQUESTS, key, row)
    return row


def _kinds(values: tuple[Any, ...] | None) -> tuple[type, ...]:
    return tuple(map(type, values or ()))
