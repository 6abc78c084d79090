"""Several processes opening one fresh data directory at once (gunicorn workers and huey workers starting
together) all succeed: the upload store, huey's SQLite queue and the emulator's database.

SQLite answers "database is locked" at once, without waiting for the busy timeout, to a connection switching a
brand-new file to WAL while another is still writing it; the stores try again (as huey does for its queue)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cfvariants.emulator import Emulator
from cfvariants.uploads import UploadStore

OPEN_ALL = """
import sys, time
from pathlib import Path
from cfvariants.emulator import Emulator
from cfvariants.uploads import UploadStore, huey_from_url

root, number = Path(sys.argv[1]), sys.argv[2]
(root.parent / f"ready-{number}").touch()
while not (root.parent / "go").exists():
    time.sleep(0.001)
huey = huey_from_url(None, name="cfvariants", default_path=root / "huey.db")
huey.enqueue  # noqa: B018
store = UploadStore(root / "uploads")
emulator = Emulator(data_dir=root / "cfimages")
print(store.counts()["pending"], emulator.count_images(), len(huey))
"""


def test_six_processes_opening_one_fresh_directory_all_succeed(tmp_path: Path) -> None:
    root = tmp_path / "data"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_ALL, str(root), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(6)
    ]
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("ready-*"))) < 6:  # every process imported and waiting: start them together
            assert time.monotonic() < deadline
            assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
            time.sleep(0.01)
        (tmp_path / "go").touch()
        results = [p.communicate(timeout=120) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert [p.returncode for p in processes] == [0] * 6, [err for _, err in results]
    assert [out.split() for out, _ in results] == [["0", "0", "0"]] * 6


@pytest.fixture
def held_fresh_database(tmp_path: Path) -> tuple[Path, threading.Event]:
    """A brand-new SQLite file that another process is still writing in its first, pre-WAL transaction (what
    the first of several starting processes does); the lock is released a moment later."""
    path = tmp_path / "fresh.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE IF NOT EXISTS early (x)")
    released = threading.Event()

    def release() -> None:
        time.sleep(0.3)
        writer.execute("COMMIT")
        writer.close()
        released.set()

    threading.Thread(target=release, daemon=True).start()
    return path, released


def test_the_upload_store_waits_for_a_database_being_created(held_fresh_database: tuple[Path, threading.Event]) -> None:
    path, released = held_fresh_database
    root = path.parent / "uploads"
    root.mkdir()
    path.rename(root / "uploads.db")  # the same open file, now where the store looks
    store = UploadStore(root)  # before: "database is locked" at once, without waiting for the busy timeout
    assert released.is_set() and store.counts()["pending"] == 0
    store.close()


def test_the_emulator_waits_for_a_database_being_created(held_fresh_database: tuple[Path, threading.Event]) -> None:
    path, released = held_fresh_database
    root = path.parent / "cfimages"
    root.mkdir()
    path.rename(root / "emulator.sqlite3")
    emulator = Emulator(data_dir=root)
    assert released.is_set() and emulator.count_images() == 0
    emulator.close()
