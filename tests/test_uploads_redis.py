"""Many workers on one Redis queue: 200 uploads, two consumer processes, one killed mid-way — every upload ends
ready exactly once, none lost, no duplicate in the emulator."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import imagegen
import pytest

from cfvariants.client import ImagesClient
from cfvariants.emulator import EmulatorServer, create_app
from cfvariants.uploads import UploadState

REDIS = shutil.which("redis-server")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(REDIS is None, reason="needs Debian's redis-server (python3 dev.py test installs it)"),
]
TESTS = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(REDIS), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def slow_uploads(app: Any, seconds: float) -> Callable[..., Any]:
    """The emulator, with each upload taking a while: keeps several uploads in flight when a worker dies."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/images/v1"):
            time.sleep(seconds)
        return app(environ, start_response)

    return wrapped


def test_two_workers_one_killed_every_upload_ready_exactly_once(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(data_dir=tmp_path / "cfimages")
    server = EmulatorServer(slow_uploads(app, 0.05), host="127.0.0.1", port=0).start()  # type: ignore[arg-type]
    config = app.emulator.config
    env = {
        "HUEY_URL": redis_url,
        "CFV_UPLOADS_DIR": str(tmp_path / "uploads"),
        "CF_API_BASE": f"{server.url}/client/v4",
        "CF_ACCT_ID": config.account_id,
        "CF_IMG_TOKEN": config.api_token,
        "CFV_LEASE": "3",
        "CFV_REQUEUE_AFTER": "30",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(TESTS))
    sys.modules.pop("uploads_worker_app", None)
    web = importlib.import_module("uploads_worker_app")  # the web side: submits to the same queue

    workers: list[subprocess.Popen[bytes]] = []
    try:
        records = [
            web.queue.submit(imagegen.jpeg(24 + i % 7, 16), filename=f"photo{i}.jpg", private=i % 10 == 0)
            for i in range(200)
        ]
        for _ in range(2):
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "huey.bin.huey_consumer",
                        "uploads_worker_app.huey",
                        "-w",
                        "4",
                        "-k",
                        "thread",
                        "-q",
                    ],
                    cwd=TESTS,
                    env={**os.environ, **env, "PYTHONPATH": str(TESTS)},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        store = web.store
        deadline = time.time() + 120
        while store.counts()[UploadState.READY] < 60:
            assert time.time() < deadline, store.counts()
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)  # mid-way, with uploads in flight
        workers[0].wait(timeout=10)

        while store.counts()[UploadState.READY] < len(records):
            assert time.time() < deadline, store.counts()
            web.queue.reconcile()  # what the periodic sweep does (every minute in production)
            time.sleep(0.5)

        counts = store.counts()
        assert counts[UploadState.READY] == 200 and counts[UploadState.FAILED] == 0
        image_ids = [store.get(r.id).image_id for r in records]
        assert len(set(image_ids)) == 200
        client = ImagesClient(config.account_id, config.api_token, base_url=env["CF_API_BASE"])
        with client:
            stored = [image.id for image in client.iter_images(per_page=100)]
        assert sorted(stored) == sorted(image_ids)  # no duplicate, none lost
        assert list(store.staging.iterdir()) == []
        # The killed worker's uploads in flight were taken over after their lease ran out: a second attempt.
        recovered = [r.id for r in records if store.get(r.id).attempts >= 2]
        assert recovered, "no upload was in flight in the killed worker: the test proved nothing"
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGINT)
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        server.stop()
        app.emulator.close()
