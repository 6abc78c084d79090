"""Which huey, and which upload store: SQLite and local files on this machine by default (no server to run);
Redis for both when ``HUEY_URL=redis://...``, so web servers and workers on many machines share one queue and
need no shared disk."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from ._records import UploadRecords, UploadsError
from ._sqlite_store import UploadStore


def huey_from_url(url: str | None = None, *, name: str = "cfvariants", default_path: str | Path = "huey.db") -> Huey:
    """``None``/``""``: SQLite at ``default_path``; ``sqlite:///path/huey.db``; ``redis://host:port/db`` (also
    ``rediss://``, ``unix://``); ``memory://`` (one process only: tests and scripts). Read ``HUEY_URL`` yourself
    or pass ``os.environ.get("HUEY_URL")``."""
    if not url:
        return _sqlite(name, Path(default_path))
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url.removeprefix("sqlite://")
        if not path or path == "/":
            raise UploadsError(f"HUEY_URL {url!r} names no database file: use sqlite:///path/to/huey.db")
        return _sqlite(name, Path(path))
    if scheme in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=url)
    if scheme == "memory":
        return MemoryHuey(name)
    raise UploadsError(
        f"HUEY_URL {_shown(url)} is not sqlite:///..., redis://..., rediss://..., unix://... or memory://"
    )


def _sqlite(name: str, path: Path) -> Huey:
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=os.fspath(path))


def _shown(url: str) -> str:
    """The URL without its password (wherever it appears again, as in a fallback URL in its query), for error
    messages."""
    parts = urlsplit(url)
    if parts.password:
        url = url.replace(f":{parts.password}@", ":***@")
    return repr(url)


def store_from_url(
    url: str | None, root: str | Path, *, name: str = "cfvariants", preview_url: str | None = None
) -> UploadRecords:
    """The upload store that goes with a queue URL: Redis for ``redis://``-style URLs (records and staged bytes
    in Redis, reachable from every machine), else files under ``root`` with records in SQLite."""
    if url and urlsplit(url).scheme in ("redis", "rediss", "unix"):
        from ._redis_store import RedisUploadStore  # noqa: PLC0415 - redis is optional

        return RedisUploadStore(url, name=name, preview_url=preview_url)
    return UploadStore(root, preview_url=preview_url)
