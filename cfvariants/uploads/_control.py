"""What a person (or a health check) does with uploads: count them, retry or discard the ones that need
attention. ``UploadQueue`` uses these and also sends the retried uploads at once; ``cfvariants uploads`` uses
them on the store alone, and the queue's sweep sends what they put back to ``pending`` within a minute."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ._records import Block, UploadRecord, UploadRecords, UploadsError, UploadState

_RETENTION_BATCH = 1000  # failed uploads discarded per sweep, oldest first
_ALL = 1_000_000


@dataclass(frozen=True)
class UploadStats(Mapping[str, int]):
    """How many uploads are in each state (``stats["failed"]``, ``dict(stats)``), and the block, if any."""

    counts: Mapping[UploadState, int]
    block: Block | None

    def __getitem__(self, state: str) -> int:
        return self.counts[UploadState(state)]

    def __iter__(self) -> Iterator[str]:
        return iter(state.value for state in UploadState)

    def __len__(self) -> int:
        return len(UploadState)

    @property
    def needs_attention(self) -> int:
        """Uploads a person should look at: blocked (credentials, account) or failed (refused images)."""
        return self.counts[UploadState.BLOCKED] + self.counts[UploadState.FAILED]


def stats(store: UploadRecords) -> UploadStats:
    return UploadStats(store.counts(), store.current_block())


def retry(store: UploadRecords, upload_id: str) -> list[str]:
    """Put a failed or blocked upload back to ``pending``; returns the ids to send. Retrying a blocked upload
    says the credentials are fixed: the block is lifted and every blocked upload is tried again (if they are not
    fixed, the first attempt blocks the queue again)."""
    record = store.get(upload_id)
    if record.state is UploadState.BLOCKED:
        return store.unblock()
    if record.state is not UploadState.FAILED:
        raise UploadsError(f"upload {upload_id} is {record.state.value}: only failed or blocked uploads are retried")
    _require_bytes(store, record)
    if not store.requeue(upload_id, states=(UploadState.FAILED,)):
        raise UploadsError(f"upload {upload_id} changed meanwhile: it is {store.get(upload_id).state.value}")
    return [upload_id]


def retry_failed(store: UploadRecords) -> list[str]:
    """Every failed upload back to ``pending`` (those whose bytes are still kept); returns their ids."""
    failed = store.recent(state=UploadState.FAILED, limit=_ALL, newest_first=False)
    return [
        record.id
        for record in failed
        if _has_bytes(store, record.id) and store.requeue(record.id, states=(UploadState.FAILED,))
    ]


def discard(store: UploadRecords, upload_id: str) -> UploadRecord:
    """Forget an upload that is not stored, and delete its staged bytes (a person's decision); returns what it
    was. An upload a worker is sending right now, or one already stored, is refused."""
    record = store.get(upload_id)
    if record.state is UploadState.UPLOADING:
        raise UploadsError(f"upload {upload_id} is being sent right now; discard it once it is ready or failed")
    if record.state is UploadState.READY:
        raise UploadsError(f"upload {upload_id} is stored already as image {record.image_id}; delete the image instead")
    store.delete(upload_id)
    return record


def discard_expired(store: UploadRecords, *, older_than: float) -> list[UploadRecord]:
    """The retention policy: failed uploads not touched for ``older_than`` seconds are discarded (bytes and
    record). Blocked and pending uploads are never discarded by time."""
    cutoff = store.clock() - older_than
    expired = [
        record
        for record in store.recent(state=UploadState.FAILED, limit=_RETENTION_BATCH, newest_first=False)
        if record.updated_at < cutoff
    ]
    for record in expired:
        store.delete(record.id)
    return expired


def _has_bytes(store: UploadRecords, upload_id: str) -> bool:
    try:
        store.open_staged(upload_id).close()
    except FileNotFoundError:
        return False
    return True


def _require_bytes(store: UploadRecords, record: UploadRecord) -> None:
    if not _has_bytes(store, record.id):
        raise UploadsError(f"upload {record.id} ({record.filename}) has no staged bytes left; upload the file again")


def duration(seconds: float) -> str:
    """``45s``, ``12 min``, ``3.5 h``, ``7 days``: for log lines, reasons and listings."""
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
