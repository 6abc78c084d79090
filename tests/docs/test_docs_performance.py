"""docs/performance.md shows exactly the tables the benchmarks wrote to benchmarks/results/ (no benchmark runs here).

A table edited on the page by hand, a result not copied in (``python3 dev.py bench --docs``), or a result the page
does not show fails these tests.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def results_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_results", ROOT / "benchmarks" / "_results.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("benchmark_results", module)
    spec.loader.exec_module(module)
    return module


results = results_module()


def test_the_page_shows_the_committed_results() -> None:
    page = results.PAGE.read_text()
    assert results.spliced(page) == page, (
        "docs/performance.md differs from benchmarks/results/: python3 dev.py bench --docs"
    )


def test_every_result_is_on_the_page_and_every_table_on_the_page_has_a_result() -> None:
    shown = results.shown(results.PAGE.read_text())
    committed = sorted(path.stem for path in results.RESULTS.glob("*.md"))
    assert sorted(shown) == committed
    assert len(shown) == len(set(shown))


def test_a_benchmark_table_is_replaced_by_its_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["bench_x.py"])
    results.publish("demo", ["case", "ratio"], [["warm", "1.10"], ["a|b", "2"]], "Best of 9.")
    page = "# Speed\n\n<!-- benchmark: demo -->\nold table\n<!-- /benchmark -->\n\nafter\n"
    new = results.spliced(page)
    assert "old table" not in new and new.endswith("<!-- /benchmark -->\n\nafter\n")
    assert "| case | ratio |\n| --- | --- |\n| warm | 1.10 |\n| a\\|b | 2 |" in new
    assert "`python3 dev.py bench demo`" in new and "Best of 9." in new
    assert results.spliced(new) == new


def test_a_quick_run_is_not_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["bench_x.py", "--quick"])
    assert results.publish("demo", ["case"], [["warm"]]) is None
    assert not list(tmp_path.iterdir())


def test_a_table_without_a_result_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    with pytest.raises(SystemExit, match="missing"):
        results.spliced("<!-- benchmark: missing -->\n<!-- /benchmark -->\n")
