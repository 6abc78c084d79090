"""Background uploads: stage durably, upload from huey workers exactly once, reconcile what was lost.

from cfvariants.uploads import UploadQueue, huey_from_url, store_from_url
"""

import typing as _typing

from cfvariants._public import name_public_module as _name_public_module

from ._control import UploadStats
from ._hueyconf import huey_from_url, store_from_url
from ._queue import ReconcileReport, UploadQueue
from ._records import Block, StorageFull, UploadRecord, UploadRecords, UploadsError, UploadState, UploadTooLarge
from ._sqlite_store import UploadStore
from ._validation import ACCEPTED_FORMATS, UploadRejected, check_image_file
from ._worker import MARKER_KEY, Outcome, classify, custom_id_for, process

if _typing.TYPE_CHECKING:  # for type checkers and the API reference (read statically); at run time: __getattr__
    from ._redis_store import RedisUploadStore

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
        from ._redis_store import RedisUploadStore  # noqa: PLC0415

        _name_public_module({"__name__": __name__, name: RedisUploadStore}, [name])
        return RedisUploadStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_name_public_module(globals(), __all__)
