"""``UploadStore``: staged files on local disk and their records in SQLite (WAL), for one machine.

Safe for a web process and several worker processes sharing the directory. Across machines use
``RedisUploadStore``, or put this directory on a volume every machine mounts.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from cfvariants._sqlite import connect

from ._records import (
    KEPT_STATES,
    Block,
    StorageFull,
    UploadRecord,
    UploadsError,
    UploadState,
    disk_errors,
    fsync_directory,
    is_upload_id,
    receive,
    record_from_values,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    private INTEGER NOT NULL,
    custom_id TEXT,
    metadata TEXT NOT NULL,
    context TEXT NOT NULL,
    image_id TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until REAL,
    enqueued_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_state ON uploads (state, lease_until);
CREATE TABLE IF NOT EXISTS block (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    cause TEXT NOT NULL,
    since REAL NOT NULL,
    probe_at REAL NOT NULL
);
"""


class UploadStore:
    """Staged files under ``root/staging`` and their records in ``root/uploads.db``.

    ``preview_url``: a format string with ``{id}`` (e.g. ``"/uploads/{id}/preview"``) that templates use to
    show a staged file while it waits; without it they show the placeholder. ``clock``: the current Unix time
    (tests pass a controllable one).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        preview_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self.staging = self.root / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.database = self.root / "uploads.db"
        self.preview_url = preview_url
        self.clock = clock
        self._local = threading.local()
        with self._connect() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    def __repr__(self) -> str:
        return f"UploadStore({str(self.root)!r})"

    # -- connections ---------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per thread (sqlite3 objects must not cross threads), in WAL mode; a transaction per
        ``with``: committed on success, rolled back on error."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite has rolled back already after some errors (a full disk): keep the error
                db.execute("ROLLBACK")
            raise

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.database)
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- staging ---------------------------------------------------------------------------------------------------

    def staged_path(self, upload_id: str) -> Path:
        if not is_upload_id(upload_id):
            raise UploadsError(f"{upload_id!r} is not an upload id")
        return self.staging / upload_id

    def stage(
        self,
        source: IO[bytes] | bytes,
        *,
        filename: str,
        content_type: str,
        private: bool = False,
        custom_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        max_bytes: int | None = None,
        upload_id: str | None = None,
        check: Callable[[Path], str | None] | None = None,
    ) -> UploadRecord:
        """Write the file durably, run ``check(path)`` on it (raise to refuse; return a content type to record
        the one found in the bytes), then record it as pending.

        Nothing is left behind when anything fails: the temporary file is removed and no record is written.
        """
        upload_id = upload_id or uuid.uuid4().hex
        final = self.staged_path(upload_id)
        if final.exists() or self.find(upload_id) is not None:
            raise UploadsError(f"upload {upload_id!r} already exists")
        # A temporary name of this staging's own: another process staging the same id meanwhile writes its own
        # file, so neither overwrites nor mixes the other's bytes; the first to take the final name keeps it.
        part = self.staging / f".{upload_id}.{uuid.uuid4().hex}.part"
        size, content_type = receive(source, part, max_bytes=max_bytes, check=check, content_type=content_type)
        placed = False
        try:
            with disk_errors(self.staging), _disk_full(self.root):
                _take_name(final, upload_id)
                placed = True
                os.replace(part, final)
                fsync_directory(self.staging)
                now = self.clock()
                with self._connect() as db:
                    if db.execute("SELECT 1 FROM uploads WHERE id = ?", (upload_id,)).fetchone() is not None:
                        raise UploadsError(f"upload {upload_id!r} already exists")  # recorded meanwhile
                    db.execute(
                        "INSERT INTO uploads (id, state, filename, content_type, size, private, custom_id, metadata,"
                        " context, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                        (upload_id, UploadState.PENDING.value, filename, content_type, size, int(private), custom_id,
                         json.dumps(dict(metadata or {})), json.dumps(dict(context or {})), now, now),
                    )  # fmt: skip
        except BaseException:
            part.unlink(missing_ok=True)
            if placed:
                final.unlink(missing_ok=True)
            raise
        return self.get(upload_id)

    # -- reading ---------------------------------------------------------------------------------------------------

    def get(self, upload_id: str) -> UploadRecord:
        found = self.find(upload_id)
        if found is None:
            raise UploadsError(f"no upload {upload_id!r}")
        return found

    def find(self, upload_id: str) -> UploadRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return None if row is None else self._record(row)

    def recent(
        self, *, state: UploadState | None = None, limit: int = 100, newest_first: bool = True
    ) -> list[UploadRecord]:
        """Records, newest first by default (optionally of one state)."""
        order = "DESC" if newest_first else "ASC"
        query = "SELECT * FROM uploads"
        args: tuple[Any, ...] = ()
        if state is not None:
            query += " WHERE state = ?"
            args = (state.value,)
        query += f" ORDER BY created_at {order}, id {order} LIMIT ?"
        with self._connect() as db:
            rows = db.execute(query, (*args, limit)).fetchall()
        return [self._record(row) for row in rows]

    def counts(self) -> dict[UploadState, int]:
        with self._connect() as db:
            rows = db.execute("SELECT state, COUNT(*) AS n FROM uploads GROUP BY state").fetchall()
        out = dict.fromkeys(UploadState, 0)
        out.update({UploadState(row["state"]): row["n"] for row in rows})
        return out

    def _record(self, row: sqlite3.Row) -> UploadRecord:
        return record_from_values(dict(row), self.preview_url)

    def open_staged(self, upload_id: str) -> IO[bytes]:
        """The staged bytes (``FileNotFoundError`` once the upload is stored or discarded)."""
        return open(self.staged_path(upload_id), "rb")

    def staged_ids(self) -> list[str]:
        """Uploads whose bytes are staged here (finished ones are not)."""
        return sorted(path.name for path in self.staging.iterdir() if is_upload_id(path.name))

    # -- state changes ---------------------------------------------------------------------------------------------

    def mark_enqueued(self, upload_id: str, *, at: float | None = None) -> None:
        """Note when the task was sent (or is due, for a delayed retry), so the sweep does not resend it early."""
        with self._connect() as db:
            db.execute(
                "UPDATE uploads SET enqueued_at = ? WHERE id = ?", (self.clock() if at is None else at, upload_id)
            )

    def claim(self, upload_id: str, *, lease: float, blocked: bool = False) -> UploadRecord | None:
        """Take the upload for one attempt: it must be pending (or ``blocked``, for the probe), or uploading with a
        lease that ran out (its worker died). Returns ``None`` when it is done, failed, or held by a live worker.
        Atomic across processes."""
        now = self.clock()
        also = UploadState.BLOCKED if blocked else UploadState.PENDING
        with self._connect() as db:
            changed = db.execute(
                "UPDATE uploads SET state = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE id = ? AND (state IN (?, ?) OR (state = ? AND lease_until < ?))",
                (UploadState.UPLOADING.value, now + lease, now, upload_id, UploadState.PENDING.value, also.value,
                 UploadState.UPLOADING.value, now),
            ).rowcount  # fmt: skip
        return self.get(upload_id) if changed else None

    def renew(self, upload_id: str, *, lease: float, attempt: int) -> bool:
        """Extend the lease of the claim made as attempt number ``attempt`` (the heartbeat of a worker that is
        still uploading it). False if that claim is over: finished, handed back, or taken over after it ran out."""
        with self._connect() as db:
            changed = db.execute(
                "UPDATE uploads SET lease_until = ? WHERE id = ? AND state = ? AND attempts = ?",
                (self.clock() + lease, upload_id, UploadState.UPLOADING.value, attempt),
            ).rowcount
        return bool(changed)

    def _move(self, upload_id: str, to: UploadState, allowed: tuple[UploadState, ...], **fields: Any) -> bool:
        """One atomic transition from one of ``allowed`` to ``to``, setting ``fields``; False if not allowed."""
        assignments = "".join(f", {name} = ?" for name in fields)
        with self._connect() as db:
            changed = db.execute(
                f"UPDATE uploads SET state = ?, updated_at = ?{assignments} WHERE id = ?"  # noqa: S608
                f" AND state IN ({_marks(allowed)})",
                (to.value, self.clock(), *fields.values(), upload_id, *[s.value for s in allowed]),
            ).rowcount
        return bool(changed)

    def release(self, upload_id: str, error: str) -> None:
        """An attempt failed but may be retried: back to pending, with the last error for the page to show."""
        self._move(upload_id, UploadState.PENDING, (UploadState.UPLOADING,), lease_until=None, error=error)

    def mark_ready(self, upload_id: str, image_id: str) -> bool:
        """Record the image id and remove the staged file. Returns False if it was already ready (or was
        discarded): a record becomes ready exactly once."""
        changed = self._move(
            upload_id, UploadState.READY, (UploadState.PENDING, UploadState.UPLOADING, UploadState.BLOCKED),
            image_id=image_id, error=None, lease_until=None,
        )  # fmt: skip
        if changed:
            self.staged_path(upload_id).unlink(missing_ok=True)
        return changed

    def mark_failed(self, upload_id: str, reason: str) -> None:
        """Cloudflare refused this image: the reason is kept for people, and so are the staged bytes (a person
        may fix the cause and retry, or discard it; the retention policy discards it in the end)."""
        self._move(
            upload_id, UploadState.FAILED, (UploadState.PENDING, UploadState.UPLOADING, UploadState.BLOCKED),
            error=reason, lease_until=None,
        )  # fmt: skip

    def mark_blocked(self, upload_id: str, reason: str) -> bool:
        """The credentials or the account were refused: the upload waits, bytes kept, until they work again."""
        return self._move(
            upload_id, UploadState.BLOCKED, (UploadState.PENDING, UploadState.UPLOADING), error=reason,
            lease_until=None,
        )  # fmt: skip

    def requeue(
        self, upload_id: str, *, states: tuple[UploadState, ...] = (UploadState.FAILED, UploadState.BLOCKED)
    ) -> bool:
        """Back to pending (a person's retry): not yet enqueued, so the sweep sends it if nobody else does."""
        return self._move(upload_id, UploadState.PENDING, states, enqueued_at=None, lease_until=None)

    def delete(self, upload_id: str) -> None:
        """Forget an upload and its staged bytes, if any (a person's discard). The Cloudflare image, if any, is
        not touched."""
        with self._connect() as db:
            db.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
        self.staged_path(upload_id).unlink(missing_ok=True)

    # -- the block ---------------------------------------------------------------------------------------------------

    def block(self, cause: str, *, probe_at: float) -> Block:
        """Block the queue (or name the newest cause, keeping the time it started and the next probe)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO block (one, cause, since, probe_at) VALUES (1, ?, ?, ?)"
                " ON CONFLICT (one) DO UPDATE SET cause = excluded.cause",
                (cause, self.clock(), probe_at),
            )
            row = db.execute("SELECT cause, since, probe_at FROM block").fetchone()
        return Block(row["cause"], row["since"], row["probe_at"])

    def current_block(self) -> Block | None:
        with self._connect() as db:
            row = db.execute("SELECT cause, since, probe_at FROM block").fetchone()
        return None if row is None else Block(row["cause"], row["since"], row["probe_at"])

    def claim_probe(self, *, next_probe_at: float) -> Block | None:
        """The block, if a probe is due now; the next one is then due at ``next_probe_at`` (one prober at a time),
        as the block returned says (the same answer as ``RedisUploadStore``'s)."""
        with self._connect() as db:
            row = db.execute("SELECT cause, since FROM block WHERE probe_at <= ?", (self.clock(),)).fetchone()
            if row is not None:
                db.execute("UPDATE block SET probe_at = ?", (next_probe_at,))
        return None if row is None else Block(row["cause"], row["since"], next_probe_at)

    def unblock(self) -> list[str]:
        """Lift the block and put every blocked upload back to pending; returns their ids, oldest first."""
        with self._connect() as db:
            db.execute("DELETE FROM block")
            rows = db.execute(
                "SELECT id FROM uploads WHERE state = ? ORDER BY created_at", (UploadState.BLOCKED.value,)
            ).fetchall()
            db.execute(
                "UPDATE uploads SET state = ?, enqueued_at = NULL, updated_at = ? WHERE state = ?",
                (UploadState.PENDING.value, self.clock(), UploadState.BLOCKED.value),
            )
        return [row["id"] for row in rows]

    # -- reconciling -----------------------------------------------------------------------------------------------

    def needing_work(self, *, enqueued_before: float, now: float | None = None) -> list[UploadRecord]:
        """Uploads no worker is on: pending ones not (re)enqueued since ``enqueued_before``, and uploading ones
        whose lease ran out."""
        now = self.clock() if now is None else now
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM uploads WHERE (state = ? AND (enqueued_at IS NULL OR enqueued_at < ?))"
                " OR (state = ? AND lease_until < ?) ORDER BY created_at",
                (UploadState.PENDING.value, enqueued_before, UploadState.UPLOADING.value, now),
            ).fetchall()
        return [self._record(row) for row in rows]

    def orphans(self, *, older_than: float) -> list[Path]:
        """Staged files without a record that keeps them (a crash between writing and recording, or a file left
        by a finished upload), older than ``older_than`` seconds. Files vanishing meanwhile are skipped."""
        cutoff = time.time() - older_than  # file times are the real clock's
        paths = list(self.staging.iterdir())
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id FROM uploads WHERE state IN ({_marks(KEPT_STATES)})",  # noqa: S608
                [state.value for state in KEPT_STATES],
            ).fetchall()
        known = {row["id"] for row in rows}
        found = []
        for path in paths:
            if path.name in known:  # a kept upload's bytes (a ``.part`` of its id is only a dead staging's leftover)
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    found.append(path)
            except FileNotFoundError:  # removed by another process (a finished upload, a discard, another sweep)
                continue
        return found

    def remove_orphans(self, *, older_than: float) -> int:
        """Delete ``orphans``; returns how many."""
        found = self.orphans(older_than=older_than)
        for path in found:
            path.unlink(missing_ok=True)
        return len(found)


def _take_name(final: Path, upload_id: str) -> None:
    """Create ``final`` empty, only if no other staging has (``O_EXCL``): the name is this staging's from then on,
    and its bytes replace the empty file. A name taken already means the id is."""
    try:
        os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise UploadsError(f"upload {upload_id!r} already exists") from None


def _marks(states: tuple[UploadState, ...]) -> str:
    return ", ".join("?" * len(states))


@contextlib.contextmanager
def _disk_full(root: Path) -> Iterator[None]:
    """SQLite's "database or disk is full" as an ``UploadsError`` naming the directory."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "full" not in str(exc):
            raise
        raise StorageFull(f"no space left on the disk holding {os.fspath(root)}; the upload was not kept") from exc
