"""Upload records: what a staged upload is, the states it moves through, and what a store of them must do.

An upload is staged before anything else happens: its bytes are kept durably, and only then is it recorded as
``pending``. A crash at any point leaves either nothing, or staged bytes that the reconcile sweep removes, or a
complete record. Records move

    pending -> uploading (a worker holds a lease) -> ready   (image id known; only now are the bytes removed)
                                                   -> pending (a transient failure: tried again later, forever)
                                                   -> blocked (the credentials or the account were refused)
                                                   -> failed  (Cloudflare refused this image; bytes kept)

A lease that runs out (a worker killed mid-upload) makes the record claimable again. ``blocked`` and ``failed``
uploads keep their bytes and go back to ``pending`` on ``requeue`` (a person's retry, or the worker once the
credentials work again); the staged bytes go only with ``mark_ready`` or ``delete`` (a person's discard, or the
retention policy for failed uploads).

Two stores keep them: ``UploadStore`` (files on local disk, records in SQLite: one machine, no server) and
``RedisUploadStore`` (bytes and records in Redis: web servers and workers on many machines).
"""

from __future__ import annotations

import contextlib
import enum
import errno
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from cfvariants._errors import CFVariantsError
from cfvariants._refs import LocalImage, PrivateImage

_CHUNK = 1 << 20


class UploadsError(CFVariantsError, ValueError):
    """An upload cannot be staged or found; the message says why in words a person can act on."""


class StorageFull(UploadsError):
    """The upload store has no room (a full disk, a quota, Redis out of memory): nothing was kept. The message
    names the disk or the server, for the operator; it is not the uploader's fault (a web app answers 503)."""


class UploadTooLarge(UploadsError):
    """The file is over the size limit (``limit`` bytes); reading stopped there, so nothing was kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the file is larger than {limit:,} bytes")


class UploadState(enum.StrEnum):
    """An upload's state: pending (queued), uploading, ready (stored), blocked or failed (kept to retry or discard)."""

    PENDING = "pending"
    UPLOADING = "uploading"
    READY = "ready"
    BLOCKED = "blocked"
    FAILED = "failed"


#: States whose staged bytes a worker will still send, or a person may still retry: never removed by the sweep.
KEPT_STATES = (UploadState.PENDING, UploadState.UPLOADING, UploadState.BLOCKED, UploadState.FAILED)


@dataclass(frozen=True)
class Block:
    """The queue is blocked: Cloudflare refused the credentials or the account (``cause``, words for a person).
    Uploads wait in ``blocked`` and one upload is tried again at ``probe_at`` (then every probe interval); when
    that works, every blocked upload resumes."""

    cause: str
    since: float
    probe_at: float


@dataclass(frozen=True)
class UploadRecord:
    """One upload, from staging to its Cloudflare image id."""

    id: str
    state: UploadState
    filename: str
    content_type: str
    size: int
    private: bool
    custom_id: str | None
    metadata: dict[str, Any]
    context: dict[str, Any]
    image_id: str | None
    error: str | None
    attempts: int
    lease_until: float | None
    enqueued_at: float | None
    created_at: float
    updated_at: float
    preview_url: str | None = field(default=None, compare=False)

    @property
    def is_ready(self) -> bool:
        return self.state is UploadState.READY

    @property
    def is_pending(self) -> bool:
        return self.state in (UploadState.PENDING, UploadState.UPLOADING)

    @property
    def needs_attention(self) -> bool:
        """Blocked or failed: a person should read ``error`` (and may retry or discard)."""
        return self.state in (UploadState.BLOCKED, UploadState.FAILED)

    def __cf_image__(self) -> str | None:
        """What templates show: the image once it is on Cloudflare; while it waits, the staged file (when the
        store knows a preview URL), so ``{{ upload | variant('w=200') }}`` never breaks a page."""
        if self.state is UploadState.READY:
            return PrivateImage(self.image_id) if self.private and self.image_id else self.image_id
        if self.state is not UploadState.FAILED and self.preview_url:
            return LocalImage(self.preview_url)
        return None


