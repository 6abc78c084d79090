"""The emulator's records in SQLite: images, variants, signing keys, account settings and batch tokens.

One database file in the data directory, in WAL mode with a busy timeout, so several threads and several
processes (the upload workers run the emulator in their own processes) can use one data directory at once.
Each thread gets its own connection; every write is one ``BEGIN IMMEDIATE`` transaction, so checks and the
writes that depend on them (a duplicate id, the 100-variant limit, the last signing key) cannot interleave.

SQL text is assembled only from the constants in this module (column lists, ``ASC``/``DESC``, fixed clauses);
every value is a bound parameter, hence the ``noqa: S608`` marks.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cfvariants._errors import EmulatorError
from cfvariants._sqlite import connect
from cfvariants.imaging import ImageInfo

from ._records import AccountSettings, ImageRecord, SigningKeyRecord, VariantRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    filename TEXT NOT NULL DEFAULT '',
    meta TEXT NOT NULL DEFAULT '{}',
    require_signed INTEGER NOT NULL DEFAULT 0,
    creator TEXT,
    uploaded_ns INTEGER NOT NULL,
    draft INTEGER NOT NULL DEFAULT 0,
    upload_expires REAL,
    file_key TEXT,
    info TEXT
);
CREATE INDEX IF NOT EXISTS images_by_time ON images (draft, uploaded_ns, seq);
CREATE TABLE IF NOT EXISTS variants (
    id TEXT PRIMARY KEY,
    fit TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    browser_ttl INTEGER,
    never_require_signed INTEGER NOT NULL DEFAULT 0,
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_tokens (
    token_hash TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
"""

_IMAGE_COLUMNS = "seq, id, filename, meta, require_signed, creator, uploaded_ns, draft, upload_expires, file_key, info"
_VARIANT_COLUMNS = "id, fit, width, height, metadata, never_require_signed, browser_ttl"


class DuplicateError(EmulatorError):
    """An insert hit an existing primary key (an image or variant id already taken)."""


class Database:
    """Thread-safe access to the emulator's SQLite file (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        with self.write() as db:
            db.executescript_in_transaction(_SCHEMA)

    # -- connections --------------------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path, check_same_thread=False)
            self._local.connection = connection
            with self._lock:
                # A threaded server runs each request on a new thread: close the connections of threads that
                # have ended, or every request would keep three file descriptors open until close().
                ended = [c for thread, c in self._connections if not thread.is_alive()]
                self._connections = [(t, c) for t, c in self._connections if t.is_alive()]
                self._connections.append((threading.current_thread(), connection))
            for stale in ended:
                stale.close()
        return connection

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for _, connection in connections:
            connection.close()
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """One immediate (write-locked) transaction; rolled back if the block (or the commit) raises."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield Transaction(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # SQLite has rolled back already after some errors (a full disk)
                connection.execute("ROLLBACK")
            raise

    def read(self) -> Transaction:
        return Transaction(self._connection())


