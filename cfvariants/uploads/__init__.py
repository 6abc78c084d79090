"""Background uploads: stage durably, upload from huey workers exactly once, reconcile what was lost.

from cfvariants.uploads import UploadQueue, huey_from_url, store_from_url
"""

from .control import UploadStats
from .hueyconf import huey_from_url, store_from_url
from .queue import ReconcileReport, UploadQueue
from .records import Block, StorageFull, UploadRecord, UploadRecords, UploadsError, UploadState, UploadTooLarge
from .sqlite_store import UploadStore
from .validation import ACCEPTED_FORMATS, UploadRejected, check_image_file
from .worker import MARKER_KEY, Outcome, classify, custom_id_for, process

__all__ = [
    "ACCEPTED_FORMATS",
    "MARKER_KEY",
    "Block",
    "Outcome",
    "ReconcileReport",
    "RedisUploadStore",
    "StorageFull",
    "UploadQueue",
    "UploadRecord",
    "UploadRecords",
    "UploadRejected",
    "UploadState",
    "UploadStats",
    "UploadStore",
    "UploadTooLarge",
    "UploadsError",
    "check_image_file",
    "classify",
    "custom_id_for",
    "huey_from_url",
    "process",
    "store_from_url",
]


def __getattr__(name: str) -> object:
    if name == "RedisUploadStore":  # imported on use: redis is an optional dependency
        from .redis_store import RedisUploadStore  # noqa: PLC0415

        return RedisUploadStore
    raise AttributeError(name)