class UploadRecords(Protocol):
    """What the queue and the workers need from a store of uploads (``UploadStore``, ``RedisUploadStore``).

    Every state change is atomic across processes: ``claim`` lets one worker at a time hold an upload, and
    ``mark_ready`` succeeds once. ``clock`` is the store's time (Unix seconds), which the queue uses too.
    """

    preview_url: str | None
    clock: Callable[[], float]

    def stage(
        self,
        source: IO[bytes] | bytes,
        *,
        filename: str,
        content_type: str,
        private: bool = False,
        custom_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        max_bytes: int | None = None,
        upload_id: str | None = None,
        check: Callable[[Path], str | None] | None = None,
    ) -> UploadRecord: ...
    def get(self, upload_id: str) -> UploadRecord: ...
    def find(self, upload_id: str) -> UploadRecord | None: ...
    def recent(
        self, *, state: UploadState | None = None, limit: int = 100, newest_first: bool = True
    ) -> list[UploadRecord]: ...
    def counts(self) -> dict[UploadState, int]: ...
    def mark_enqueued(self, upload_id: str, *, at: float | None = None) -> None: ...
    def claim(self, upload_id: str, *, lease: float, blocked: bool = False) -> UploadRecord | None: ...
    def renew(self, upload_id: str, *, lease: float, attempt: int) -> bool: ...
    def release(self, upload_id: str, error: str) -> None: ...
    def mark_ready(self, upload_id: str, image_id: str) -> bool: ...
    def mark_failed(self, upload_id: str, reason: str) -> None: ...
    def mark_blocked(self, upload_id: str, reason: str) -> bool: ...
    def requeue(self, upload_id: str, *, states: tuple[UploadState, ...] = ...) -> bool: ...
    def delete(self, upload_id: str) -> None: ...
    def block(self, cause: str, *, probe_at: float) -> Block: ...
    def current_block(self) -> Block | None: ...
    def claim_probe(self, *, next_probe_at: float) -> Block | None: ...
    def unblock(self) -> list[str]: ...
    def needing_work(self, *, enqueued_before: float, now: float | None = None) -> list[UploadRecord]: ...
    def open_staged(self, upload_id: str) -> IO[bytes]: ...
    def staged_ids(self) -> list[str]: ...
    def remove_orphans(self, *, older_than: float) -> int: ...
    def close(self) -> None: ...


def is_upload_id(text: str) -> bool:
    """Upload ids are 32 lowercase hex characters (safe as file names and Redis keys)."""
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def write_durably(source: IO[bytes] | bytes, path: Path, max_bytes: int | None) -> int:
    size = 0
    with open(path, "wb") as out:
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            if max_bytes is not None and len(data) > max_bytes:
                raise UploadTooLarge(max_bytes)
            out.write(data)
            size = len(data)
        else:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise UploadTooLarge(max_bytes)
                out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def record_from_values(values: dict[str, Any], preview_url: str | None) -> UploadRecord:
    """An ``UploadRecord`` from stored column values (JSON text for metadata and context)."""
    values = dict(values)
    values["state"] = UploadState(values["state"])
    values["private"] = bool(int(values["private"]))
    values["metadata"] = json.loads(values["metadata"])
    values["context"] = json.loads(values["context"])
    preview = preview_url.format(id=values["id"]) if preview_url else None
    return UploadRecord(**values, preview_url=preview)


def receive(source: IO[bytes] | bytes, path: Path, *, max_bytes: int | None, check: Callable[[Path], str | None] | None,
            content_type: str) -> tuple[int, str]:  # fmt: skip
    """Write an upload to ``path`` (flushed to disk), enforcing ``max_bytes`` while reading, then run ``check``.
    Returns the size and the content type (``check`` may name the one found in the bytes). Removes ``path`` on
    any failure; a full disk is an ``UploadsError`` naming the directory."""
    try:
        with disk_errors(path.parent):
            size = write_durably(source, path, max_bytes)
        if check is not None:
            content_type = check(path) or content_type
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size, content_type


@contextlib.contextmanager
def disk_errors(directory: Path) -> Iterator[None]:
    """A full disk (or quota) becomes an ``UploadsError`` that names the directory: the file was not accepted."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = os.fspath(directory)
        raise StorageFull(f"no space left on the disk holding {where}; the upload was not kept") from exc
