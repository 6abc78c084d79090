"""Controls and sweeps that meet another process half-way: a person's "retry every failed upload" while a worker
blocks one of them, and a sweep that cannot read its queue. Another process's step is taken at the moment it would
fall between two of ours (``Meanwhile``), so each race is played the same way every time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imagegen
from huey import MemoryHuey
from upload_helpers import Clock

from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadQueue, UploadRecords, UploadState
from cfvariants.uploads._control import retry_failed

PHOTOS = [imagegen.photo_jpeg(110_000 + 10_000 * i, seed=60 + i) for i in range(3)]


class Meanwhile:
    """``store`` as one process sees it, where another process does ``step`` just after ``recent`` answers."""

    def __init__(self, store: UploadRecords, step: Callable[[], None]) -> None:
        self._store, self._step = store, step

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def recent(self, **kwargs: Any) -> Any:
        rows = self._store.recent(**kwargs)
        self._step()
        return rows


def test_retrying_every_failed_upload_leaves_one_a_worker_blocked_meanwhile(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    ids = []
    for i, photo in enumerate(PHOTOS):
        ids.append(clocked_store.stage(photo, filename=f"{i}.jpg", content_type="image/jpeg").id)
        clock.advance(1)
    for upload_id in ids:
        clocked_store.mark_failed(upload_id, "Cloudflare refused the image")

    def another_person_retries_and_the_worker_is_refused_the_account() -> None:
        assert clocked_store.requeue(ids[1], states=(UploadState.FAILED,))
        assert clocked_store.claim(ids[1], lease=30) is not None
        assert clocked_store.mark_blocked(ids[1], "Cloudflare refused the account")

    retried = retry_failed(Meanwhile(clocked_store, another_person_retries_and_the_worker_is_refused_the_account))
    assert retried == [ids[0], ids[2]]  # oldest first
    assert [clocked_store.get(i).state for i in ids] == [UploadState.PENDING, UploadState.BLOCKED, UploadState.PENDING]
    assert clocked_store.get(ids[1]).error == "Cloudflare refused the account"  # it waits with the others blocked


def test_a_sweep_that_cannot_read_its_queue_waits_the_full_time_before_sending_again(
    clocked_store: UploadRecords, cf_client: ImagesClient, clock: Clock
) -> None:
    huey = MemoryHuey("uploads", immediate=False)
    queue = UploadQueue(huey, clocked_store, lambda: cf_client, requeue_after=300, lost_after=30)
    record = queue.submit(PHOTOS[0], filename="a.jpg")
    huey.flush()  # the message is gone (a worker took it and died), and the queue is empty now
    clock.advance(31)
    assert queue.requeue_abandoned() == [record.id]  # an empty queue: lost after 30 s

    def unreadable() -> int:
        raise ConnectionError("redis is down")

    huey.flush()
    clock.advance(31)
    huey.pending_count = unreadable  # type: ignore[method-assign]
    assert queue.requeue_abandoned() == []  # it cannot tell the message was lost: it waits for requeue_after
    clock.advance(300)
    assert queue.requeue_abandoned() == [record.id]
