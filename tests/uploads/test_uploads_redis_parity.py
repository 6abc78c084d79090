"""The Redis store keeps the contract the SQLite one keeps, to the second and to the field: every test here runs
on both (``clocked_store``, on a clock that moves only when told). States, leases, the block and the sweep's view
are what workers on many machines agree on, so a difference between the stores is a bug in one of them."""

from __future__ import annotations

import io
from pathlib import Path

import imagegen
import pytest
from upload_helpers import Clock

from cfvariants.uploads import Block, UploadRecord, UploadRecords, UploadsError, UploadState

PHOTO = imagegen.photo_jpeg(120_000, seed=20)
OTHER = imagegen.photo_jpeg(150_000, seed=21)


def stage(store: UploadRecords, data: bytes = PHOTO, *, filename: str = "beach.jpg") -> UploadRecord:
    return store.stage(data, filename=filename, content_type="image/jpeg")


def stage_apart(store: UploadRecords, clock: Clock, count: int) -> list[str]:
    """``count`` uploads staged a second apart (the oldest first), so that no order depends on a tie."""
    ids = []
    for _ in range(count):
        ids.append(stage(store).id)
        clock.advance(1)
    return ids


def staged_bytes(store: UploadRecords, upload_id: str) -> bytes:
    with store.open_staged(upload_id) as staged:
        return staged.read()


# -- staging and reading -------------------------------------------------------------------------------------------


def test_a_staged_upload_is_recorded_with_every_field_as_given(clocked_store: UploadRecords, clock: Clock) -> None:
    private = clocked_store.stage(
        PHOTO, filename="Beach day.jpg", content_type="image/jpeg", private=True,
        metadata={"owner": 7, "tags": ["sea", "sand"]}, context={"post": "p-1", "draft": True},
    )  # fmt: skip
    assert private == UploadRecord(
        id=private.id, state=UploadState.PENDING, filename="Beach day.jpg", content_type="image/jpeg",
        size=len(PHOTO), private=True, custom_id=None, metadata={"owner": 7, "tags": ["sea", "sand"]},
        context={"post": "p-1", "draft": True}, image_id=None, error=None, attempts=0, lease_until=None,
        enqueued_at=None, created_at=clock.now, updated_at=clock.now,
    )  # fmt: skip
    clock.advance(1.25)
    public = clocked_store.stage(
        OTHER, filename="dune.jpg", content_type="image/jpeg", custom_id="uploads/2026/12/dune.jpg"
    )
    assert (public.private, public.custom_id, public.metadata, public.context) == (
        False, "uploads/2026/12/dune.jpg", {}, {},
    )  # fmt: skip
    assert (public.created_at, public.updated_at) == (clock.now, clock.now)
    assert clocked_store.get(private.id) == private and clocked_store.find(public.id) == public
    assert staged_bytes(clocked_store, private.id) == PHOTO and staged_bytes(clocked_store, public.id) == OTHER


def test_an_empty_file_name_and_type_are_kept_as_empty_text(clocked_store: UploadRecords) -> None:
    record = clocked_store.stage(PHOTO, filename="", content_type="")
    assert (record.filename, record.content_type) == ("", "")
    assert clocked_store.get(record.id).filename == ""


def test_times_at_the_epoch_are_kept_as_zero(clocked_store: UploadRecords, clock: Clock) -> None:
    clock.now = 0.0
    record = stage(clocked_store)
    assert (record.created_at, record.updated_at) == (0.0, 0.0)
    claimed = clocked_store.claim(record.id, lease=30)
    assert claimed is not None and (claimed.lease_until, claimed.updated_at, claimed.created_at) == (30.0, 0.0, 0.0)


