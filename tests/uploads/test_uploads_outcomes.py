"""What each failure does to a background upload: who can fix it (time, the account's owner, nobody by retrying),
the state and the words a person then reads, when the next attempt is due, and that the staged bytes stay until
the image is stored or a person discards them. Both stores, the emulator behind a controllable wire, a
controllable clock (no sleeps)."""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Any

import httpx
import imagegen
import pytest
from client_helpers import multipart
from huey import MemoryHuey
from upload_helpers import Clock, Wire

from cfvariants.client import (
    APIError,
    AuthenticationError,
    ConflictError,
    ImagesClient,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    TransportError,
    ValidationError,
)
from cfvariants.emulator import Emulator
from cfvariants.uploads import (
    MARKER_KEY,
    UploadQueue,
    UploadRecord,
    UploadRecords,
    UploadState,
    UploadStore,
    classify,
    process,
)

PHOTO = imagegen.photo_jpeg(160_000, seed=30)  # camera-like, 160 KB
PHOTOS = [imagegen.photo_jpeg(140_000 + 30_000 * i, seed=31 + i) for i in range(3)]


def _envelope(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    body = {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}
    return httpx.Response(status, json=body, headers=headers)


def _refusal(response: httpx.Response) -> Exception:
    """The error an upload gets when Cloudflare (or a proxy in front of it) answers ``response``."""
    client = ImagesClient("a" * 32, "t", base_url="http://cf.test/client/v4", retry=RetryPolicy.none(),
                          transport=httpx.MockTransport(lambda request: response))  # fmt: skip
    with pytest.raises(Exception) as info:
        client.upload(PHOTO, filename="a.jpg")
    return info.value


# -- who can fix it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (_envelope(500, 5500, "Internal error"), "transient"),
        (_envelope(504, 5500, "Gateway timeout"), "transient"),
        (_envelope(425, 5425, "Too early"), "transient"),
        (_envelope(429, 971, "Please wait", **{"retry-after": "30"}), "transient"),
        (_envelope(404, 5404, "Not found"), "blocked"),  # an upload has no image to miss: the account is unknown
        (_envelope(400, 7000, "No route for that URI"), "blocked"),
        (_envelope(400, 9429, "This feature is not included in your plan"), "blocked"),
        (_envelope(400, 9429, "Feature unavailable"), "blocked"),  # by its code alone
        (_envelope(400, 9427, "Mismatch"), "blocked"),
        (_envelope(402, 5400, "Payment required"), "blocked"),
        (_envelope(400, 5400, "Your subscription has ended"), "blocked"),
        (_envelope(400, 5400, "Billing problem: update the card"), "blocked"),
        (_envelope(400, 5400, "A payment is overdue"), "blocked"),
        (_envelope(400, 5400, "Not entitled to Images"), "blocked"),
        (_envelope(400, 5400, "Images is not an entitlement of this zone"), "blocked"),
        (_envelope(400, 5400, "ACCOUNT suspended"), "blocked"),  # whatever the case
        (_envelope(400, 5400, "Storage quota reached"), "blocked"),
        (_envelope(400, 5400, "The image is a planetarium photo too large to decode"), "failed"),  # words, not parts
        (_envelope(400, 5400, "Accounting for EXIF failed: bad image"), "failed"),
        (_envelope(409, 5409, "An image with this id already exists in this account"), "failed"),  # the image's id
        (_envelope(400, 5400, "Unsupported image format"), "failed"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_refusal_of_an_upload_is_classified_by_who_can_fix_it(response: httpx.Response, kind: str) -> None:
    assert classify(_refusal(response)) == kind  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TransportError("ConnectError", "connection refused"), "transient"),
        (RateLimitError(429), "transient"),
        (APIError(429), "transient"),  # a 429 built by hand, not through the client
        (APIError(408), "transient"),
        (APIError(425), "transient"),
        (APIError(500), "transient"),
        (APIError(499), "failed"),
        (APIError(430), "failed"),
        (AuthenticationError(401), "blocked"),
        (APIError(402), "blocked"),
        (NotFoundError(404), "blocked"),
        (ConflictError(409), "failed"),
        (ValidationError("the id must not start with a slash"), "failed"),
    ],
    ids=lambda value: (
        f"{type(value).__name__}-{getattr(value, 'status_code', '')}" if isinstance(value, Exception) else value
    ),
)
def test_classify_takes_the_client_errors_as_built_by_hand(error: Exception, kind: str) -> None:
    assert classify(error) == kind  # type: ignore[arg-type]


