"""``cfvariants uploads``: see and act on an app's background uploads (``cfvariants.uploads``) from a shell.

The commands work on the upload store alone (no huey, no Cloudflare credentials): ``retry`` puts uploads back
to ``pending`` and the app's workers send them at their next sweep (every minute); ``discard`` deletes an
upload's staged bytes for good.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from cfvariants.uploads import UploadRecord, UploadRecords, UploadsError, UploadState, store_from_url
from cfvariants.uploads import _control as uploads_control
from cfvariants.uploads._control import duration

from ._errors import EXIT_FAILED, CFCommand, CLIError, CLIUsageError, one_line
from ._options import json_option
from ._output import echo_json, iso

_STATES = [state.value for state in UploadState]
F = TypeVar("F", bound=Callable[..., Any])


@click.group(
    short_help="Background uploads: list, stats, retry, discard.",
    epilog="""\b
Examples:
  cfvariants uploads list --store var/uploads --state blocked --state failed
  cfvariants uploads stats --store var/uploads --json          # for a health check
  cfvariants uploads retry --store var/uploads --all-failed    # after fixing the cause
  cfvariants uploads discard --store redis://redis:6379/0 --name cfvariants-reference 3f2a...
""",
)
def uploads() -> None:
    """The app's background uploads: what is pending, blocked (credentials or account refused) or failed (the
    image refused), and what to do about it. Staged bytes are kept until an upload is stored or discarded."""


def store_options(function: F) -> F:
    function = click.option(
        "--name",
        default="cfvariants",
        show_default=True,
        help="With Redis: the name the app gave its store (the reference app: cfvariants-reference).",
    )(function)
    return click.option(
        "--store",
        envvar="CFV_UPLOADS_STORE",
        metavar="DIR|redis://...",
        help="The app's upload store: the directory given to UploadStore (the reference app: DATA_DIR/uploads), "
        "or the Redis URL of RedisUploadStore (HUEY_URL). Default: $CFV_UPLOADS_STORE.",
    )(function)


def _open(store: str | None, name: str) -> UploadRecords:
    if not store:
        raise CLIUsageError("name the upload store: --store DIR (e.g. var/uploads) or --store redis://...")
    if "://" in store:
        if not store.startswith(("redis://", "rediss://", "unix://")):
            raise CLIUsageError(f"--store {store.split('://')[0]}://... is not a directory or a Redis URL")
        return store_from_url(store, ".", name=name)
    if not (Path(store) / "uploads.db").exists():
        raise CLIUsageError(f"{store} holds no upload store (no uploads.db there): check --store")
    return store_from_url(None, store)


def _row(record: UploadRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "state": record.state.value,
        "filename": record.filename,
        "size": record.size,
        "private": record.private,
        "image_id": record.image_id,
        "error": record.error,
        "attempts": record.attempts,
        "created": iso(int(record.created_at)),
        "updated": iso(int(record.updated_at)),
    }


@uploads.command(
    "list",
    cls=CFCommand,
    short_help="List uploads, newest first.",
    epilog="""\b
Examples:
  cfvariants uploads list --store var/uploads
  cfvariants uploads list --store var/uploads --state blocked --state failed --json
""",
)
@click.option("--state", "states", multiple=True, type=click.Choice(_STATES), help="Only these states; repeatable.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@json_option
@store_options
def list_uploads(store: str | None, name: str, states: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List uploads, newest first: id, state, age, file name and, for blocked and failed ones, the reason."""
    found: list[UploadRecord] = []
    with _opened(store, name) as records:
        for state in states or (None,):
            found += records.recent(state=UploadState(state) if state else None, limit=limit)
    found = sorted(found, key=lambda r: (r.created_at, r.id), reverse=True)[:limit]
    if as_json:
        echo_json([_row(record) for record in found])
        return
    now = time.time()
    for record in found:
        reason = f"  {one_line(record.error)}" if record.error and record.state is not UploadState.READY else ""
        age = duration(now - record.created_at)
        click.echo(f"{record.id}  {record.state.value:<9} {age:>7}  {record.filename}{reason}")
    if not found:
        click.echo("no uploads" + (f" in state {', '.join(states)}" if states else ""), err=True)


