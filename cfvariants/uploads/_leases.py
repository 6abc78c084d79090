"""Short leases kept alive by a heartbeat while an upload is in progress, handed back when the worker stops.

A worker claims an upload with a short lease (``LEASE``, 30 s). While it holds uploads, one heartbeat thread per
process renews all their leases every third of that. So:

* a worker that dies (``kill -9``, a lost machine) stops renewing: its uploads are claimable again within
  ``LEASE``, and the reconcile sweep (every minute) sends them to another worker;
* a slow upload (10 MB over a slow link) keeps its claim for as long as it takes;
* a worker told to stop hands back what it still holds (``hand_back``): its claim is cut to a few seconds and the
  queue sends the upload again for then. huey's consumer interrupts the tasks it cannot finish (SIGTERM, or the
  end of its graceful shutdown timeout); ``UploadQueue`` hands their uploads back then.

A renewal names the attempt that claimed the upload, so a worker that was frozen past its lease cannot extend a
claim another worker has taken over since.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

from ._records import UploadRecord, UploadRecords

LEASE = 30.0
"""Seconds a claim lasts without a heartbeat: how soon a dead worker's uploads can be taken over."""
HAND_BACK_AFTER = 5.0
"""Seconds after a stopping worker hands back a public upload until another may claim it."""
PRIVATE_HAND_BACK_AFTER = 30.0
"""The same for a private upload (see ``Leases.hand_back``)."""
log = logging.getLogger("cfvariants.uploads")


class Leases:
    """The uploads this process holds, kept alive by one heartbeat thread (running only while any are held)."""

    def __init__(
        self,
        store: UploadRecords,
        *,
        lease: float = LEASE,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float], object] = threading.Condition.wait,
    ) -> None:
        """``clock`` and ``wait`` are the heartbeat's time: how it reads the time, and how it waits until the next
        beat (``wait(condition, seconds)``, woken early when nothing is held any more). Tests pass time that moves
        only when told."""
        self.store = store
        self.lease = lease
        self.interval = lease / 3 if interval is None else interval
        self._clock = clock
        self._wait = wait
        self._held: dict[str, UploadRecord] = {}  # upload id -> the record as claimed (its attempt number)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def held(self) -> list[str]:
        with self._lock:
            return list(self._held)

    @contextlib.contextmanager
    def holding(self, record: UploadRecord) -> Iterator[None]:
        """Keep ``record``'s claim alive for the duration; if the worker is interrupted (KeyboardInterrupt or
        SystemExit: a process worker told to stop), hand it back before the interruption goes on."""
        with self._lock:
            self._held[record.id] = record
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, name="cfvariants-heartbeat", daemon=True)
                self._thread.start()
        try:
            yield
        except (KeyboardInterrupt, SystemExit):
            self.hand_back([record.id])
            raise
        finally:
            with self._lock:
                self._held.pop(record.id, None)
                self._changed.notify_all()

    def hand_back(self, upload_ids: list[str] | None = None) -> dict[str, float]:
        """Give up the claims on ``upload_ids`` (default: everything held); returns ``{upload id: seconds}``
        until another worker may claim each.

        A claim is not released at once but shortened to ``HAND_BACK_AFTER`` (``PRIVATE_HAND_BACK_AFTER`` for a
        private image): the stopped worker's request may already be complete on the wire and Cloudflare may still
        store it. A public image's next attempt would find it by its custom id whenever it lands; a private one
        is found only by a metadata lookup, which cannot see an upload Cloudflare is still processing."""
        with self._lock:
            chosen = {i: r for i, r in self._held.items() if upload_ids is None or i in upload_ids}
            for upload_id in chosen:
                del self._held[upload_id]
            self._changed.notify_all()
        handed: dict[str, float] = {}
        for upload_id, record in chosen.items():
            after = PRIVATE_HAND_BACK_AFTER if record.private else HAND_BACK_AFTER
            try:
                self.store.renew(upload_id, lease=after, attempt=record.attempts)
            except Exception as exc:  # the store is unreachable: the lease runs out instead
                log.warning("could not hand back upload %s (%s); it is taken over when its lease ends", upload_id,
                            exc)  # fmt: skip
                continue
            handed[upload_id] = after
            log.info("handed back upload %s: this worker is stopping; another takes it over in %.0fs", upload_id,
                     after)  # fmt: skip
        return handed

    def _beat(self) -> None:
        with self._lock:
            due = self._clock() + self.interval
            while self._held:
                remaining = due - self._clock()
                if remaining > 0:
                    self._wait(self._changed, remaining)  # woken early only to notice that nothing is held any more
                    continue
                held = dict(self._held)
                self._lock.release()
                try:
                    self._renew(held)
                finally:
                    self._lock.acquire()
                due = self._clock() + self.interval
            self._thread = None

    def _renew(self, held: dict[str, UploadRecord]) -> None:
        for upload_id, record in held.items():
            try:
                kept = self.store.renew(upload_id, lease=self.lease, attempt=record.attempts)
            except Exception as exc:  # a store hiccup: the next beat tries again, well within the lease
                log.warning("could not renew the lease on upload %s (%s)", upload_id, exc)
                continue
            if not kept and upload_id in self._held:
                log.warning("upload %s is no longer held by this worker (its lease ran out and another took it)",
                            upload_id)  # fmt: skip
