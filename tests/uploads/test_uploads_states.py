"""Uploads never lose a file: blocked on refused credentials (one probe per interval, resuming by itself), retried
through long outages without giving up, failed only for refusals of the image (bytes kept, retry, discard).

Everything runs on both stores, against the emulator, with a controllable clock: a 30-minute outage takes no
real time.
"""

from __future__ import annotations

from typing import Any

import httpx
import imagegen
import pytest
from huey import MemoryHuey
from upload_helpers import Clock, Wire

from cfvariants.client import ImagesClient, RetryPolicy
from cfvariants.emulator import Emulator
from cfvariants.uploads import UploadQueue, UploadRecords, UploadsError, UploadState, classify

PHOTOS = [imagegen.photo_jpeg(150_000 + 20_000 * i, seed=i) for i in range(4)]  # camera-like, 150-210 KB


@pytest.fixture
def store(clocked_store: UploadRecords) -> UploadRecords:
    """Both stores, on the test's clock (tests/uploads/conftest.py)."""
    return clocked_store


def client_for(emulator: Emulator, wire: Wire, *, token: str | None = None) -> ImagesClient:
    config = emulator.config
    return ImagesClient(
        config.account_id,
        token or config.api_token,
        base_url="http://cfimages.test/client/v4",
        transport=httpx.MockTransport(wire.handle),
        retry=RetryPolicy.none(),  # the queue retries, not the client
    )


def make_queue(store: UploadRecords, client: ImagesClient, **kwargs: Any) -> UploadQueue:
    return UploadQueue(MemoryHuey("uploads", immediate=False), store, lambda: client, **kwargs)


def submit_all(queue: UploadQueue) -> list[str]:
    return [queue.submit(photo, filename=f"photo{i}.jpg").id for i, photo in enumerate(PHOTOS)]


def stored_images(emulator: Emulator) -> list[str]:
    return [image.id for image in emulator.list_images(per_page=100)]


def staged(store: UploadRecords, upload_id: str) -> bytes:
    with store.open_staged(upload_id) as handle:
        return handle.read()


# -- credentials ------------------------------------------------------------------------------------------------