def test_what_is_not_an_upload_id_is_found_nowhere(clocked_store: UploadRecords) -> None:
    stage(clocked_store)
    for text in ("", "../" + "a" * 29, "A" * 32, "a" * 31, "a" * 33):
        assert clocked_store.find(text) is None
        with pytest.raises(UploadsError, match="no upload"):
            clocked_store.get(text)
    assert clocked_store.find("b" * 32) is None  # an upload id, but nobody staged it
    for text in ("../" + "a" * 29, "A" * 32):  # never a file name or a key of its own making
        with pytest.raises(UploadsError, match=r"is not an upload id"):
            clocked_store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg", upload_id=text)
    assert len(clocked_store.recent()) == 1 and len(clocked_store.staged_ids()) == 1


def test_an_id_in_use_is_refused_before_the_file_is_read_or_checked(clocked_store: UploadRecords) -> None:
    waiting, stored = (stage(clocked_store).id for _ in range(2))
    clocked_store.mark_ready(stored, "img-1")  # its bytes are gone, its record stays
    checked: list[Path] = []
    for upload_id in (waiting, stored):
        source = io.BytesIO(OTHER)
        with pytest.raises(UploadsError, match=f"upload '{upload_id}' already exists"):
            clocked_store.stage(
                source, filename="b.jpg", content_type="image/jpeg", upload_id=upload_id, check=checked.append
            )
        assert source.tell() == 0  # not a byte read
    assert checked == []
    assert staged_bytes(clocked_store, waiting) == PHOTO and clocked_store.get(stored).image_id == "img-1"


def test_staged_ids_are_sorted_and_only_those_with_bytes(clocked_store: UploadRecords) -> None:
    ids = [stage(clocked_store).id for _ in range(4)]
    clocked_store.mark_ready(ids[0], "img-0")
    clocked_store.mark_failed(ids[1], "Cloudflare refused the image")  # failed: the bytes are kept for a retry
    assert clocked_store.staged_ids() == sorted(ids[1:])
    clocked_store.delete(ids[2])
    assert clocked_store.staged_ids() == sorted([ids[1], ids[3]])


def test_recent_orders_by_creation_then_id_across_states(clocked_store: UploadRecords, clock: Clock) -> None:
    # Four uploads in the same second (their order is then their ids'), in four states, and two later ones.
    same = [stage(clocked_store).id for _ in range(4)]
    clocked_store.mark_ready(same[0], "img-0")
    clocked_store.mark_failed(same[1], "Cloudflare refused the image")
    assert clocked_store.claim(same[2], lease=30) is not None
    clock.advance(1)
    later = [stage(clocked_store).id for _ in range(2)]
    clock.advance(1)
    assert clocked_store.mark_blocked(later[0], "Cloudflare refused the credentials")
    newest = [*sorted(later, reverse=True), *sorted(same, reverse=True)]
    assert [r.id for r in clocked_store.recent()] == newest
    assert [r.id for r in clocked_store.recent(newest_first=False)] == newest[::-1]
    assert [r.id for r in clocked_store.recent(limit=3)] == newest[:3]
    assert [r.id for r in clocked_store.recent(limit=3, newest_first=False)] == newest[::-1][:3]
    assert [r.id for r in clocked_store.recent(limit=1)] == newest[:1]
    assert [r.id for r in clocked_store.recent(state=UploadState.PENDING)] == [later[1], same[3]]
    assert [r.id for r in clocked_store.recent(state=UploadState.PENDING, newest_first=False)] == [same[3], later[1]]
    assert [r.state for r in clocked_store.recent(state=UploadState.BLOCKED)] == [UploadState.BLOCKED]
    assert clocked_store.counts() == {
        UploadState.PENDING: 2, UploadState.UPLOADING: 1, UploadState.READY: 1, UploadState.BLOCKED: 1,
        UploadState.FAILED: 1,
    }  # fmt: skip


