"""``cfvariants upload``: upload files and directories of images, concurrently, resumably, with progress."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cfvariants._urls import encode_image_id

from ._clients import async_client
from ._errors import EXIT_FAILED, EXIT_INTERRUPTED, CFCommand, CLIUsageError
from ._files import Ignored, LocalFile, Rejected, discover
from ._options import api_options, json_option
from ._output import echo_json
from ._progress import JsonReporter, Reporter, Tally, TextReporter
from ._runtime import runtime
from ._uploader import (
    HASH_KEY,
    PATH_KEY,
    RESERVED_KEYS,
    UNREACHABLE_LIMIT,
    Unreachable,
    UploadOptions,
    custom_id_for,
    upload_all,
)
from ._values import parse_pairs

_TICK_SECONDS = 0.25
F = TypeVar("F", bound=Callable[..., Any])


def upload_flags(function: F) -> F:
    """The options of commands that upload files (``upload``, ``migrate``): concurrency, metadata, privacy,
    custom ids from paths, creator, progress bar."""
    decorators = [
        click.option(
            "--concurrency", "-j", type=click.IntRange(1, 64), default=4, show_default=True, help="Uploads at once."
        ),
        click.option(
            "--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Stored with every image; repeatable."
        ),
        click.option("--private", is_flag=True, help="Require signed URLs for these images (not with --id-from-path)."),
        click.option(
            "--id-from-path",
            is_flag=True,
            help="Use each file's path under the given directory (or storage) as its custom id.",
        ),
        click.option("--id-prefix", default="", help="Put this in front of every custom id (with --id-from-path)."),
        click.option("--creator", default=None, help="Creator (an id of one of your users) stored with every image."),
        click.option(
            "--progress/--no-progress", default=None, help="Progress bar (default: on when stderr is a terminal)."
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def checked_options(
    concurrency: int, metadata: tuple[str, ...], private: bool, id_from_path: bool, id_prefix: str, creator: str | None
) -> UploadOptions:
    """The ``UploadOptions`` of ``upload_flags``; combinations Cloudflare would refuse are usage errors now."""
    if private and id_from_path:
        raise CLIUsageError(
            "--private cannot be combined with --id-from-path: Cloudflare cannot make an image with a custom id "
            "private (drop one of the two)"
        )
    if id_prefix and not id_from_path:
        raise CLIUsageError("--id-prefix only applies with --id-from-path")
    user_metadata = parse_pairs(metadata, "--metadata")
    clashes = sorted(RESERVED_KEYS & set(user_metadata))
    if clashes:
        raise CLIUsageError(f"--metadata {', '.join(clashes)} is kept for cfvariants' own use")
    if id_prefix:
        encode_image_id(id_prefix + "x")  # a prefix that no id could start with is refused now, not per file
    return UploadOptions(concurrency, user_metadata, private, id_from_path, id_prefix, creator)


def reporter_for(tally: Tally, *, as_json: bool, progress: bool | None) -> Reporter:
    """JSON, a progress bar (``progress``, default: when stderr is a terminal) or a line per file."""
    if as_json:
        return JsonReporter(tally)
    return TextReporter(tally, bar=runtime().is_tty() if progress is None else progress)


@click.command(
    cls=CFCommand,
    short_help="Upload image files and directories, resumably.",
    epilog=f"""\b
Examples:
  cfvariants upload photos/                               # every image under photos/, 4 at a time
  cfvariants upload photos/ --id-from-path --id-prefix products/ --concurrency 8
  cfvariants upload cat.jpg dog.png --metadata owner=7 --metadata source=import --private
  cfvariants upload photos/ --dry-run                     # list what would be considered

