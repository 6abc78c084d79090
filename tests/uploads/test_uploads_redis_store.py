"""What only the Redis store has: keys named after the queue (so several queues, or an operator, share one
Redis), nothing left in Redis once an upload is done or discarded, the sweep of bytes that never got a record,
and stagings or sweeps that meet another process half-way (simulated by writing what that process would have
written, at the moment it would have)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import imagegen
import pytest
from redis import Redis
from upload_helpers import Clock

from cfvariants.uploads import RedisUploadStore, StorageFull, UploadsError, UploadState

PHOTO = imagegen.photo_jpeg(110_000, seed=30)
OTHER = imagegen.photo_jpeg(130_000, seed=31)


@pytest.fixture
def admin(redis_url: str) -> Iterator[Redis]:
    """A plain client on the same database: what an operator (or another process) sees and writes."""
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(redis_url: str, clock: Clock) -> Iterator[RedisUploadStore]:
    redis = RedisUploadStore(redis_url, clock=clock)
    yield redis
    redis.close()


def keys(admin: Redis) -> list[str]:
    return sorted(key.decode() for key in admin.keys("*"))


def staged_bytes(store: RedisUploadStore, upload_id: str) -> bytes:
    with store.open_staged(upload_id) as staged:
        return staged.read()


def test_keys_are_named_after_the_queue_as_documented(store: RedisUploadStore, admin: Redis, clock: Clock) -> None:
    record = store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg")
    p = f"cfv:uploads:default:{{}}:{record.id}".format
    assert keys(admin) == [p("d"), p("r"), "cfv:uploads:default:s:pending"]
    assert admin.get(p("d")) == PHOTO
    assert admin.hget(p("r"), "filename") == b"a.jpg" and admin.hget(p("r"), "state") == b"pending"
    assert admin.zscore("cfv:uploads:default:s:pending", record.id) == clock.now  # by creation time
    assert store.claim(record.id, lease=30) is not None
    assert admin.zscore("cfv:uploads:default:leases", record.id) == clock.now + 30  # by lease expiry
    store.block("Cloudflare refused the credentials", probe_at=clock.now + 60)
    assert admin.hget("cfv:uploads:default:block", "cause") == b"Cloudflare refused the credentials"


def test_queues_of_other_names_or_prefixes_share_a_redis_without_meeting(
    redis_url: str, admin: Redis, clock: Clock
) -> None:
    default = RedisUploadStore(redis_url, clock=clock)
    shop = RedisUploadStore(redis_url, name="shop", clock=clock)
    tagged = RedisUploadStore(Redis.from_url(redis_url), prefix="{cfv}:uploads", clock=clock)  # a client of its own
    try:
        ids = [store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg").id for store in (default, shop, tagged)]
        for store, upload_id in zip((default, shop, tagged), ids, strict=True):
            assert [r.id for r in store.recent()] == [upload_id] and store.staged_ids() == [upload_id]
            assert store.counts()[UploadState.PENDING] == 1
        assert {key.split(":s:")[0] for key in keys(admin) if ":s:" in key} == {
            "cfv:uploads:default", "cfv:uploads:shop", "{cfv}:uploads",
        }  # fmt: skip
        same = RedisUploadStore(redis_url, name="shop")  # a worker on another machine, same queue name
        assert same.get(ids[1]).filename == "a.jpg" and same.find(ids[0]) is None
        same.close()
    finally:
        for store in (default, shop, tagged):
            store.close()


def test_a_prefix_with_glob_characters_lists_only_its_own_staged_files(redis_url: str) -> None:
    stores = [RedisUploadStore(redis_url, prefix=prefix) for prefix in ("q[12]", "q?", "q*", "q\\", "q1")]
    try:
        ids = [store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg").id for store in stores]
        assert [store.staged_ids() for store in stores] == [[upload_id] for upload_id in ids]
    finally:
        for store in stores:
            store.close()


def test_the_repr_names_the_server_and_queue_but_never_the_password(redis_url: str) -> None:
    port = redis_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    store = RedisUploadStore(f"redis://:hunter2-secret@127.0.0.1:{port}/0", name="shop")
    assert repr(store) == f"RedisUploadStore(127.0.0.1:{port}, prefix='cfv:uploads:shop')"
    store.close()


def test_a_client_that_decodes_answers_is_refused_at_once(redis_url: str) -> None:
    # It would fail only later, on the first staged photo (not text) or the first record read.
    client = Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ValueError, match=r"needs a Redis client that answers bytes \(decode_responses=False\)"):
        RedisUploadStore(client)
    client.close()
    with pytest.raises(ValueError, match="decode_responses=False"):
        RedisUploadStore(f"{redis_url}?decode_responses=True")


def test_nothing_is_left_in_redis_once_uploads_are_done_or_discarded(
    store: RedisUploadStore, admin: Redis, clock: Clock
) -> None:
    stored, flying, failed, blocked = (
        store.stage(PHOTO, filename=f"{name}.jpg", content_type="image/jpeg").id
        for name in ("stored", "flying", "failed", "blocked")
    )
    for upload_id in (stored, flying):
        assert store.claim(upload_id, lease=30) is not None
    assert store.mark_ready(stored, "img-1")
    store.mark_failed(failed, "Cloudflare refused the image")
    store.mark_blocked(blocked, "Cloudflare refused the credentials")
    for upload_id in (flying, failed, blocked):  # a person discards each: in flight, failed, blocked
        store.delete(upload_id)
    assert keys(admin) == [f"cfv:uploads:default:r:{stored}", "cfv:uploads:default:s:ready"]  # no bytes, no lease
    store.delete(stored)
    assert keys(admin) == []


def test_bytes_that_never_got_a_record_are_swept_once_old_enough(
    store: RedisUploadStore, admin: Redis, clock: Clock
) -> None:
    kept = store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg")
    # Three writers died between writing the bytes and recording them: two an hour ago, one a minute ago.
    crashed = {"a" * 32: clock.now - 3601, "b" * 32: clock.now - 3601, "c" * 32: clock.now - 60}
    for upload_id, written_at in crashed.items():
        admin.set(f"cfv:uploads:default:d:{upload_id}", OTHER)
        admin.zadd("cfv:uploads:default:staging", {upload_id: written_at})
    assert store.remove_orphans(older_than=3600) == 2
    assert store.staged_ids() == sorted([kept.id, "c" * 32])  # the young one may still be being recorded
    assert admin.zrange("cfv:uploads:default:staging", 0, -1) == [b"c" * 32]
    clock.advance(3600)
    assert store.remove_orphans(older_than=3600) == 1
    assert store.staged_ids() == [kept.id] and staged_bytes(store, kept.id) == PHOTO
    assert store.remove_orphans(older_than=3600) == 0


def test_the_sweep_never_takes_the_bytes_of_an_upload_recorded_meanwhile(
    store: RedisUploadStore, admin: Redis, clock: Clock
) -> None:
    # The sweep read the staging mark of a writer that was slow, and that writer recorded its upload just then.
    recorded = store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg")
    admin.zadd("cfv:uploads:default:staging", {recorded.id: clock.now - 7200})
    assert store.remove_orphans(older_than=3600) == 0
    assert staged_bytes(store, recorded.id) == PHOTO and store.get(recorded.id).state is UploadState.PENDING
    assert admin.exists("cfv:uploads:default:staging") == 0  # the mark is done with: no sweep looks at it again


def test_the_file_is_checked_on_local_disk_in_a_directory_of_its_own_that_is_gone_after(
    store: RedisUploadStore,
) -> None:
    seen: list[tuple[Path, bytes]] = []

    def check(path: Path) -> str:
        seen.append((path, path.read_bytes()))
        return "image/jpeg"

    record = store.stage(PHOTO, filename="a.jpg", content_type="application/octet-stream", check=check)
    [(path, data)] = seen
    assert data == PHOTO and path.name == record.id and path.parent.name.startswith("cfv-upload-")
    assert not path.parent.exists()  # nothing of the upload stays on the web server's disk
    assert record.content_type == "image/jpeg"  # the type the check found in the bytes


def test_an_id_whose_bytes_are_there_without_a_record_is_refused_before_the_file_is_read(
    store: RedisUploadStore, admin: Redis
) -> None:
    upload_id = "abcdef0123456789" * 2
    admin.set(f"cfv:uploads:default:d:{upload_id}", OTHER)  # a writer stored the bytes and is recording them
    checked: list[Path] = []
    with pytest.raises(UploadsError, match="already exists"):
        store.stage(PHOTO, filename="b.jpg", content_type="image/jpeg", upload_id=upload_id, check=checked.append)
    assert checked == [] and staged_bytes(store, upload_id) == OTHER


def test_a_staging_of_an_id_another_process_stages_meanwhile_is_refused_and_takes_nothing(
    store: RedisUploadStore, redis_url: str
) -> None:
    other = RedisUploadStore(redis_url)
    upload_id = "0123456789abcdef" * 2

    def meanwhile(path: Path) -> None:  # while this file is being checked, another web process takes the id
        other.stage(OTHER, filename="theirs.jpg", content_type="image/jpeg", upload_id=upload_id)

    with pytest.raises(UploadsError, match="already exists"):
        store.stage(PHOTO, filename="mine.jpg", content_type="image/jpeg", upload_id=upload_id, check=meanwhile)
    assert store.get(upload_id).filename == "theirs.jpg" and staged_bytes(store, upload_id) == OTHER
    assert store.staged_ids() == [upload_id]
    other.close()


def test_a_staging_of_an_id_stored_meanwhile_is_refused_and_leaves_no_bytes(
    store: RedisUploadStore, redis_url: str, admin: Redis
) -> None:
    other = RedisUploadStore(redis_url)
    upload_id = "fedcba9876543210" * 2

    def meanwhile(path: Path) -> None:  # another process stages that id and a worker stores it, all in between
        other.stage(OTHER, filename="theirs.jpg", content_type="image/jpeg", upload_id=upload_id)
        other.mark_ready(upload_id, "img-theirs")

    with pytest.raises(UploadsError, match="already exists"):
        store.stage(PHOTO, filename="mine.jpg", content_type="image/jpeg", upload_id=upload_id, check=meanwhile)
    assert store.get(upload_id).image_id == "img-theirs" and store.staged_ids() == []
    assert keys(admin) == [f"cfv:uploads:default:r:{upload_id}", "cfv:uploads:default:s:ready"]
    other.close()


def test_the_sweep_skips_an_upload_discarded_while_it_reads(
    store: RedisUploadStore, admin: Redis, clock: Clock
) -> None:
    waiting = [store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg").id for _ in range(2)]
    # The sweep listed the pending uploads just before a person discarded one (the oldest): it is gone now.
    admin.zadd("cfv:uploads:default:s:pending", {"0" * 32: clock.now - 60})
    clock.advance(1)
    assert [r.id for r in store.needing_work(enqueued_before=clock.now)] == sorted(waiting)


def test_the_sweep_leaves_an_upload_whose_lease_was_renewed_while_it_reads(
    store: RedisUploadStore, admin: Redis, clock: Clock
) -> None:
    held = store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg").id
    clock.advance(1)
    dead = store.stage(PHOTO, filename="b.jpg", content_type="image/jpeg").id
    claims = [store.claim(upload_id, lease=30) for upload_id in (held, dead)]
    assert all(claims)
    clock.advance(31)
    assert store.renew(held, lease=30, attempt=1)
    # The sweep read the leases as they were a moment ago, before the heartbeat renewed this one.
    admin.zadd("cfv:uploads:default:leases", {held: clock.now - 1})
    assert [r.id for r in store.needing_work(enqueued_before=clock.now)] == [dead]
    ending = clock.now + 30  # the renewed lease's last instant: still its worker's
    assert [r.id for r in store.needing_work(enqueued_before=clock.now, now=ending)] == [dead]
    assert [r.id for r in store.needing_work(enqueued_before=clock.now, now=ending + 0.5)] == [held, dead]


def test_redis_out_of_memory_at_either_step_keeps_nothing_of_the_upload(store: RedisUploadStore, admin: Redis) -> None:
    kept = store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg")
    before = keys(admin)
    used = int(admin.info("memory")["used_memory"])
    admin.config_set("maxmemory-policy", "noeviction")
    try:
        # Room for a little more but not a photo (its bytes may fit, its record then not); then already full.
        for limit in (used + 64 * 1024, 1):
            admin.config_set("maxmemory", str(limit))
            with pytest.raises(StorageFull, match=r"Redis is out of memory \(RedisUploadStore\(127\.0\.0\.1:"):
                store.stage(imagegen.photo_jpeg(400_000, seed=32), filename="big.jpg", content_type="image/jpeg")
    finally:
        admin.config_set("maxmemory", "0")
    assert keys(admin) == before and store.staged_ids() == [kept.id]


def test_a_full_redis_still_shows_finishes_and_discards_uploads(
    store: RedisUploadStore, admin: Redis, clock: Clock
) -> None:
    # Out of memory, the queue must drain and a person must be able to look and make room: reads, a worker's
    # outcomes and a discard all still work; only new uploads are refused.
    flying, waiting, discarded = (store.stage(PHOTO, filename=f"{n}.jpg", content_type="image/jpeg").id for n in "abc")
    assert store.claim(flying, lease=30) is not None
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", "1")
    try:
        with pytest.raises(StorageFull):
            store.stage(OTHER, filename="new.jpg", content_type="image/jpeg")
        assert store.counts()[UploadState.PENDING] == 2 and len(store.recent()) == 3
        assert store.get(waiting).state is UploadState.PENDING and staged_bytes(store, waiting) == PHOTO
        assert [r.id for r in store.needing_work(enqueued_before=clock.now + 1)] == sorted([waiting, discarded])
        store.delete(discarded)
        assert store.mark_ready(flying, "img-1") is True
        assert store.staged_ids() == [waiting]
    finally:
        admin.config_set("maxmemory", "0")
    assert store.find(discarded) is None and store.get(flying).image_id == "img-1"
    assert keys(admin) == sorted([
        f"cfv:uploads:default:r:{flying}", f"cfv:uploads:default:r:{waiting}", f"cfv:uploads:default:d:{waiting}",
        "cfv:uploads:default:s:pending", "cfv:uploads:default:s:ready",
    ])  # fmt: skip
