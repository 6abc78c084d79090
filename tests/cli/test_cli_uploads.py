"""``cfvariants uploads``: list, stats, retry and discard an app's background uploads, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import imagegen
import pytest
from cli_helpers import invoke
from huey import MemoryHuey

from cfvariants.client import ImagesClient, RetryPolicy
from cfvariants.emulator import Emulator
from cfvariants.uploads import UploadQueue, UploadRecords, UploadState, UploadStore


@dataclass
class App:
    """An app's upload store, as the CLI is pointed at it, and a worker with working credentials."""

    store: UploadRecords
    args: list[str]
    worker: UploadQueue
    emulator: Emulator


def _client(emulator: Emulator, app: Any, *, token: str | None = None, refuse: bool = False) -> ImagesClient:
    inner = httpx.WSGITransport(app=app)

    def handle(request: httpx.Request) -> httpx.Response:
        if refuse and request.method == "POST":
            return httpx.Response(415, json={"success": False, "errors": [{"code": 5400, "message": "Bad image"}]})
        return inner.handle_request(request)

    return ImagesClient(emulator.config.account_id, token or emulator.config.api_token,
                        base_url="http://cfimages.test/client/v4", transport=httpx.MockTransport(handle),
                        retry=RetryPolicy.none())  # fmt: skip


@pytest.fixture(params=["sqlite", "redis"])
def app(request: pytest.FixtureRequest, tmp_path: Path, cf_emulator: Emulator, cf_app: Any) -> Iterator[App]:
    store: UploadRecords
    if request.param == "sqlite":
        store = UploadStore(tmp_path / "var" / "uploads")
        args = ["--store", str(tmp_path / "var" / "uploads")]
    else:
        from cfvariants.uploads import RedisUploadStore

        url = request.getfixturevalue("redis_url")
        store = RedisUploadStore(url, name="shop")
        args = ["--store", url, "--name", "shop"]
    worker = UploadQueue(MemoryHuey("w", immediate=False), store, lambda: _client(cf_emulator, cf_app))
    yield App(store, args, worker, cf_emulator)
    store.close()


def uploads_in_each_state(app: App, cf_app: Any) -> dict[str, str]:
    """One ready, one failed (the image refused), one blocked (a revoked token): their ids by state."""
    ids = {}
    for state, client in [
        ("ready", _client(app.emulator, cf_app)),
        ("failed", _client(app.emulator, cf_app, refuse=True)),
        ("blocked", _client(app.emulator, cf_app, token="revoked")),
    ]:
        queue = UploadQueue(MemoryHuey(state), app.store, lambda client=client: client)  # type: ignore[misc]
        record = queue.submit(imagegen.photo_jpeg(120_000, seed=len(ids)), filename=f"{state}.jpg")
        assert queue.run_once(record.id).status == state
        ids[state] = record.id
    return ids


def test_list_and_stats_show_every_state_with_its_reason(app: App, cf_app: Any) -> None:
    ids = uploads_in_each_state(app, cf_app)

    listed = invoke(["uploads", "list", *app.args])
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert set(lines) == set(ids.values())
    assert " failed " in lines[ids["failed"]] and "Cloudflare refused the image" in lines[ids["failed"]]
    assert " blocked " in lines[ids["blocked"]] and "refused the credentials" in lines[ids["blocked"]]
    assert "revoked" not in listed.stdout

    only = invoke(["uploads", "list", *app.args, "--state", "blocked", "--state", "failed", "--json"])
    assert sorted(row["id"] for row in json.loads(only.stdout)) == sorted([ids["blocked"], ids["failed"]])

    stats = invoke(["uploads", "stats", *app.args, "--json"])
    assert stats.exit_code == 1  # a health check: some need attention
    body = json.loads(stats.stdout)
    assert body["counts"] == {"pending": 0, "uploading": 0, "ready": 1, "blocked": 1, "failed": 1}
    assert "CF_IMG_TOKEN" in body["block"]["cause"]


def test_retry_and_discard(app: App, cf_app: Any) -> None:
    ids = uploads_in_each_state(app, cf_app)

    retried = invoke(["uploads", "retry", *app.args, ids["failed"], ids["blocked"]])
    assert retried.exit_code == 0, retried.output
    assert "2 upload(s) back to pending" in retried.stdout
    assert app.store.counts()[UploadState.PENDING] == 2 and app.store.current_block() is None
    report = app.worker.reconcile()  # the app's sweep sends what the command put back
    assert sorted(report.requeued) == sorted([ids["failed"], ids["blocked"]])
    assert all(app.worker.run_once(upload_id).status == "ready" for upload_id in report.requeued)
    assert app.emulator.count_images() == 3

    again = invoke(["uploads", "retry", *app.args, ids["ready"]])
    assert again.exit_code == 1 and "only failed or blocked uploads are retried" in again.stderr


def test_discard_deletes_the_staged_file_and_retry_all_failed(app: App, cf_app: Any) -> None:
    refusing = UploadQueue(MemoryHuey("r"), app.store, lambda: _client(app.emulator, cf_app, refuse=True))
    second = refusing.submit(imagegen.photo_jpeg(130_000, seed=9), filename="second.jpg")
    assert refusing.run_once(second.id).status == "failed"
    ids = uploads_in_each_state(app, cf_app)

    not_asked = invoke(["uploads", "discard", *app.args, ids["failed"]], input="n\n")
    assert not_asked.exit_code == 1 and app.store.find(ids["failed"]) is not None

    discarded = invoke(["uploads", "discard", *app.args, ids["failed"], "--yes"])
    assert discarded.exit_code == 0, discarded.output
    assert f"discarded {ids['failed']} (failed.jpg, failed)" in discarded.stdout
    assert app.store.find(ids["failed"]) is None and ids["failed"] not in app.store.staged_ids()

    stored = invoke(["uploads", "discard", *app.args, ids["ready"], "--yes"])
    assert stored.exit_code == 1 and "stored already as image" in stored.stderr

    all_failed = invoke(["uploads", "retry", *app.args, "--all-failed"])
    assert all_failed.exit_code == 0 and "1 upload(s) back to pending" in all_failed.stdout
    assert app.store.get(second.id).state is UploadState.PENDING


def test_the_store_must_be_named(tmp_path: Path) -> None:
    missing = invoke(["uploads", "list"], env={"CFV_UPLOADS_STORE": None})
    assert missing.exit_code == 2 and "name the upload store" in missing.stderr
    wrong = invoke(["uploads", "stats", "--store", str(tmp_path)])
    assert wrong.exit_code == 2 and "holds no upload store" in wrong.stderr
    assert not (tmp_path / "uploads.db").exists()  # nothing created by looking
