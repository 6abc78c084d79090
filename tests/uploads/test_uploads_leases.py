"""Short leases with a heartbeat, and uploads handed back by a worker that is stopped mid-upload."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import imagegen
import pytest
from huey import MemoryHuey, SqliteHuey
from huey.signals import SIGNAL_INTERRUPTED
from huey_helpers import running_consumer

from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadQueue, UploadRecords, UploadState, UploadStore
from cfvariants.uploads._leases import HAND_BACK_AFTER, PRIVATE_HAND_BACK_AFTER, Leases

JPEG = imagegen.jpeg(64, 48)


def stage(records: UploadRecords) -> str:
    return records.stage(JPEG, filename="a.jpg", content_type="image/jpeg").id


def test_a_held_upload_keeps_its_claim_for_as_long_as_it_takes(store: UploadRecords) -> None:
    upload_id = stage(store)
    leases = Leases(store, lease=0.6, interval=0.1)
    record = store.claim(upload_id, lease=leases.lease)
    assert record is not None
    with leases.holding(record):
        time.sleep(1.5)  # well past the lease: only the heartbeat keeps it
        assert store.claim(upload_id, lease=5) is None
        assert store.get(upload_id).state is UploadState.UPLOADING
    time.sleep(0.8)  # its worker is gone (no mark_ready): nothing renews it now
    taken = store.claim(upload_id, lease=5)
    assert taken is not None and taken.attempts == 2


def test_a_renewal_cannot_extend_a_claim_taken_over_since(store: UploadRecords) -> None:
    upload_id = stage(store)
    first = store.claim(upload_id, lease=-1)  # claimed, then frozen past its lease
    assert first is not None
    second = store.claim(upload_id, lease=60)
    assert second is not None
    assert store.renew(upload_id, lease=60, attempt=first.attempts) is False
    assert store.renew(upload_id, lease=60, attempt=second.attempts) is True
    store.mark_ready(upload_id, "img")
    assert store.renew(upload_id, lease=60, attempt=second.attempts) is False


def test_a_stopping_worker_hands_back_what_it_holds(store: UploadRecords, cf_client: ImagesClient) -> None:
    huey = MemoryHuey("t", immediate=False)
    queue = UploadQueue(huey, store, lambda: cf_client, lease=30)
    public = queue.submit(JPEG, filename="a.jpg")
    private = queue.submit(JPEG, filename="b.jpg", private=True)
    huey.flush()  # the messages are with the worker now
    claims = [store.claim(r.id, lease=queue.lease) for r in (public, private)]
    assert all(claims)
    with queue.leases.holding(claims[0]), queue.leases.holding(claims[1]):  # type: ignore[arg-type]
        handed = queue.leases.hand_back()
        assert queue.leases.held() == []
    # Not claimable at once: the stopped worker's request may still land. A public upload is found by its custom
    # id whenever it does, so a few seconds; a private one only by a metadata lookup, so longer.
    assert handed == {public.id: HAND_BACK_AFTER, private.id: PRIVATE_HAND_BACK_AFTER}
    assert HAND_BACK_AFTER <= 5 and PRIVATE_HAND_BACK_AFTER <= 30
    for record in (public, private):
        current = store.get(record.id)
        assert current.state is UploadState.UPLOADING and current.lease_until is not None
        assert current.lease_until <= time.time() + handed[record.id]
        assert store.claim(record.id, lease=30) is None


def test_handed_back_uploads_are_sent_again_and_taken_over(
    store: UploadRecords,
    cf_client: ImagesClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("cfvariants.uploads._leases.HAND_BACK_AFTER", 0.2)
    huey = MemoryHuey("t", immediate=False)
    queue = UploadQueue(huey, store, lambda: cf_client, lease=30)
    record = queue.submit(JPEG, filename="a.jpg")
    huey.flush()
    claimed = store.claim(record.id, lease=queue.lease)
    assert claimed is not None
    with queue.leases.holding(claimed):
        assert queue.hand_back() == [record.id]
    assert len(huey) == 1  # sent again, due when the shortened claim has run out
    time.sleep(0.3)
    assert queue.run_once(record.id).status == "ready"  # the next attempt, by any worker
    assert len(list(cf_client.iter_images())) == 1


def test_an_interrupted_upload_task_is_handed_back(store: UploadRecords, cf_client: ImagesClient) -> None:
    """What huey does on SIGTERM (``huey_consumer``) or at the end of a graceful timeout: it interrupts the task
    in flight; the upload it held goes back to the queue."""
    huey = MemoryHuey("t", immediate=False)
    queue = UploadQueue(huey, store, lambda: cf_client)
    record = queue.submit(JPEG, filename="a.jpg")
    task = huey.dequeue()
    assert task is not None
    started, release = threading.Event(), threading.Event()
    original = cf_client.upload

    def slow_upload(*args: object, **kwargs: object) -> object:
        started.set()
        release.wait(10)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    cf_client.upload = slow_upload  # type: ignore[method-assign]
    worker = threading.Thread(target=huey.execute, args=(task,), daemon=True)
    worker.start()
    assert started.wait(10)
    assert store.get(record.id).state is UploadState.UPLOADING
    huey._emit(SIGNAL_INTERRUPTED, task)  # what notify_interrupted_tasks() does
    assert queue.leases.held() == [] and len(huey) == 1  # given up, and sent again for later
    release.set()
    worker.join(10)
    # The interrupted attempt finished after all (a thread worker is not killed): recorded once, not twice.
    assert store.get(record.id).state is UploadState.READY
    assert queue.run_once(record.id).status == "skipped"
    assert len(list(cf_client.iter_images())) == 1


def test_the_sweep_resends_a_lost_message_quickly_when_the_queue_is_idle(sqlite_store: UploadRecords) -> None:
    huey = MemoryHuey("t", immediate=False)
    queue = UploadQueue(huey, sqlite_store, lambda: None, requeue_after=300, lost_after=0.2)  # type: ignore[arg-type,return-value]
    record = queue.submit(JPEG, filename="a.jpg")
    assert queue.reconcile().requeued == ()  # its message is still in the queue
    huey.flush()  # taken by a worker that died before claiming it
    assert queue.reconcile().requeued == ()  # not yet: it may be in a worker's hands
    time.sleep(0.3)
    assert queue.reconcile().requeued == (record.id,)
    assert len(huey) == 1


def test_the_upload_task_keeps_no_result(sqlite_store: UploadRecords, cf_client: ImagesClient) -> None:
    huey = MemoryHuey("t", immediate=False)
    queue = UploadQueue(huey, sqlite_store, lambda: cf_client)
    for i in range(3):
        queue.submit(imagegen.jpeg(40 + i, 30), filename=f"{i}.jpg")
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    assert sqlite_store.counts()[UploadState.READY] == 3
    assert huey.storage.result_store_size() == 0


def test_a_worker_says_at_start_which_queue_store_and_account_it_uses(
    sqlite_store: UploadRecords,
    cf_client: ImagesClient,
    cf_app: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="cfvariants.uploads")
    path = str(tmp_path / "huey.db")
    lone = UploadQueue(SqliteHuey("shared", filename=path), sqlite_store, lambda: cf_client)
    lone._log_start()
    warning = caplog.records[-1]
    assert warning.levelno == logging.WARNING
    text = warning.getMessage()
    assert f"SqliteHuey 'shared' at {path}" in text and "UploadStore at" in text and cf_client.base_url in text
    assert "No web app has used this queue" in text and "HUEY_URL" in text
    assert cf_app.emulator.config.api_token not in text

    lone.announce_web()  # the web app starts on the same queue and store
    worker = UploadQueue(SqliteHuey("shared", filename=path), sqlite_store, lambda: cf_client)  # another process
    worker._log_start()
    assert caplog.records[-1].levelno == logging.INFO
    assert "the same as the web app" in caplog.records[-1].getMessage()

    elsewhere = UploadStore(tmp_path / "other-data-dir" / "uploads")
    stray = UploadQueue(SqliteHuey("shared", filename=path), elsewhere, lambda: cf_client)
    stray._log_start()
    assert caplog.records[-1].levelno == logging.WARNING
    text = caplog.records[-1].getMessage()
    assert "other-data-dir" in text and f"but the web app on {socket.gethostname()} uses store UploadStore" in text


def test_a_running_worker_takes_over_a_dead_workers_upload_within_a_lease(
    sqlite_store: UploadRecords,
    cf_client: ImagesClient,
    tmp_path: Path,
) -> None:
    huey = SqliteHuey("t", filename=str(tmp_path / "huey.db"))
    queue = UploadQueue(huey, sqlite_store, lambda: cf_client, lease=0.6)
    record = queue.submit(JPEG, filename="a.jpg")
    huey.flush()  # its message went down with the worker that held it...
    assert sqlite_store.claim(record.id, lease=0.6) is not None  # ...and so did its claim, never renewed
    with running_consumer(huey, workers=1):
        deadline = time.time() + 20
        while sqlite_store.get(record.id).state is not UploadState.READY:
            assert time.time() < deadline, sqlite_store.get(record.id)
            time.sleep(0.05)
    assert sqlite_store.get(record.id).attempts == 2
    assert len(list(cf_client.iter_images())) == 1
