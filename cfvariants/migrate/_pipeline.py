"""Uploads in a background event loop; reading the source and recording results in the caller's thread.

A migration reads its source (a directory walk, a Django storage, the rows of a table) and records each result
(a row rewritten, a source file deleted) in the calling thread, where the caller's database connection and
transactions live (Django refuses ORM calls from inside an event loop). The uploads themselves run concurrently
in one asyncio loop on a second thread, over one async client. Between the two: a bounded queue of work, so
memory holds ``2 × concurrency`` items however long the source is, and a queue of results the caller drains.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cfvariants.cli._progress import FileResult
from cfvariants.cli._uploader import first_error
from cfvariants.client import AsyncImagesClient

T = TypeVar("T")
Work = Callable[[AsyncImagesClient, T], Awaitable[FileResult]]
ClientFactory = Callable[[], contextlib.AbstractAsyncContextManager[AsyncImagesClient]]
"""Opens the client of a run (``AsyncImagesClient.from_settings``, or a batch-token client)."""

_POLL = 0.1  # seconds between looks at the results while waiting (keeps the progress bar moving)


@dataclass(frozen=True, slots=True)
class _Done(Generic[T]):
    item: T
    result: FileResult


class _End:
    """Tells a worker there is no more work."""


class _Loop(Generic[T]):
    """The background thread and its event loop."""

    def __init__(self, make_client: ClientFactory, work: Work[T], concurrency: int) -> None:
        self.results: queue.SimpleQueue[_Done[T]] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self._make_client = make_client
        self._work = work
        self._concurrency = concurrency
        self._ready = threading.Event()
        self._jobs: asyncio.Queue[T | _End] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.thread = threading.Thread(target=self._main, name="cfvariants-migrate", daemon=True)

    def start(self) -> None:
        self.thread.start()
        self._ready.wait()

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self.error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._jobs = asyncio.Queue(maxsize=2 * self._concurrency)
        self._task = asyncio.current_task()
        self._ready.set()
        async with self._make_client() as client:
            stopped: list[Exception] = []  # the error that stops the run (an unreachable API, a refused token)
            idle: set[asyncio.Task[object] | None] = set()  # workers waiting for an item

            async def worker() -> None:
                assert self._jobs is not None
                me = asyncio.current_task()
                while not stopped:
                    idle.add(me)
                    try:
                        item = await self._jobs.get()
                    finally:
                        idle.discard(me)
                    if isinstance(item, _End) or stopped:
                        return  # no more work, or the run stopped: this item was never started
                    try:
                        result = await self._work(client, item)
                    except Exception as exc:
                        # Stop taking items, but let the uploads in flight in the other workers finish and be
                        # recorded (cancelling them lost results whose images were stored: a row not rewritten).
                        stopped.append(exc)
                        for waiting in idle:
                            if waiting is not None:
                                waiting.cancel()
                        return
                    self.results.put(_Done(item, result))

            try:
                async with asyncio.TaskGroup() as group:  # a worker cancelled while idle does not stop the group
                    for _ in range(self._concurrency):
                        group.create_task(worker())
            except BaseExceptionGroup as group_error:
                raise first_error(group_error) from None
            if stopped:
                raise stopped[0]

    def submit(self, item: T | _End) -> concurrent.futures.Future[None]:
        assert self._loop is not None and self._jobs is not None
        return asyncio.run_coroutine_threadsafe(self._jobs.put(item), self._loop)

    def cancel(self) -> None:
        if self._loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                self._loop.call_soon_threadsafe(self._task.cancel)


def run_pipeline(
    items: Iterable[T],
    make_client: ClientFactory,
    work: Work[T],
    on_result: Callable[[T, FileResult], None],
    *,
    concurrency: int,
    tick: Callable[[], None] = lambda: None,
) -> None:
    """Run ``work(client, item)`` for every item, ``concurrency`` at a time, calling ``on_result(item, result)``
    in this thread as results come in and ``tick()`` a few times a second. An error that stops the uploads (a
    refused token) is raised here; so is Ctrl-C, after the results already in have been recorded."""
    loop: _Loop[T] = _Loop(make_client, work, max(1, concurrency))
    loop.start()

    def drain(block: bool) -> None:
        try:
            done = loop.results.get(timeout=_POLL) if block else loop.results.get_nowait()
        except queue.Empty:
            return
        on_result(done.item, done.result)
        while True:
            try:
                done = loop.results.get_nowait()
            except queue.Empty:
                return
            on_result(done.item, done.result)

    def put(item: T | _End) -> None:
        future = loop.submit(item)
        while True:
            try:
                future.result(timeout=_POLL)
                return
            except concurrent.futures.CancelledError:  # the loop stopped (an error ends the run) before taking it
                return
            except TimeoutError:
                if not loop.thread.is_alive():
                    future.cancel()
                    return
                drain(block=False)
                tick()

    try:
        if loop.error is None:
            for item in items:
                if not loop.thread.is_alive():
                    break
                put(item)
                drain(block=False)
            for _ in range(max(1, concurrency)):
                if not loop.thread.is_alive():
                    break
                put(_End())
        while loop.thread.is_alive():
            drain(block=True)
            tick()
        drain(block=False)
    except BaseException:
        loop.cancel()
        loop.thread.join()
        drain(block=False)  # what was stored before the interruption is still recorded
        raise
    if loop.error is not None:
        raise loop.error
