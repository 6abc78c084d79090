"""One attempt at moving a staged upload to Cloudflare, without ever storing it twice.

The identity of an upload is fixed when it is staged, before the first attempt:

* a public image gets a custom id (``uploads/<yyyy>/<mm>/<upload id>.<ext>``); a second attempt with the same id
  can only find the image already there (Cloudflare answers a conflict) and adopts it;
* a private image cannot have a custom id (Cloudflare's rule), so its metadata carries the upload id under
  ``cfv_staged`` and every attempt after the first looks it up with a metadata filter before uploading.

Either way a retry, a duplicated queue message or a worker killed mid-upload ends with exactly one image.

Each failure is classified (``classify``) by who can fix it: ``transient`` (the network, 429, 5xx: try again
later, forever), ``blocked`` (the credentials or the account: nothing this upload does can help, so the whole
queue waits and one upload probes now and then) or ``failed`` (Cloudflare refused this image; the bytes stay).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cfvariants.client._errors import (
    APIError,
    AuthenticationError,
    CloudflareImagesError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    TransportError,
    ValidationError,
)
from cfvariants.imaging import with_placeholder_metadata

from ._leases import LEASE, Leases
from ._records import UploadRecord, UploadRecords

if TYPE_CHECKING:
    from cfvariants.client import Image, ImagesClient

MARKER_KEY = "cfv_staged"
"""The metadata key that marks an image uploaded by cfvariants, so a retry finds it instead of uploading twice."""
log = logging.getLogger("cfvariants.uploads")

#: Cloudflare codes about the credentials, the account or the route to it (an unknown account id), never the image:
#: 7000/7003 no route (the account id in the path), 9427 account mismatch, 9429 a feature the plan lacks.
ACCOUNT_CODES = frozenset({7000, 7003, 9427, 9429})
#: A refusal whose text is about the account or plan (a storage quota, billing) rather than the image.
_ACCOUNT_TEXT = re.compile(r"\b(account|plan|quota|subscription|billing|payment|entitle\w*)\b", re.IGNORECASE)
#: Statuses that say "not now" rather than "never": 408 request timeout, 425 too early, 429 rate limited.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})

Kind = Literal["transient", "blocked", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What an attempt did: ``ready`` (with the image id), ``retry`` (transient: try again later), ``blocked``
    (the credentials or the account were refused: the queue waits for them), ``failed`` (Cloudflare refused this
    image; bytes kept), or ``skipped`` (done already, or another worker holds it)."""

    status: Literal["ready", "retry", "blocked", "failed", "skipped"]
    upload_id: str
    image_id: str | None = None
    reason: str | None = None
    retry_after: float | None = None


def custom_id_for(upload_id: str, filename: str, *, prefix: str = "uploads", now: float | None = None) -> str:
    """The custom id fixed at staging time for a public upload: readable, unique, never a bare UUID."""
    stamp = time.strftime("%Y/%m", time.gmtime(time.time() if now is None else now))
    extension = ""
    if "." in filename:
        candidate = filename.rsplit(".", 1)[1].lower()
        if candidate.isalnum() and len(candidate) <= 5:
            extension = "." + candidate
    return f"{prefix.strip('/')}/{stamp}/{upload_id}{extension}"


def classify(error: CloudflareImagesError) -> Kind:
    """Who can fix a failed attempt: time (``transient``: the network, 408/429, 5xx), whoever holds the
    credentials or the account (``blocked``: 401/403, an unknown account, an account or plan refusal), or nobody
    by retrying (``failed``: Cloudflare refused this image, or it was refused before sending)."""
    if isinstance(error, TransportError | RateLimitError):
        return "transient"
    if not isinstance(error, APIError):
        return "failed"  # ValidationError: the request itself is wrong, before any byte left
    if error.status_code >= 500 or error.status_code in _TRANSIENT_STATUSES:
        return "transient"
    if isinstance(error, AuthenticationError) or error.status_code == 402 or ACCOUNT_CODES.intersection(error.codes):
        return "blocked"
    if isinstance(error, NotFoundError):  # an upload's POST has no image to miss: the account's route is unknown
        return "blocked"
    if not isinstance(error, ConflictError) and any(_ACCOUNT_TEXT.search(e.message) for e in error.errors):
        return "blocked"
    return "failed"


