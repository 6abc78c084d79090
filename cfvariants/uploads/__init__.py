"""Background uploads: stage durably, upload from huey workers exactly once, reconcile what was lost.

from cfvariants.uploads import UploadQueue, UploadStore, huey_from_url
"""

from .hueyconf import huey_from_url
from .queue import ReconcileReport, UploadQueue
from .records import UploadRecord, UploadsError, UploadState, UploadStore
from .validation import ACCEPTED_FORMATS, UploadRejected, check_image_file
from .worker import MARKER_KEY, Outcome, custom_id_for, process

__all__ = [
    "ACCEPTED_FORMATS",
    "MARKER_KEY",
    "Outcome",
    "ReconcileReport",
    "UploadQueue",
    "UploadRecord",
    "UploadRejected",
    "UploadState",
    "UploadStore",
    "UploadsError",
    "check_image_file",
    "custom_id_for",
    "huey_from_url",
    "process",
]
