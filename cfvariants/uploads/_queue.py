"""Background uploads on huey: ``submit`` stages and enqueues, a task uploads, a periodic sweep reconciles.

A web request only writes the file to local disk and records it (``submit``); it never waits for Cloudflare.
The ``cfvariants.upload`` task makes one attempt (``worker.process``):

* a transient failure (the network, 429, 5xx) schedules the next attempt with capped exponential backoff and
  jitter, never sooner than a ``Retry-After``, and never gives up by count (only past ``max_age``, if set);
* refused credentials or account block the queue: uploads wait in ``blocked`` without calling Cloudflare, the
  sweep tries one of them every ``probe_interval``, and when that works every blocked upload resumes;
* a refusal of the image itself is ``failed``, its bytes kept for ``failed_retention`` (retry or discard it).

The ``cfvariants.reconcile`` periodic task re-enqueues uploads that no task is working on — a message lost with
a killed worker, an enqueue that failed because the queue was down, an upload a person retried — runs the
probe while blocked, applies the retention to failed uploads and removes staged files that never got a record.

The queue needs the same ``UploadQueue`` (same huey, same store directory, a client factory) in the web process
and in the workers; build it in one module both import (the reference app's ``flask_app/tasks.py``).
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import os
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from huey import crontab, signals

from cfvariants.limits import MAX_UPLOAD_BYTES

from . import _control as control
from ._control import UploadStats, duration
from ._identity import check_worker, fingerprint_key, web_identity
from ._leases import LEASE, Leases
from ._records import UploadRecord, UploadRecords, UploadsError, UploadState
from ._validation import check_image_content_type
from ._worker import Outcome, custom_id_for, process

if TYPE_CHECKING:
    from huey import Huey

    from cfvariants.client import ImagesClient

log = logging.getLogger("cfvariants.uploads")
# Huey identifies a task as "<module of its function>.<name>", and every queued message carries that string: the
# tasks keep the module of the first release whatever module the code lives in now, so messages already in a
# user's queue (SQLite, Redis) still find their task after an upgrade.
TASK_MODULE = "cfvariants.uploads.queue"  # pinned name (not the module's path)


@dataclass(frozen=True)
class ReconcileReport:
    """What one sweep did: uploads (re)sent, orphaned files removed, failed uploads discarded by the retention
    policy, and the probe's result while blocked (``None``: no probe ran)."""

    requeued: tuple[str, ...]
    orphans_removed: int
    expired: tuple[str, ...] = ()
    probe: Outcome | None = None


