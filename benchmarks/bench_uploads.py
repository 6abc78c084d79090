"""Background uploads: end-to-end throughput with 1, 2 and 4 workers, and the time a request spends in the
upload view (which must not depend on the file's size beyond reading it, nor on Cloudflare's latency).

    python3 dev.py bench uploads        (or: .venv/bin/python benchmarks/bench_uploads.py [--quick])

Cloudflare is played by the emulator on 127.0.0.1 with a fixed delay added to every API call (``--latency``,
default 100 ms, about what a real upload round trip costs), so worker counts matter as they would in production.
The view is timed with Flask's test client against the reference app in production mode, pointed at that slow
server; its floor is a bare Flask view that receives the same multipart upload and discards it.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, request
from huey import SqliteHuey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import imagegen
from _results import publish
from huey_helpers import running_consumer

from cfvariants.client import ImagesClient, RetryPolicy
from cfvariants.emulator import EmulatorServer, create_app
from cfvariants.uploads import UploadQueue, UploadState, UploadStore
from flask_app import create_app as create_reference_app
from flask_app.config import AppSettings


def slow(app: Any, seconds: float) -> Callable[..., Any]:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"].startswith("/client/v4/"):
            time.sleep(seconds)
        return app(environ, start_response)

    return wrapped


def throughput(server_url: str, account: Any, workers: int, count: int, work: Path) -> float:
    """Uploads per second from the first task to the last one ready, with ``workers`` huey worker threads."""
    huey = SqliteHuey(f"bench{workers}", filename=str(work / f"huey{workers}.db"))
    store = UploadStore(work / f"uploads{workers}")

    def client() -> ImagesClient:
        return ImagesClient(account.account_id, account.api_token, base_url=f"{server_url}/client/v4",
                            retry=RetryPolicy(max_attempts=3))  # fmt: skip

    queue = UploadQueue(huey, store, client, id_prefix=f"bench{workers}")
    payload = imagegen.jpeg(64, 48)
    for i in range(count):
        queue.submit(payload, filename=f"p{i}.jpg")
    started = time.perf_counter()
    with running_consumer(huey, workers=workers):
        while store.counts()[UploadState.READY] < count:
            time.sleep(0.01)
    elapsed = time.perf_counter() - started
    assert store.counts()[UploadState.FAILED] == 0
    return count / elapsed


def view_times(
    server_url: str, account: Any, sizes: list[int], repeat: int, work: Path
) -> list[tuple[int, float, float]]:
    """p50 milliseconds in the reference app's upload view vs a bare view reading the same upload."""
    os.environ.update(
        CF_ACCT_ID=account.account_id,
        CF_IMG_TOKEN=account.api_token,
        CF_IMG_HASH=account.account_hash,
        CF_API_BASE=f"{server_url}/client/v4",
    )
    settings = AppSettings(ENV_NAME="production", DATA_DIR=work / "view", SECRET_KEY="bench", MAX_UPLOAD_MB=10)
    app = create_reference_app(settings, TESTING=True)
    client = app.test_client()
    client.get("/upload")
    with client.session_transaction() as session:
        token = session["csrf_token"]

    bare = Flask("bare")
    bare.config["MAX_CONTENT_LENGTH"] = 11 * 1024 * 1024

    @bare.post("/upload")
    def receive() -> str:
        file = request.files["file"]
        while file.stream.read(1 << 20):
            pass
        return "ok"

    bare_client = bare.test_client()
    out = []
    for size in sizes:
        data = imagegen.jpeg(256, 256, pattern="noise")
        data = data + b"\0" * max(0, size - len(data))  # a valid JPEG padded to the size (decoders stop at EOI)
        ours, floor = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.post("/upload", data={"csrf_token": token, "file": (io.BytesIO(data), "a.jpg")},
                                   content_type="multipart/form-data")  # fmt: skip
            ours.append(time.perf_counter() - started)
            assert response.status_code == 303, response.text[:300]
            started = time.perf_counter()
            bare_client.post("/upload", data={"file": (io.BytesIO(data), "a.jpg")}, content_type="multipart/form-data")
            floor.append(time.perf_counter() - started)
        out.append((size, statistics.median(ours) * 1000, statistics.median(floor) * 1000))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every API call")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request of the local server is noise
    count = 60 if args.quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        app = create_app(data_dir=work / "cfimages")
        account = app.emulator.config
        server = EmulatorServer(slow(app, args.latency), port=0).start()  # type: ignore[arg-type]
        try:
            print(f"{count} uploads through the queue, API latency {args.latency * 1000:.0f} ms per call")
            base = None
            table = []
            for workers in (1, 2, 4):
                rate = throughput(server.url, account, workers, count, work)
                base = base or rate
                table.append([f"{count} uploads through the queue, {workers} worker(s)", f"{rate:.1f} uploads/s",
                              f"{rate / base:.2f}× one worker"])  # fmt: skip
                print(f"  {workers} worker(s): {rate:6.1f} uploads/s  ({rate / base:.2f}x one worker)")
            print("\ntime in the upload view (p50), reference app vs a bare view reading the same upload")
            sizes = [10_000, 1_000_000, 8_000_000]
            for size, ours, floor in view_times(server.url, account, sizes, 5 if args.quick else 15, work):
                print(f"  {size / 1e6:5.2f} MB: {ours:7.2f} ms  (floor {floor:6.2f} ms, +{ours - floor:5.2f} ms)")
                table.append([f"time in the upload view, {size / 1e6:g} MB", f"{ours:.1f} ms",
                              f"bare view reading the upload {floor:.1f} ms"])  # fmt: skip
            publish("uploads", ["background uploads", "measured", "against"], table,
                    f"Every API call answered after {args.latency * 1000:.0f} ms (the emulator, slowed).")  # fmt: skip
            print(f"  (the API answers after {args.latency * 1000:.0f} ms; the view never waits for it)")
        finally:
            server.stop()
            app.emulator.close()


if __name__ == "__main__":
    main()
