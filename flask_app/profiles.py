"""The profile of the one person using the reference app: a name and which upload is the avatar."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Profile", "ProfileStore"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS profile (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT, avatar TEXT)"


@dataclass(frozen=True)
class Profile:
    name: str
    avatar_upload_id: str | None


class ProfileStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._connect() as db:
            db.execute(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO profile (id, name, avatar) VALUES (1, 'Ada Lovelace', NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self) -> Profile:
        with self._connect() as db:
            name, avatar = db.execute("SELECT name, avatar FROM profile WHERE id = 1").fetchone()
        return Profile(name, avatar)

    def set_name(self, name: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE profile SET name = ? WHERE id = 1", (name,))

    def set_avatar(self, upload_id: str | None) -> None:
        with self._connect() as db:
            db.execute("UPDATE profile SET avatar = ? WHERE id = 1", (upload_id,))
