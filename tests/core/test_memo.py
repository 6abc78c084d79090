"""``Memo``: remembers up to its limit, forgets everything at once when full, and nothing with limit 0."""

from __future__ import annotations

from cfvariants import Delivery
from cfvariants._memo import Memo, remember


def test_a_memo_remembers_up_to_its_limit_then_starts_again() -> None:
    memo: Memo[str, int] = Memo(3)
    sizes = []
    for n in range(10):
        assert memo.keep(f"k{n}", n) == n
        assert memo.entries.get(f"k{n}") == n
        sizes.append(len(memo))
    assert sizes == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1]


def test_limit_zero_remembers_nothing_and_plain_tables_follow_the_same_rule() -> None:
    memo: Memo[str, int] = Memo(0)
    assert memo.keep("a", 1) == 1 and len(memo) == 0
    table: dict[str, int] = {}
    assert [remember(table, 2, key, 0) for key in "abc"] == [0, 0, 0] and table == {"c": 0}
    assert remember(table, 0, "d", 4) == 4 and "d" not in table


def test_a_delivery_never_holds_more_urls_per_variant_than_its_cache_size() -> None:
    cf = Delivery("ZWd9g1K7eljCn_KDTu_MWA", cache_size=4)
    for n in range(30):
        cf.url(f"id{n}", "avatar")
        assert all(len(row) <= 4 for row in cf._urls.values())
