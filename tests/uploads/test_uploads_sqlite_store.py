"""The upload store's own promises, as the queue and the pages read them back: the block and its probe, a record's
lease after each transition, what a discard removes, the listing's default length, and the staged files the
sweep removes (files and SQLite on one machine; where it applies, the Redis store is held to the same)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import imagegen
import pytest
from upload_helpers import Clock

from cfvariants.uploads import Block, StorageFull, UploadRecords, UploadsError, UploadState, UploadStore

PHOTO = imagegen.photo_jpeg(150_000, seed=21)


def _stage(store: UploadRecords, name: str = "a.jpg") -> str:
    return store.stage(PHOTO, filename=name, content_type="image/jpeg").id


def test_a_block_keeps_when_it_started_and_its_next_probe_and_names_the_newest_cause(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    start = clock.now
    assert clocked_store.current_block() is None
    first = clocked_store.block("Cloudflare refused the credentials", probe_at=start + 60)
    assert first == Block("Cloudflare refused the credentials", start, start + 60)
    clock.advance(10)
    again = clocked_store.block("Cloudflare refused the account", probe_at=start + 999)
    assert again == Block("Cloudflare refused the account", start, start + 60)
    assert clocked_store.current_block() == again

    assert clocked_store.claim_probe(next_probe_at=start + 120) is None  # not due until start + 60
    clock.advance(50)
    probe = clocked_store.claim_probe(next_probe_at=start + 120)
    assert probe == Block("Cloudflare refused the account", start, start + 120)  # the next probe is due then
    assert clocked_store.current_block() == probe
    assert clocked_store.claim_probe(next_probe_at=start + 180) is None  # one prober at a time
    clock.advance(60)
    assert clocked_store.claim_probe(next_probe_at=start + 180) == Block(
        "Cloudflare refused the account", start, start + 180
    )

    clocked_store.unblock()
    assert clocked_store.current_block() is None
    assert clocked_store.claim_probe(next_probe_at=start + 999) is None


def test_a_record_holds_a_lease_only_while_a_worker_uploads_it(clocked_store: UploadRecords, clock: Clock) -> None:
    failed, blocked, released = (_stage(clocked_store, f"{n}.jpg") for n in ("failed", "blocked", "released"))
    for upload_id in (failed, blocked, released):
        claimed = clocked_store.claim(upload_id, lease=30)
        assert claimed is not None and claimed.lease_until == clock.now + 30
    clocked_store.mark_failed(failed, "Cloudflare refused the image: bad dimensions")
    clocked_store.mark_blocked(blocked, "Cloudflare refused the credentials")
    clocked_store.release(released, "HTTP 503")
    for upload_id, state in (
        (failed, UploadState.FAILED),
        (blocked, UploadState.BLOCKED),
        (released, UploadState.PENDING),
    ):
        record = clocked_store.get(upload_id)
        assert (record.state, record.lease_until) == (state, None), record

    clocked_store.mark_enqueued(failed)
    assert clocked_store.get(failed).enqueued_at == clock.now
    assert clocked_store.requeue(failed) is True  # a person's retry
    retried = clocked_store.get(failed)
    assert (retried.state, retried.lease_until, retried.enqueued_at) == (UploadState.PENDING, None, None)
    assert sorted(r.id for r in clocked_store.needing_work(enqueued_before=clock.now)) == sorted([failed, released])


def test_a_claim_handed_back_and_then_requeued_holds_no_lease(clocked_store: UploadRecords, clock: Clock) -> None:
    upload_id = _stage(clocked_store)
    claimed = clocked_store.claim(upload_id, lease=30)
    assert claimed is not None
    clocked_store.mark_failed(upload_id, "refused")
    assert clocked_store.requeue(upload_id, states=(UploadState.FAILED,)) is True
    again = clocked_store.claim(upload_id, lease=30)
    assert again is not None and again.attempts == 2
    clocked_store.mark_blocked(upload_id, "Cloudflare refused the account")
    assert clocked_store.requeue(upload_id) is True
    assert clocked_store.get(upload_id).lease_until is None


def test_discarding_an_upload_removes_its_record_and_its_file_whatever_its_state(
    clocked_store: UploadRecords,
) -> None:
    stored, failed = _stage(clocked_store, "stored.jpg"), _stage(clocked_store, "failed.jpg")
    assert clocked_store.mark_ready(stored, "cf-image-1") is True  # its file is gone with the upload
    clocked_store.mark_failed(failed, "refused")
    assert sorted(clocked_store.staged_ids()) == [failed]
    for upload_id in (stored, failed):
        clocked_store.delete(upload_id)
        assert clocked_store.find(upload_id) is None
    assert clocked_store.staged_ids() == []
    clocked_store.delete(stored)  # twice: nothing left to remove, and no error


def test_the_listing_shows_the_newest_hundred_unless_asked_for_more(sqlite_store: UploadStore) -> None:
    clock = Clock()
    store = UploadStore(sqlite_store.root, clock=clock)
    ids = []
    for i in range(101):
        ids.append(store.stage(b"GIF89a" + bytes([i]), filename=f"{i}.gif", content_type="image/gif").id)
        clock.advance(1)
    listed = store.recent()
    assert [r.id for r in listed] == ids[:0:-1]  # the newest 100, newest first: the first one is left out
    assert [r.id for r in store.recent(limit=101, newest_first=False)] == ids
    assert [r.id for r in store.recent(state=UploadState.PENDING, limit=2)] == ids[:-3:-1]
    store.close()


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_the_sweep_removes_old_staged_files_no_record_keeps(sqlite_store: UploadStore) -> None:
    kept = _stage(sqlite_store, "kept.jpg")
    failed = _stage(sqlite_store, "failed.jpg")
    sqlite_store.mark_failed(failed, "refused")  # a failed upload keeps its bytes for a person's retry
    staging = sqlite_store.staging
    crashed = [staging / f"{i:032x}" for i in range(1, 9)]  # written, then the process died before the record
    for path in crashed:
        path.write_bytes(PHOTO[:1000])
    leftover_part = staging / f".{kept}.part"  # a staging of the same id that died half-way
    leftover_part.write_bytes(PHOTO[:1000])
    fresh = staging / f"{9:032x}"  # being staged right now
    fresh.write_bytes(PHOTO[:1000])
    for i in range(3):  # files that vanish while the sweep looks at them
        (staging / f"{100 + i:032x}").symlink_to(staging / "gone")
    for path in [*crashed, leftover_part, staging / kept, staging / failed]:
        _age(path, 7200)

    assert sorted(sqlite_store.orphans(older_than=3600)) == sorted([*crashed, leftover_part])
    assert sqlite_store.remove_orphans(older_than=3600) == len(crashed) + 1
    assert sorted(p.name for p in staging.iterdir() if not p.is_symlink()) == sorted([kept, failed, fresh.name])
    assert sqlite_store.open_staged(kept).read() == PHOTO
    assert sqlite_store.remove_orphans(older_than=3600) == 0


def test_a_worker_never_takes_a_blocked_upload_only_the_probe_does(clocked_store: UploadRecords) -> None:
    upload_id = _stage(clocked_store)
    assert clocked_store.mark_blocked(upload_id, "Cloudflare refused the credentials") is True
    assert clocked_store.claim(upload_id, lease=30) is None
    assert clocked_store.get(upload_id).state is UploadState.BLOCKED
    probe = clocked_store.claim(upload_id, lease=30, blocked=True)
    assert probe is not None and probe.state is UploadState.UPLOADING and probe.attempts == 1


def test_a_stored_upload_keeps_no_earlier_error_nor_lease_even_if_its_file_went_first(
    clocked_store: UploadRecords,
) -> None:
    upload_id = _stage(clocked_store)
    assert clocked_store.claim(upload_id, lease=30) is not None
    clocked_store.release(upload_id, "HTTP 503: try again later")
    assert clocked_store.get(upload_id).error == "HTTP 503: try again later"
    assert clocked_store.claim(upload_id, lease=30) is not None
    if isinstance(clocked_store, UploadStore):
        clocked_store.staged_path(upload_id).unlink()  # a person cleaned the staging directory by hand
    assert clocked_store.mark_ready(upload_id, "cf-image-7") is True
    stored = clocked_store.get(upload_id)
    assert (stored.state, stored.image_id, stored.error, stored.lease_until) == (
        UploadState.READY,
        "cf-image-7",
        None,
        None,
    )
    assert clocked_store.mark_ready(upload_id, "cf-image-8") is False  # ready exactly once
    assert clocked_store.get(upload_id).image_id == "cf-image-7"


def test_the_sweep_finds_a_lease_that_runs_out_by_the_time_it_is_asked_about(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    upload_id = _stage(clocked_store)
    clocked_store.mark_enqueued(upload_id)
    assert clocked_store.claim(upload_id, lease=30) is not None
    later = clock.now + 31
    assert clocked_store.needing_work(enqueued_before=clock.now) == []
    assert [r.id for r in clocked_store.needing_work(enqueued_before=clock.now, now=later)] == [upload_id]
    assert clocked_store.needing_work(enqueued_before=clock.now, now=clock.now + 29) == []


def test_an_upload_id_that_is_taken_cannot_be_staged_again(sqlite_store: UploadStore) -> None:
    stored = _stage(sqlite_store)
    sqlite_store.mark_ready(stored, "cf-image-1")  # its record stays, its file is gone
    with pytest.raises(UploadsError, match=f"^upload '{stored}' already exists$"):
        sqlite_store.stage(PHOTO, filename="b.jpg", content_type="image/jpeg", upload_id=stored)
    stray = f"{7:032x}"
    sqlite_store.staged_path(stray).write_bytes(b"left by a crash")  # a file, no record
    with pytest.raises(UploadsError, match=f"^upload '{stray}' already exists$"):
        sqlite_store.stage(PHOTO, filename="c.jpg", content_type="image/jpeg", upload_id=stray)
    assert sqlite_store.staged_path(stray).read_bytes() == b"left by a crash"
    assert sqlite_store.get(stored).filename == "a.jpg"


def test_staged_files_live_under_the_staging_directory_of_the_root(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "data")
    upload_id = _stage(store)
    assert (tmp_path / "data" / "staging" / upload_id).read_bytes() == PHOTO
    assert (tmp_path / "data" / "uploads.db").is_file()
    with pytest.raises(UploadsError, match=r"^no upload 'f{32}'$"):
        store.get("f" * 32)
    store.close()


def _open_files(under: Path) -> list[str]:
    """The files under ``under`` this process has open (Linux: /proc/self/fd)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(under)):
            found.append(target)
    return found