def test_recent_lists_the_newest_hundred_unless_asked_for_more_or_fewer(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    ids = stage_apart(clocked_store, clock, 101)
    clocked_store.mark_failed(ids[-1], "Cloudflare refused the image")
    assert [r.id for r in clocked_store.recent()] == ids[::-1][:100]
    assert [r.id for r in clocked_store.recent(limit=101)] == ids[::-1]
    assert [r.id for r in clocked_store.recent(state=UploadState.PENDING, limit=2)] == [ids[-2], ids[-3]]
    assert [r.id for r in clocked_store.recent(state=UploadState.PENDING, limit=2, newest_first=False)] == ids[:2]
    assert [r.id for r in clocked_store.recent(newest_first=False)] == ids[:100]


def test_an_empty_store_counts_zero_of_every_state(clocked_store: UploadRecords) -> None:
    assert clocked_store.counts() == dict.fromkeys(UploadState, 0)
    assert clocked_store.recent() == [] and clocked_store.staged_ids() == []


# -- claims and leases ---------------------------------------------------------------------------------------------


def test_a_claim_holds_to_the_end_of_its_lease_and_not_a_moment_longer(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    upload_id = stage(clocked_store).id
    clock.advance(5)
    first = clocked_store.claim(upload_id, lease=30)
    assert first is not None
    assert (first.state, first.attempts, first.lease_until, first.updated_at) == (
        UploadState.UPLOADING, 1, clock.now + 30, clock.now,
    )  # fmt: skip
    assert first.created_at == clock.now - 5
    clock.advance(30)  # the lease's last instant: still held
    assert clocked_store.claim(upload_id, lease=30) is None
    assert clocked_store.get(upload_id).attempts == 1
    clock.advance(0.5)  # its worker died: the next claim takes over, as a new attempt
    second = clocked_store.claim(upload_id, lease=10)
    assert second is not None and (second.attempts, second.lease_until) == (2, clock.now + 10)


def test_only_pending_uploads_are_claimed_and_blocked_ones_only_by_the_probe(clocked_store: UploadRecords) -> None:
    blocked, failed, ready = (stage(clocked_store).id for _ in range(3))
    assert clocked_store.mark_blocked(blocked, "Cloudflare refused the credentials")
    clocked_store.mark_failed(failed, "Cloudflare refused the image")
    assert clocked_store.mark_ready(ready, "img-1")
    assert clocked_store.claim(blocked, lease=30) is None
    assert clocked_store.get(blocked).state is UploadState.BLOCKED
    for upload_id in (failed, ready, "c" * 32):
        assert clocked_store.claim(upload_id, lease=30, blocked=True) is None
    assert clocked_store.get(failed).state is UploadState.FAILED and clocked_store.get(ready).attempts == 0
    probe = clocked_store.claim(blocked, lease=30, blocked=True)
    assert probe is not None and (probe.state, probe.attempts) == (UploadState.UPLOADING, 1)
    pending = stage(clocked_store).id
    taken = clocked_store.claim(pending, lease=30, blocked=True)  # the probe's claim takes a pending one too
    assert taken is not None and taken.state is UploadState.UPLOADING


def test_a_renewal_moves_the_lease_of_the_current_claim_only(clocked_store: UploadRecords, clock: Clock) -> None:
    upload_id = stage(clocked_store).id
    claim = clocked_store.claim(upload_id, lease=30)
    assert claim is not None
    clock.advance(20)
    assert clocked_store.renew(upload_id, lease=30, attempt=claim.attempts) is True
    assert clocked_store.get(upload_id).lease_until == clock.now + 30
    clock.advance(29)  # past the first lease, within the renewed one: still held
    assert clocked_store.claim(upload_id, lease=30) is None
    assert clocked_store.renew(upload_id, lease=30, attempt=claim.attempts + 1) is False
    assert clocked_store.get(upload_id).lease_until == clock.now + 1  # a refused renewal changes nothing
    clocked_store.release(upload_id, "HTTP 503")
    assert clocked_store.renew(upload_id, lease=30, attempt=claim.attempts) is False  # handed back: over
    assert clocked_store.get(upload_id).lease_until is None
    assert clocked_store.renew("d" * 32, lease=30, attempt=1) is False


def test_a_released_upload_waits_with_its_error_and_a_release_of_no_claim_changes_nothing(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    upload_id = stage(clocked_store).id
    clocked_store.mark_enqueued(upload_id)
    clocked_store.release(upload_id, "HTTP 503")  # not claimed: nothing to release
    assert clocked_store.get(upload_id).error is None
    assert clocked_store.claim(upload_id, lease=30) is not None
    clock.advance(3)
    clocked_store.release(upload_id, "Cloudflare answered HTTP 503")
    record = clocked_store.get(upload_id)
    assert (record.state, record.error, record.lease_until, record.attempts, record.updated_at) == (
        UploadState.PENDING, "Cloudflare answered HTTP 503", None, 1, clock.now,
    )  # fmt: skip
    assert record.enqueued_at == clock.now - 3  # still enqueued: its retry is on the way
    assert staged_bytes(clocked_store, upload_id) == PHOTO


# -- outcomes ------------------------------------------------------------------------------------------------------


def test_ready_clears_the_error_and_the_lease_and_happens_once_from_any_live_state(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    retried, blocked, failed = (stage(clocked_store).id for _ in range(3))
    assert clocked_store.claim(retried, lease=30) is not None
    clocked_store.release(retried, "HTTP 503")
    assert clocked_store.claim(retried, lease=30) is not None
    clock.advance(2)
    assert clocked_store.mark_ready(retried, "img-r") is True
    done = clocked_store.get(retried)
    assert (done.state, done.image_id, done.error, done.lease_until, done.updated_at) == (
        UploadState.READY, "img-r", None, None, clock.now,
    )  # fmt: skip
    assert clocked_store.mark_blocked(blocked, "Cloudflare refused the credentials")
    assert clocked_store.mark_ready(blocked, "img-b") is True  # the probe's upload landed
    clocked_store.mark_failed(failed, "Cloudflare refused the image")
    assert clocked_store.mark_ready(failed, "img-f") is False  # failed for good until a person retries it
    assert clocked_store.get(failed).state is UploadState.FAILED and clocked_store.get(failed).image_id is None
    assert staged_bytes(clocked_store, failed) == PHOTO
    assert clocked_store.mark_ready(retried, "img-x") is False and clocked_store.get(retried).image_id == "img-r"
    assert clocked_store.staged_ids() == [failed]


def test_a_failure_keeps_the_bytes_and_never_undoes_a_stored_upload(clocked_store: UploadRecords, clock: Clock) -> None:
    flying, stored = (stage(clocked_store).id for _ in range(2))
    assert clocked_store.claim(flying, lease=30) is not None
    clock.advance(1)
    clocked_store.mark_failed(flying, "Cloudflare refused the image: HTTP 415")
    failed = clocked_store.get(flying)
    assert (failed.state, failed.error, failed.lease_until, failed.updated_at) == (
        UploadState.FAILED, "Cloudflare refused the image: HTTP 415", None, clock.now,
    )  # fmt: skip
    assert staged_bytes(clocked_store, flying) == PHOTO
    assert clocked_store.mark_ready(stored, "img-1")
    clocked_store.mark_failed(stored, "late news")
    assert clocked_store.get(stored).state is UploadState.READY and clocked_store.get(stored).error is None
    assert clocked_store.claim(flying, lease=30) is None  # failed: not claimable, not needing work
    assert clocked_store.needing_work(enqueued_before=clock.now + 3600) == []


def test_blocking_takes_pending_and_uploading_uploads_only(clocked_store: UploadRecords) -> None:
    pending, flying, failed, ready = (stage(clocked_store).id for _ in range(4))
    assert clocked_store.claim(flying, lease=30) is not None
    clocked_store.mark_failed(failed, "Cloudflare refused the image")
    clocked_store.mark_ready(ready, "img-1")
    assert clocked_store.mark_blocked(pending, "Cloudflare refused the credentials") is True
    assert clocked_store.mark_blocked(flying, "Cloudflare refused the credentials") is True
    assert clocked_store.get(flying).lease_until is None and clocked_store.get(flying).error == (
        "Cloudflare refused the credentials"
    )
    for upload_id in (pending, failed, ready):  # already blocked, failed, stored: left as they are
        assert clocked_store.mark_blocked(upload_id, "again") is False
    assert clocked_store.get(failed).error == "Cloudflare refused the image"
    assert [clocked_store.get(i).state for i in (failed, ready)] == [UploadState.FAILED, UploadState.READY]


def test_a_retry_requeues_failed_and_blocked_uploads_as_not_yet_enqueued(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    failed, blocked, pending, flying = stage_apart(clocked_store, clock, 4)
    for upload_id in (failed, blocked, pending):
        clocked_store.mark_enqueued(upload_id)
    clocked_store.mark_failed(failed, "Cloudflare refused the image")
    clocked_store.mark_blocked(blocked, "Cloudflare refused the credentials")
    assert clocked_store.claim(flying, lease=30) is not None
    assert clocked_store.requeue(blocked, states=(UploadState.FAILED,)) is False  # only what was asked for
    assert clocked_store.get(blocked).state is UploadState.BLOCKED
    clock.advance(4)
    for upload_id in (failed, blocked):
        assert clocked_store.requeue(upload_id) is True
        record = clocked_store.get(upload_id)
        assert (record.state, record.enqueued_at, record.lease_until, record.updated_at) == (
            UploadState.PENDING, None, None, clock.now,
        )  # fmt: skip
    for upload_id in (pending, flying):  # neither failed nor blocked: nothing to retry
        assert clocked_store.requeue(upload_id) is False
    assert clocked_store.get(pending).enqueued_at == clock.now - 4
    assert clocked_store.get(flying).state is UploadState.UPLOADING
    assert clocked_store.requeue(flying, states=(UploadState.UPLOADING,)) is True  # an operator's forced retry
    assert (clocked_store.get(flying).state, clocked_store.get(flying).lease_until) == (UploadState.PENDING, None)
    found = clocked_store.needing_work(enqueued_before=clock.now - 4)  # pending was sent at that instant
    assert [r.id for r in found] == [failed, blocked, flying]  # the sweep sends them if nobody else does


def test_a_discard_forgets_the_upload_everywhere(clocked_store: UploadRecords, clock: Clock) -> None:
    kept, flying, waiting = (stage(clocked_store).id for _ in range(3))
    assert clocked_store.claim(flying, lease=30) is not None
    for upload_id in (flying, waiting):
        clocked_store.delete(upload_id)
        assert clocked_store.find(upload_id) is None
        with pytest.raises(FileNotFoundError):
            clocked_store.open_staged(upload_id)
    with pytest.raises(FileNotFoundError, match=waiting):  # the error names the upload
        clocked_store.open_staged(waiting)
    clocked_store.delete("e" * 32)  # nothing to forget: no error
    clock.advance(3600)
    assert [r.id for r in clocked_store.needing_work(enqueued_before=clock.now)] == [kept]
    assert clocked_store.staged_ids() == [kept] and [r.id for r in clocked_store.recent()] == [kept]
    assert clocked_store.counts()[UploadState.PENDING] == 1 and clocked_store.counts()[UploadState.UPLOADING] == 0
    again = clocked_store.stage(OTHER, filename="again.jpg", content_type="image/jpeg", upload_id=waiting)
    assert again.state is UploadState.PENDING and staged_bytes(clocked_store, waiting) == OTHER


def test_marking_an_upload_enqueued_records_when_and_never_makes_one_up(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    upload_id = stage(clocked_store).id
    clock.advance(2)
    clocked_store.mark_enqueued(upload_id)
    assert clocked_store.get(upload_id).enqueued_at == clock.now
    clocked_store.mark_enqueued(upload_id, at=clock.now + 90.5)  # a retry due later
    assert clocked_store.get(upload_id).enqueued_at == clock.now + 90.5
    assert clocked_store.get(upload_id).updated_at == clock.now - 2  # not a state change
    clocked_store.mark_enqueued("f" * 32)
    assert clocked_store.find("f" * 32) is None and sum(clocked_store.counts().values()) == 1


# -- the block -----------------------------------------------------------------------------------------------------


def test_the_block_keeps_its_start_and_probe_time_and_names_the_newest_cause(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    assert clocked_store.current_block() is None
    started = clock.now
    assert clocked_store.block("Cloudflare refused the credentials", probe_at=started + 60) == Block(
        "Cloudflare refused the credentials", started, started + 60
    )
    clock.advance(10)
    again = clocked_store.block("Cloudflare refused the account", probe_at=clock.now + 600)
    assert again == Block("Cloudflare refused the account", started, started + 60)
    assert clocked_store.current_block() == again


def test_one_probe_is_due_at_its_time_and_the_next_one_an_interval_later(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    assert clocked_store.claim_probe(next_probe_at=clock.now + 60) is None  # no block: nothing to probe
    started = clock.now
    clocked_store.block("Cloudflare refused the credentials", probe_at=started + 60)
    clock.advance(59.5)
    assert clocked_store.claim_probe(next_probe_at=clock.now + 60) is None
    assert clocked_store.current_block() == Block("Cloudflare refused the credentials", started, started + 60)
    clock.advance(0.5)  # due to the second
    due = clocked_store.claim_probe(next_probe_at=clock.now + 60)
    assert due == Block("Cloudflare refused the credentials", started, clock.now + 60)  # with its next probe
    assert clocked_store.current_block() == Block("Cloudflare refused the credentials", started, clock.now + 60)
    assert clocked_store.claim_probe(next_probe_at=clock.now + 60) is None  # one prober at a time


def test_lifting_the_block_resumes_every_blocked_upload_oldest_first(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    assert clocked_store.unblock() == []
    blocked = []
    for _ in range(3):
        upload_id = stage(clocked_store).id
        clocked_store.mark_enqueued(upload_id)
        clocked_store.mark_blocked(upload_id, "Cloudflare refused the credentials")
        blocked.append(upload_id)
        clock.advance(1)
    failed = stage(clocked_store).id
    clocked_store.mark_failed(failed, "Cloudflare refused the image")
    clocked_store.block("Cloudflare refused the credentials", probe_at=clock.now + 60)
    clock.advance(30)
    assert clocked_store.unblock() == blocked
    assert clocked_store.current_block() is None
    for upload_id in blocked:
        record = clocked_store.get(upload_id)
        assert (record.state, record.enqueued_at, record.updated_at) == (UploadState.PENDING, None, clock.now)
    assert clocked_store.get(failed).state is UploadState.FAILED
    assert clocked_store.counts()[UploadState.BLOCKED] == 0 and clocked_store.recent(state=UploadState.BLOCKED) == []
    assert clocked_store.unblock() == []
    assert [r.id for r in clocked_store.needing_work(enqueued_before=clock.now)] == blocked


# -- the sweep's view ----------------------------------------------------------------------------------------------


def test_work_needing_a_worker_to_the_second(clocked_store: UploadRecords, clock: Clock) -> None:
    never, sent, flying, held, blocked = stage_apart(clocked_store, clock, 5)
    clocked_store.mark_enqueued(sent)
    assert clocked_store.claim(flying, lease=30) is not None
    assert clocked_store.claim(held, lease=60) is not None
    clocked_store.mark_blocked(blocked, "Cloudflare refused the credentials")
    sent_at = clock.now
    assert [r.id for r in clocked_store.needing_work(enqueued_before=sent_at)] == [never]  # sent at that instant
    assert [r.id for r in clocked_store.needing_work(enqueued_before=sent_at + 0.5)] == [never, sent]
    clock.advance(30)  # flying's lease ends now: still its worker's
    assert [r.id for r in clocked_store.needing_work(enqueued_before=sent_at)] == [never]
    clock.advance(0.5)
    assert [r.id for r in clocked_store.needing_work(enqueued_before=sent_at)] == [never, flying]
    later = clock.now + 30  # ``now`` given: the sweep's own time, not the store's
    assert [r.id for r in clocked_store.needing_work(enqueued_before=sent_at, now=later)] == [never, flying, held]
    assert [r.id for r in clocked_store.needing_work(enqueued_before=sent_at, now=clock.now - 31)] == [never]