def process(
    store: UploadRecords,
    client: ImagesClient,
    upload_id: str,
    *,
    lease: float = LEASE,
    probe_interval: float = 60.0,
    probe: bool = False,
    leases: Leases | None = None,
) -> Outcome:
    """Claim ``upload_id`` and upload it once; the store records the result. Safe to call any number of times,
    from any number of workers. The claim is a short ``lease`` renewed by ``leases``' heartbeat while the
    attempt runs (a worker's ``Leases``, so it can hand back what it holds when it stops).

    While the queue is blocked the upload joins the blocked ones without calling Cloudflare. ``probe=True``
    (the queue's probe) takes a blocked upload and really tries it; a transient failure leaves it blocked.
    """
    leases = leases or Leases(store, lease=lease)
    record = store.claim(upload_id, lease=leases.lease, blocked=probe)
    if record is None:
        current = store.find(upload_id)
        state = current.state.value if current else "missing"
        return Outcome("skipped", upload_id, current.image_id if current else None, reason=state)
    if not probe and (block := store.current_block()) is not None:
        store.mark_blocked(upload_id, block.cause)
        log.debug("upload %s waits: uploads are blocked (%s)", upload_id, block.cause)
        return Outcome("blocked", upload_id, reason=block.cause)
    with leases.holding(record):
        try:
            image = _existing(client, record) if record.attempts > 1 else None
            if image is None:
                image = _upload(store, client, record)
        except CloudflareImagesError as exc:
            return _failed_attempt(store, record, exc, probe=probe, probe_interval=probe_interval)
        except FileNotFoundError:  # the bytes were discarded meanwhile (a person, the retention policy)
            store.mark_failed(upload_id, "the staged file is gone (discarded); upload it again")
            return Outcome("failed", upload_id, reason="the staged file is gone")
        if store.mark_ready(upload_id, image.id):
            log.info("upload %s stored as image %s after %d attempt(s)", upload_id, image.id, record.attempts)
    return Outcome("ready", upload_id, image.id)


def _upload(store: UploadRecords, client: ImagesClient, record: UploadRecord) -> Image:
    metadata = {**record.metadata, MARKER_KEY: record.id}
    with store.open_staged(record.id) as staged:
        metadata = with_placeholder_metadata(metadata, staged)  # size + ThumbHash for layouts and placeholders
        try:
            return client.upload(
                staged,
                id=record.custom_id,
                metadata=metadata,
                require_signed_urls=record.private or None,
                filename=record.filename,
                content_type=record.content_type or None,  # none recorded: the client guesses from the name
            )
        except ConflictError:
            adopted = _existing(client, record)
            if adopted is None:
                raise
            return adopted


def _existing(client: ImagesClient, record: UploadRecord) -> Image | None:
    """The image an earlier attempt stored, if it did: by custom id, else by the marker in its metadata."""
    if record.custom_id is not None:
        try:
            image = client.get(record.custom_id)
        except NotFoundError:
            return None
        if image.meta.get(MARKER_KEY) != record.id:  # found, but not this upload's (no request failed here)
            raise ConflictError(409, reason="the image with that id is not this upload's")
        return image
    for image in client.iter_images(meta={MARKER_KEY: record.id}):
        return image
    return None


def _failed_attempt(
    store: UploadRecords, record: UploadRecord, exc: CloudflareImagesError, *, probe: bool, probe_interval: float
) -> Outcome:
    """Record what the failure means. Logs only what is certain; the queue logs when the next attempt is due."""
    reason = _reason(exc, record)
    kind = classify(exc)
    if kind == "transient":
        retry_after = exc.retry_after if isinstance(exc, APIError) else None
        if probe:  # the credentials are still unproven: stay blocked, with the cause that blocked the queue
            store.mark_blocked(record.id, record.error or reason)
            log.info("uploads stay blocked: the probe could not tell (%s)", reason)
            return Outcome("blocked", record.id, reason=record.error or reason, retry_after=retry_after)
        store.release(record.id, reason)
        return Outcome("retry", record.id, reason=reason, retry_after=retry_after)
    if kind == "blocked":
        store.mark_blocked(record.id, reason)
        already = store.current_block()
        store.block(reason, probe_at=store.clock() + probe_interval)
        if probe or already is not None:
            log.info("uploads stay blocked: %s (next probe in %.0fs)", reason, probe_interval)
        else:
            log.error("uploads blocked: %s; they wait with their files kept, one is tried every %.0fs until it works",
                      reason, probe_interval)  # fmt: skip
        return Outcome("blocked", record.id, reason=reason)
    store.mark_failed(record.id, reason)
    log.error("upload %s failed: %s; its file is kept (retry or discard it)", record.id, reason)
    return Outcome("failed", record.id, reason=reason)


def _reason(exc: CloudflareImagesError, record: UploadRecord) -> str:
    """Words for a person: what went wrong and what to do, never a token."""
    if isinstance(exc, ConflictError) and record.custom_id is not None:
        said = str(exc) if exc.method else exc.reason  # Cloudflare's answer, or what the lookup found
        return f"the custom id {record.custom_id!r} is already taken by another image ({said})"
    if isinstance(exc, AuthenticationError):
        return f"Cloudflare refused the credentials (check CF_ACCT_ID and CF_IMG_TOKEN): {exc}"
    if classify(exc) == "blocked":
        return f"Cloudflare refused the account (check CF_ACCT_ID and the account's plan): {exc}"
    if isinstance(exc, ValidationError):
        return f"the image was refused before sending: {exc}"
    if isinstance(exc, RateLimitError):
        return f"Cloudflare asked to slow down: {exc}"
    if isinstance(exc, APIError) and classify(exc) == "transient":
        return f"Cloudflare could not take the upload now: {exc}"
    if isinstance(exc, APIError):
        return f"Cloudflare refused the image: {exc}"
    return f"Cloudflare could not be reached: {exc}"
