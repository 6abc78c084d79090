"""What an emulated account keeps: records in SQLite, originals and rendered variants as files.

``Storage.open(data_dir)`` opens all three; the rest of the emulator reads and writes through it.
"""

from __future__ import annotations

from ._database import Database, DuplicateError, Transaction
from ._files import CachedVariant, Originals, VariantCache
from ._records import AccountSettings, ImageRecord, SigningKeyRecord, VariantRecord, iso_time, nanoseconds
from ._storage import Storage

__all__ = [
    "AccountSettings",
    "CachedVariant",
    "Database",
    "DuplicateError",
    "ImageRecord",
    "Originals",
    "SigningKeyRecord",
    "Storage",
    "Transaction",
    "VariantCache",
    "VariantRecord",
    "iso_time",
    "nanoseconds",
]