\b
Resuming: run the same command again. Every upload stores the file's SHA-256 in its metadata ({HASH_KEY});
a file whose image is already there is skipped. With --id-from-path the image is looked up by its id (the
path under the directory given); otherwise by the path ({PATH_KEY}) and hash in its metadata. A skipped
image stored publicly is made private under --private; one whose --metadata or --creator differ fails
(nothing is overwritten). If the API cannot be reached for {UNREACHABLE_LIMIT} files in a row, the run stops.
Exit codes: 0 all uploaded or skipped, 1 some failed, 2 bad usage/configuration or the API unreachable,
130 interrupted.
""",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@upload_flags
@click.option("--dry-run", is_flag=True, help="Only list the files that would be considered; no API calls.")
@api_options
@json_option
def upload(
    paths: tuple[Path, ...],
    concurrency: int,
    metadata: tuple[str, ...],
    private: bool,
    id_from_path: bool,
    id_prefix: str,
    creator: str | None,
    progress: bool | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Upload the images in PATHS (files, or directories searched recursively for image files).

    Image files are recognised by extension (jpg, png, gif, webp, avif, heic, svg) or, without one, by their
    first bytes; other and hidden files in directories are left alone. Files over 10 MB are refused before
    sending. A progress bar (files, bytes, rate, ETA) shows on a terminal; without one, a line per file.
    """
    options = checked_options(concurrency, metadata, private, id_from_path, id_prefix, creator)
    if dry_run:
        _dry_run(paths, options, as_json)
        return
    tally = _count(paths)
    reporter = reporter_for(tally, as_json=as_json, progress=progress)
    try:
        asyncio.run(_run(paths, options, reporter))
    except KeyboardInterrupt:  # the reporter printed "Interrupted: ..." already; say it once
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    if tally.failed:
        raise click.exceptions.Exit(EXIT_FAILED)


def unreachable_error(exc: Unreachable) -> CLIUsageError:
    """The one error line of a run stopped because the API could not be reached."""
    return CLIUsageError(
        f"the Cloudflare API cannot be reached ({exc.error.cause}: {exc.error.detail or 'no answer'}); stopped "
        f"after {UNREACHABLE_LIMIT} files in a row got no answer. Check the network and CF_API_BASE, then "
        "run the same command again: it resumes"
    )


def _count(paths: tuple[Path, ...]) -> Tally:
    """A first, cheap pass (names and sizes only) for the totals that make the bar and ETA meaningful."""
    files = size = 0
    for found in discover(paths):
        if isinstance(found, LocalFile | Rejected):
            files += 1
            size += found.size if isinstance(found, LocalFile) else 0
    return Tally(total_files=files, total_bytes=size)


async def _run(paths: tuple[Path, ...], options: UploadOptions, reporter: Reporter) -> None:
    try:
        async with async_client() as client, _ticking(reporter):
            await upload_all(client, discover(paths), options, reporter.file_done)
    except Unreachable as exc:
        reporter.finish()
        raise unreachable_error(exc) from None
    except (asyncio.CancelledError, KeyboardInterrupt):
        reporter.finish(interrupted=True)
        raise
    except BaseException:
        reporter.finish()
        raise
    reporter.finish()


@contextlib.asynccontextmanager
async def _ticking(reporter: Reporter) -> AsyncIterator[None]:
    async def tick() -> None:
        while True:
            await asyncio.sleep(_TICK_SECONDS)
            reporter.tick()

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _dry_run(paths: tuple[Path, ...], options: UploadOptions, as_json: bool) -> None:
    rows = []
    for found in discover(paths):
        if isinstance(found, Ignored):
            continue
        custom_id = custom_id_for(found, options)
        problem = found.reason if isinstance(found, Rejected) else None
        if as_json:
            size = found.size if isinstance(found, LocalFile) else None
            rows.append({"path": str(found.path), "custom_id": custom_id, "size": size, "problem": problem})
        else:
            echo_plan_line(str(found.path), custom_id, problem, "would upload")
    if as_json:
        echo_json(rows)


def echo_plan_line(item: str, custom_id: str | None, problem: str | None, verb: str) -> None:
    """One line of a dry run: ``would upload x -> id``, or why ``x`` cannot be."""
    if problem:
        click.echo(f"cannot    {item}: {problem}")
    else:
        click.echo(f"{verb} {item}{f' -> {custom_id}' if custom_id else ''}")
