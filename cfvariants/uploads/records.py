"""The durable side of background uploads: a staging directory for the files and a SQLite table of records.

An upload is staged before anything else happens: its bytes are written to a temporary file, flushed to disk,
renamed into place, and only then recorded as ``pending``. A crash at any point leaves either nothing, or a
staged file that the reconcile sweep finds, or a complete record. Records move

    pending -> uploading (a worker holds a lease) -> ready (image id known, staged file removed)
                                                   -> failed (a reason a person can read; file removed)

and a lease that runs out (a worker killed mid-upload) makes the record claimable again. SQLite in WAL mode is
safe for the web process and several worker processes on one machine.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cfvariants.errors import CFVariantsError
from cfvariants.refs import LocalImage

__all__ = ["UploadRecord", "UploadState", "UploadStore", "UploadsError"]

_CHUNK = 1 << 20
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
"""


class UploadsError(CFVariantsError):
    """An upload cannot be staged or found; the message says why in words a person can act on."""


class UploadState(enum.StrEnum):
    PENDING = "pending"
    UPLOADING = "uploading"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class UploadRecord:
    """One upload, from staging to its Cloudflare image id."""

    id: str
    state: UploadState
    filename: str
    content_type: str
    size: int
    private: bool
    custom_id: str | None
    metadata: dict[str, Any]
    context: dict[str, Any]
    image_id: str | None
    error: str | None
    attempts: int
    lease_until: float | None
    enqueued_at: float | None
    created_at: float
    updated_at: float
    preview_url: str | None = field(default=None, compare=False)

    @property
    def is_ready(self) -> bool:
        return self.state is UploadState.READY

    @property
    def is_pending(self) -> bool:
        return self.state in (UploadState.PENDING, UploadState.UPLOADING)

    def __cf_image__(self) -> str | None:
        """What templates show: the image once it is on Cloudflare; while it waits, the staged file (when the
        store knows a preview URL), so ``{{ upload | variant('w=200') }}`` never breaks a page."""
        if self.state is UploadState.READY:
            return self.image_id
        if self.is_pending and self.preview_url:
            return LocalImage(self.preview_url)
        return None


