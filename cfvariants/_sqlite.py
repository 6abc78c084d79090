"""Opening a SQLite file that several processes share (the upload store, the emulator): WAL, a busy timeout,
and no "database is locked" when they all open a brand-new file at the same moment."""

from __future__ import annotations

import os
import sqlite3
import time

BUSY_TIMEOUT = 30.0


def connect(path: str | os.PathLike[str], *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL journal, ``synchronous=NORMAL``, waiting
    up to ``BUSY_TIMEOUT`` seconds for other writers."""
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=check_same_thread)
    try:
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        _wal_mode(db)
        db.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def _wal_mode(db: sqlite3.Connection) -> None:
    """Switch to WAL. While another process is converting a brand-new file (or writing to it before it is WAL),
    SQLite answers "database is locked" at once, without waiting for the busy timeout; so try again a while."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    delay = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