def test_a_wrong_token_blocks_uploads_keeps_their_bytes_and_probes_once_per_interval(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = make_queue(store, client_for(cf_emulator, wire, token="wrong-secret-token"), probe_interval=60)
    ids = submit_all(queue)
    outcomes = [queue.run_once(upload_id) for upload_id in ids]
    assert [o.status for o in outcomes] == ["blocked"] * len(ids)
    assert wire.requests == 1  # the first upload found out; the others waited without calling Cloudflare
    for upload_id, photo in zip(ids, PHOTOS, strict=True):
        record = store.get(upload_id)
        assert record.state is UploadState.BLOCKED
        assert "refused the credentials" in (record.error or "") and "wrong-secret-token" not in (record.error or "")
        assert staged(store, upload_id) == photo
    stats = queue.stats()
    assert stats["blocked"] == len(ids) and stats.needs_attention == len(ids)
    assert stats.block is not None and "CF_IMG_TOKEN" in stats.block.cause
    assert {r.id for r in queue.uploads(state="blocked")} == set(ids) and queue.uploads(state="ready") == []

    queue.reconcile()  # the sweep every minute: no probe before the interval is over
    assert wire.requests == 1
    clock.advance(61)
    report = queue.reconcile()
    assert report.probe is not None and report.probe.status == "blocked"
    assert wire.requests == 2  # one probe, one request: still refused
    assert queue.stats()["blocked"] == len(ids) and queue.stats()["failed"] == 0


def test_once_the_token_is_fixed_every_blocked_upload_is_stored_exactly_once(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    broken = make_queue(store, client_for(cf_emulator, wire, token="expired-token"))
    ids = submit_all(broken)
    for upload_id in ids:
        broken.run_once(upload_id)
    assert stored_images(cf_emulator) == []

    # The token is fixed and the workers restarted: the same store and queue, a client with the right token.
    fixed = make_queue(store, client_for(cf_emulator, wire), probe_interval=60)
    clock.advance(61)
    report = fixed.reconcile()  # no person did anything: the sweep's probe finds the credentials work
    assert report.probe is not None and report.probe.status == "ready"
    pending = [r.id for r in store.recent(state=UploadState.PENDING)]
    assert sorted(pending) == sorted(set(ids) - {report.probe.upload_id})  # resumed, waiting for their message
    assert len(fixed.huey) == len(pending)  # and sent
    for upload_id in pending:
        assert fixed.run_once(upload_id).status == "ready"
    assert store.current_block() is None
    assert fixed.stats()["ready"] == len(ids) and fixed.stats().needs_attention == 0
    images = stored_images(cf_emulator)
    assert sorted(images) == sorted(store.get(upload_id).image_id or "" for upload_id in ids)  # none twice
    assert store.staged_ids() == []
    for upload_id in ids:  # a duplicated message afterwards changes nothing
        assert fixed.run_once(upload_id).status == "skipped"
    assert len(stored_images(cf_emulator)) == len(ids)


def test_retrying_a_blocked_upload_lifts_the_block_for_all(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    broken = make_queue(store, client_for(cf_emulator, wire, token="bad"))
    ids = submit_all(broken)
    for upload_id in ids:
        broken.run_once(upload_id)
    fixed = make_queue(store, client_for(cf_emulator, wire))
    assert sorted(fixed.retry(ids[0])) == sorted(ids)  # a person says "fixed": no waiting for the probe
    assert [fixed.run_once(upload_id).status for upload_id in ids] == ["ready"] * len(ids)
    assert len(stored_images(cf_emulator)) == len(ids)


# -- outages ------------------------------------------------------------------------------------------------------


def test_a_30_minute_outage_ends_with_every_upload_stored_exactly_once(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = make_queue(store, client_for(cf_emulator, wire), backoff=2, backoff_cap=300)
    ids = submit_all(queue)
    wire.down = True
    outage_ends = clock.now + 30 * 60
    attempts = 0
    while clock.now < outage_ends:
        due = min(store.get(upload_id).enqueued_at or clock.now for upload_id in ids)
        clock.now = max(clock.now, due)
        for upload_id in ids:
            if (store.get(upload_id).enqueued_at or 0) <= clock.now:
                assert queue.run_once(upload_id).status == "retry"
                attempts += 1
    assert attempts > 8 * len(ids)  # more than the old give-up count, and nothing gave up
    for upload_id, photo in zip(ids, PHOTOS, strict=True):
        record = store.get(upload_id)
        assert record.state is UploadState.PENDING and "could not be reached" in (record.error or "")
        assert staged(store, upload_id) == photo
        assert (record.enqueued_at or 0) - clock.now <= 300  # the backoff is capped

    wire.down = False
    clock.advance(300)
    assert [queue.run_once(upload_id).status for upload_id in ids] == ["ready"] * len(ids)
    assert sorted(stored_images(cf_emulator)) == sorted(store.get(i).image_id or "" for i in ids)
    assert store.staged_ids() == []


def test_retry_after_is_honoured_and_the_log_tells_the_truth(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    queue = make_queue(store, client_for(cf_emulator, wire), backoff=1, backoff_cap=5)
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    wire.refuse_uploads = httpx.Response(
        429, headers={"retry-after": "120"}, json={"success": False, "errors": [{"code": 971, "message": "slow down"}]}
    )
    with caplog.at_level("WARNING", logger="cfvariants.uploads"):
        assert queue.run_once(upload_id).status == "retry"
    assert (store.get(upload_id).enqueued_at or 0) >= clock.now + 120
    assert "asked to slow down" in caplog.text and "next attempt in 2 min" in caplog.text
    assert "will retry" not in caplog.text


def test_an_optional_maximum_age_fails_the_upload_but_keeps_its_bytes(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = make_queue(store, client_for(cf_emulator, wire), max_age=3600)
    upload_id = queue.submit(PHOTOS[0], filename="a.jpg").id
    wire.down = True
    assert queue.run_once(upload_id).status == "retry"
    clock.advance(3601)
    outcome = queue.run_once(upload_id)
    assert outcome.status == "failed" and "not stored within 60 min" in (outcome.reason or "")
    assert staged(store, upload_id) == PHOTOS[0]
    wire.down = False
    assert queue.retry(upload_id) == [upload_id]
    assert queue.run_once(upload_id).status == "ready"


# -- refusals of the image ----------------------------------------------------------------------------------------


def test_a_refused_image_fails_keeps_its_bytes_and_can_be_retried_or_discarded(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = make_queue(store, client_for(cf_emulator, wire))
    first, second = (queue.submit(photo, filename=f"p{i}.jpg").id for i, photo in enumerate(PHOTOS[:2]))
    # A proxy in front of the API refuses the body (its size limit), as nginx does: nothing a retry can change.
    wire.refuse_uploads = httpx.Response(413, html="<html><title>413 Request Entity Too Large</title></html>")
    assert queue.run_once(first).status == "failed" and queue.run_once(second).status == "failed"
    record = store.get(first)
    assert record.state is UploadState.FAILED and "413" in (record.error or "")
    assert staged(store, first) == PHOTOS[0] and staged(store, second) == PHOTOS[1]
    assert queue.reconcile().requeued == ()  # failed uploads are not retried by themselves...
    assert store.remove_orphans(older_than=-1) == 0  # ...and their bytes are not orphans

    wire.refuse_uploads = None  # the proxy's limit is raised
    assert queue.retry(first) == [first]
    assert queue.run_once(first).status == "ready"
    assert stored_images(cf_emulator) == [store.get(first).image_id]

    discarded = queue.discard(second)
    assert discarded.filename == "p1.jpg"
    assert store.find(second) is None and store.staged_ids() == []
    with pytest.raises(FileNotFoundError):
        store.open_staged(second)
    with pytest.raises(UploadsError, match="stored already"):
        queue.discard(first)
    with pytest.raises(UploadsError, match="only failed or blocked"):
        queue.retry(first)


def test_retry_all_failed_and_the_retention_policy(
    store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = make_queue(store, client_for(cf_emulator, wire), failed_retention=7 * 86400)
    ids = submit_all(queue)
    wire.refuse_uploads = httpx.Response(
        415, json={"success": False, "errors": [{"code": 5400, "message": "Unsupported image format"}]}
    )
    for upload_id in ids:
        queue.run_once(upload_id)
    assert queue.stats()["failed"] == len(ids)
    wire.refuse_uploads = None
    assert sorted(queue.retry_failed()) == sorted(ids)
    assert queue.stats()["pending"] == len(ids)
    assert queue.run_once(ids[0]).status == "ready"

    wire.refuse_uploads = httpx.Response(
        415, json={"success": False, "errors": [{"code": 5400, "message": "Unsupported image format"}]}
    )
    for upload_id in ids[1:]:
        queue.run_once(upload_id)
    clock.advance(6 * 86400)
    assert queue.reconcile().expired == ()  # still within the retention: kept
    clock.advance(86400 + 1)
    report = queue.reconcile()
    assert sorted(report.expired) == sorted(ids[1:])
    assert store.staged_ids() == [] and queue.stats()["failed"] == 0 and queue.stats()["ready"] == 1


# -- which failure is which ---------------------------------------------------------------------------------------


def _envelope(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"success": False, "errors": [{"code": code, "message": message}]})


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (_envelope(401, 10000, "Authentication error"), "blocked"),
        (_envelope(403, 9109, "Unauthorized to access requested resource"), "blocked"),
        (_envelope(403, 9427, "Account mismatch"), "blocked"),
        (_envelope(400, 7003, "Could not route to /accounts/x/images/v1"), "blocked"),
        (_envelope(402, 1001, "Payment required"), "blocked"),
        (_envelope(400, 5455, "Your account's Images storage quota is exceeded; upgrade your plan"), "blocked"),
        (_envelope(429, 971, "Please wait and consider throttling your request speed"), "transient"),
        (_envelope(503, 5500, "Service unavailable"), "transient"),
        (httpx.Response(502, html="<html><title>502 Bad Gateway</title></html>"), "transient"),
        (_envelope(408, 5408, "Request timeout"), "transient"),
        (_envelope(415, 5400, "Unsupported image format"), "failed"),
        (_envelope(400, 5400, "Bad request: image dimensions exceed the maximum of 12000 pixels"), "failed"),
        (httpx.Response(413, html="<html><title>413 Request Entity Too Large</title></html>"), "failed"),
        (_envelope(409, 5409, "An image with this id already exists"), "failed"),
    ],
)
def test_failures_are_classified_by_who_can_fix_them(response: httpx.Response, kind: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return response

    client = ImagesClient("a" * 32, "t", base_url="http://x/client/v4", transport=httpx.MockTransport(answer),
                          retry=RetryPolicy.none())  # fmt: skip
    with pytest.raises(Exception) as info:
        client.upload(PHOTOS[0], filename="a.jpg")
    assert classify(info.value) == kind  # type: ignore[arg-type]


def test_transport_failures_and_refusals_before_sending(cf_client: ImagesClient) -> None:
    from cfvariants.client import TransportError, ValidationError

    assert classify(TransportError("ConnectError", "refused")) == "transient"
    with pytest.raises(ValidationError) as info:
        cf_client.upload(PHOTOS[0], id="/starts-with-a-slash")
    assert classify(info.value) == "failed"
