"""Background uploads on huey: ``submit`` stages and enqueues, a task uploads, a periodic sweep reconciles.

A web request only writes the file to local disk and records it (``submit``); it never waits for Cloudflare.
The ``cfvariants.upload`` task makes one attempt (``worker.process``); a transient failure schedules the next
attempt with exponential backoff and jitter (honouring a ``Retry-After``), up to ``max_attempts``; a permanent
one is recorded with its reason. The ``cfvariants.reconcile`` periodic task re-enqueues uploads that no task is
working on — a message lost with a killed worker, an enqueue that failed because the queue was down — and
removes staged files that never got a record.

The queue needs the same ``UploadQueue`` (same huey, same store directory, a client factory) in the web process
and in the workers; build it in one module both import (the reference app's ``flask_app/tasks.py``).
"""

from __future__ import annotations

import logging
import mimetypes
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from huey import crontab

from .records import UploadRecord, UploadRecords, UploadsError
from .validation import check_image_content_type
from .worker import Outcome, custom_id_for, process

if TYPE_CHECKING:
    from huey import Huey

    from cfvariants.client import ImagesClient

__all__ = ["ReconcileReport", "UploadQueue"]

log = logging.getLogger("cfvariants.uploads")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ReconcileReport:
    requeued: tuple[str, ...]
    orphans_removed: int


class UploadQueue:
    """Stage uploads durably and upload them from huey workers.

    ``client_factory`` builds the ``ImagesClient`` a worker uses (called once per worker process, lazily).
    ``lease``: how long one attempt may take before the sweep assumes its worker died. ``requeue_after``: how
    long a pending upload may wait for its queue message before the sweep sends another (a duplicate message is
    harmless: the store lets one worker at a time claim an upload, and a finished one is skipped).
    """

    def __init__(
        self,
        huey: Huey,
        store: UploadRecords,
        client_factory: Callable[[], ImagesClient],
        *,
        id_prefix: str = "uploads",
        max_bytes: int = MAX_UPLOAD_BYTES,
        max_attempts: int = 8,
        backoff: float = 2.0,
        backoff_cap: float = 300.0,
        lease: float = 600.0,
        requeue_after: float = 300.0,
        orphan_age: float = 3600.0,
        reconcile_schedule: Callable[..., bool] | None = None,
        check: Callable[[Path], str | None] | None = check_image_content_type,
    ) -> None:
        self.huey = huey
        self.store = store
        self.max_bytes = max_bytes
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.lease = lease
        self.requeue_after = requeue_after
        self.orphan_age = orphan_age
        self.id_prefix = id_prefix
        self._check = check
        self._client_factory = client_factory
        self._client: ImagesClient | None = None
        self._client_lock = threading.Lock()
        self.upload_task = huey.task(name="cfvariants.upload")(self._upload)
        self.reconcile_task = huey.periodic_task(
            reconcile_schedule or crontab(minute="*"), name="cfvariants.reconcile"
        )(self.reconcile)

    def __repr__(self) -> str:
        return f"UploadQueue({self.huey.name!r}, {self.store!r})"

    # -- web side --------------------------------------------------------------------------------------------------

    def submit(
        self,
        source: IO[bytes] | bytes,
        *,
        filename: str,
        private: bool = False,
        metadata: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> UploadRecord:
        """Check, stage and enqueue a file; returns its ``pending`` record at once.

        Raises ``UploadRejected`` (not an image, too large, unsafe SVG...) with nothing staged. If the queue
        cannot be reached the upload stays pending and the sweep enqueues it later: accepted files are never lost.
        """
        upload_id = uuid.uuid4().hex
        record = self.store.stage(
            source,
            filename=_safe_filename(filename),
            content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            private=private,
            custom_id=None if private else custom_id_for(upload_id, filename, prefix=self.id_prefix),
            metadata=metadata,
            context=context,
            max_bytes=self.max_bytes,
            upload_id=upload_id,
            check=self._check,
        )
        self.enqueue(record.id)
        return self.store.get(record.id)

    def enqueue(self, upload_id: str, *, delay: float | None = None) -> bool:
        """Send the task (now, or after ``delay`` seconds); False if the queue could not be reached."""
        try:
            if delay:
                self.upload_task.schedule((upload_id,), delay=delay)
            else:
                self.upload_task(upload_id)
        except Exception as exc:  # the queue backend is down: the sweep will send it later
            log.warning("could not enqueue upload %s (%s); the reconcile sweep will retry", upload_id, exc)
            return False
        self.store.mark_enqueued(upload_id, at=time.time() + (delay or 0))
        return True

    # -- worker side -----------------------------------------------------------------------------------------------

    @property
    def client(self) -> ImagesClient:
        """The worker's client: one per process, created on first use."""
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def _upload(self, upload_id: str) -> str:
        outcome = self.run_once(upload_id)
        return outcome.status

    def run_once(self, upload_id: str) -> Outcome:
        """One attempt, then schedule the next if it was transient (what the task does; callable directly)."""
        outcome = process(self.store, self.client, upload_id, lease=self.lease)
        if outcome.status == "retry":
            record = self.store.get(upload_id)
            if record.attempts >= self.max_attempts:
                reason = f"gave up after {record.attempts} attempts: {outcome.reason}"
                self.store.mark_failed(upload_id, reason)
                return Outcome("failed", upload_id, reason=reason)
            self.enqueue(upload_id, delay=self.retry_delay(record.attempts, outcome.retry_after))
        return outcome

    def retry_delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential backoff with full jitter, never shorter than the server's ``Retry-After``."""
        ceiling = min(self.backoff_cap, self.backoff * 2 ** max(attempts - 1, 0))
        delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography
        return max(delay, retry_after or 0.0)

    # -- the sweep -------------------------------------------------------------------------------------------------

    def reconcile(self) -> ReconcileReport:
        """Re-enqueue uploads no task is working on, and remove staged files that never got a record."""
        now = time.time()
        requeued = []
        for record in self.store.needing_work(enqueued_before=now - self.requeue_after, now=now):
            if self.enqueue(record.id):
                requeued.append(record.id)
        orphans = self.store.remove_orphans(older_than=self.orphan_age)
        if requeued or orphans:
            log.info("reconcile: re-enqueued %d upload(s), removed %d orphaned staged file(s)", len(requeued), orphans)
        return ReconcileReport(tuple(requeued), orphans)


def _safe_filename(filename: str) -> str:
    """The name as the user gave it, minus any directory part and control characters (kept for display)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if not name:
        raise UploadsError("the file has no name")
    return name[:255]
