"""The tests of background uploads (huey workers, stores, leases) and direct uploads. Fixtures only these tests use
belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the cfvariants.testing plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from upload_helpers import Clock, Wire

from cfvariants.uploads import (
    UploadRecords,
    UploadStore,
)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[UploadStore]:
    store = UploadStore(tmp_path / "uploads", preview_url="/uploads/{id}/preview")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UploadRecords]:
    """Both stores behave the same: files + SQLite on one machine, or everything in Redis for many."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_store")
        return
    from cfvariants.uploads import RedisUploadStore

    store = RedisUploadStore(request.getfixturevalue("redis_url"), preview_url="/uploads/{id}/preview")
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "redis"])
def clocked_store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[UploadRecords]:
    """Both stores, on ``clock``: a 30-minute outage or a week of retention takes no real time."""
    if request.param == "sqlite":
        sqlite = UploadStore(tmp_path / "uploads", clock=clock)
        yield sqlite
        sqlite.close()
        return
    from cfvariants.uploads import RedisUploadStore

    redis = RedisUploadStore(request.getfixturevalue("redis_url"), clock=clock)
    yield redis
    redis.close()


@pytest.fixture
def wire(cf_app: Any) -> Wire:
    """The network between the workers and the emulator (counts requests, can be cut)."""
    return Wire(cf_app)