@uploads.command(
    cls=CFCommand,
    short_help="Count uploads per state (exit 1 when some need attention).",
    epilog="""\b
Examples:
  cfvariants uploads stats --store var/uploads
  cfvariants uploads stats --store redis://redis:6379/0 --name cfvariants-reference --json
""",
)
@json_option
@store_options
def stats(store: str | None, name: str, as_json: bool) -> None:
    """How many uploads are in each state, and why uploads are blocked if they are. Exits 1 when some are
    blocked or failed, so it works as a health check."""
    with _opened(store, name) as records:
        found = uploads_control.stats(records)
    if as_json:
        block = found.block
        blocked = None if block is None else {"cause": block.cause, "since": iso(int(block.since))}
        echo_json({"counts": dict(found), "block": blocked})
    else:
        click.echo("  ".join(f"{state} {count}" for state, count in found.items()))
        if found.block is not None:
            click.echo(f"blocked since {iso(int(found.block.since))}: {one_line(found.block.cause)}")
    if found.needs_attention:
        raise click.exceptions.Exit(EXIT_FAILED)


@uploads.command(
    cls=CFCommand,
    short_help="Send failed or blocked uploads again.",
    epilog="""\b
Examples:
  cfvariants uploads retry --store var/uploads 3f2a9c0e1b2d4c5f8a7b6c5d4e3f2a1b
  cfvariants uploads retry --store var/uploads --all-failed
""",
)
@click.argument("ids", nargs=-1, metavar="ID...")
@click.option("--all-failed", is_flag=True, help="Every failed upload whose file is still kept.")
@store_options
def retry(store: str | None, name: str, ids: tuple[str, ...], all_failed: bool) -> None:
    """Put failed uploads (after fixing the cause) or blocked ones (after fixing the credentials: this lifts the
    block for every blocked upload) back to pending; the app's workers send them within a minute."""
    if bool(ids) == all_failed:
        raise CLIUsageError("give upload ids or --all-failed (one of the two)")
    queued: list[str] = []

    def one(records: UploadRecords, upload_id: str) -> None:
        queued.extend(uploads_control.retry(records, upload_id))

    with _opened(store, name) as records:
        if all_failed:
            queued += uploads_control.retry_failed(records)
        problems = _each(records, ids, one, "retried")
    click.echo(f"{len(queued)} upload(s) back to pending; the workers send them at their next sweep (every minute)")
    if problems:
        raise CLIError(f"{problems} of the uploads given could not be retried")


@uploads.command(
    cls=CFCommand,
    short_help="Delete uploads that are not stored, with their files.",
    epilog="""\b
Examples:
  cfvariants uploads discard --store var/uploads 3f2a9c0e1b2d4c5f8a7b6c5d4e3f2a1b
  cfvariants uploads discard --store var/uploads 3f2a9c0e1b2d4c5f8a7b6c5d4e3f2a1b --yes
""",
)
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_options
def discard(store: str | None, name: str, ids: tuple[str, ...], yes: bool) -> None:
    """Forget uploads that are not stored on Cloudflare and delete their staged files. This cannot be undone:
    the files exist nowhere else."""
    if not yes and not click.confirm(
        f"Discard {len(set(ids))} upload(s) and delete their files? This cannot be undone.", default=False, err=True
    ):
        raise CLIError("not discarded: nothing was changed")

    def one(records: UploadRecords, upload_id: str) -> None:
        record = uploads_control.discard(records, upload_id)
        click.echo(f"discarded {record.id} ({record.filename}, {record.state.value})")

    with _opened(store, name) as records:
        problems = _each(records, ids, one, "discarded")
    if problems:
        raise CLIError(f"{problems} of the uploads given could not be discarded")


@contextlib.contextmanager
def _opened(store: str | None, name: str) -> Iterator[UploadRecords]:
    records = _open(store, name)
    try:
        yield records
    finally:
        records.close()


def _each(records: UploadRecords, ids: tuple[str, ...], action: Callable[[UploadRecords, str], None], done: str) -> int:
    """``action`` on every id (once each); a refusal is printed (``not <done>: why``) and counted."""
    problems = 0
    for upload_id in _unique(ids):
        try:
            action(records, upload_id)
        except UploadsError as exc:
            problems += 1
            click.echo(f"not {done}: {one_line(str(exc))}", err=True)
    return problems


def _unique(ids: tuple[str, ...]) -> Iterator[str]:
    seen: set[str] = set()
    for upload_id in ids:
        if upload_id not in seen:
            seen.add(upload_id)
            yield upload_id
