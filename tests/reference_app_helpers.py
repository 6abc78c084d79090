"""Helpers for the reference-app tests: an app on a temporary data directory, its CSRF token, a running worker."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from huey.consumer import Consumer
from huey_helpers import running_consumer

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


def worker(app: Flask, *, threads: int = 2) -> contextlib.AbstractContextManager[Consumer]:
    """huey's consumer on the app's queue, in this process, stopped gracefully at the end."""
    return running_consumer(queue_of(app).huey, workers=threads)


def wait_until_settled(app: Flask, *, timeout: float = 60) -> None:
    store = queue_of(app).store
    deadline = time.time() + timeout
    while True:
        counts = store.counts()
        if counts[UploadState.PENDING] == counts[UploadState.UPLOADING] == 0:
            return
        assert time.time() < deadline, counts
        time.sleep(0.05)
