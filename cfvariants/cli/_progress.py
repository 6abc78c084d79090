"""How an upload reports itself: a progress bar on a terminal, plain lines otherwise, or streamed JSON.

``Tally`` counts; ``render_bar`` draws one line from it (pure, so it is tested directly); the reporters decide
where things go. Results are written as they happen and not kept, so memory does not grow with the file count.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import click

Status = Literal["uploaded", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one file."""

    path: str
    status: Status
    size: int
    image_id: str | None = None
    reason: str | None = None
    verified: bool = False
    """The image on Cloudflare was checked to hold this file's content (by its SHA-256): safe to delete the
    source."""


@dataclass
class Tally:
    """Counts so far, against the totals found before starting. ``total_bytes=None``: sizes are not known
    up front (files in a Django storage), so progress, rate and ETA go by files. ``verb`` names what happened
    to a file that went through (``uploaded``, ``migrated``)."""

    total_files: int
    total_bytes: int | None
    uploaded: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_uploaded: int = 0
    bytes_done: int = 0
    started: float = field(default_factory=time.monotonic)
    verb: str = "uploaded"

    @property
    def files_done(self) -> int:
        return self.uploaded + self.skipped + self.failed

    def add(self, result: FileResult) -> None:
        if result.status == "uploaded":
            self.uploaded += 1
            self.bytes_uploaded += result.size
        elif result.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1
        self.bytes_done += result.size

    def elapsed(self, now: float | None = None) -> float:
        return max(0.0, (time.monotonic() if now is None else now) - self.started)

    def rate(self, now: float | None = None) -> float:
        """Finished files per second when sizes are unknown, else bytes of finished files (uploaded, skipped or
        failed) per second."""
        elapsed = self.elapsed(now)
        done = self.files_done if self.total_bytes is None else self.bytes_done
        return done / elapsed if elapsed > 0 else 0.0

    def amount(self, now: float | None = None) -> tuple[str, str]:
        """``("12.3 MB/45.6 MB", "1.2 MB/s")`` (or ``("12.3 MB", "3.1 files/s")`` by files): the bytes and the
        rate, in the one wording the bar and the summary share, so that they always agree."""
        rate = self.rate(now)
        if self.total_bytes is None:
            return human_bytes(self.bytes_done), f"{rate:.1f} files/s"
        return f"{human_bytes(self.bytes_done)}/{human_bytes(self.total_bytes)}", f"{human_bytes(rate)}/s"

    def summary(self, *, interrupted: bool = False, now: float | None = None) -> dict[str, object]:
        seconds = self.elapsed(now)
        return {
            self.verb: self.uploaded,
            "skipped": self.skipped,
            "failed": self.failed,
            "files": self.total_files,
            "bytes_uploaded": self.bytes_uploaded,
            "seconds": round(seconds, 3),
            "interrupted": interrupted,
        }


def human_bytes(count: float) -> str:
    """``1234567`` -> ``1.2 MB`` (decimal units, as Cloudflare states its limits)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_bar(tally: Tally, width: int, now: float | None = None) -> str:
    """One line: bar, files, bytes, rate and ETA, e.g.
    ``[#######------]  42/100 files  12.3 MB/45.6 MB  1.2 MB/s  ETA 0:27  (3 skipped, 1 failed)``."""
    by_files = tally.total_bytes is None
    done, total = (tally.files_done, tally.total_files) if by_files else (tally.bytes_done, tally.total_bytes or 0)
    rate = tally.rate(now)
    remaining = max(0, total - done)
    if tally.files_done >= tally.total_files:
        eta = "done"
    elif rate > 0:
        eta = f"ETA {human_duration(remaining / rate)}"
    else:
        eta = "ETA --:--"
    notes = [f"{n} {label}" for n, label in ((tally.skipped, "skipped"), (tally.failed, "failed")) if n]
    amount = "  ".join(tally.amount(now))
    text = f"{tally.files_done}/{tally.total_files} files  {amount}  {eta}" + (
        f"  ({', '.join(notes)})" if notes else ""
    )
    bar_width = max(10, min(40, width - len(text) - 4))
    fraction = done / total if total else 1.0
    filled = round(bar_width * min(1.0, fraction))
    return f"[{'#' * filled}{'-' * (bar_width - filled)}]  {text}"


class Reporter:
    """Receives the run's events; the base class stays silent."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally

    def file_done(self, result: FileResult) -> None:
        self.tally.add(result)

    def tick(self) -> None:
        """Called a few times a second while uploads run (redraws a bar)."""

    def finish(self, *, interrupted: bool = False) -> None:
        """Called once at the end, also after an interruption."""


class TextReporter(Reporter):
    """Human output. With ``bar``: a redrawn bar on stderr, failures printed above it. Without: one line per
    file on stdout (failures on stderr). Then a summary line."""

    def __init__(self, tally: Tally, *, bar: bool, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(tally)
        self.bar = bar
        self._clock = clock
        self._drawn = False
        self._last_draw = 0.0

    def file_done(self, result: FileResult) -> None:
        super().file_done(result)
        if result.status == "failed":
            self._above_bar(f"failed    {result.path}: {result.reason}", err=True)
        elif not self.bar:
            if result.status == "uploaded":
                verb = self.tally.verb.ljust(8)
                click.echo(f"{verb}  {result.path} -> {result.image_id} ({human_bytes(result.size)})")
            else:
                click.echo(f"skipped   {result.path}: {result.reason}")
        self._draw(force=False)

    def tick(self) -> None:
        self._draw(force=True)

    def finish(self, *, interrupted: bool = False) -> None:
        now = time.monotonic()  # one reading for the last frame and the summary, so that they agree
        self._draw(force=True, now=now)
        if self._drawn:
            click.echo("", err=True)
        tally = self.tally
        amount, rate = tally.amount(now)
        head = "Interrupted: " if interrupted else ""
        click.echo(
            f"{head}{tally.uploaded} {tally.verb}, {tally.skipped} skipped, {tally.failed} failed "
            f"({amount} in {tally.elapsed(now):.1f} s, {rate}; {human_bytes(tally.bytes_uploaded)} {tally.verb})"
        )

    def _above_bar(self, line: str, *, err: bool) -> None:
        if self._drawn:
            click.echo("\r\x1b[K", nl=False, err=True)
            self._drawn = False
        click.echo(line, err=err)

    def _draw(self, *, force: bool, now: float | None = None) -> None:
        if not self.bar:
            return
        clock = self._clock()
        if not force and clock - self._last_draw < 0.1:
            return
        self._last_draw = clock
        width = shutil.get_terminal_size((100, 20)).columns
        click.echo("\r\x1b[K" + render_bar(self.tally, width - 1, now), nl=False, err=True)
        self._drawn = True


class JsonReporter(Reporter):
    """``{"files": [...], "summary": {...}}`` on stdout, each file written as it finishes."""

    def __init__(self, tally: Tally) -> None:
        super().__init__(tally)
        self._first = True
        click.echo('{"files": [', nl=False)

    def file_done(self, result: FileResult) -> None:
        super().file_done(result)
        item = json.dumps(asdict(result), ensure_ascii=False)
        click.echo(("\n  " if self._first else ",\n  ") + item, nl=False)
        self._first = False

    def finish(self, *, interrupted: bool = False) -> None:
        summary = json.dumps(self.tally.summary(interrupted=interrupted))
        click.echo(("\n" if not self._first else "") + f'], "summary": {summary}}}')
