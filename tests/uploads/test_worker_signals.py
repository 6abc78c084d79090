"""Stopping workers as supervisors do: SIGTERM makes a worker finish or hand back what it holds, for the library's
entry point (``cfvariants-worker``), plain ``huey_consumer``, and ``python -m flask_app`` (which leaves no orphan
worker behind, even when it is killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import imagegen
import pytest
from emulator_helpers import slow_uploads
from servers import free_port

from cfvariants.emulator import EmulatorServer, create_app
from cfvariants.uploads import UploadState

pytestmark = pytest.mark.slow
TESTS = Path(__file__).parent.parent
ROOT = TESTS.parent


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], tuple[Any, dict[str, str]]]]:
    """``setup(seconds_per_upload)`` -> (the web side's queue module, the workers' environment)."""
    started: list[Any] = []

    def make(seconds: float) -> tuple[Any, dict[str, str]]:
        app = create_app(data_dir=tmp_path / "cfimages")
        server = EmulatorServer(slow_uploads(app, seconds), host="127.0.0.1", port=0).start()  # type: ignore[arg-type]
        started.append((server, app))
        config = app.emulator.config
        env = {
            "HUEY_URL": f"sqlite:///{tmp_path / 'huey.db'}",
            "CFV_UPLOADS_DIR": str(tmp_path / "uploads"),
            "CF_API_BASE": f"{server.url}/client/v4",
            "CF_ACCT_ID": config.account_id,
            "CF_IMG_TOKEN": config.api_token,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.syspath_prepend(str(TESTS))
        sys.modules.pop("uploads_worker_app", None)
        import uploads_worker_app

        return uploads_worker_app, {**os.environ, **env, "PYTHONPATH": str(TESTS)}

    yield make
    for server, app in started:
        server.stop()
        app.emulator.close()


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=TESTS, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)


WORKER = [sys.executable, "-m", "cfvariants.uploads.consumer", "uploads_worker_app.huey", "-w", "3"]
HUEY_CONSUMER = [sys.executable, "-m", "huey.bin.huey_consumer", "uploads_worker_app.huey", "-w", "3", "-k", "thread"]


def test_sigterm_lets_uploads_in_progress_finish(setup: Any, tmp_path: Path) -> None:
    web, env = setup(1.0)
    ids = [web.queue.submit(imagegen.jpeg(30 + i, 20), filename=f"{i}.jpg").id for i in range(6)]
    worker = start([*WORKER, "--grace", "20"], env, tmp_path / "worker.log")
    try:
        wait_for(lambda: web.store.counts()[UploadState.UPLOADING] == 3)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        stop(worker)
    counts = web.store.counts()
    assert counts[UploadState.UPLOADING] == 0 and counts[UploadState.READY] >= 3, counts
    records = [web.store.get(i) for i in ids]
    assert all(r.attempts <= 1 for r in records)  # finished, not abandoned and retried
    log = (tmp_path / "worker.log").read_text()
    assert "upload worker" in log and "SqliteHuey 'cfvariants-test-uploads'" in log  # the start-up line
    assert log.count("stored as image") >= 3 and "HTTP Request:" not in log  # cfvariants' lines, not httpx's


@pytest.mark.parametrize("command", ["cfvariants-worker --grace 0.5", "huey_consumer"])
def test_sigterm_hands_back_what_a_worker_cannot_finish(setup: Any, tmp_path: Path, command: str) -> None:
    web, env = setup(4.0)
    ids = [web.queue.submit(imagegen.jpeg(30 + i, 20), filename=f"{i}.jpg").id for i in range(4)]
    argv = [*WORKER, "--grace", "0.5"] if command.startswith("cfvariants") else HUEY_CONSUMER
    worker = start(argv, env, tmp_path / "first.log")
    try:
        wait_for(lambda: web.store.counts()[UploadState.UPLOADING] == 3)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) is not None
    finally:
        stop(worker)
    handed = [web.store.get(i) for i in ids if web.store.get(i).attempts == 1]
    assert len(handed) == 3, handed  # the three in progress; the fourth never started
    assert all(r.state is UploadState.UPLOADING and (r.lease_until or 0) <= time.time() + 6 for r in handed)
    assert (tmp_path / "first.log").read_text().count("handed back upload") == 3

    second = start([*WORKER], env, tmp_path / "second.log")  # another worker takes them over, at once
    try:
        wait_for(lambda: web.store.counts()[UploadState.READY] == 4, timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    image_ids = [web.store.get(i).image_id for i in ids]
    with web.make_client() as client:
        stored = [image.id for image in client.iter_images()]
    assert sorted(stored) == sorted(image_ids)  # each exactly once: none lost, no duplicate


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_python_m_flask_app_stops_its_worker(tmp_path: Path, how: signal.Signals) -> None:
    env = {**os.environ, "ENV_NAME": "dev", "DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)}
    app = start([sys.executable, "-m", "flask_app", "--port", str(free_port())], env, tmp_path / "app.log")
    try:
        # As soon as the worker exists, while it is still starting (importing the app, not yet watching its
        # parent): a worker that read its parent's pid only once started outlived a parent killed before then.
        wait_for(lambda: len(children_of(app.pid)) == 1, timeout=60)
        (worker,) = children_of(app.pid)
        app.send_signal(how)
        app.wait(30)
        wait_for(lambda: not alive(worker), timeout=30)
    finally:
        stop(app)
    if how == signal.SIGTERM:
        assert app.returncode == 0
