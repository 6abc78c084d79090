"""Moving existing images to Cloudflare Images: from a directory, a Django storage, or a Django model field.

    from cfvariants.migrate import migrate_directory, migrate_field, migrate_storage
    report = migrate_directory("media/", upload=UploadOptions(id_from_path=True))
    report = migrate_field("gallery.Profile.image", delete_source=False)
    report.migrated, report.skipped, report.failed, report.failures

Every run is resumable: each image carries its file's SHA-256 in its metadata (and its path, or the path is its
custom id), so a second run skips what is there and moves the rest, none twice. Requests go through a token
bucket that keeps within Cloudflare's 1,200 requests per five minutes (``rate_limit=``; a batch token allows
``BATCH_TOKEN_LIMIT``), and a 429 pauses every request for its ``Retry-After``. Uploads run concurrently on a
background event loop; the source is read, and rows are rewritten, in the calling thread (one transaction per
row, only after its image is stored). ``cfvariants migrate`` is the same on the command line, with a progress
bar. Needs the ``cli`` extra (and ``django`` for the Django sources).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfvariants.cli._progress import FileResult, Reporter
from cfvariants.cli._uploader import HASH_KEY, PATH_KEY, UploadOptions
from cfvariants.client import BATCH_TOKEN_LIMIT, DEFAULT_LIMIT, RateLimit

from ._run import KEPT_FAILURES, DirectorySource, MigrationReport, Source
from ._run import run_migration as migrate

if TYPE_CHECKING:
    from django.core.files.storage import Storage
    from django.db.models import FileField

__all__ = [
    "BATCH_TOKEN_LIMIT",
    "DEFAULT_LIMIT",
    "HASH_KEY",
    "KEPT_FAILURES",
    "PATH_KEY",
    "DirectorySource",
    "FileResult",
    "MigrationReport",
    "RateLimit",
    "Reporter",
    "Source",
    "UploadOptions",
    "migrate",
    "migrate_directory",
    "migrate_field",
    "migrate_storage",
]


def migrate_directory(
    root: str | os.PathLike[str], *, delete_source: bool = False, **arguments: Any
) -> MigrationReport:
    """The image files under ``root`` (recursively, hidden files left out); arguments as ``migrate``."""
    return migrate(DirectorySource(Path(root), delete_source=delete_source), **arguments)


def migrate_storage(
    storage: Storage, *, path: str = "", delete_source: bool = False, **arguments: Any
) -> MigrationReport:
    """The image files of a Django storage (under ``path``); arguments as ``migrate``."""
    from ._django import StorageSource  # noqa: PLC0415 - Django only when asked for

    return migrate(StorageSource(storage, path, delete_source), **arguments)


def migrate_field(
    field: str | FileField,
    *,
    from_storage: Storage | None = None,
    delete_source: bool = False,
    using: str | None = None,
    **arguments: Any,
) -> MigrationReport:
    """The files of a model field (``"app_label.Model.field"``), read from ``from_storage`` (default: the
    field's storage); each row's file name becomes its image id once the image is stored. Arguments as
    ``migrate``."""
    from ._django import FieldSource  # noqa: PLC0415 - Django only when asked for

    source = FieldSource(field, from_storage=from_storage, delete_source=delete_source, using=using)
    return migrate(source, **arguments)
