"""Huey identifies a task as "<module of its function>.<name>", and every queued message carries that string: the
upload queue's tasks keep theirs whatever module the code lives in, so messages already in a user's queue (SQLite,
Redis) still find their task after an upgrade (making the implementation modules private moved the queue's code)."""

from __future__ import annotations

from pathlib import Path

import imagegen
from huey import SqliteHuey

from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadQueue, UploadState, UploadStore

# What every message queued since the first release carries (the code was in cfvariants/uploads/_queue.py then).
UPLOAD_TASK = "cfvariants.uploads.queue.cfvariants.upload"  # pinned name (not the module's path)
RECONCILE_TASK = "cfvariants.uploads.queue.cfvariants.reconcile"  # pinned name (not the module's path)


def no_client() -> ImagesClient:
    raise AssertionError("nothing is sent to Cloudflare in these tests")


def queue_on(path: Path) -> UploadQueue:
    """A process's queue: its own huey on the shared SQLite file, its own store on the shared directory."""
    huey = SqliteHuey("cfvariants", filename=str(path / "huey.db"))
    return UploadQueue(huey, UploadStore(path / "uploads"), no_client)


def test_the_queue_tasks_keep_the_names_queued_messages_carry(tmp_path: Path) -> None:
    queue = queue_on(tmp_path)
    registry = queue.huey._registry
    assert registry.task_to_string(queue.upload_task.task_class) == UPLOAD_TASK
    assert registry.task_to_string(queue.reconcile_task.task_class) == RECONCILE_TASK
    assert registry.string_to_task(UPLOAD_TASK) is queue.upload_task.task_class


def test_a_queued_upload_is_found_by_a_worker_started_later(tmp_path: Path) -> None:
    web = queue_on(tmp_path)
    record = web.submit(imagegen.jpeg(640, 480), filename="cat.jpg")
    assert record.state is UploadState.PENDING
    (message,) = web.huey.storage.enqueued_items()
    assert UPLOAD_TASK.encode() in message

    worker = queue_on(tmp_path)  # another process: a registry of its own, the same queue
    task = worker.huey.dequeue()
    assert task is not None
    assert type(task) is worker.upload_task.task_class
    assert task.args == (record.id,)