class Transaction:
    """The queries, run on one connection (inside a write transaction, or autocommit reads)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def executescript_in_transaction(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                self.connection.execute(statement)

    # -- images -------------------------------------------------------------------------------------------------

    def get_image(self, image_id: str) -> ImageRecord | None:
        row = self.connection.execute(f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchone()  # noqa: S608
        return None if row is None else _image(row)

    def insert_image(self, record: ImageRecord) -> ImageRecord:
        try:
            cursor = self.connection.execute(
                "INSERT INTO images (id, filename, meta, require_signed, creator, uploaded_ns, draft, upload_expires,"
                " file_key, info) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.filename,
                    _dump(record.meta),
                    int(record.require_signed_urls),
                    record.creator,
                    record.uploaded_ns,
                    int(record.draft),
                    record.upload_expires,
                    record.file_key,
                    _info_json(record.info),
                ),
            )
        except sqlite3.IntegrityError:
            raise DuplicateError(record.id) from None
        stored = self.get_image(record.id)
        assert stored is not None and stored.seq == cursor.lastrowid
        return stored

    def complete_draft(self, record: ImageRecord) -> None:
        """Attach the file to a draft: the draft flag and expiry go, the upload time becomes now."""
        self.connection.execute(
            "UPDATE images SET filename = ?, uploaded_ns = ?, draft = 0, upload_expires = NULL, file_key = ?,"
            " info = ? WHERE id = ?",
            (record.filename, record.uploaded_ns, record.file_key, _info_json(record.info), record.id),
        )

    def update_image(self, image_id: str, *, meta: dict[str, Any], require_signed: bool, creator: str | None) -> None:
        self.connection.execute(
            "UPDATE images SET meta = ?, require_signed = ?, creator = ? WHERE id = ?",
            (_dump(meta), int(require_signed), creator, image_id),
        )

    def delete_image(self, image_id: str) -> None:
        self.connection.execute("DELETE FROM images WHERE id = ?", (image_id,))

    def count_images(self, creator: str | None = None) -> int:
        """Stored images (drafts excluded); ``creator`` as in ``page_images``."""
        where, params = _creator_clause(creator)
        row = self.connection.execute(f"SELECT COUNT(*) FROM images WHERE draft = 0{where}", params).fetchone()  # noqa: S608
        return int(row[0])

    def page_images(self, *, offset: int, limit: int, ascending: bool, creator: str | None) -> list[ImageRecord]:
        """A page of stored images (drafts excluded); ``creator``: ``None`` = any, ``""`` = none set."""
        order = "ASC" if ascending else "DESC"
        where, params = _creator_clause(creator)
        rows = self.connection.execute(
            f"SELECT {_IMAGE_COLUMNS} FROM images WHERE draft = 0{where} ORDER BY uploaded_ns {order}, seq {order}"  # noqa: S608
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
        return [_image(row) for row in rows]

    def images_after(
        self, position: tuple[int, int] | None, *, limit: int, ascending: bool, creator: str | None
    ) -> list[ImageRecord]:
        """Images strictly after ``position`` (uploaded_ns, seq) in the given order (keyset pagination)."""
        order, compare = ("ASC", ">") if ascending else ("DESC", "<")
        where, params = _creator_clause(creator)
        if position is not None:
            where += f" AND (uploaded_ns, seq) {compare} (?, ?)"
            params = (*params, *position)
        rows = self.connection.execute(
            f"SELECT {_IMAGE_COLUMNS} FROM images WHERE draft = 0{where} ORDER BY uploaded_ns {order}, seq {order}"  # noqa: S608
            " LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [_image(row) for row in rows]

    # -- variants -----------------------------------------------------------------------------------------------

    def list_variants(self) -> list[VariantRecord]:
        rows = self.connection.execute(
            f"SELECT {_VARIANT_COLUMNS} FROM variants ORDER BY id = 'public' DESC, created_ns, id"  # noqa: S608
        ).fetchall()
        return [_variant(row) for row in rows]

    def variant_ids(self) -> list[str]:
        rows = self.connection.execute("SELECT id FROM variants ORDER BY id = 'public' DESC, created_ns, id")
        return [str(row[0]) for row in rows]

    def get_variant(self, variant_id: str) -> VariantRecord | None:
        row = self.connection.execute(f"SELECT {_VARIANT_COLUMNS} FROM variants WHERE id = ?", (variant_id,)).fetchone()  # noqa: S608
        return None if row is None else _variant(row)

    def count_variants(self) -> int:
        return int(self.connection.execute("SELECT COUNT(*) FROM variants").fetchone()[0])

    def put_variant(self, variant: VariantRecord, *, created_ns: int, replace: bool) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        try:
            self.connection.execute(
                f"{verb} INTO variants"  # noqa: S608
                " (id, fit, width, height, metadata, never_require_signed, browser_ttl, created_ns)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT created_ns FROM variants WHERE id = ?), ?))",
                (
                    variant.id,
                    variant.fit,
                    variant.width,
                    variant.height,
                    variant.metadata,
                    int(variant.never_require_signed_urls),
                    variant.browser_ttl,
                    variant.id,
                    created_ns,
                ),
            )
        except sqlite3.IntegrityError:
            raise DuplicateError(variant.id) from None

    def delete_variant(self, variant_id: str) -> None:
        self.connection.execute("DELETE FROM variants WHERE id = ?", (variant_id,))

    # -- signing keys -------------------------------------------------------------------------------------------

    def list_signing_keys(self) -> list[SigningKeyRecord]:
        rows = self.connection.execute("SELECT name, value FROM signing_keys ORDER BY created_ns, name").fetchall()
        return [SigningKeyRecord(str(name), str(value)) for name, value in rows]

    def put_signing_key(self, name: str, value: str, *, created_ns: int) -> None:
        self.connection.execute(
            "INSERT INTO signing_keys (name, value, created_ns) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value, created_ns),
        )

    def delete_signing_key(self, name: str) -> bool:
        return self.connection.execute("DELETE FROM signing_keys WHERE name = ?", (name,)).rowcount > 0

    # -- settings and batch tokens ------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        rows = self.connection.execute("SELECT name, value FROM settings").fetchall()
        return {str(name): json.loads(value) for name, value in rows}

    def account_settings(self) -> AccountSettings:
        values = self.settings()
        return AccountSettings(
            flexible_variants=bool(values["flexible_variants"]),
            browser_ttl=int(values["browser_ttl"]),
            preserve_content_credentials=bool(values["preserve_content_credentials"]),
        )

    def put_setting(self, name: str, value: object, *, only_if_missing: bool = False) -> None:
        verb = "INSERT OR IGNORE" if only_if_missing else "INSERT OR REPLACE"
        self.connection.execute(f"{verb} INTO settings (name, value) VALUES (?, ?)", (name, json.dumps(value)))

    def add_batch_token(self, token_hash: str, expires: float, now: float) -> None:
        self.connection.execute("DELETE FROM batch_tokens WHERE expires < ?", (now,))
        self.connection.execute("INSERT INTO batch_tokens (token_hash, expires) VALUES (?, ?)", (token_hash, expires))

    def batch_token_expiry(self, token_hash: str) -> float | None:
        row = self.connection.execute("SELECT expires FROM batch_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
        return None if row is None else float(row[0])


def _creator_clause(creator: str | None) -> tuple[str, tuple[object, ...]]:
    if creator is None:
        return "", ()
    if creator == "":
        return " AND (creator IS NULL OR creator = '')", ()
    return " AND creator = ?", (creator,)


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _info_json(info: ImageInfo | None) -> str | None:
    return None if info is None else _dump(dataclasses.asdict(info))


def _image(row: tuple[Any, ...]) -> ImageRecord:
    (seq, image_id, filename, meta, require_signed, creator, uploaded_ns, draft, upload_expires, file_key, info) = row
    return ImageRecord(
        id=image_id,
        filename=filename,
        meta=json.loads(meta),
        require_signed_urls=bool(require_signed),
        creator=creator,
        uploaded_ns=uploaded_ns,
        draft=bool(draft),
        upload_expires=upload_expires,
        file_key=file_key,
        info=None if info is None else ImageInfo(**json.loads(info)),
        seq=seq,
    )


def _variant(row: tuple[Any, ...]) -> VariantRecord:
    variant_id, fit, width, height, metadata, never, browser_ttl = row
    return VariantRecord(
        id=variant_id,
        fit=fit,
        width=width,
        height=height,
        metadata=metadata,
        never_require_signed_urls=bool(never),
        browser_ttl=browser_ttl,
    )