def test_closing_the_store_lets_go_of_its_database_and_it_opens_again_on_use(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "data")
    upload_id = _stage(store)
    assert _open_files(tmp_path / "data")  # the database (and its WAL) while in use
    store.close()
    assert _open_files(tmp_path / "data") == []
    assert store.get(upload_id).filename == "a.jpg"  # used again: a new connection
    store.close()
    store.close()  # twice: nothing left to close
    assert _open_files(tmp_path / "data") == []


def test_a_database_that_is_full_when_the_record_is_written_keeps_nothing_of_the_upload(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "data")
    _stage(store)
    pages = store._db().execute("PRAGMA page_count").fetchone()[0]
    store._db().execute(f"PRAGMA max_page_count = {pages}")  # the disk is full for the database now
    with pytest.raises(StorageFull) as full:
        store.stage(PHOTO, filename="b.jpg", content_type="image/jpeg", metadata={"caption": "x" * 50_000})
    assert str(full.value) == f"no space left on the disk holding {tmp_path / 'data'}; the upload was not kept"
    assert len(store.staged_ids()) == 1 and not list(store.staging.glob(".*.part"))  # the earlier upload only
    assert len(store.recent()) == 1
    store._db().execute("PRAGMA max_page_count = 1073741823")  # room again: the store goes on as before
    assert store.stage(PHOTO, filename="c.jpg", content_type="image/jpeg").filename == "c.jpg"
    assert len(store.recent()) == 2
    store.close()


class _SweptMeanwhile(UploadStore):
    """A store whose orphans another process's sweep removes between this sweep's finding and its removing."""

    def orphans(self, *, older_than: float) -> list[Path]:
        found = super().orphans(older_than=older_than)
        found[0].unlink()
        return found


def test_two_sweeps_at_once_remove_each_orphan_once_without_an_error(tmp_path: Path) -> None:
    store = _SweptMeanwhile(tmp_path / "data")
    crashed = [store.staging / f"{i:032x}" for i in range(1, 4)]
    for path in crashed:
        path.write_bytes(PHOTO[:1000])
        _age(path, 7200)
    assert store.remove_orphans(older_than=3600) == 3  # one of them by the other sweep
    assert list(store.staging.iterdir()) == []
    store.close()
