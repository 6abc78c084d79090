"""Benchmark results as tables committed beside the scripts; docs/performance.md shows them.

Each script calls ``publish(name, header, rows)`` after measuring: the table goes to ``benchmarks/results/<name>.md``
with a line saying how and on what it was measured. ``python3 dev.py bench`` then copies every table into
docs/performance.md between ``<!-- benchmark: <name> -->`` and ``<!-- /benchmark -->`` (``python3 dev.py bench
--docs`` does only that), so the page shows what the scripts measured; tests/docs/test_docs_performance.py fails when
the page and the results disagree. CI never runs the benchmarks. A ``--quick`` run is not published: its numbers
are for a look, not for the page.

    python benchmarks/_results.py      copy the results into docs/performance.md
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "performance.md"
BLOCK = re.compile(r"(<!-- benchmark: ([a-z0-9_-]+) -->\n)(.*?)(<!-- /benchmark -->)", re.DOTALL)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; ``|`` inside a cell is escaped."""

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in rows)])


def publish(
    name: str, header: Sequence[str], rows: Sequence[Sequence[object]], note: str = "", *, command: str = ""
) -> Path | None:
    """Write ``benchmarks/results/<name>.md``: the table, then how it was measured (and ``note``); ``command`` is
    the benchmark's name for ``dev.py bench`` when a script publishes more than one table."""
    if "--quick" in sys.argv:
        print(f"(--quick: not written to benchmarks/results/{name}.md)")
        return None
    day = datetime.datetime.now(datetime.UTC).date().isoformat()
    load = f", load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    machine = f"Python {platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}){load}"
    about = f"Measured on {day} by `python3 dev.py bench {command or name}`: {machine}."
    path = RESULTS / f"{name}.md"
    RESULTS.mkdir(exist_ok=True)
    path.write_text("\n\n".join(part for part in (table(header, rows), f"{about} {note}".strip()) if part) + "\n")
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"written to {where}; `python3 dev.py bench --docs` puts it into docs/performance.md")
    return path


def spliced(page: str) -> str:
    """``page`` with every benchmark block replaced by the current result of that name."""

    def replace(match: re.Match[str]) -> str:
        path = RESULTS / f"{match.group(2)}.md"
        if not path.exists():
            raise SystemExit(f"docs/performance.md shows benchmark {match.group(2)!r}, but {path} does not exist")
        return f"{match.group(1)}\n{path.read_text()}\n{match.group(4)}"  # blank lines: Markdown, not HTML

    return BLOCK.sub(replace, page)


def shown(page: str) -> list[str]:
    """The names of the benchmark blocks on ``page``, in order."""
    return [match.group(2) for match in BLOCK.finditer(page)]


def update_page() -> bool:
    """Copy the results into docs/performance.md; whether it changed."""
    before = PAGE.read_text()
    after = spliced(before)
    missing = sorted({path.stem for path in RESULTS.glob("*.md")} - set(shown(before)))
    if missing:
        print(f"results not shown on docs/performance.md (add a <!-- benchmark: NAME --> block): {', '.join(missing)}")
    if after != before:
        PAGE.write_text(after)
    return after != before


if __name__ == "__main__":
    print("docs/performance.md updated" if update_page() else "docs/performance.md already shows every result")
