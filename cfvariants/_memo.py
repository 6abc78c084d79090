"""``Memo``: the one cache structure of the core, a dict that forgets everything when it is full.

Caches here are an optimisation, never the design: every value in a memo is what the uncached code computes, and
the first call for a key never seen costs that computation plus one insertion. Forgetting everything at once
(rather than least-recently-used bookkeeping) keeps a hit to one dict lookup and a miss free of exceptions; a
server that renders the same pages refills a memo within a page or two.

A key must say everything its value depends on. ``True == 1 == 1.0`` with equal hashes while validation tells
them apart, so a key made of caller arguments is exact only if equal arguments are of equal types: when every
argument is exactly a ``str`` or an ``int`` (what equals one of them without being one, such as ``True``, ``1.0``,
an ``IntEnum`` or a ``str`` subclass, is not exactly of that type), the values alone; otherwise the key carries
each argument's type too, and a value is remembered only when every argument is a scalar (``SCALAR_TYPES``): a
tuple's elements would need their types as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sized
from typing import Any, Generic, NamedTuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")

SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
"""Types whose values are exact memo keys once their type is part of the key (containers are not: their elements
would need types of their own)."""


class Memo(Generic[K, V]):
    """A bounded memo: ``memo.entries.get(key)`` to look up (a plain dict, the fastest lookup Python has),
    ``memo.keep(key, value)`` to remember and return a value.

    Holds at most ``limit`` entries (``limit=0`` remembers nothing). Safe to share between threads: a reader sees
    a value or no value, never a half-written one."""

    __slots__ = ("entries", "limit")

    def __init__(self, limit: int) -> None:
        self.entries: dict[K, V] = {}
        self.limit = limit

    def keep(self, key: K, value: V) -> V:
        return remember(self.entries, self.limit, key, value)

    def __len__(self) -> int:
        return len(self.entries)


def remember(table: dict[K, V], limit: int, key: K, value: V) -> V:
    """Keep ``value`` under ``key`` in a plain dict that holds at most ``limit`` entries (the rule of ``Memo``,
    for tables on a hot path, where a plain dict's lookup is what a hit costs)."""
    if limit:
        if len(table) >= limit:
            table.clear()
        table[key] = value
    return value


class CacheInfo(NamedTuple):
    """What a ``Delivery`` or ``Transformations`` remembers, to choose its ``cache_size`` (``cache_info()``).

    ``misses``: calls that computed their result (the first sight of an image through a variant, a signed URL
    of another second, or an argument no memo can hold; a refused call is not counted); a warm page that still
    adds misses needs a larger ``cache_size``. ``entries``: results remembered now. ``cache_size``: the most
    results remembered per variant, keyword set or srcset request (a full one forgets them and starts again); 0
    remembers none. Hits are not counted, so a hit costs nothing more; misses of threads that miss at the same
    instant may count once."""

    misses: int
    entries: int
    cache_size: int


class Misses:
    """The misses of one ``Delivery`` or ``Transformations``: a counter incremented on the miss path only."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


def cache_info(misses: Misses, tables: Iterable[Mapping[Any, Sized]], cache_size: int) -> CacheInfo:
    """``CacheInfo`` from an instance's misses and its tables of rows (each row a ``Memo`` of results)."""
    return CacheInfo(misses.count, sum(len(row) for table in tables for row in table.values()), cache_size)
