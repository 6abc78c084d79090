"""Decoded originals shared between renders, and a memory budget for large ones.

A PNG of 100 megapixels can be a 12 kB file and decodes to 400 MB of pixels; decoding it once per request made 8
concurrent renders take 3.5 GiB. Three rules bound the emulator's memory instead:

* shrink on load where the format allows: a JPEG decodes at the smallest DCT scale that still leaves twice the
  output resolution (``Image.draft``, in ``transform``); Pillow has no reduced decode for PNG, GIF, WebP or AVIF;
* one decoded master per original and scale: renders of one image wait for a single decode and share its pixels
  (read-only: every operation of the pipeline returns a new image), and recent masters stay for the next request
  up to ``MASTER_CACHE_BYTES``;
* a budget for large renders: a render of a large image reserves a full-size working copy (4 bytes a pixel) from
  ``RENDER_BUDGET_BYTES`` before it decodes or transforms, so concurrent large renders wait for each other
  instead of each holding hundreds of megabytes. Images under ``LARGE_AREA`` pixels skip all of this.

Peak memory for a huge original is then about one master plus one working copy, whatever the concurrency.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PIL import Image

LARGE_AREA = 4_000_000
"""Pixels from which an original's decode is shared and its renders are budgeted (16 MB decoded)."""
MASTER_CACHE_BYTES = 512 * 1024 * 1024
RENDER_BUDGET_BYTES = 512 * 1024 * 1024
_BYTES_PER_PIXEL = 4  # Pillow keeps RGB and RGBA pixels in 32 bits


def pixel_bytes(width: int, height: int) -> int:
    return width * height * _BYTES_PER_PIXEL


class _Budget:
    """A counting semaphore of bytes: ``reserve(n)`` waits until ``n`` bytes are free (at most the whole budget,
    so one oversized render still runs, alone)."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._free = total
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, amount: int) -> Iterator[None]:
        amount = min(amount, self._total)
        with self._changed:
            self._changed.wait_for(lambda: self._free >= amount)
            self._free -= amount
        try:
            yield
        finally:
            with self._changed:
                self._free += amount
                self._changed.notify_all()


class _Masters:
    """Decoded masters by (digest of the original, decode size), least recently used evicted past a byte limit;
    a key being decoded has an event the other renders wait on, so each master is decoded once."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._ready: OrderedDict[tuple[str, tuple[int, int]], Image.Image] = OrderedDict()
        self._pending: dict[tuple[str, tuple[int, int]], threading.Event] = {}
        self._bytes = 0

    def get(self, key: tuple[str, tuple[int, int]], decode: Callable[[], Image.Image]) -> Image.Image:
        while True:
            with self._lock:
                master = self._ready.get(key)
                if master is not None:
                    self._ready.move_to_end(key)
                    return master
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()  # another render is decoding it; then look again (it may also have failed)
        try:
            master = decode()
        except BaseException:
            with self._lock:
                self._pending.pop(key).set()
            raise
        with self._lock:
            self._keep(key, master)
            self._pending.pop(key).set()
        return master

    def _keep(self, key: tuple[str, tuple[int, int]], master: Image.Image) -> None:
        size = pixel_bytes(*master.size)
        if size > self._limit:
            return  # used by the renders waiting now, not kept
        self._ready[key] = master
        self._bytes += size
        while self._bytes > self._limit:
            _, old = self._ready.popitem(last=False)
            self._bytes -= pixel_bytes(*old.size)

    def clear(self) -> None:
        with self._lock:
            self._ready.clear()
            self._bytes = 0


_BUDGET = _Budget(RENDER_BUDGET_BYTES)
_MASTERS = _Masters(MASTER_CACHE_BYTES)


def is_large(width: int, height: int) -> bool:
    return width * height >= LARGE_AREA


@contextmanager
def large_render(width: int, height: int) -> Iterator[None]:
    """Hold a full-size working copy's bytes of the render budget while rendering a large original (a no-op for
    images under ``LARGE_AREA``)."""
    if not is_large(width, height):
        yield
        return
    with _BUDGET.reserve(pixel_bytes(width, height)):
        yield


def shared_master(data: bytes, size: tuple[int, int], decode: Callable[[], Image.Image]) -> Image.Image:
    """The decoded (normalised, oriented) pixels of the original ``data`` at decode ``size``: decoded by
    ``decode`` once and shared while cached. The caller must not modify the image it gets."""
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return _MASTERS.get((digest, size), decode)


def clear_masters() -> None:
    """Drop every cached master (tests; an emulator that deletes an original need not: the key is its digest)."""
    _MASTERS.clear()