def _queue(
    store: UploadRecords, emulator: Emulator, wire: Wire, *, token: str | None = None, **kwargs: Any
) -> UploadQueue:
    client = ImagesClient(
        emulator.config.account_id,
        token or emulator.config.api_token,
        base_url="http://cfimages.test/client/v4",
        transport=httpx.MockTransport(wire.handle),
        retry=RetryPolicy.none(),
    )  # fmt: skip  (the queue retries, not the client)
    return UploadQueue(MemoryHuey("uploads", immediate=False), store, lambda: client, **kwargs)


def _staged(store: UploadRecords, upload_id: str) -> bytes:
    with store.open_staged(upload_id) as handle:
        return handle.read()


# -- the state and the words after each kind of failure -----------------------------------------------------------


def test_a_fresh_upload_is_one_request_and_ends_ready_once_with_its_bytes_gone(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    readied: list[UploadRecord] = []
    queue = _queue(clocked_store, cf_emulator, wire, on_ready=readied.append)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    outcome = queue.run_once(upload_id)
    assert wire.requests == 1  # the upload itself: no lookup before a first attempt
    record = clocked_store.get(upload_id)
    assert (outcome.status, outcome.image_id) == ("ready", record.image_id)
    assert record.state is UploadState.READY and record.image_id == record.custom_id
    assert [r.id for r in readied] == [upload_id] and readied[0].state is UploadState.READY
    assert clocked_store.staged_ids() == []
    with pytest.raises(FileNotFoundError):
        clocked_store.open_staged(upload_id)
    again = queue.run_once(upload_id)  # a duplicated queue message
    assert (again.status, again.image_id, again.reason) == ("skipped", record.image_id, "ready")
    assert wire.requests == 1 and len(readied) == 1
    assert [image.id for image in cf_emulator.list_images(per_page=100)] == [record.image_id]


def test_a_message_for_an_upload_that_no_longer_exists_is_skipped(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    queue.discard(upload_id)
    outcome = queue.run_once(upload_id)
    assert (outcome.status, outcome.image_id, outcome.reason) == ("skipped", None, "missing")
    assert wire.requests == 0


def test_a_failing_on_ready_hook_leaves_the_upload_stored_and_is_logged(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    def hook(record: UploadRecord) -> None:
        raise RuntimeError("the app's database is down")

    queue = _queue(clocked_store, cf_emulator, wire, on_ready=hook)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    with caplog.at_level(logging.ERROR, logger="cfvariants.uploads"):
        assert queue.run_once(upload_id).status == "ready"
    assert clocked_store.get(upload_id).state is UploadState.READY
    assert f"upload {upload_id} is stored, but its on_ready hook failed" in caplog.messages


def test_after_a_401_the_upload_is_blocked_with_the_credentials_named_and_its_bytes_kept(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, token="wrong-token-value", probe_interval=90)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    outcome = queue.run_once(upload_id)
    record = clocked_store.get(upload_id)
    assert (outcome.status, outcome.upload_id) == ("blocked", upload_id) and record.state is UploadState.BLOCKED
    assert (record.error or "").startswith("Cloudflare refused the credentials (check CF_ACCT_ID and CF_IMG_TOKEN): ")
    assert outcome.reason == record.error and "wrong-token-value" not in (record.error or "")
    block = queue.stats().block
    assert block is not None and block.cause == record.error and block.probe_at == clock.now + 90
    assert _staged(clocked_store, upload_id) == PHOTO
    assert record.enqueued_at is not None and record.enqueued_at <= clock.now  # not scheduled: the probe tries it


def test_the_first_refusal_of_the_credentials_is_logged_as_an_error(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, token="wrong-token-value")
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    with caplog.at_level(logging.INFO, logger="cfvariants.uploads"):
        assert queue.run_once(upload_id).status == "blocked"
    (error,) = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert error.levelno == logging.ERROR and error.getMessage().startswith("uploads blocked: Cloudflare refused")


def test_after_an_account_refusal_the_upload_is_blocked_naming_the_account(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    wire.refuse_uploads = _envelope(400, 5455, "Your account's Images storage quota is exceeded")
    assert queue.run_once(upload_id).status == "blocked"
    error = clocked_store.get(upload_id).error or ""
    assert error == (
        "Cloudflare refused the account (check CF_ACCT_ID and the account's plan): POST /images/v1: HTTP 400: "
        "[5455] Your account's Images storage quota is exceeded"
    )
    assert _staged(clocked_store, upload_id) == PHOTO


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_envelope(429, 971, "Please wait", **{"retry-after": "45"}), "Cloudflare asked to slow down: "),
        (_envelope(503, 5503, "Service unavailable"), "Cloudflare could not take the upload now: "),
        (None, "Cloudflare could not be reached: "),
    ],
    ids=["429", "503", "network"],
)
def test_after_a_transient_failure_the_upload_waits_pending_with_the_reason_and_its_bytes(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock,
    answer: httpx.Response | None, words: str,
) -> None:  # fmt: skip
    queue = _queue(clocked_store, cf_emulator, wire, backoff=10, backoff_cap=10)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    wire.refuse_uploads = answer
    wire.down = answer is None
    outcome = queue.run_once(upload_id)
    record = clocked_store.get(upload_id)
    assert (outcome.status, outcome.upload_id) == ("retry", upload_id) and record.state is UploadState.PENDING
    assert (record.error or "").startswith(words) and outcome.reason == record.error
    assert outcome.retry_after == (45.0 if answer is not None and answer.status_code == 429 else None)
    assert record.lease_until is None or record.lease_until <= clock.now  # released: claimable at once
    assert _staged(clocked_store, upload_id) == PHOTO
    assert queue.stats()["pending"] == 1 and queue.stats().block is None


def test_after_a_refusal_of_the_image_it_fails_with_the_reason_and_its_bytes(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    wire.refuse_uploads = _envelope(415, 5400, "Unsupported image format")
    outcome = queue.run_once(upload_id)
    record = clocked_store.get(upload_id)
    assert (outcome.status, outcome.upload_id) == ("failed", upload_id) and record.state is UploadState.FAILED
    assert record.error == "Cloudflare refused the image: POST /images/v1: HTTP 415: [5400] Unsupported image format"
    assert outcome.reason == record.error
    assert _staged(clocked_store, upload_id) == PHOTO


def test_a_probe_that_cannot_tell_keeps_the_uploads_blocked_with_the_cause_that_blocked_them(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, token="wrong-token-value", probe_interval=60)
    ids = []
    for i, photo in enumerate(PHOTOS):
        ids.append(queue.submit(photo, filename=f"p{i}.jpg").id)
        clock.advance(1)
    assert [queue.run_once(upload_id).status for upload_id in ids] == ["blocked"] * len(ids)
    cause = clocked_store.get(ids[0]).error
    wire.down = True  # the network fails during the probe: the credentials are still unproven
    clock.advance(61)
    probe = queue.reconcile().probe
    assert probe is not None and probe.status == "blocked"
    assert (probe.upload_id, probe.reason) == (ids[0], cause)  # the oldest blocked upload is the one tried
    assert [clocked_store.get(upload_id).state for upload_id in ids] == [UploadState.BLOCKED] * len(ids)
    assert [clocked_store.get(upload_id).error for upload_id in ids] == [cause] * len(ids)
    assert queue.stats().block is not None
    assert [_staged(clocked_store, upload_id) for upload_id in ids] == PHOTOS


def test_a_private_upload_refused_as_a_conflict_fails_as_a_refusal_of_the_image(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire)
    record = queue.submit(PHOTO, filename="passport.jpg", private=True)  # no custom id to be taken
    wire.refuse_uploads = _envelope(409, 5409, "Resource already exists")
    assert queue.run_once(record.id).status == "failed"
    assert clocked_store.get(record.id).error == (
        "Cloudflare refused the image: POST /images/v1: HTTP 409: [5409] Resource already exists"
    )


def test_a_probe_still_refused_says_when_the_next_comes_and_is_handed_back_if_the_worker_stops(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, token="wrong-token-value", probe_interval=120)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    assert queue.run_once(upload_id).status == "blocked"
    handed: list[list[str]] = []
    inner = wire.inner

    class StoppedMidProbe:  # the worker is told to stop while the probe's first request is on the wire
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if not handed:
                handed.append(queue.hand_back())
            return inner.handle_request(request)

    wire.inner = StoppedMidProbe()  # type: ignore[assignment]
    clock.advance(120)
    caplog.set_level(logging.INFO, logger="cfvariants.uploads")
    probe = queue.reconcile().probe
    assert probe is not None and probe.status == "blocked"
    assert handed == [[upload_id]]  # the probe's claim is the worker's: handed back with the rest
    stays = [m for m in caplog.messages if m.startswith("uploads stay blocked: ")]
    assert len(stays) == 1 and stays[0].endswith(" (next probe in 120s)")


def test_the_probe_tries_the_oldest_blocked_upload_once_per_interval_and_reports_a_rate_limit(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, token="wrong-token-value", probe_interval=90)
    refused = queue.submit(PHOTOS[0], filename="older-but-failed.jpg").id
    clocked_store.mark_failed(refused, "Cloudflare refused the image")  # older, but not blocked: never probed
    blocked = []
    for i, photo in enumerate(PHOTOS[1:]):
        clock.advance(1)
        blocked.append(queue.submit(photo, filename=f"p{i}.jpg").id)
    assert [queue.run_once(upload_id).status for upload_id in blocked] == ["blocked"] * len(blocked)
    clock.advance(90)
    wire.refuse_all = _envelope(429, 971, "Please wait", **{"retry-after": "30"})  # the lookup, then the upload
    requests = wire.requests
    probe = queue.reconcile().probe
    assert probe is not None and (probe.status, probe.upload_id, probe.retry_after) == ("blocked", blocked[0], 30.0)
    assert wire.requests == requests + 1
    assert queue.reconcile().probe is None and wire.requests == requests + 1  # the next sweep: not due yet
    clock.advance(89)
    assert queue.reconcile().probe is None
    clock.advance(1)
    assert queue.reconcile().probe is not None and wire.requests == requests + 2
    assert clocked_store.get(refused).state is UploadState.FAILED


def test_a_probe_whose_image_is_refused_proves_the_credentials_and_resumes_the_others(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    broken = _queue(clocked_store, cf_emulator, wire, token="expired-token")
    ids = []
    for i, photo in enumerate(PHOTOS):
        ids.append(broken.submit(photo, filename=f"p{i}.jpg").id)
        clock.advance(1)
    assert [broken.run_once(upload_id).status for upload_id in ids] == ["blocked"] * len(ids)
    fixed = _queue(clocked_store, cf_emulator, wire, probe_interval=60)  # the token is fixed, workers restarted
    clock.advance(120)
    wire.refuse_uploads = _envelope(415, 5400, "Unsupported image format")  # the oldest one is a bad image
    with caplog.at_level(logging.WARNING, logger="cfvariants.uploads"):
        probe = fixed.reconcile().probe
    assert probe is not None and (probe.status, probe.upload_id) == ("failed", ids[0])
    assert [clocked_store.get(i).state for i in ids[1:]] == [UploadState.PENDING] * (len(ids) - 1)
    assert "the credentials work again (blocked since 2 min): resuming 2 blocked upload(s)" in caplog.messages
    assert clocked_store.current_block() is None


def test_the_block_is_announced_once_as_an_error_even_when_two_workers_meet_it_at_once(
    clocked_store: UploadRecords, cf_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    second: list[str] = []

    def refused(request: httpx.Request) -> httpx.Response:
        if second:  # a second worker started its upload before the first one's answer came back
            process(clocked_store, client, second.pop(), probe_interval=60)
        return _envelope(401, 10000, "Authentication error")

    client = ImagesClient(cf_emulator.config.account_id, "wrong-token-value", base_url="http://cfimages.test/client/v4",
                          transport=httpx.MockTransport(refused), retry=RetryPolicy.none())  # fmt: skip
    first, other = (clocked_store.stage(photo, filename=f"p{i}.jpg", content_type="image/jpeg").id
                    for i, photo in enumerate(PHOTOS[:2]))  # fmt: skip
    second.append(other)
    caplog.set_level(logging.INFO, logger="cfvariants.uploads")
    assert process(clocked_store, client, first, probe_interval=60).status == "blocked"
    assert [clocked_store.get(i).state for i in (first, other)] == [UploadState.BLOCKED] * 2
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(errors) == 1 and errors[0].startswith("uploads blocked: Cloudflare refused the credentials")
    assert errors[0].endswith("; they wait with their files kept, one is tried every 60s until it works")
    assert len(infos) == 1 and infos[0].startswith("uploads stay blocked: Cloudflare refused the credentials")
    assert infos[0].endswith(" (next probe in 60s)")


def test_uploads_left_blocked_without_a_block_are_resumed_by_the_sweep(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    # a worker saw the block just before a person lifted it, and parked the upload after the lift
    clocked_store.mark_blocked(upload_id, "Cloudflare refused the credentials")
    with caplog.at_level(logging.WARNING, logger="cfvariants.uploads"):
        report = queue.reconcile()
    assert report.probe is None and wire.requests == 0
    assert caplog.messages == ["uploads are no longer blocked: resuming 1 blocked upload(s)"]
    assert clocked_store.get(upload_id).state is UploadState.PENDING
    assert queue.run_once(upload_id).status == "ready"


def test_cloudflare_gets_the_users_file_name_and_the_type_found_in_the_bytes(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire)
    png = imagegen.png(640, 480)
    upload_id = queue.submit(png, filename="Holiday photo.jpg").id  # the name says JPEG, the bytes PNG
    assert queue.run_once(upload_id).status == "ready"
    (post,) = [request for request in wire.sent if request.method == "POST"]
    file = multipart(post)["file"]
    assert (file.filename, file.content_type, file.data) == ("Holiday photo.jpg", "image/png", png)
    image = cf_emulator.get_image(clocked_store.get(upload_id).image_id or "")
    assert image.filename == "Holiday photo.jpg"


def test_a_file_staged_without_a_type_is_sent_with_the_type_its_name_says(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    client = ImagesClient(cf_emulator.config.account_id, cf_emulator.config.api_token,
                          base_url="http://cfimages.test/client/v4", transport=httpx.MockTransport(wire.handle),
                          retry=RetryPolicy.none())  # fmt: skip
    named = clocked_store.stage(PHOTO, filename="beach.jpg", content_type="", custom_id="uploads/beach.jpg")
    unnamed = clocked_store.stage(PHOTO, filename="beach", content_type="", custom_id="uploads/beach")
    assert process(clocked_store, client, named.id).status == "ready"
    assert process(clocked_store, client, unnamed.id).status == "ready"
    sent = [multipart(request)["file"] for request in wire.sent if request.method == "POST"]
    assert [(file.filename, file.content_type) for file in sent] == [
        ("beach.jpg", "image/jpeg"),
        ("beach", "application/octet-stream"),
    ]


# -- an earlier attempt's image ---------------------------------------------------------------------------------


def test_a_private_retry_that_finds_no_image_of_its_own_uploads_anew_and_never_adopts_another(
    clocked_store: UploadRecords, cf_client: ImagesClient
) -> None:
    others = [cf_client.upload(photo, metadata={"owner": i}) for i, photo in enumerate(PHOTOS[:2])]
    record = clocked_store.stage(PHOTO, filename="secret.jpg", content_type="image/jpeg", private=True)
    assert clocked_store.claim(record.id, lease=-1) is not None  # an earlier attempt died before uploading
    outcome = process(clocked_store, cf_client, record.id)
    assert outcome.status == "ready" and outcome.image_id not in {image.id for image in others}
    image = cf_client.get(outcome.image_id or "")
    assert image.meta[MARKER_KEY] == record.id and image.require_signed_urls
    assert len(list(cf_client.iter_images())) == 3


def test_a_retry_whose_lookup_is_too_early_adopts_its_image_when_the_upload_says_the_id_exists(
    clocked_store: UploadRecords, cf_client: ImagesClient, cf_app: Any
) -> None:
    record = clocked_store.stage(PHOTO, filename="b.jpg", content_type="image/jpeg", custom_id="uploads/2026/12/b.jpg")
    assert clocked_store.claim(record.id, lease=-1) is not None  # the first attempt's worker died...
    cf_client.upload(PHOTO, id="uploads/2026/12/b.jpg", metadata={MARKER_KEY: record.id})  # ...after it landed
    inner, lookups = httpx.WSGITransport(app=cf_app), []

    def early(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and not lookups:  # not visible yet to the first lookup (eventual consistency)
            lookups.append(request)
            return _envelope(404, 5404, "Image not found")
        return inner.handle_request(request)

    client = ImagesClient(cf_client.account_id, cf_app.emulator.config.api_token, transport=httpx.MockTransport(early),
                          base_url="http://cfimages.test/client/v4", retry=RetryPolicy.none())  # fmt: skip
    outcome = process(clocked_store, client, record.id)
    assert (outcome.status, outcome.image_id) == ("ready", "uploads/2026/12/b.jpg")
    assert [image.id for image in cf_client.iter_images()] == ["uploads/2026/12/b.jpg"]


@pytest.mark.parametrize("retry", [False, True], ids=["first-attempt", "retry"])
def test_a_custom_id_taken_by_another_image_fails_the_upload_naming_the_id(
    clocked_store: UploadRecords, cf_client: ImagesClient, retry: bool
) -> None:
    cf_client.upload(PHOTOS[0], id="uploads/2026/12/taken.jpg", metadata={"owner": "someone else"})
    record = clocked_store.stage(
        PHOTO, filename="b.jpg", content_type="image/jpeg", custom_id="uploads/2026/12/taken.jpg"
    )
    if retry:
        assert clocked_store.claim(record.id, lease=-1) is not None  # a retry: it looks the id up first
    outcome = process(clocked_store, cf_client, record.id)
    assert outcome.status == "failed"
    taken = "the custom id 'uploads/2026/12/taken.jpg' is already taken by another image"
    assert outcome.reason == clocked_store.get(record.id).error
    assert outcome.reason == f"{taken} (the image with that id is not this upload's)"
    assert _staged(clocked_store, record.id) == PHOTO
    assert [image.meta.get("owner") for image in cf_client.iter_images()] == ["someone else"]  # left alone


def test_a_conflict_no_image_explains_fails_naming_the_id_and_cloudflares_answer(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire)
    record = queue.submit(PHOTO, filename="beach.jpg")
    wire.refuse_uploads = _envelope(409, 5409, "Resource already exists")  # yet no image has the id
    outcome = queue.run_once(record.id)
    assert outcome.status == "failed"
    assert clocked_store.get(record.id).error == (
        f"the custom id {record.custom_id!r} is already taken by another image (POST /images/v1: HTTP 409: [5409] "
        "Resource already exists)"
    )


# -- when the next attempt is due -------------------------------------------------------------------------------


@pytest.mark.parametrize("pick", ["low", "high"])
def test_backoff_doubles_from_the_first_delay_up_to_the_cap_with_jitter_in_its_upper_half(
    sqlite_store: UploadRecords, monkeypatch: pytest.MonkeyPatch, pick: str
) -> None:
    asked: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:  # the jitter's bounds, picking one end
        asked.append((low, high))
        return low if pick == "low" else high

    monkeypatch.setattr(random, "uniform", uniform)
    queue = UploadQueue(MemoryHuey("t", immediate=False), sqlite_store, lambda: None, backoff=2, backoff_cap=300)  # type: ignore[arg-type,return-value]
    delays = [queue.retry_delay(attempts) for attempts in (0, 1, 2, 3, 4, 8, 9, 10, 500)]
    ceilings = [2, 2, 4, 8, 16, 256, 300, 300, 300]
    assert asked == [(ceiling / 2, ceiling) for ceiling in ceilings]
    assert delays == [ceiling / 2 if pick == "low" else ceiling for ceiling in ceilings]


@pytest.mark.parametrize("pick", ["low", "high"])
def test_the_next_attempt_is_never_sooner_than_retry_after(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock, monkeypatch: pytest.MonkeyPatch,
    pick: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(random, "uniform", lambda low, high: low if pick == "low" else high)
    queue = _queue(clocked_store, cf_emulator, wire, backoff=40, backoff_cap=600)
    short, long = (queue.submit(photo, filename=f"p{i}.jpg").id for i, photo in enumerate(PHOTOS[:2]))
    jitter = 20 if pick == "low" else 40
    wire.refuse_uploads = _envelope(429, 971, "Please wait", **{"retry-after": "5"})
    assert queue.run_once(short).retry_after == 5.0
    assert clocked_store.get(short).enqueued_at == clock.now + jitter  # the backoff is longer than Retry-After
    wire.refuse_uploads = _envelope(429, 971, "Please wait", **{"retry-after": "90"})
    assert queue.run_once(long).retry_after == 90.0
    assert clocked_store.get(long).enqueued_at == clock.now + 90  # Retry-After is longer than the backoff
    assert queue.retry_delay(1, retry_after=90) == 90 and queue.retry_delay(1, retry_after=None) == jitter


def test_an_upload_fails_for_age_once_max_age_has_passed_and_not_a_second_sooner(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, max_age=600)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    wire.down = True
    clock.advance(599)
    assert queue.run_once(upload_id).status == "retry"
    clock.advance(1)
    with caplog.at_level(logging.ERROR, logger="cfvariants.uploads"):
        outcome = queue.run_once(upload_id)
    reason = "not stored within 10 min of being accepted; last error: Cloudflare could not be reached: "
    assert (outcome.status, outcome.upload_id) == ("failed", upload_id) and (outcome.reason or "").startswith(reason)
    record = clocked_store.get(upload_id)
    assert record.state is UploadState.FAILED and record.error == outcome.reason
    assert f"upload {upload_id} failed: {outcome.reason}; its file is kept (retry or discard it)" in caplog.messages
    assert _staged(clocked_store, upload_id) == PHOTO


# -- one attempt, called directly -------------------------------------------------------------------------------


def test_an_upload_whose_staged_file_is_gone_fails_asking_for_it_again(
    sqlite_store: UploadStore, cf_client: ImagesClient
) -> None:
    record = sqlite_store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg", custom_id="uploads/a.jpg")
    sqlite_store.staged_path(record.id).unlink()  # removed by hand, or lost with a disk
    outcome = process(sqlite_store, cf_client, record.id)
    assert (outcome.status, outcome.upload_id, outcome.reason) == ("failed", record.id, "the staged file is gone")
    after = sqlite_store.get(record.id)
    assert after.state is UploadState.FAILED and after.error == "the staged file is gone (discarded); upload it again"
    assert list(cf_client.iter_images()) == []


def test_an_attempt_holds_its_upload_for_the_lease_it_was_given_and_blocks_for_a_minute_by_default(
    clocked_store: UploadRecords, cf_emulator: Emulator, clock: Clock
) -> None:
    record = clocked_store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg", custom_id="uploads/a.jpg")
    other = clocked_store.stage(PHOTO, filename="b.jpg", content_type="image/jpeg", custom_id="uploads/b.jpg")
    seen: list[float | None] = []

    def refused(request: httpx.Request) -> httpx.Response:
        seen.append(clocked_store.get(record.id).lease_until)  # while the attempt is on the wire
        return _envelope(401, 10000, "Authentication error")

    client = ImagesClient(cf_emulator.config.account_id, "wrong-token-value", base_url="http://cfimages.test/client/v4",
                          transport=httpx.MockTransport(refused), retry=RetryPolicy.none())  # fmt: skip
    outcome = process(clocked_store, client, record.id, lease=5)
    assert seen == [clock.now + 5]
    assert (outcome.status, outcome.upload_id) == ("blocked", record.id)
    block = clocked_store.current_block()
    assert block is not None and block.probe_at == clock.now + 60  # the default probe interval
    waiting = process(clocked_store, client, other.id)  # blocked already: it waits without calling Cloudflare
    assert (waiting.status, waiting.upload_id, waiting.reason) == ("blocked", other.id, block.cause)
    assert len(seen) == 1
    done = process(clocked_store, client, record.id)  # blocked uploads are not claimed outside the probe
    assert (done.status, done.upload_id, done.reason) == ("skipped", record.id, "blocked")


@pytest.mark.parametrize(
    ("filename", "extension"),
    [("Photo.Final.JPEG", ".jpeg"), ("archive.tar.gz", ".gz"), ("scan.tiff", ".tiff"), ("clip.mpeg4", ".mpeg4"),
     ("x.abcdef", ""), ("x.j+g", ""), ("noextension", "")],
)  # fmt: skip
def test_a_custom_id_keeps_a_short_plain_extension_of_the_last_part_of_the_name(filename: str, extension: str) -> None:
    from cfvariants.uploads import custom_id_for

    upload_id = "0123456789abcdef0123456789abcdef"
    assert custom_id_for(upload_id, filename, now=1_764_633_600) == f"uploads/2025/12/{upload_id}{extension}"


# -- defaults a person relies on without setting them ---------------------------------------------------------


def test_a_blocked_queue_is_probed_again_a_minute_later_by_default(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, token="wrong-token-value")
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    assert queue.run_once(upload_id).status == "blocked"
    block = queue.stats().block
    assert block is not None and block.probe_at == clock.now + 60
    clock.advance(59)
    assert queue.reconcile().probe is None
    clock.advance(1)
    probe = queue.reconcile().probe
    assert probe is not None and probe.upload_id == upload_id


def test_a_staged_file_without_a_record_is_removed_by_the_sweep_after_an_hour(
    sqlite_store: UploadStore, cf_emulator: Emulator, wire: Wire
) -> None:
    queue = _queue(sqlite_store, cf_emulator, wire)
    young, old = sqlite_store.staging / f"{1:032x}", sqlite_store.staging / f"{2:032x}"
    for path, age in ((young, 3500), (old, 3600.5)):
        path.write_bytes(PHOTO[:2000])
        then = time.time() - age
        os.utime(path, (then, then))
    assert queue.reconcile().orphans_removed == 1
    assert young.exists() and not old.exists()


def test_an_upload_in_progress_holds_its_claim_for_the_queues_lease(
    clocked_store: UploadRecords, cf_emulator: Emulator, wire: Wire, clock: Clock
) -> None:
    queue = _queue(clocked_store, cf_emulator, wire, lease=6)
    upload_id = queue.submit(PHOTO, filename="beach.jpg").id
    seen: list[tuple[UploadState, float | None]] = []
    inner = wire.inner

    class Watching:  # what another worker would find while this upload is on the wire
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            record = clocked_store.get(upload_id)
            seen.append((record.state, record.lease_until))
            return inner.handle_request(request)

    wire.inner = Watching()  # type: ignore[assignment]
    assert queue.run_once(upload_id).status == "ready"
    assert seen[0] == (UploadState.UPLOADING, clock.now + 6)
