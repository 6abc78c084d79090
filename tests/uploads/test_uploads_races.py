"""Controls and sweeps that meet another process half-way: a person's "retry every failed upload" while a worker
blocks one of them, and a sweep that cannot read its queue. Another process's step is taken at the moment it would
fall between two of ours (``Meanwhile``), so each race is played the same way every time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imagegen
import pytest
from huey import MemoryHuey
from upload_helpers import Clock

from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadQueue, UploadRecords, UploadsError, UploadState
from cfvariants.uploads._control import retry, retry_failed

PHOTOS = [imagegen.photo_jpeg(110_000 + 10_000 * i, seed=60 + i) for i in range(3)]


class Meanwhile:
    """``store`` as one process sees it, where another process does ``step`` just after ``after`` (a method of the
    store) answers, once."""

    def __init__(self, store: UploadRecords, after: str, step: Callable[[], None]) -> None:
        self._store, self._after, self._step = store, after, step

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if name != self._after:
            return method

        def then_step(*args: Any, **kwargs: Any) -> Any:
            answer = method(*args, **kwargs)
            self._after = ""
            self._step()
            return answer

        return then_step


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

    meanwhile = Meanwhile(clocked_store, "recent", another_person_retries_and_the_worker_is_refused_the_account)
    retried = retry_failed(meanwhile)
    assert retried == [ids[0], ids[2]]  # oldest first
    assert [clocked_store.get(i).state for i in ids] == [UploadState.PENDING, UploadState.BLOCKED, UploadState.PENDING]
    assert clocked_store.get(ids[1]).error == "Cloudflare refused the account"  # it waits with the others blocked


def test_retrying_an_upload_a_worker_blocked_meanwhile_says_so_and_leaves_it_blocked(
    clocked_store: UploadRecords,
) -> None:
    upload_id = clocked_store.stage(PHOTOS[0], filename="a.jpg", content_type="image/jpeg").id
    clocked_store.mark_failed(upload_id, "Cloudflare refused the image")

    def another_person_retries_and_the_worker_is_refused_the_account() -> None:
        assert clocked_store.requeue(upload_id, states=(UploadState.FAILED,))
        assert clocked_store.claim(upload_id, lease=30) is not None
        assert clocked_store.mark_blocked(upload_id, "Cloudflare refused the account")

    meanwhile = Meanwhile(clocked_store, "open_staged", another_person_retries_and_the_worker_is_refused_the_account)
    with pytest.raises(UploadsError, match=f"^upload {upload_id} changed meanwhile: it is blocked$"):
        retry(meanwhile, upload_id)  # type: ignore[arg-type]
    assert clocked_store.get(upload_id).state is UploadState.BLOCKED


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
