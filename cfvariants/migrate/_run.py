"""One migration run: a source, a rate-limited client, the pipeline, and the report at the end.

A source says what there is to move (``items``), how to move one item (``work``, on the upload loop) and what
to do once it is stored (``record``, in the caller's thread: rewrite a row, delete the old file). Everything
else is the same for a directory, a Django storage and a model field.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import httpx

from cfvariants._settings import Settings
from cfvariants.cli._files import Ignored, LocalFile, Rejected, discover
from cfvariants.cli._progress import FileResult, Reporter, Tally
from cfvariants.cli._uploader import Streak, UploadOptions, upload_one
from cfvariants.client import (
    BATCH_API_BASE,
    BATCH_TOKEN_LIMIT,
    DEFAULT_API_BASE,
    DEFAULT_LIMIT,
    AsyncImagesClient,
    RateLimit,
    RateLimitedTransport,
    RetryPolicy,
)

from ._pipeline import run_pipeline

T = TypeVar("T")

KEPT_FAILURES = 100
"""Failures kept for the final report (the rest are counted): memory stays flat however many files fail."""


class MigrationSource(Protocol[T]):
    """What a migration moves, and what it does around each upload (``migrate()`` takes one; ``DirectorySource``
    and the Django storage and field sources are the built-in ones)."""

    def count(self) -> tuple[int, int | None]:
        """(items, bytes or ``None`` when sizes are not known up front), for the progress bar."""

    def items(self) -> Iterable[T]:
        """The items, one at a time (read in the caller's thread)."""

    async def work(self, client: AsyncImagesClient, item: T, options: UploadOptions) -> FileResult:
        """Move one item (on the upload loop)."""

    def record(self, item: T, result: FileResult) -> FileResult:
        """After ``work``: make the result stick (rewrite a row, delete the source); the result to report."""


@dataclass
class MigrationReport:
    """What a run did. ``failures`` holds the first ``KEPT_FAILURES`` failed items with their reasons
    (``more_failures`` counts the rest); ``throttled`` is how many 429 answers came back and ``waited`` how many
    seconds the run held requests back to stay within the rate limit."""

    migrated: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[FileResult] = field(default_factory=list)
    more_failures: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    throttled: int = 0
    waited: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing failed and the run finished."""
        return not self.failed and not self.interrupted

    def add(self, result: FileResult) -> None:
        if result.status == "uploaded":
            self.migrated += 1
        elif result.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1
            if len(self.failures) < KEPT_FAILURES:
                self.failures.append(result)
            else:
                self.more_failures += 1


def run_migration(
    source: MigrationSource[T],
    *,
    settings: Settings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    upload: UploadOptions | None = None,
    rate_limit: RateLimit | None = None,
    retries: int = 5,
    reporter: Reporter | None = None,
    batch: bool = False,
) -> MigrationReport:
    """Move everything ``source`` holds to the account of ``settings`` (default: ``CF_*`` from the environment).

    ``upload``: concurrency, custom ids from paths (``id_from_path``, ``id_prefix``), metadata, privacy,
    creator. ``rate_limit``: the request budget shared by all workers (default: Cloudflare's 1,200 per five
    minutes, or with ``batch`` a batch token's 200 per second). ``batch``: get a batch token with the API
    token and send everything to the batch host, whose requests do not count toward the account's limit.
    ``retries``: per request (429s are
    waited out); an API that cannot be reached for ``UNREACHABLE_LIMIT`` files in a row stops the run with
    ``Unreachable`` (what was done is kept, a rerun resumes). ``transport``: an async httpx transport to send
    through (tests, proxies). ``reporter``: gets each result as it comes (a progress bar); by default nothing
    is printed."""
    options = upload or UploadOptions()
    settings = settings if settings is not None else Settings.load()
    rate_limit = rate_limit or (BATCH_TOKEN_LIMIT if batch else DEFAULT_LIMIT)
    inner = transport or httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=options.concurrency + 2))
    limited = RateLimitedTransport(inner, rate_limit)
    # A 429 locks an account out for the rest of the window: wait it out rather than give up.
    retry = RetryPolicy(max_attempts=retries + 1, max_retry_after=rate_limit.per + 60)
    files, size = source.count()
    reporter = reporter or Reporter(Tally(files, size, verb="migrated"))
    report = MigrationReport()
    streak = Streak()  # the API unreachable for several files in a row stops the run (``Unreachable``)

    @contextlib.asynccontextmanager
    async def make_client() -> AsyncIterator[AsyncImagesClient]:
        if not batch:
            async with AsyncImagesClient.from_settings(settings, transport=limited, retry=retry) as client:
                yield client
            return
        async with AsyncImagesClient.from_settings(settings, transport=_Kept(inner), retry=retry) as api:
            token = await api.get_batch_token()
        base = BATCH_API_BASE if settings.api_base == DEFAULT_API_BASE else settings.api_base.removesuffix("/client/v4")
        async with AsyncImagesClient(
            api_token=token.token, base_url=base, batch=True, transport=limited, retry=retry
        ) as client:
            yield client

    async def work(client: AsyncImagesClient, item: T) -> FileResult:
        return await streak.run(source.work(client, item, options))

    def on_result(item: T, result: FileResult) -> None:
        final = source.record(item, result)
        report.add(final)
        reporter.file_done(final)

    try:
        run_pipeline(source.items(), make_client, work, on_result, concurrency=options.concurrency, tick=reporter.tick)
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        report.seconds = reporter.tally.elapsed()
        report.throttled = limited.throttled
        report.waited = limited.bucket.waited
        reporter.finish(interrupted=report.interrupted)
    return report


class _Kept(httpx.AsyncBaseTransport):
    """``inner``, not closed with the client that used it (the batch client goes on using it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)


# -- a directory -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectorySource:
    """Image files under ``root`` (see ``cfvariants upload`` for how they are found); with ``delete_source``, a
    file is deleted once Cloudflare is known to hold its content."""

    root: Path
    delete_source: bool = False

    def count(self) -> tuple[int, int | None]:
        files = size = 0
        for found in self._found():
            files += 1
            size += found.size if isinstance(found, LocalFile) else 0
        return files, size

    def _found(self) -> Iterator[LocalFile | Rejected]:
        for found in discover([self.root]):
            if not isinstance(found, Ignored):
                yield found

    def items(self) -> Iterable[LocalFile | Rejected]:
        return self._found()

    async def work(self, client: AsyncImagesClient, item: LocalFile | Rejected, options: UploadOptions) -> FileResult:
        return await upload_one(client, item, options)

    def record(self, item: LocalFile | Rejected, result: FileResult) -> FileResult:
        if self.delete_source and result.verified and isinstance(item, LocalFile):
            try:
                os.remove(item.path)
            except OSError as exc:
                return FileResult(
                    result.path, "failed", result.size, image_id=result.image_id, verified=True,
                    reason=f"stored as {result.image_id}, but the file could not be deleted: {exc.strerror or exc}",
                )  # fmt: skip
        return result