class UploadStore:
    """Staged files under ``root/staging`` and their records in ``root/uploads.db``.

    ``preview_url``: a format string with ``{id}`` (e.g. ``"/uploads/{id}/preview"``) that templates use to
    show a staged file while it waits; without it they show the placeholder.
    """

    def __init__(self, root: str | os.PathLike[str], *, preview_url: str | None = None) -> None:
        self.root = Path(root)
        self.staging = self.root / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.database = self.root / "uploads.db"
        self.preview_url = preview_url
        self._local = threading.local()
        self._db().executescript(_SCHEMA)

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
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.database, timeout=30, isolation_level=None, check_same_thread=True)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- staging ---------------------------------------------------------------------------------------------------

    def staged_path(self, upload_id: str) -> Path:
        if not _is_upload_id(upload_id):
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
        temporary = self.staging / f".{upload_id}.part"
        if final.exists() or self.find(upload_id) is not None:
            raise UploadsError(f"upload {upload_id!r} already exists")
        placed = False
        try:
            size = _write_durably(source, temporary, max_bytes)
            if check is not None:
                content_type = check(temporary) or content_type
            os.replace(temporary, final)
            placed = True
            _fsync_directory(self.staging)
            now = time.time()
            with self._connect() as db:
                db.execute(
                    "INSERT INTO uploads (id, state, filename, content_type, size, private, custom_id, metadata,"
                    " context, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (upload_id, UploadState.PENDING.value, filename, content_type, size, int(private), custom_id,
                     json.dumps(dict(metadata or {})), json.dumps(dict(context or {})), now, now),
                )  # fmt: skip
        except BaseException:
            temporary.unlink(missing_ok=True)
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
        values = dict(row)
        values["state"] = UploadState(values["state"])
        values["private"] = bool(values["private"])
        values["metadata"] = json.loads(values["metadata"])
        values["context"] = json.loads(values["context"])
        preview = self.preview_url.format(id=values["id"]) if self.preview_url else None
        return UploadRecord(**values, preview_url=preview)

    # -- state changes ---------------------------------------------------------------------------------------------

    def mark_enqueued(self, upload_id: str, *, at: float | None = None) -> None:
        """Note when the task was sent (or is due, for a delayed retry), so the sweep does not resend it early."""
        with self._connect() as db:
            db.execute(
                "UPDATE uploads SET enqueued_at = ? WHERE id = ?", (time.time() if at is None else at, upload_id)
            )

    def claim(self, upload_id: str, *, lease: float) -> UploadRecord | None:
        """Take the upload for one attempt: it must be pending, or uploading with a lease that ran out (its
        worker died). Returns ``None`` when it is done, failed, or held by a live worker. Atomic across
        processes."""
        now = time.time()
        with self._connect() as db:
            changed = db.execute(
                "UPDATE uploads SET state = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE id = ? AND (state = ? OR (state = ? AND lease_until < ?))",
                (UploadState.UPLOADING.value, now + lease, now, upload_id, UploadState.PENDING.value,
                 UploadState.UPLOADING.value, now),
            ).rowcount  # fmt: skip
        return self.get(upload_id) if changed else None

    def release(self, upload_id: str, error: str) -> None:
        """An attempt failed but may be retried: back to pending, with the last error for the page to show."""
        with self._connect() as db:
            db.execute(
                "UPDATE uploads SET state = ?, lease_until = NULL, error = ?, updated_at = ?"
                " WHERE id = ? AND state = ?",
                (UploadState.PENDING.value, error, time.time(), upload_id, UploadState.UPLOADING.value),
            )

    def mark_ready(self, upload_id: str, image_id: str) -> bool:
        """Record the image id and remove the staged file. Returns False if it was already ready (or failed):
        a record becomes ready exactly once."""
        with self._connect() as db:
            changed = db.execute(
                "UPDATE uploads SET state = ?, image_id = ?, error = NULL, lease_until = NULL, updated_at = ?"
                " WHERE id = ? AND state IN (?, ?)",
                (UploadState.READY.value, image_id, time.time(), upload_id, UploadState.PENDING.value,
                 UploadState.UPLOADING.value),
            ).rowcount  # fmt: skip
        if changed:
            self.staged_path(upload_id).unlink(missing_ok=True)
        return bool(changed)

    def mark_failed(self, upload_id: str, reason: str) -> None:
        """A permanent failure: the reason is kept for people, the staged file is removed (it cannot succeed)."""
        with self._connect() as db:
            db.execute(
                "UPDATE uploads SET state = ?, error = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND state IN"
                " (?, ?)",
                (UploadState.FAILED.value, reason, time.time(), upload_id, UploadState.PENDING.value,
                 UploadState.UPLOADING.value),
            )  # fmt: skip
        self.staged_path(upload_id).unlink(missing_ok=True)

    def delete(self, upload_id: str) -> None:
        """Forget an upload (and its staged file, if any). The Cloudflare image, if any, is not touched."""
        with self._connect() as db:
            db.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
        self.staged_path(upload_id).unlink(missing_ok=True)

    # -- reconciling -----------------------------------------------------------------------------------------------

    def needing_work(self, *, enqueued_before: float, now: float | None = None) -> list[UploadRecord]:
        """Uploads no worker is on: pending ones not (re)enqueued since ``enqueued_before``, and uploading ones
        whose lease ran out."""
        now = time.time() if now is None else now
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM uploads WHERE (state = ? AND (enqueued_at IS NULL OR enqueued_at < ?))"
                " OR (state = ? AND lease_until < ?) ORDER BY created_at",
                (UploadState.PENDING.value, enqueued_before, UploadState.UPLOADING.value, now),
            ).fetchall()
        return [self._record(row) for row in rows]

    def orphans(self, *, older_than: float) -> list[Path]:
        """Staged files without a record (a crash between writing and recording), older than ``older_than``."""
        cutoff = time.time() - older_than
        with self._connect() as db:
            rows = db.execute(
                "SELECT id FROM uploads WHERE state IN (?, ?)", (UploadState.PENDING.value, UploadState.UPLOADING.value)
            ).fetchall()
        known = {row["id"] for row in rows}
        found = []
        for path in self.staging.iterdir():
            upload_id = path.name.removeprefix(".").removesuffix(".part")
            if upload_id not in known and path.stat().st_mtime < cutoff:
                found.append(path)
        return found


def _is_upload_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def _write_durably(source: IO[bytes] | bytes, path: Path, max_bytes: int | None) -> int:
    size = 0
    with open(path, "wb") as out:
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            if max_bytes is not None and len(data) > max_bytes:
                raise UploadsError(f"the file is larger than {max_bytes:,} bytes")
            out.write(data)
            size = len(data)
        else:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise UploadsError(f"the file is larger than {max_bytes:,} bytes")
                out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
