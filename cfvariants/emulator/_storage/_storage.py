"""``Storage``: what one emulated account keeps in its data directory, opened together and closed together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._database import Database
from ._files import Originals, VariantCache

DB_NAME = "emulator.sqlite3"


@dataclass(frozen=True)
class Storage:
    """The records (SQLite), the originals and the cache of rendered variants."""

    db: Database
    originals: Originals
    cache: VariantCache

    @classmethod
    def open(cls, data_dir: Path) -> Storage:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(Database(data_dir / DB_NAME), Originals(data_dir / "originals"), VariantCache(data_dir / "cache"))

    def close(self) -> None:
        self.db.close()
