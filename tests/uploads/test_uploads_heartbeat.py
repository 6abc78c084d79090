"""The heartbeat's schedule, seen without timing anything: the heartbeat runs on time that moves only when it waits
(each wait passes the seconds it asks for at once, or fewer when something wakes it early), so a test reads, moment
by moment, how long the upload's claim still has, as another worker deciding whether to take it over would."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import imagegen
import pytest
from upload_helpers import Clock

from cfvariants.uploads import UploadRecords, UploadState
from cfvariants.uploads._leases import Leases

PHOTO = imagegen.photo_jpeg(150_000, seed=31)


class HeartbeatTime:
    """The heartbeat's clock and wait. A wait moves ``clock`` on by the seconds asked, or by the next of ``wakes``
    (a wake-up that comes sooner: another upload of the worker ended); once ``until`` would be passed it really
    waits, until nothing is held. ``seen``: (time, seconds asked, the claim's lease_until) at each wait."""

    def __init__(self, clock: Clock, store: UploadRecords, upload_id: str, *, until: float, wakes: Iterator[float]):
        self.clock, self.store, self.upload_id, self.until, self.wakes = clock, store, upload_id, until, wakes
        self.seen: list[tuple[float, float, float | None]] = []
        self.reached = threading.Event()

    def __call__(self, condition: threading.Condition, seconds: float) -> None:
        self.seen.append((self.clock.now, seconds, self.store.get(self.upload_id).lease_until))
        step = min(seconds, next(self.wakes, seconds))
        if self.clock.now + step > self.until or len(self.seen) > 100:
            self.reached.set()
            condition.wait()  # until the worker lets go of the upload
            return
        self.clock.advance(step)


@contextlib.contextmanager
def _heartbeat(
    store: UploadRecords, clock: Clock, *, until: float, wakes: tuple[float, ...] = (), **options: float
) -> Iterator[tuple[HeartbeatTime, float]]:
    """A claimed upload held by ``Leases(store, **options)`` on heartbeat time, once the heartbeat has run until
    ``until`` seconds from the claim; yields that time and the moment of the claim."""
    clock.now = float(int(clock.now))  # whole seconds: sums of the waits below are exact
    upload_id = store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg").id
    time = HeartbeatTime(clock, store, upload_id, until=clock.now + until, wakes=iter(wakes))
    leases = Leases(store, clock=clock, wait=time, **options)  # type: ignore[arg-type]
    start = clock.now
    record = store.claim(upload_id, lease=leases.lease)
    assert record is not None
    with leases.holding(record):
        assert time.reached.wait(10), time.seen
        yield time, start


def test_the_heartbeat_renews_the_claim_every_interval_so_it_never_runs_out(
    clocked_store: UploadRecords, clock: Clock
) -> None:
    with _heartbeat(clocked_store, clock, until=60, lease=30, interval=10) as (time, start):
        # every 10 s the claim is renewed to 30 s from then: another worker never finds it run out
        assert time.seen == [(start + t, 10.0, start + t + 30) for t in range(0, 70, 10)]
        assert clocked_store.claim(time.upload_id, lease=30) is None
    assert clocked_store.get(time.upload_id).state is UploadState.UPLOADING
    assert clocked_store.get(time.upload_id).lease_until == start + 90


def test_a_heartbeat_woken_early_still_renews_on_time(clocked_store: UploadRecords, clock: Clock) -> None:
    with _heartbeat(clocked_store, clock, until=20, wakes=(9.5, 0.5, 3, 7), lease=30, interval=10) as (time, start):
        assert time.seen == [
            (start, 10.0, start + 30),
            (start + 9.5, 0.5, start + 30),  # woken half a second before the beat: waits for it
            (start + 10, 10.0, start + 40),
            (start + 13, 7.0, start + 40),
            (start + 20, 10.0, start + 50),
        ]


@pytest.mark.parametrize("lease", [6.0, 30.0])
def test_the_default_heartbeat_beats_three_times_a_lease(
    clocked_store: UploadRecords, clock: Clock, lease: float
) -> None:
    with _heartbeat(clocked_store, clock, until=lease, lease=lease) as (time, start):
        beat = lease / 3
        assert time.seen == [(start + i * beat, beat, start + i * beat + lease) for i in range(4)]
