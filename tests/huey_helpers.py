"""Running huey's own consumer inside a test (or a benchmark)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from huey.consumer import Consumer


@contextlib.contextmanager
def running_consumer(huey: Any, *, workers: int) -> Iterator[Consumer]:
    """huey's consumer (worker threads and scheduler) on ``huey``, stopped gracefully at the end. Its signal
    handlers are left out: they belong to a process's main program, not to a test runner."""
    consumer = Consumer(huey, workers=workers, worker_type="thread", periodic=False, check_worker_health=False)
    consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
