"""The code behind ``cfvariants.migrate`` (its ``__init__`` re-exports what it offers)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._run import DirectorySource, MigrationReport
from ._run import run_migration as migrate

if TYPE_CHECKING:
    from django.core.files.storage import Storage
    from django.db.models import FileField


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
