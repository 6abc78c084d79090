"""Background uploads: durable staging, exactly-once uploads, retries, reconcile, and a real huey consumer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import imagegen
import pytest
from huey import MemoryHuey, SqliteHuey
from huey_helpers import running_consumer
from upload_helpers import Clock

from cfvariants import Original, thumbhash
from cfvariants.client import ImagesClient
from cfvariants.emulator import Emulator
from cfvariants.uploads import (
    MARKER_KEY,
    StorageFull,
    UploadQueue,
    UploadRecords,
    UploadRejected,
    UploadsError,
    UploadState,
    UploadStore,
    custom_id_for,
    huey_from_url,
    process,
)

JPEG = imagegen.jpeg(64, 48)


def staged_files(store: UploadRecords) -> list[str]:
    return store.staged_ids()


def staged_bytes(store: UploadRecords, upload_id: str) -> bytes:
    with store.open_staged(upload_id) as staged:
        return staged.read()


# -- staging -----------------------------------------------------------------------------------------------------


def test_stage_writes_the_file_then_records_it_pending(store: UploadRecords) -> None:
    record = store.stage(JPEG, filename="cat.jpg", content_type="image/jpeg", metadata={"owner": 7})
    assert record.state is UploadState.PENDING and record.size == len(JPEG)
    assert staged_bytes(store, record.id) == JPEG
    assert staged_files(store) == [record.id]
    assert record.metadata == {"owner": 7}


def test_a_refused_file_leaves_nothing_behind(store: UploadRecords) -> None:
    def refuse(path: Path) -> str:
        raise UploadRejected("nope")

    with pytest.raises(UploadRejected):
        store.stage(JPEG, filename="x.jpg", content_type="image/jpeg", check=refuse)
    with pytest.raises(UploadsError, match="larger than 10 bytes"):
        store.stage(JPEG, filename="x.jpg", content_type="image/jpeg", max_bytes=10)
    assert staged_files(store) == []
    assert store.recent() == []


def test_an_existing_upload_id_is_refused_and_left_untouched(store: UploadRecords) -> None:
    first = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    with pytest.raises(UploadsError, match="already exists"):
        store.stage(b"other", filename="b.jpg", content_type="image/jpeg", upload_id=first.id)
    assert staged_bytes(store, first.id) == JPEG
    assert [r.id for r in store.recent()] == [first.id]


def test_a_full_disk_after_writing_leaves_nothing(sqlite_store: UploadStore, monkeypatch: pytest.MonkeyPatch) -> None:
    first = sqlite_store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cfvariants.uploads._sqlite_store.fsync_directory", disk_full)
    with pytest.raises(UploadsError, match=r"no space left on the disk holding .*staging"):
        sqlite_store.stage(JPEG, filename="c.jpg", content_type="image/jpeg")
    assert sorted(p.name for p in sqlite_store.staging.iterdir()) == [first.id]
    assert [r.id for r in sqlite_store.recent()] == [first.id]


def test_a_full_disk_while_writing_raises_uploads_error_naming_the_disk(
    store: UploadRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")

    def disk_full(fd: int) -> None:  # the kernel reports a full disk when the written data is flushed
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cfvariants.uploads._records.os.fsync", disk_full)
    with pytest.raises(StorageFull, match="no space left on the disk holding /") as info:
        store.stage(imagegen.photo_jpeg(300_000), filename="big.jpg", content_type="image/jpeg")
    assert "was not kept" in str(info.value)
    monkeypatch.undo()
    assert staged_files(store) == [kept.id] and [r.id for r in store.recent()] == [kept.id]
    if isinstance(store, UploadStore):
        assert sorted(p.name for p in store.staging.iterdir()) == [kept.id]  # no .part left behind


def test_the_sweep_tolerates_files_vanishing_under_it(
    sqlite_store: UploadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    orphans = [sqlite_store.staging / (c * 32) for c in "abc"]
    for path in orphans:
        path.write_bytes(b"left by a crash")
    listed = Path.iterdir

    def listing_then_another_process_removes_one(self: Path) -> Iterator[Path]:
        entries = list(listed(self))
        if self == sqlite_store.staging:
            orphans[1].unlink(missing_ok=True)  # another sweep (or a finished upload) removes it after we listed it
        return iter(entries)

    monkeypatch.setattr(Path, "iterdir", listing_then_another_process_removes_one)
    assert sqlite_store.remove_orphans(older_than=-1) == 2
    assert sqlite_store.staged_ids() == []


def test_stage_from_a_file_object_streams_and_counts(store: UploadRecords, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * (3 * 1024 * 1024 + 5))
    with open(source, "rb") as handle:
        record = store.stage(handle, filename="big.bin", content_type="application/octet-stream")
    assert record.size == 3 * 1024 * 1024 + 5


def test_claim_is_exclusive_until_the_lease_runs_out(clocked_store: UploadRecords, clock: Clock) -> None:
    record = clocked_store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    first = clocked_store.claim(record.id, lease=30)
    assert first is not None and first.state is UploadState.UPLOADING and first.attempts == 1
    clock.advance(29)
    assert clocked_store.claim(record.id, lease=30) is None  # a live worker holds it
    clock.advance(2)
    second = clocked_store.claim(record.id, lease=5)  # its worker died: claimable again
    assert second is not None and second.attempts == 2


def test_ready_happens_exactly_once_and_removes_the_file(store: UploadRecords) -> None:
    record = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    assert store.mark_ready(record.id, "img-1")
    assert not store.mark_ready(record.id, "img-2")
    done = store.get(record.id)
    assert (done.state, done.image_id) == (UploadState.READY, "img-1")
    assert staged_files(store) == []
    assert store.claim(record.id, lease=5) is None
    with pytest.raises(FileNotFoundError):
        store.open_staged(record.id)


def test_records_stand_for_their_image_in_templates(store: UploadRecords) -> None:
    from cfvariants import LocalImage, image_ref

    record = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    pending = image_ref(store.get(record.id))
    assert isinstance(pending, LocalImage) and pending == f"/uploads/{record.id}/preview"
    store.mark_ready(record.id, "img-1")
    assert image_ref(store.get(record.id)) == "img-1"
    other = store.stage(JPEG, filename="b.jpg", content_type="image/jpeg")
    store.mark_failed(other.id, "broken")
    assert image_ref(store.get(other.id)) is None


def test_work_needing_a_worker(store: UploadRecords) -> None:
    record = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    assert [r.id for r in store.needing_work(enqueued_before=time.time())] == [record.id]
    store.mark_enqueued(record.id)
    assert store.needing_work(enqueued_before=time.time() - 60) == []
    store.claim(record.id, lease=-1)  # a worker took it and died
    assert [r.id for r in store.needing_work(enqueued_before=0)] == [record.id]


def test_orphaned_files_are_removed(sqlite_store: UploadStore) -> None:
    orphan = sqlite_store.staging / ("f" * 32)
    orphan.write_bytes(b"left by a crash between writing and recording")
    kept = sqlite_store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    assert sqlite_store.orphans(older_than=-1) == [orphan]
    assert sqlite_store.remove_orphans(older_than=3600) == 0  # too recent: maybe still being recorded
    assert sqlite_store.remove_orphans(older_than=-1) == 1
    assert sqlite_store.staged_ids() == [kept.id]


def test_orphaned_bytes_in_redis_are_removed(redis_url: str) -> None:
    from cfvariants.uploads import RedisUploadStore

    store = RedisUploadStore(redis_url)
    kept = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    orphan = "e" * 32
    store.redis.set(f"{store.prefix}:d:{orphan}", b"left by a crash")
    store.redis.zadd(f"{store.prefix}:staging", {orphan: time.time() - 7200})
    assert store.remove_orphans(older_than=3600) == 1
    assert store.staged_ids() == [kept.id]
    store.close()


def test_custom_ids_are_readable_unique_and_not_uuids() -> None:
    upload_id = "0123456789abcdef0123456789abcdef"
    assert custom_id_for(upload_id, "My Cat.JPG", now=0) == f"uploads/1970/01/{upload_id}.jpg"
    assert custom_id_for(upload_id, "noext", prefix="/avatars/", now=0) == f"avatars/1970/01/{upload_id}"


# -- one attempt against the emulator ------------------------------------------------------------------------------


def test_process_uploads_a_public_image_under_its_fixed_custom_id(
    store: UploadRecords, cf_client: ImagesClient, cf_emulator: Emulator
) -> None:
    record = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg", custom_id="uploads/x/a.jpg")
    outcome = process(store, cf_client, record.id)
    assert outcome.status == "ready" and outcome.image_id == "uploads/x/a.jpg"
    image = cf_client.get("uploads/x/a.jpg")
    assert image.meta[MARKER_KEY] == record.id
    assert Original.of(image) == Original(64, 48, image.meta["cfv_thumbhash"])  # for layouts and placeholders
    assert not thumbhash.has_alpha(thumbhash.parse(image.meta["cfv_thumbhash"]))
    assert process(store, cf_client, record.id).status == "skipped"


def test_a_retry_after_an_upload_that_did_land_adopts_it(store: UploadRecords, cf_client: ImagesClient) -> None:
    # The first attempt reached Cloudflare but its worker died before recording the result.
    record = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg", custom_id="uploads/x/b.jpg")
    store.claim(record.id, lease=-1)
    cf_client.upload(JPEG, id="uploads/x/b.jpg", metadata={MARKER_KEY: record.id})
    outcome = process(store, cf_client, record.id)
    assert (outcome.status, outcome.image_id) == ("ready", "uploads/x/b.jpg")
    assert sum(1 for _ in cf_client.iter_images()) == 1


def test_a_private_retry_finds_its_image_by_marker(store: UploadRecords, cf_client: ImagesClient) -> None:
    record = store.stage(JPEG, filename="p.jpg", content_type="image/jpeg", private=True)
    store.claim(record.id, lease=-1)
    earlier = cf_client.upload(JPEG, metadata={MARKER_KEY: record.id}, require_signed_urls=True)
    outcome = process(store, cf_client, record.id)
    assert (outcome.status, outcome.image_id) == ("ready", earlier.id)
    assert sum(1 for _ in cf_client.iter_images()) == 1
    assert cf_client.get(earlier.id).require_signed_urls


def test_a_custom_id_taken_by_someone_else_fails_clearly(store: UploadRecords, cf_client: ImagesClient) -> None:
    cf_client.upload(JPEG, id="uploads/x/c.jpg", metadata={"owner": "someone else"})
    record = store.stage(JPEG, filename="c.jpg", content_type="image/jpeg", custom_id="uploads/x/c.jpg")
    outcome = process(store, cf_client, record.id)
    assert outcome.status == "failed"
    assert "taken by another image" in (store.get(record.id).error or "")
    assert staged_bytes(store, record.id) == JPEG  # kept: a person may retry or discard it


def test_transient_failures_release_the_upload_for_a_retry(store: UploadRecords, cf_emulator: Emulator) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    from cfvariants.client import RetryPolicy

    client = ImagesClient("a" * 32, "t", base_url="http://x/client/v4", transport=httpx.MockTransport(down),
                          retry=RetryPolicy.none())  # fmt: skip
    record = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg", custom_id="uploads/x/d.jpg")
    outcome = process(store, client, record.id)
    assert outcome.status == "retry"
    after = store.get(record.id)
    assert after.state is UploadState.PENDING and "could not be reached" in (after.error or "")
    assert staged_bytes(store, record.id) == JPEG


def test_bad_credentials_block_without_the_token_and_keep_the_bytes(store: UploadRecords, cf_app: Any) -> None:
    client = ImagesClient(cf_app.emulator.config.account_id, "wrong-secret-token", base_url="http://cfimages.test/client/v4",
                          transport=httpx.WSGITransport(app=cf_app))  # fmt: skip
    record = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg", custom_id="uploads/x/e.jpg")
    assert process(store, client, record.id).status == "blocked"
    error = store.get(record.id).error or ""
    assert "refused the credentials" in error and "wrong-secret-token" not in error
    assert staged_files(store) == [record.id]


# -- the queue ------------------------------------------------------------------------------------------------------


def make_queue(
    tmp_path: Path, huey: Any, client: ImagesClient, store: UploadRecords | None = None, **kwargs: Any
) -> UploadQueue:
    store = store if store is not None else UploadStore(tmp_path / "q", preview_url="/p/{id}")
    return UploadQueue(huey, store, lambda: client, **kwargs)


def test_submit_refuses_bad_files_with_nothing_staged(tmp_path: Path, cf_client: ImagesClient) -> None:
    queue = make_queue(tmp_path, MemoryHuey("t", immediate=False), cf_client)
    bad = {
        "empty.jpg": (b"", "The file is empty."),
        "notes.txt": (b"hello, this is text", "not an image"),
        "cut.jpg": (JPEG[: len(JPEG) // 2], "truncated"),
        "evil.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
        "big.jpg": (JPEG + b"\0" * (10 * 1024 * 1024), "larger than"),
    }
    for name, (data, message) in bad.items():
        with pytest.raises(UploadRejected if name != "big.jpg" else UploadsError) as info:
            queue.submit(data, filename=name)
        assert message.lower() in str(info.value).lower(), (name, str(info.value))
    assert staged_files(queue.store) == [] and queue.store.recent() == []


def test_submit_sniffs_the_type_from_the_bytes(tmp_path: Path, cf_client: ImagesClient) -> None:
    queue = make_queue(tmp_path, MemoryHuey("t", immediate=False), cf_client)
    record = queue.submit(imagegen.png(10, 10), filename="photo.jpg")  # the name lies
    assert record.content_type == "image/png"
    assert record.custom_id is not None and record.custom_id.endswith(f"{record.id}.jpg")


def test_submit_survives_a_queue_that_is_down(tmp_path: Path, cf_client: ImagesClient) -> None:
    huey = SqliteHuey("t", filename=str(tmp_path / "huey.db"))
    queue = make_queue(tmp_path, huey, cf_client, requeue_after=0)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("queue down")

    original = huey.enqueue
    huey.enqueue = broken  # type: ignore[method-assign]
    record = queue.submit(JPEG, filename="a.jpg")
    assert record.state is UploadState.PENDING and record.enqueued_at is None
    huey.enqueue = original  # type: ignore[method-assign]
    report = queue.reconcile()
    assert report.requeued == (record.id,)
    assert len(huey) == 1


def test_retries_back_off_with_a_cap_and_never_give_up_by_count(tmp_path: Path) -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"success": False, "errors": [{"code": 5500, "message": "busy"}]})

    from cfvariants.client import RetryPolicy

    client = ImagesClient("a" * 32, "t", base_url="http://x/client/v4", transport=httpx.MockTransport(flaky),
                          retry=RetryPolicy.none())  # fmt: skip
    huey = MemoryHuey("t", immediate=False)
    queue = make_queue(tmp_path, huey, client, backoff=10, backoff_cap=15)
    record = queue.submit(JPEG, filename="a.jpg")
    assert queue.run_once(record.id).status == "retry"
    first_due = queue.store.get(record.id).enqueued_at or 0
    assert time.time() + 5 - 1 <= first_due <= time.time() + 10 + 1  # half to full of the first backoff step
    for _ in range(20):
        assert queue.run_once(record.id).status == "retry"
    after = queue.store.get(record.id)
    assert after.state is UploadState.PENDING and after.attempts == 21 and staged_bytes(queue.store, record.id) == JPEG
    assert 5 <= queue.retry_delay(1) <= 10 and 7.5 <= queue.retry_delay(5) <= 15 and queue.retry_delay(1, 60) == 60
    assert 7.5 <= queue.retry_delay(100_000) <= 15  # capped, however long it lasts


def test_the_reconcile_task_is_registered_to_run_every_minute(tmp_path: Path, cf_client: ImagesClient) -> None:
    import datetime

    huey = MemoryHuey("t", immediate=False)
    make_queue(tmp_path, huey, cf_client)
    due = [task.name for task in huey.read_periodic(datetime.datetime(2026, 1, 1, 12, 34))]
    assert "cfvariants.reconcile" in due


def test_huey_from_url() -> None:
    assert type(huey_from_url("memory://")).__name__ == "MemoryHuey"
    assert type(huey_from_url("redis://127.0.0.1:1/0")).__name__ == "RedisHuey"
    with pytest.raises(UploadsError, match=r"ftp://user:\*\*\*@host/") as info:
        huey_from_url("ftp://user:hunter2@host/")
    assert "hunter2" not in str(info.value)


def test_a_real_consumer_uploads_everything_exactly_once(
    tmp_path: Path, store: UploadRecords, cf_app: Any, cf_client: ImagesClient
) -> None:
    huey = SqliteHuey("uploads", filename=str(tmp_path / "huey.db"))
    queue = make_queue(tmp_path, huey, cf_client, store)
    records = [queue.submit(imagegen.jpeg(40 + i, 30), filename=f"img{i}.jpg", private=i % 4 == 0) for i in range(12)]
    assert queue.store.counts()[UploadState.READY] == 0  # nothing happens without a consumer
    with running_consumer(huey, workers=3):
        deadline = time.time() + 60
        while time.time() < deadline and queue.store.counts()[UploadState.READY] < len(records):
            time.sleep(0.05)
    assert queue.store.counts()[UploadState.READY] == len(records)
    stored = list(cf_client.iter_images())
    assert len(stored) == len(records)
    assert {r.id for r in stored} == {queue.store.get(r.id).image_id for r in records}
    assert staged_files(queue.store) == []
    private = [queue.store.get(r.id) for r in records if r.private]
    assert all(cf_client.get(p.image_id or "").require_signed_urls for p in private)


def test_redis_out_of_memory_raises_uploads_error_and_keeps_nothing(redis_url: str) -> None:
    from redis import Redis

    from cfvariants.uploads import RedisUploadStore

    store = RedisUploadStore(redis_url)
    kept = store.stage(JPEG, filename="a.jpg", content_type="image/jpeg")
    admin = Redis.from_url(redis_url)
    used = int(admin.info("memory")["used_memory"])
    admin.config_set("maxmemory-policy", "noeviction")
    try:
        for limit in (used + 64 * 1024, 1):  # room for a little more but not a photo; already full
            admin.config_set("maxmemory", str(limit))
            with pytest.raises(StorageFull, match="Redis is out of memory") as info:
                store.stage(imagegen.photo_jpeg(400_000), filename="big.jpg", content_type="image/jpeg")
            assert "the upload was not kept" in str(info.value)
    finally:
        admin.config_set("maxmemory", "0")
        admin.close()
    assert store.staged_ids() == [kept.id] and [r.id for r in store.recent()] == [kept.id]
    store.close()
