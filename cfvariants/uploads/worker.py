"""One attempt at moving a staged upload to Cloudflare, without ever storing it twice.

The identity of an upload is fixed when it is staged, before the first attempt:

* a public image gets a custom id (``uploads/<yyyy>/<mm>/<upload id>.<ext>``); a second attempt with the same id
  can only find the image already there (Cloudflare answers a conflict) and adopts it;
* a private image cannot have a custom id (Cloudflare's rule), so its metadata carries the upload id under
  ``cfv_staged`` and every attempt after the first looks it up with a metadata filter before uploading.

Either way a retry, a duplicated queue message or a worker killed mid-upload ends with exactly one image.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cfvariants.client.errors import (
    APIError,
    AuthenticationError,
    CloudflareImagesError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    TransportError,
    ValidationError,
)

from .records import UploadRecord, UploadRecords

if TYPE_CHECKING:
    from cfvariants.client import Image, ImagesClient

__all__ = ["MARKER_KEY", "Outcome", "custom_id_for", "is_retryable", "process"]

MARKER_KEY = "cfv_staged"
log = logging.getLogger("cfvariants.uploads")


@dataclass(frozen=True)
class Outcome:
    """What an attempt did: ``ready`` (with the image id), ``retry`` (try again later), ``failed`` (for good),
    or ``skipped`` (done already, or another worker holds it)."""

    status: Literal["ready", "retry", "failed", "skipped"]
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


def is_retryable(error: Exception) -> bool:
    """Transient: the network, rate limits, Cloudflare's 5xx. Everything else will fail the same way again."""
    if isinstance(error, TransportError | RateLimitError):
        return True
    return isinstance(error, APIError) and error.status_code >= 500


def process(store: UploadRecords, client: ImagesClient, upload_id: str, *, lease: float = 600.0) -> Outcome:
    """Claim ``upload_id`` and upload it once; the store records the result. Safe to call any number of times,
    from any number of workers."""
    record = store.claim(upload_id, lease=lease)
    if record is None:
        current = store.find(upload_id)
        state = current.state.value if current else "missing"
        return Outcome("skipped", upload_id, current.image_id if current else None, reason=state)
    try:
        image = _existing(client, record) if record.attempts > 1 else None
        if image is None:
            image = _upload(store, client, record)
    except CloudflareImagesError as exc:
        return _failed_attempt(store, record, exc)
    except OSError as exc:  # the staged file is gone or unreadable: nothing can bring it back
        reason = f"the staged file could not be read ({exc.strerror or exc})"
        store.mark_failed(upload_id, reason)
        return Outcome("failed", upload_id, reason=reason)
    store.mark_ready(upload_id, image.id)
    log.info("upload %s stored as image %s after %d attempt(s)", upload_id, image.id, record.attempts)
    return Outcome("ready", upload_id, image.id)


def _upload(store: UploadRecords, client: ImagesClient, record: UploadRecord) -> Image:
    metadata = {**record.metadata, MARKER_KEY: record.id}
    content_type = record.content_type or mimetypes.guess_type(record.filename)[0] or "application/octet-stream"
    with store.open_staged(record.id) as staged:
        try:
            return client.upload(
                staged,
                id=record.custom_id,
                metadata=metadata,
                require_signed_urls=record.private or None,
                filename=record.filename,
                content_type=content_type,
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
        if image.meta.get(MARKER_KEY) != record.id:
            raise ConflictError(
                409, reason=f"custom id {record.custom_id!r} is taken by another image, not this upload"
            )
        return image
    for image in client.iter_images(meta={MARKER_KEY: record.id}):
        return image
    return None


def _failed_attempt(store: UploadRecords, record: UploadRecord, exc: CloudflareImagesError) -> Outcome:
    reason = _reason(exc)
    if is_retryable(exc):
        store.release(record.id, reason)
        retry_after = exc.retry_after if isinstance(exc, APIError) else None
        log.warning("upload %s attempt %d failed, will retry: %s", record.id, record.attempts, reason)
        return Outcome("retry", record.id, reason=reason, retry_after=retry_after)
    store.mark_failed(record.id, reason)
    log.error("upload %s failed for good: %s", record.id, reason)
    return Outcome("failed", record.id, reason=reason)


def _reason(exc: CloudflareImagesError) -> str:
    """Words for a person: what went wrong and what to do, never a token."""
    if isinstance(exc, AuthenticationError):
        return "Cloudflare refused the credentials (check CF_ACCT_ID and CF_IMG_TOKEN)"
    if isinstance(exc, ValidationError):
        return f"the image was refused before sending: {exc}"
    if isinstance(exc, ConflictError):
        return str(exc)
    if isinstance(exc, APIError):
        return f"Cloudflare refused the image: {exc}"
    return f"Cloudflare could not be reached: {exc}"
