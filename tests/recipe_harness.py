"""The docs' production recipe, run for real on this machine: a Redis with AOF, the emulator standing in for
Cloudflare (``cfvariants emulator``), gunicorn serving ``flask_app:create_app()`` and ``cfvariants-worker``
consumers, every process started from a directory that is not the repository and configured only through the
environment the recipe documents.
Used by ``tests/flask_app/test_production_recipe.py`` and ``benchmarks/bench_recipe.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import imagegen
from imagegen import MB

from cfvariants.client import ImagesClient
from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_ACCOUNT_ID, DEV_API_TOKEN
from cfvariants.uploads import RedisUploadStore, UploadRecord, UploadState

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")
QUEUE_NAME = "cfvariants-reference"  # flask_app/uploads.py


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while True:
        assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            assert time.time() < deadline, f"nothing listens on {port}"
            time.sleep(0.05)


def photos(count: int = 16) -> list[tuple[str, bytes]]:
    """Camera-like JPEGs and PNGs from 0.1 to 2 MB (what phones and cameras send, before any resizing)."""
    sizes = [int(0.1 * MB), int(0.3 * MB), int(0.6 * MB), 1 * MB, int(1.5 * MB), 2 * MB]
    out = []
    for i in range(count):
        size = sizes[i % len(sizes)]
        if i % 4 == 3:
            out.append((f"scan-{i}.png", imagegen.photo_png(size, seed=100 + i)))
        else:
            out.append((f"IMG_{1000 + i}.jpg", imagegen.photo_jpeg(size, seed=100 + i)))
    return out


class Deployment:
    """The recipe's processes under ``work``; ``start_consumer()``, ``post()``, ``records()``; ``close()`` ends
    every process it started."""

    def __init__(self, work: Path, *, web_workers: int = 2, consumer_threads: int = 4) -> None:
        assert REDIS_SERVER is not None, "needs redis-server"
        self.work = work
        self.consumer_threads = consumer_threads
        self.processes: list[subprocess.Popen[bytes]] = []
        self.consumers: list[subprocess.Popen[bytes]] = []
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        elsewhere = work / "elsewhere"  # not the repository: the recipe works from any directory
        elsewhere.mkdir(exist_ok=True)
        self.cwd = elsewhere

        redis_port, emulator_port, self.web_port = free_port(), free_port(), free_port()
        (work / "redis").mkdir(exist_ok=True)
        redis = self._start("redis", [REDIS_SERVER, "--port", str(redis_port), "--bind", "127.0.0.1", "--appendonly",
                                      "yes", "--appendfsync", "everysec", "--save", "", "--maxmemory-policy",
                                      "noeviction", "--dir", str(work / "redis")])  # fmt: skip
        emulator = self._start("emulator", [sys.executable, "-m", "cfvariants.cli", "emulator", "--quiet", "--port",
                                            str(emulator_port), "--data", str(work / "cfimages")])  # fmt: skip
        wait_for_port(redis_port, redis)
        wait_for_port(emulator_port, emulator)
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.emulator_url = f"http://127.0.0.1:{emulator_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CF_", "CFVARIANTS_"))},
            "PYTHONPATH": str(ROOT),
            "ENV_NAME": "production",
            "SECRET_KEY": "recipe-test-" + "k" * 40,
            "HUEY_URL": self.redis_url,
            "CF_ACCT_ID": DEV_ACCOUNT_ID,
            "CF_IMG_TOKEN": DEV_API_TOKEN,
            "CF_IMG_HASH": DEV_ACCOUNT_HASH,
            "CF_API_BASE": f"{self.emulator_url}/client/v4",
            "CF_IMG_DOMAIN": self.emulator_url,
            "LOG_LEVEL": "INFO",
        }
        web = self._start(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "-w", str(web_workers), "-b", f"127.0.0.1:{self.web_port}",
             "--graceful-timeout", "10", "flask_app:create_app()"],
            DATA_DIR=str(work / "web-data"),
        )  # fmt: skip
        wait_for_port(self.web_port, web)
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.store = RedisUploadStore(self.redis_url, name=QUEUE_NAME)

    def _start(self, name: str, command: list[str], **env: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=self.cwd, env={**getattr(self, "env", os.environ), **env}, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def start_consumer(self) -> subprocess.Popen[bytes]:
        """``cfvariants-worker flask_app.tasks.huey -w N``, each with a data directory of its own (no shared disk)."""
        index = len(self.consumers)
        process = self._start(
            f"consumer{index}",
            [sys.executable, "-m", "cfvariants.uploads.consumer", "flask_app.tasks.huey", "-w",
             str(self.consumer_threads)],
            DATA_DIR=str(self.work / f"consumer{index}-data"),
        )  # fmt: skip
        self.consumers.append(process)
        return process

    # -- the browser's side -----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def browser(self) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=self.base, timeout=60, follow_redirects=False) as client:
            yield client

    def post(self, client: httpx.Client, name: str, data: bytes) -> str:
        """Upload through the form (CSRF token from the page, as a browser does); returns the upload id."""
        page = client.get("/upload").text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page[:300]
        response = client.post("/upload", data={"csrf_token": match.group(1), "title": name},
                               files={"file": (name, data)})  # fmt: skip
        assert response.status_code == 303, (response.status_code, response.text[:300])
        return response.headers["Location"].rsplit("/", 1)[1]

    def post_many(self, items: list[tuple[str, bytes]], *, clients: int = 4) -> list[str]:
        def send(chunk: list[tuple[str, bytes]]) -> list[str]:
            with self.browser() as client:
                return [self.post(client, name, data) for name, data in chunk]

        chunks = [items[i::clients] for i in range(clients)]
        with ThreadPoolExecutor(clients) as pool:
            return [upload_id for ids in pool.map(send, chunks) for upload_id in ids]

    # -- watching ----------------------------------------------------------------------------------------------------

    def records(self, ids: list[str]) -> list[UploadRecord]:
        return [self.store.get(upload_id) for upload_id in ids]

    def ready(self, ids: list[str]) -> int:
        return sum(1 for r in self.records(ids) if r.state is UploadState.READY)

    def wait_ready(self, ids: list[str], *, at_least: int, timeout: float) -> float:
        """Seconds until ``at_least`` of ``ids`` are ready (asserting it happens within ``timeout``)."""
        start = time.time()
        while self.ready(ids) < at_least:
            assert time.time() - start < timeout, f"{self.ready(ids)}/{at_least} ready after {timeout}s: " + str(
                self.store.counts()
            )
            time.sleep(0.2)
        return time.time() - start

    def stored_images(self) -> list[str]:
        with ImagesClient(DEV_ACCOUNT_ID, DEV_API_TOKEN, base_url=f"{self.emulator_url}/client/v4") as client:
            return [image.id for image in client.iter_images(per_page=100)]

    # -- the end -----------------------------------------------------------------------------------------------------

    def stop(self, process: subprocess.Popen[bytes], how: signal.Signals, timeout: float = 30) -> None:
        process.send_signal(how)
        process.wait(timeout)

    def close(self) -> None:
        self.store.close()
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