class UploadQueue:
    """Stage uploads durably and upload them from huey workers.

    ``client_factory`` builds the ``ImagesClient`` a worker uses (called once per worker process, lazily).
    ``backoff``/``backoff_cap``: the first retry delay and the longest one (seconds). ``max_age``: an upload
    still not stored this many seconds after it was accepted is ``failed`` (bytes kept); ``None`` (the default)
    retries transient failures for as long as they last. ``probe_interval``: while blocked, how often one upload
    is tried. ``failed_retention``: how long a failed upload keeps its bytes before the sweep discards it (7
    days). ``lease``: how long a claim lasts without its worker's heartbeat (renewed every third of it while the
    upload is in progress), so a dead worker's uploads are taken over after this and the next sweep.
    ``requeue_after``: how long a pending upload may wait for its queue message before the sweep sends another
    (a duplicate message is harmless: the store lets one worker at a time claim an upload, and a finished one is
    skipped); ``lost_after`` the same, when the queue is empty, so the message must have been lost.
    The queue's clock is the store's (``store.clock``).
    ``on_ready``: called in the worker with the record once an upload is stored (e.g. to write a generated image
    id into the rows that point at it); an exception there is logged, the upload stays stored.
    """

    def __init__(
        self,
        huey: Huey,
        store: UploadRecords,
        client_factory: Callable[[], ImagesClient],
        *,
        id_prefix: str = "uploads",
        max_bytes: int = MAX_UPLOAD_BYTES,
        backoff: float = 2.0,
        backoff_cap: float = 300.0,
        max_age: float | None = None,
        probe_interval: float = 60.0,
        failed_retention: float = 7 * 86400.0,
        lease: float = LEASE,
        requeue_after: float = 300.0,
        lost_after: float = 30.0,
        orphan_age: float = 3600.0,
        reconcile_schedule: Callable[..., bool] | None = None,
        check: Callable[[Path], str | None] | None = check_image_content_type,
        on_ready: Callable[[UploadRecord], None] | None = None,
    ) -> None:
        self.huey = huey
        self.store = store
        self.max_bytes = max_bytes
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.max_age = max_age
        self.probe_interval = probe_interval
        self.failed_retention = failed_retention
        self.lease = lease
        self.leases = Leases(store, lease=lease)
        self.requeue_after = requeue_after
        self.lost_after = lost_after
        self.orphan_age = orphan_age
        self.id_prefix = id_prefix
        self._check = check
        self._on_ready = on_ready
        self._client_factory = client_factory
        self._client: ImagesClient | None = None
        self._client_lock = threading.Lock()
        self.upload_task = huey.task(name="cfvariants.upload")(_as_task(self._upload))
        self.reconcile_task = huey.periodic_task(
            reconcile_schedule or crontab(minute="*"), name="cfvariants.reconcile"
        )(_as_task(self.reconcile))
        self._announced = threading.Event()
        self._stopping = threading.Event()
        huey.on_startup(name="cfvariants.uploads.startup")(self._log_start)
        huey.on_shutdown(name="cfvariants.uploads.shutdown")(self._stop_watching)
        huey.signal(signals.SIGNAL_INTERRUPTED)(self._interrupted)

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
        id_prefix: str | None = None,
    ) -> UploadRecord:
        """Check, stage and enqueue a file; returns its ``pending`` record at once. A public upload's custom id
        is fixed here: ``<id_prefix>/<yyyy>/<mm>/<upload id>.<ext>`` (``id_prefix`` defaults to the queue's).

        Raises ``UploadRejected`` (not an image, too large, unsafe SVG...) with nothing staged. If the queue
        cannot be reached the upload stays pending and the sweep enqueues it later: accepted files are never lost.
        """
        upload_id = uuid.uuid4().hex
        record = self.store.stage(
            source,
            filename=_safe_filename(filename),
            content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            private=private,
            custom_id=None if private else custom_id_for(upload_id, filename, prefix=id_prefix or self.id_prefix),
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
        self.store.mark_enqueued(upload_id, at=self.store.clock() + (delay or 0))
        return True

    # -- a person's view and controls ------------------------------------------------------------------------------

    def uploads(self, *, state: UploadState | str | None = None, limit: int = 100) -> list[UploadRecord]:
        """Uploads, newest first (optionally of one state: ``"blocked"``, ``"failed"``...)."""
        return self.store.recent(state=UploadState(state) if state else None, limit=limit)

    def stats(self) -> UploadStats:
        """How many uploads are in each state, and the block if the queue is blocked (for health checks)."""
        return control.stats(self.store)

    def retry(self, upload_id: str) -> list[str]:
        """Send a failed or blocked upload again (a blocked one lifts the block: every blocked upload resumes);
        returns the ids sent. ``UploadsError`` if it is neither, or its bytes were discarded."""
        return self._send(control.retry(self.store, upload_id))

    def retry_failed(self) -> list[str]:
        """Send every failed upload again (after the cause is fixed); returns their ids."""
        return self._send(control.retry_failed(self.store))

    def discard(self, upload_id: str) -> UploadRecord:
        """Forget an upload that is not stored and delete its bytes (a person's decision); returns what it was."""
        record = control.discard(self.store, upload_id)
        log.warning("upload %s (%s) discarded with its file, as asked", upload_id, record.filename)
        return record

    def _send(self, ids: list[str]) -> list[str]:
        for upload_id in ids:
            self.enqueue(upload_id)  # if the queue is down, the sweep sends them later (they are not enqueued)
        return ids

    # -- worker side -----------------------------------------------------------------------------------------------

    @property
    def client(self) -> ImagesClient:
        """The worker's client: one per process, created on first use."""
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def _upload(self, upload_id: str) -> None:
        """The task. It returns nothing, so huey keeps no result (the store has the outcome)."""
        self.run_once(upload_id)

    def run_once(self, upload_id: str) -> Outcome:
        """One attempt, then schedule the next if it was transient (what the task does; callable directly)."""
        outcome = process(self.store, self.client, upload_id, probe_interval=self.probe_interval, leases=self.leases)
        if outcome.status == "ready" and self._on_ready is not None:
            try:
                self._on_ready(self.store.get(upload_id))
            except Exception:
                log.exception("upload %s is stored, but its on_ready hook failed", upload_id)
        if outcome.status != "retry":
            return outcome
        record = self.store.get(upload_id)
        age = self.store.clock() - record.created_at
        if self.max_age is not None and age >= self.max_age:
            reason = f"not stored within {duration(self.max_age)} of being accepted; last error: {outcome.reason}"
            self.store.mark_failed(upload_id, reason)
            log.error("upload %s failed: %s; its file is kept (retry or discard it)", upload_id, reason)
            return Outcome("failed", upload_id, reason=reason)
        delay = self.retry_delay(record.attempts, outcome.retry_after)
        sent = self.enqueue(upload_id, delay=delay)
        log.warning(
            "upload %s attempt %d failed: %s; %s", upload_id, record.attempts, outcome.reason,
            f"next attempt in {duration(delay)}" if sent else "the sweep will send it again",
        )  # fmt: skip
        return outcome

    def retry_delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential backoff with full jitter, capped at ``backoff_cap``, never shorter than the server's
        ``Retry-After``."""
        ceiling = min(self.backoff_cap, self.backoff * 2 ** min(max(attempts - 1, 0), 64))
        delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography
        return max(delay, retry_after or 0.0)

    def hand_back(self, upload_ids: list[str] | None = None) -> list[str]:
        """Give up what this process holds (default: everything) and send it again, for another worker to take
        over within seconds (``Leases.hand_back``): what a worker does when it is stopped mid-upload."""
        handed = self.leases.hand_back(upload_ids)
        for upload_id, after in handed.items():
            self.enqueue(upload_id, delay=after + 0.5)
        return list(handed)

    def _interrupted(self, signal: str, task: Any, *args: Any) -> None:
        """huey interrupted a task (SIGTERM, or the end of a graceful shutdown's timeout): hand its upload back."""
        if getattr(task, "name", None) == self.upload_task.name and task.args:
            self.hand_back([str(task.args[0])])

    # -- start-up --------------------------------------------------------------------------------------------------

    def announce_web(self) -> str:
        """Leave the web app's fingerprint (queue, store, account; never a secret) in the queue's storage, for
        workers to check at start that they share them; returns the line to log."""
        identity = web_identity(self.huey, self.store, self.client)
        try:
            self.huey.put(fingerprint_key(self.huey), identity)
        except Exception as exc:  # the queue is down: uploads still stage, and the sweep enqueues them later
            log.warning("could not leave the web app's fingerprint in the queue (%s)", exc)
        return f"uses queue {identity['queue']}, store {identity['store']}, Cloudflare {identity['account']}"

    def _log_start(self) -> None:
        """At a consumer's start (once per process): say which queue, store and account, and whether they are
        the web app's; start watching for abandoned uploads."""
        with self._client_lock:  # every worker thread runs the start-up hook: once per process
            if self._announced.is_set():
                return
            self._announced.set()
        self._stopping.clear()
        threading.Thread(target=self._watch_leases, name="cfvariants-lease-watch", daemon=True).start()
        try:
            shares, words = check_worker(self.huey, self.store, self.client)
        except Exception as exc:  # e.g. Cloudflare settings missing: every upload would fail, so say it now
            log.error("upload worker (pid %d) cannot start its Cloudflare client: %s", os.getpid(), exc)
            return
        (log.info if shares else log.warning)("upload worker (pid %d) %s", os.getpid(), words)

    def _stop_watching(self) -> None:
        self._stopping.set()
        self._announced.clear()

    # -- the sweep -------------------------------------------------------------------------------------------------

    def reconcile(self) -> ReconcileReport:
        """Probe while blocked, re-enqueue uploads no task is working on, discard failed uploads past their
        retention and remove staged files that never got a record."""
        probe = self._probe()
        now = self.store.clock()
        requeued = self.requeue_abandoned()
        expired = control.discard_expired(self.store, older_than=self.failed_retention)
        for record in expired:
            log.warning(
                "upload %s (%s) discarded with its file: failed %s ago (retention %s): %s", record.id,
                record.filename, duration(now - record.updated_at), duration(self.failed_retention), record.error,
            )  # fmt: skip
        orphans = self.store.remove_orphans(older_than=self.orphan_age)
        if requeued or orphans:
            log.info("reconcile: re-enqueued %d upload(s), removed %d orphaned staged file(s)", len(requeued), orphans)
        return ReconcileReport(tuple(requeued), orphans, tuple(r.id for r in expired), probe)

    def requeue_abandoned(self) -> list[str]:
        """Re-enqueue uploads no task is working on: a lease that ran out (its worker died), a message lost with
        a killed worker, an enqueue that failed. The sweep's first step; every worker process also runs it each
        half lease, so a dead worker's uploads are taken over within about a lease and a half."""
        now = self.store.clock()
        wait = min(self.requeue_after, self.lost_after) if self._queue_is_empty() else self.requeue_after
        return [r.id for r in self.store.needing_work(enqueued_before=now - wait, now=now) if self.enqueue(r.id)]

    def _watch_leases(self) -> None:
        while not self._stopping.wait(self.lease / 2):
            try:
                taken = self.requeue_abandoned()
            except Exception as exc:  # the store or the queue is down for a moment: the next round tries again
                log.warning("could not look for abandoned uploads (%s)", exc)
                continue
            if taken:
                log.info("re-enqueued %d abandoned upload(s) (a worker died, or a message was lost)", len(taken))

    def _probe(self) -> Outcome | None:
        """While blocked, once per ``probe_interval`` (across all processes): really try the oldest blocked upload.
        If Cloudflare takes it, or refuses only the image, the credentials work: every blocked upload resumes."""
        block = self.store.current_block()
        if block is None:
            if self.store.counts()[UploadState.BLOCKED]:  # a person lifted the block, or a probe died mid-way
                self._resume("uploads are no longer blocked")
            return None
        if self.store.claim_probe(next_probe_at=self.store.clock() + self.probe_interval) is None:
            return None
        oldest = self.store.recent(state=UploadState.BLOCKED, limit=1, newest_first=False)
        if not oldest:
            self.store.unblock()
            return None
        outcome = process(
            self.store, self.client, oldest[0].id, probe_interval=self.probe_interval, probe=True, leases=self.leases
        )
        if outcome.status in ("ready", "failed"):
            self._resume(f"the credentials work again (blocked since {duration(self.store.clock() - block.since)})")
        return outcome

    def _resume(self, why: str) -> None:
        ids = self.store.unblock()
        log.warning("%s: resuming %d blocked upload(s)", why, len(ids))
        self._send(ids)

    def _queue_is_empty(self) -> bool:
        try:
            return int(self.huey.pending_count()) == 0
        except Exception:  # the queue is down: nothing can be re-enqueued now anyway
            return False


def _safe_filename(filename: str) -> str:
    """The name as the user gave it, minus any directory part and control characters (kept for display)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if not name:
        raise UploadsError("the file has no name")
    return name[:255]


def _as_task(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` as the function huey registers: the same call, in ``TASK_MODULE`` (huey names tasks by it)."""

    @functools.wraps(method)
    def task(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    task.__module__ = TASK_MODULE
    return task
