"""A person's and a worker's handling of uploads through ``UploadQueue``: listing them, discarding one (logged),
handing back only what a stopped task held (and sending it again for when its shortened claim ends), and the
web app's fingerprint when the queue cannot take it. Both stores, a controllable clock, no sleeps."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import imagegen
import pytest
from huey import MemoryHuey
from huey.signals import SIGNAL_INTERRUPTED
from upload_helpers import Clock

from cfvariants import SettingsError
from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadQueue, UploadRecords, UploadsError, UploadState, UploadStore
from cfvariants.uploads._leases import HAND_BACK_AFTER, PRIVATE_HAND_BACK_AFTER

PHOTOS = [imagegen.photo_jpeg(120_000 + 20_000 * i, seed=40 + i) for i in range(3)]  # camera-like, 120-160 KB


def _queue(store: UploadRecords, client: ImagesClient) -> tuple[UploadQueue, MemoryHuey]:
    huey = MemoryHuey("uploads", immediate=False)
    return UploadQueue(huey, store, lambda: client, lease=30), huey


# -- listing ------------------------------------------------------------------------------------------------------


def test_uploads_lists_the_newest_hundred_of_every_state_or_as_many_as_asked(
    sqlite_store: UploadRecords, cf_client: ImagesClient
) -> None:
    queue, _ = _queue(sqlite_store, cf_client)
    ids = [sqlite_store.stage(b"%d" % i, filename=f"{i}.jpg", content_type="image/jpeg").id for i in range(101)]
    listed = queue.uploads()
    assert len(listed) == 100 and listed[0].id == ids[-1] and ids[0] not in {r.id for r in listed}
    assert [r.id for r in queue.uploads(limit=3)] == ids[-1:-4:-1]
    assert len(queue.uploads(limit=101)) == 101
    assert queue.uploads(state="ready") == [] and len(queue.uploads(state=UploadState.PENDING, limit=5)) == 5


def test_discarding_an_upload_is_logged_with_its_id_and_file_name(
    clocked_store: UploadRecords, cf_client: ImagesClient, caplog: pytest.LogCaptureFixture
) -> None:
    queue, _ = _queue(clocked_store, cf_client)
    record = queue.submit(PHOTOS[0], filename="holiday.jpg")
    with caplog.at_level(logging.WARNING, logger="cfvariants.uploads"):
        assert queue.discard(record.id).filename == "holiday.jpg"
    assert caplog.messages == [f"upload {record.id} (holiday.jpg) discarded with its file, as asked"]
    assert clocked_store.find(record.id) is None and clocked_store.staged_ids() == []


# -- handing back what a stopping worker holds --------------------------------------------------------------------


def test_handing_back_some_uploads_keeps_the_others_and_sends_each_again_for_when_its_claim_ends(
    clocked_store: UploadRecords, cf_client: ImagesClient, clock: Clock
) -> None:
    queue, huey = _queue(clocked_store, cf_client)
    public, private, other = (
        queue.submit(PHOTOS[0], filename="a.jpg"),
        queue.submit(PHOTOS[1], filename="b.jpg", private=True),
        queue.submit(PHOTOS[2], filename="c.jpg"),
    )
    huey.flush()  # the messages are with the worker now
    claims = [clocked_store.claim(r.id, lease=queue.lease) for r in (public, private, other)]
    assert all(claims)
    with queue.leases.holding(claims[0]), queue.leases.holding(claims[1]), queue.leases.holding(claims[2]):  # type: ignore[arg-type]
        assert sorted(queue.hand_back([public.id, private.id])) == sorted([public.id, private.id])
        assert queue.leases.held() == [other.id]  # still being sent by this worker
        assert len(huey) == 2  # one message each, for later
        # due half a second after the shortened claim runs out, so the claim is free when the message arrives
        assert clocked_store.get(public.id).enqueued_at == clock.now + HAND_BACK_AFTER + 0.5
        assert clocked_store.get(private.id).enqueued_at == clock.now + PRIVATE_HAND_BACK_AFTER + 0.5
        assert clocked_store.get(other.id).state is UploadState.UPLOADING


def test_an_interrupted_task_hands_back_only_its_own_upload(
    clocked_store: UploadRecords, cf_client: ImagesClient
) -> None:
    queue, huey = _queue(clocked_store, cf_client)
    mine, theirs = queue.submit(PHOTOS[0], filename="a.jpg"), queue.submit(PHOTOS[1], filename="b.jpg")
    tasks = [huey.dequeue(), huey.dequeue()]
    assert all(tasks)
    claims = [clocked_store.claim(r.id, lease=queue.lease) for r in (mine, theirs)]
    with queue.leases.holding(claims[0]), queue.leases.holding(claims[1]):  # type: ignore[arg-type]
        huey._emit(SIGNAL_INTERRUPTED, tasks[0])  # what huey's consumer does on SIGTERM, per task in flight
        assert queue.leases.held() == [theirs.id]
        assert len(huey) == 1


def test_an_interrupted_task_of_the_app_that_takes_an_upload_id_hands_back_nothing(
    clocked_store: UploadRecords, cf_client: ImagesClient
) -> None:
    queue, huey = _queue(clocked_store, cf_client)

    @huey.task()
    def make_thumbnails(upload_id: str) -> None:  # the app's own task, on the same huey
        return None

    record = queue.submit(PHOTOS[0], filename="a.jpg")
    huey.flush()
    make_thumbnails(record.id)
    task = huey.dequeue()
    claim = clocked_store.claim(record.id, lease=queue.lease)
    assert task is not None and claim is not None
    with queue.leases.holding(claim):
        huey._emit(SIGNAL_INTERRUPTED, task)
        assert queue.leases.held() == [record.id]  # the upload is still being sent
        assert len(huey) == 0


# -- the web app's fingerprint ------------------------------------------------------------------------------------


def test_a_queue_that_cannot_take_the_fingerprint_is_logged_and_uploads_still_stage(
    clocked_store: UploadRecords, cf_client: ImagesClient, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    queue, huey = _queue(clocked_store, cf_client)

    def down(key: str, value: object) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(huey, "put", down)
    with caplog.at_level(logging.WARNING, logger="cfvariants.uploads"):
        line = queue.announce_web()
    assert line.startswith("uses queue MemoryHuey 'uploads' (this process only), store ")
    assert caplog.messages == ["could not leave the web app's fingerprint in the queue (redis is down)"]
    assert queue.submit(PHOTOS[0], filename="a.jpg").state is UploadState.PENDING


# -- counting, retrying and discarding (cfvariants uploads uses the same) --------------------------------------


def test_stats_count_every_state_as_a_mapping_of_its_names(
    clocked_store: UploadRecords, cf_client: ImagesClient
) -> None:
    queue, _ = _queue(clocked_store, cf_client)
    ids = [queue.submit(photo, filename=f"p{i}.jpg").id for i, photo in enumerate(PHOTOS)]
    clocked_store.mark_failed(ids[0], "Cloudflare refused the image: HTTP 415")
    clocked_store.mark_blocked(ids[1], "Cloudflare refused the credentials")
    stats = queue.stats()
    assert dict(stats) == {"pending": 1, "uploading": 0, "ready": 0, "blocked": 1, "failed": 1}
    assert list(stats) == ["pending", "uploading", "ready", "blocked", "failed"] and len(stats) == 5
    assert stats["failed"] == 1 and stats.needs_attention == 2 and stats.block is None
    with pytest.raises(ValueError):
        stats["lost"]


def test_retry_refuses_what_is_neither_failed_nor_blocked_and_what_has_no_bytes_left(
    sqlite_store: UploadStore, cf_client: ImagesClient
) -> None:
    queue, _ = _queue(sqlite_store, cf_client)
    pending, gone = (queue.submit(photo, filename=f"p{i}.jpg").id for i, photo in enumerate(PHOTOS[:2]))
    with pytest.raises(UploadsError) as info:
        queue.retry(pending)
    assert str(info.value) == f"upload {pending} is pending: only failed or blocked uploads are retried"
    sqlite_store.mark_failed(gone, "Cloudflare refused the image")
    sqlite_store.staged_path(gone).unlink()  # lost with a disk, or removed by hand
    with pytest.raises(UploadsError) as info:
        queue.retry(gone)
    assert str(info.value) == f"upload {gone} (p1.jpg) has no staged bytes left; upload the file again"
    assert sqlite_store.get(gone).state is UploadState.FAILED
    assert queue.retry_failed() == []  # nothing to send: its bytes are gone
    assert sqlite_store.get(gone).state is UploadState.FAILED


def test_discard_refuses_an_upload_in_flight_and_one_already_stored(
    clocked_store: UploadRecords, cf_client: ImagesClient
) -> None:
    queue, _ = _queue(clocked_store, cf_client)
    flying, stored = (queue.submit(photo, filename=f"p{i}.jpg").id for i, photo in enumerate(PHOTOS[:2]))
    assert clocked_store.claim(flying, lease=30) is not None
    with pytest.raises(UploadsError) as info:
        queue.discard(flying)
    assert str(info.value) == f"upload {flying} is being sent right now; discard it once it is ready or failed"
    assert queue.run_once(stored).status == "ready"
    image_id = clocked_store.get(stored).image_id
    with pytest.raises(UploadsError) as info:
        queue.discard(stored)
    assert str(info.value) == f"upload {stored} is stored already as image {image_id}; delete the image instead"
    assert clocked_store.get(flying).state is UploadState.UPLOADING


def test_failed_uploads_are_kept_for_exactly_their_retention(
    clocked_store: UploadRecords, cf_client: ImagesClient, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    queue = UploadQueue(MemoryHuey("uploads", immediate=False), clocked_store, lambda: cf_client, failed_retention=3600)
    failed = queue.submit(PHOTOS[0], filename="refused.jpg").id
    blocked = queue.submit(PHOTOS[1], filename="waiting.jpg").id
    clocked_store.mark_failed(failed, "Cloudflare refused the image")
    clocked_store.mark_blocked(blocked, "Cloudflare refused the credentials")
    clocked_store.block("Cloudflare refused the credentials", probe_at=clock.now + 86400)
    clock.advance(3600)
    assert queue.reconcile().expired == ()  # an hour to the second: still kept
    clock.advance(0.001)
    with caplog.at_level(logging.WARNING, logger="cfvariants.uploads"):
        assert queue.reconcile().expired == (failed,)
    assert caplog.messages == [
        f"upload {failed} (refused.jpg) discarded with its file: failed 60 min ago (retention 60 min): "
        "Cloudflare refused the image"
    ]
    assert clocked_store.find(failed) is None and clocked_store.staged_ids() == [blocked]  # blocked: never by time
    assert clocked_store.get(blocked).state is UploadState.BLOCKED


def test_the_sweep_removes_staged_files_that_never_got_a_record_and_says_so(
    sqlite_store: UploadStore, cf_client: ImagesClient, caplog: pytest.LogCaptureFixture
) -> None:
    queue = UploadQueue(MemoryHuey("uploads", immediate=False), sqlite_store, lambda: cf_client, orphan_age=3600)
    kept = queue.submit(PHOTOS[0], filename="a.jpg").id
    crashed = sqlite_store.staged_path("f" * 32)  # written, then the process died before recording it
    crashed.write_bytes(PHOTOS[1])
    recent = sqlite_store.staged_path("e" * 32)  # an upload being staged right now
    recent.write_bytes(PHOTOS[2])
    two_hours_ago = time.time() - 7200
    os.utime(crashed, (two_hours_ago, two_hours_ago))
    with caplog.at_level(logging.INFO, logger="cfvariants.uploads"):
        report = queue.reconcile()
    assert (report.requeued, report.orphans_removed) == ((), 1)
    assert caplog.messages == ["reconcile: re-enqueued 0 upload(s), removed 1 orphaned staged file(s)"]
    assert not crashed.exists() and recent.exists() and sqlite_store.staged_ids() == sorted([kept, "e" * 32])


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0s"), (89, "89s"), (90, "2 min"), (5399, "90 min"), (5400, "1.5 h"), (172_799, "48.0 h"),
     (172_800, "2 days"), (7 * 86400, "7 days")],
)  # fmt: skip
def test_durations_in_reasons_and_logs_read_naturally(seconds: float, words: str) -> None:
    from cfvariants.uploads._control import duration

    assert duration(seconds) == words


# -- a worker's start ---------------------------------------------------------------------------------------------


class _Rounds(threading.Event):
    """The worker's stop signal, answering "not yet" for ``rounds`` waits: records how long each wait was, and
    the thread that waited."""

    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.rounds = rounds
        self.waits: list[float | None] = []
        self.threads: list[threading.Thread] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        self.threads.append(threading.current_thread())
        return len(self.waits) > self.rounds


def test_a_started_worker_looks_for_abandoned_uploads_every_half_lease_and_logs_what_it_finds(
    sqlite_store: UploadStore, cf_client: ImagesClient, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    queue, _ = _queue(sqlite_store, cf_client)  # a 30 s lease
    answers: list[Exception | list[str]] = [ConnectionError("the store is down"), ["0" * 32]]

    def requeue_abandoned() -> list[str]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(queue, "requeue_abandoned", requeue_abandoned)
    rounds = _Rounds(2)
    queue._stopping = rounds
    caplog.set_level(logging.INFO, logger="cfvariants.uploads")
    queue._log_start()  # huey's start-up hook, once per worker process
    rounds.threads[0].join(10)
    assert rounds.waits == [15.0, 15.0, 15.0] and answers == []
    watcher = rounds.threads[0]
    assert watcher.name == "cfvariants-lease-watch" and watcher.daemon  # never keeps a stopping worker alive
    assert "could not look for abandoned uploads (the store is down)" in caplog.messages
    assert "re-enqueued 1 abandoned upload(s) (a worker died, or a message was lost)" in caplog.messages


def test_a_worker_whose_client_cannot_be_built_says_so_at_start(
    sqlite_store: UploadStore, caplog: pytest.LogCaptureFixture
) -> None:
    def no_client() -> ImagesClient:
        raise SettingsError("CF_IMG_TOKEN is not set")

    queue = UploadQueue(MemoryHuey("uploads", immediate=False), sqlite_store, no_client)
    with caplog.at_level(logging.ERROR, logger="cfvariants.uploads"):
        queue._log_start()
    queue._stop_watching()
    assert caplog.messages == [
        f"upload worker (pid {os.getpid()}) cannot start its Cloudflare client: CF_IMG_TOKEN is not set"
    ]


# -- what submit records, and the documented defaults ----------------------------------------------------------


def test_submit_keeps_the_metadata_context_and_a_clean_file_name_and_the_id_prefix_asked_for(
    clocked_store: UploadRecords, cf_client: ImagesClient
) -> None:
    queue = UploadQueue(MemoryHuey("uploads", immediate=False), clocked_store, lambda: cf_client, check=None)
    record = queue.submit(PHOTOS[0], filename="C:\\Users\\ana\\Pictures\\Beach day.JPG", metadata={"owner": 7},
                          context={"row": 42}, id_prefix="avatars")  # fmt: skip
    assert (record.filename, record.metadata, record.context) == ("Beach day.JPG", {"owner": 7}, {"row": 42})
    assert record.custom_id is not None and record.custom_id.startswith("avatars/")
    assert record.custom_id.endswith(f"/{record.id}.jpg") and record.content_type == "image/jpeg"  # from the name
    other = queue.submit(PHOTOS[1], filename="uploads/2026/scan.tiffx")
    assert other.custom_id is not None and other.custom_id.startswith("uploads/")  # the queue's default prefix
    assert (other.filename, other.content_type) == ("scan.tiffx", "application/octet-stream")
    assert queue.submit(PHOTOS[2], filename="x" * 300 + ".jpg").filename == "x" * 255
    with pytest.raises(UploadsError, match=r"^the file has no name$"):
        queue.submit(PHOTOS[2], filename="photos/\x00\n")
    assert queue.run_once(record.id).status == "ready"
    assert cf_client.get(record.custom_id).meta["owner"] == 7


def test_the_documented_defaults(clocked_store: UploadRecords, cf_client: ImagesClient, clock: Clock,
                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("random.uniform", lambda low, high: high)
    queue = UploadQueue(MemoryHuey("uploads", immediate=False), clocked_store, lambda: cf_client)
    assert (queue.retry_delay(1), queue.retry_delay(2), queue.retry_delay(50)) == (2.0, 4.0, 300.0)  # 2 s, up to 5 min
    monkeypatch.setattr("random.uniform", lambda low, high: low)
    slow = UploadQueue(MemoryHuey("u", immediate=False), clocked_store, lambda: cf_client, backoff=0.5)
    assert slow.retry_delay(1) == 0.25  # no floor of its own: only Retry-After's
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    queue.huey.flush()  # its message was lost
    clock.advance(30)
    assert queue.reconcile().requeued == ()
    clock.advance(0.001)
    assert queue.reconcile().requeued == (upload_id,)  # sent again 30 s after its message, once the queue is empty
    clocked_store.mark_failed(upload_id, "Cloudflare refused the image")
    clock.advance(7 * 86400)
    assert queue.reconcile().expired == ()
    clock.advance(1)
    assert queue.reconcile().expired == (upload_id,)  # failed uploads are kept 7 days


def test_a_waiting_message_is_not_duplicated_until_requeue_after(
    clocked_store: UploadRecords, cf_client: ImagesClient, clock: Clock
) -> None:
    queue = UploadQueue(MemoryHuey("uploads", immediate=False), clocked_store, lambda: cf_client)
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    clock.advance(300)  # the queue is busy: its message still waits there
    assert queue.reconcile().requeued == () and len(queue.huey) == 1
    clock.advance(0.001)
    assert queue.reconcile().requeued == (upload_id,) and len(queue.huey) == 2  # a harmless duplicate, after 5 min


def test_a_retry_the_queue_cannot_take_is_left_to_the_sweep_and_the_log_says_so(
    clocked_store: UploadRecords, cf_client: ImagesClient, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from cfvariants.client import TransportError

    queue = UploadQueue(MemoryHuey("uploads", immediate=False), clocked_store, lambda: cf_client)
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    enqueued = clocked_store.get(upload_id).enqueued_at

    def unreachable(*args: object, **kwargs: object) -> None:
        raise TransportError("ConnectError", "connection refused")

    def queue_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cf_client, "upload", unreachable)
    monkeypatch.setattr(queue.huey, "enqueue", queue_down)
    with caplog.at_level(logging.WARNING, logger="cfvariants.uploads"):
        assert queue.run_once(upload_id).status == "retry"
    assert caplog.messages[-1].endswith("; the sweep will send it again")
    assert clocked_store.get(upload_id).enqueued_at == enqueued  # not marked as sent


def test_a_scheduled_retry_carries_its_upload(
    clocked_store: UploadRecords, cf_client: ImagesClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfvariants.client import TransportError

    def unreachable(*args: object, **kwargs: object) -> None:
        raise TransportError("ConnectError", "connection refused")

    queue = UploadQueue(MemoryHuey("uploads", immediate=False), clocked_store, lambda: cf_client)
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    queue.huey.flush()
    monkeypatch.setattr(cf_client, "upload", unreachable)
    assert queue.run_once(upload_id).status == "retry"
    scheduled = queue.huey.dequeue()  # a delayed task travels with its time; the consumer holds it until then
    assert scheduled is not None and scheduled.eta is not None
    assert (scheduled.name, scheduled.args) == ("cfvariants.upload", (upload_id,))


def test_the_registered_reconcile_task_runs_the_sweep(
    clocked_store: UploadRecords, cf_client: ImagesClient, clock: Clock
) -> None:
    queue = UploadQueue(MemoryHuey("uploads", immediate=False), clocked_store, lambda: cf_client)
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    queue.huey.flush()  # its message was lost
    clock.advance(60)
    queue.reconcile_task()  # what huey's scheduler sends every minute
    task = queue.huey.dequeue()
    assert task is not None and task.name == "cfvariants.reconcile"
    queue.huey.execute(task)
    assert [t.args for t in [queue.huey.dequeue()] if t is not None] == [(upload_id,)]


def test_retry_failed_and_the_retention_take_every_failed_upload_oldest_first(
    sqlite_store: UploadStore, cf_client: ImagesClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(sqlite_store, "clock", lambda: now[0])
    queue = UploadQueue(MemoryHuey("uploads", immediate=False), sqlite_store, lambda: cf_client, failed_retention=60)
    ids = []
    for i in range(101):  # more than a page of the store's listings
        ids.append(sqlite_store.stage(b"%d" % i, filename=f"{i}.jpg", content_type="image/jpeg").id)
        sqlite_store.mark_failed(ids[-1], "Cloudflare refused the image")
        now[0] += 1
    assert queue.retry_failed() == ids  # all of them, in the order they were accepted
    for upload_id in ids:
        sqlite_store.mark_failed(upload_id, "Cloudflare refused the image")
    now[0] += 61
    assert queue.reconcile().expired == tuple(ids)  # one sweep, oldest first
    assert sqlite_store.staged_ids() == []


def test_a_retry_that_loses_a_race_says_what_the_upload_became(
    sqlite_store: UploadStore, cf_client: ImagesClient
) -> None:
    queue, _ = _queue(sqlite_store, cf_client)
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    sqlite_store.mark_failed(upload_id, "Cloudflare refused the image")
    requeue = sqlite_store.requeue

    def someone_else_first(upload_id: str, **kwargs: Any) -> bool:
        requeue(upload_id)  # another person's retry lands between our read and our change
        return requeue(upload_id, **kwargs)

    queue.store.requeue = someone_else_first  # type: ignore[method-assign]
    with pytest.raises(UploadsError) as info:
        queue.retry(upload_id)
    assert str(info.value) == f"upload {upload_id} changed meanwhile: it is pending"


# -- what a record stands for, and what a refusal carries -------------------------------------------------------


def test_a_stored_private_upload_stands_for_a_private_image_so_templates_sign_it(
    sqlite_store: UploadStore, cf_client: ImagesClient
) -> None:
    from cfvariants import PrivateImage, image_ref

    queue, _ = _queue(sqlite_store, cf_client)
    private, public = queue.submit(PHOTOS[0], filename="a.jpg", private=True), queue.submit(PHOTOS[1], filename="b.jpg")
    waiting = image_ref(sqlite_store.get(private.id))
    assert waiting is None or not isinstance(waiting, PrivateImage)  # no image yet: nothing to sign
    assert [queue.run_once(r.id).status for r in (private, public)] == ["ready", "ready"]
    stored_private, stored_public = sqlite_store.get(private.id), sqlite_store.get(public.id)
    ref = image_ref(stored_private)
    assert isinstance(ref, PrivateImage) and ref == stored_private.image_id
    assert image_ref(stored_public) == stored_public.image_id
    assert not isinstance(image_ref(stored_public), PrivateImage)


def test_a_file_over_the_limit_is_refused_naming_the_limit(sqlite_store: UploadStore, cf_client: ImagesClient) -> None:
    from cfvariants.uploads import UploadTooLarge

    queue = UploadQueue(MemoryHuey("uploads", immediate=False), sqlite_store, lambda: cf_client, max_bytes=100_000)
    with pytest.raises(UploadTooLarge) as info:
        queue.submit(PHOTOS[0], filename="big.jpg")
    assert info.value.limit == 100_000 and str(info.value) == "the file is larger than 100,000 bytes"
    assert sqlite_store.staged_ids() == [] and sqlite_store.recent() == []


def test_a_hand_back_the_store_refuses_for_one_upload_still_hands_back_the_others(
    sqlite_store: UploadStore, cf_client: ImagesClient, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    queue, huey = _queue(sqlite_store, cf_client)
    first, second = (queue.submit(photo, filename=f"p{i}.jpg") for i, photo in enumerate(PHOTOS[:2]))
    huey.flush()
    claims = [sqlite_store.claim(r.id, lease=queue.lease) for r in (first, second)]
    renew = sqlite_store.renew

    def flaky_renew(upload_id: str, **kwargs: Any) -> bool:
        if upload_id == first.id:
            raise ConnectionError("the store is unreachable")
        return renew(upload_id, **kwargs)

    monkeypatch.setattr(sqlite_store, "renew", flaky_renew)
    caplog.set_level(logging.INFO, logger="cfvariants.uploads")
    with queue.leases.holding(claims[0]), queue.leases.holding(claims[1]):  # type: ignore[arg-type]
        assert queue.hand_back() == [second.id]  # the first one's lease simply runs out instead
    assert (
        f"could not hand back upload {first.id} (the store is unreachable); it is taken over when its lease ends"
        in caplog.messages
    )
    assert f"handed back upload {second.id}: this worker is stopping; another takes it over in 5s" in caplog.messages


def test_a_heartbeat_round_goes_on_past_a_store_failure_and_says_which_claims_were_lost(
    sqlite_store: UploadStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfvariants.uploads._leases import Leases

    ids = [
        sqlite_store.stage(photo, filename=f"p{i}.jpg", content_type="image/jpeg").id for i, photo in enumerate(PHOTOS)
    ]
    claims = [sqlite_store.claim(upload_id, lease=30) for upload_id in ids]
    leases = Leases(sqlite_store, lease=30, interval=3600)  # its own heartbeat would come in an hour
    renew = sqlite_store.renew
    answers = {ids[0]: ConnectionError("the store is unreachable"), ids[1]: False}

    def renew_or_not(upload_id: str, **kwargs: Any) -> bool:
        answer = answers.get(upload_id, True)
        if isinstance(answer, Exception):
            raise answer
        return answer and renew(upload_id, **kwargs)

    monkeypatch.setattr(sqlite_store, "renew", renew_or_not)
    caplog.set_level(logging.WARNING, logger="cfvariants.uploads")
    with leases.holding(claims[0]), leases.holding(claims[1]), leases.holding(claims[2]):  # type: ignore[arg-type]
        leases._renew({r.id: r for r in claims if r is not None})  # one round of the heartbeat
    assert caplog.messages == [
        f"could not renew the lease on upload {ids[0]} (the store is unreachable)",
        f"upload {ids[1]} is no longer held by this worker (its lease ran out and another took it)",
    ]


def test_a_heartbeat_renews_every_third_of_the_lease_unless_told_otherwise(sqlite_store: UploadStore) -> None:
    from cfvariants.uploads._leases import Leases

    assert Leases(sqlite_store).interval == 10.0  # the default 30 s lease, renewed every 10 s
    assert Leases(sqlite_store, lease=6).interval == 2.0
    assert Leases(sqlite_store, lease=6, interval=0.5).interval == 0.5
