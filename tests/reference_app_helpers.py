"""Helpers for the reference-app tests: an app on a temporary data directory, its CSRF token, a running worker."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from huey.consumer import Consumer

from cfvariants.uploads import UploadQueue, UploadState
from flask_app import create_app
from flask_app.config import AppSettings


def make_app(tmp_path: Path, **settings: Any) -> Flask:
    return create_app(AppSettings(DATA_DIR=tmp_path / "var", **settings), TESTING=True)


def queue_of(app: Flask) -> UploadQueue:
    queue: UploadQueue = app.extensions["uploads"]
    return queue


def csrf(client: FlaskClient) -> str:
    page = client.get("/upload").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the upload form has no CSRF token"
    return match.group(1)


@contextlib.contextmanager
def worker(app: Flask, *, threads: int = 2) -> Iterator[Consumer]:
    """huey's consumer on the app's queue (worker threads in this process; signal handlers left to the test
    runner), stopped gracefully at the end."""
    consumer = Consumer(queue_of(app).huey, workers=threads, worker_type="thread", periodic=False,
                        check_worker_health=False)  # fmt: skip
    consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)


def wait_until_settled(app: Flask, *, timeout: float = 60) -> None:
    store = queue_of(app).store
    deadline = time.time() + timeout
    while True:
        counts = store.counts()
        if counts[UploadState.PENDING] == counts[UploadState.UPLOADING] == 0:
            return
        assert time.time() < deadline, counts
        time.sleep(0.05)
