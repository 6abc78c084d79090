"""Many workers on one Redis queue: 200 uploads, two consumer processes, one killed mid-way — every upload ends
ready exactly once, none lost, no duplicate in the emulator. The staged bytes and records live in Redis too, and
each process gets a data directory of its own: nothing depends on a shared disk, as across machines."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imagegen
import pytest
from emulator_helpers import slow_uploads
from servers import needs_redis

from cfvariants.client import ImagesClient
from cfvariants.emulator import EmulatorServer, create_app
from cfvariants.uploads import UploadState

pytestmark = [pytest.mark.slow, needs_redis]
TESTS = Path(__file__).parent.parent


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
    logs = [(tmp_path / f"worker{index}.log").open("wb") for index in range(2)]
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
                    env={
                        **os.environ,
                        **env,
                        "PYTHONPATH": str(TESTS),
                        "CFV_UPLOADS_DIR": str(tmp_path / f"worker{len(workers)}"),
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=logs[len(workers)],  # its "stored as image" lines
                )
            )
        store = web.store
        deadline = time.time() + 120
        first_log = tmp_path / "worker0.log"
        # Mid-way, with uploads in flight in the worker to be killed: it must be uploading by then. (Under load
        # the other one could do the first 60 alone while this one was still starting, and a worker killed before
        # its first claim holds nothing to take over: the test then proved nothing, and failed.)
        while store.counts()[UploadState.READY] < 60 or first_log.read_text().count("stored as image") < 5:
            assert time.time() < deadline, (store.counts(), first_log.read_text()[-2000:])
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)
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
        assert store.staged_ids() == []  # every staged upload was sent and its bytes released
        assert type(store).__name__ == "RedisUploadStore"
        assert not any((tmp_path / name).exists() and any((tmp_path / name).rglob("*.part"))
                       for name in ("uploads", "worker0", "worker1"))  # fmt: skip
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
        for log in logs:
            log.close()
        server.stop()
        app.emulator.close()
