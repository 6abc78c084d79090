"""Django sources: every image file of a storage, and the files a model field points at.

For a model field, each row moves on its own: its file is uploaded (or found already uploaded, by content hash
or custom id), and only then is the row's file name rewritten to the image id, in one transaction per row that
changes the row only if it still holds the old name. So a run stopped at any point leaves every row either
pointing at its old file (which is still there) or at its image on Cloudflare, and a second run finishes the
job: rows that already hold an image id are skipped, an image stored whose row was not rewritten yet is found
again and its row rewritten, none twice. Old files stay unless ``delete_source`` is given; then a file goes
once its row points at its image and no other row still names it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.files.storage import Storage
from django.db import models, router, transaction

from cfvariants._errors import CFVariantsError
from cfvariants.cli._files import IMAGE_EXTENSIONS
from cfvariants.cli._progress import FileResult
from cfvariants.cli._uploader import UploadOptions, upload_one
from cfvariants.client import AsyncImagesClient, CloudflareImagesError, NotFoundError

_CHUNK = 500  # rows read per query: memory stays flat however big the table is


class MigrationSetupError(CFVariantsError, ValueError):
    """The migration cannot start: a bad ``app.Model.field``, a field that is not a file field, a source
    storage that is already Cloudflare Images."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file in a Django storage, as the uploader sees it."""

    storage: Storage
    name: str
    label: str = ""

    @property
    def shown(self) -> str:
        return self.label or self.name

    @property
    def relative(self) -> str:
        return self.name

    def open(self) -> IO[bytes]:
        return self.storage.open(self.name, "rb")


def walk_storage(storage: Storage, path: str = "") -> Iterator[str]:
    """The names of the image files (by extension) under ``path`` in ``storage``, sorted, hidden ones left out."""
    directories, files = storage.listdir(path)
    for name in sorted(files):
        if not name.startswith(".") and posixpath.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
            yield posixpath.join(path, name) if path else name
    for name in sorted(directories):
        if not name.startswith("."):
            yield from walk_storage(storage, posixpath.join(path, name) if path else name)


def _check_source(storage: Storage) -> None:
    from cfvariants.django.storage import is_cloudflare_storage  # noqa: PLC0415 - only to refuse it

    if is_cloudflare_storage(storage):  # CloudflareImagesStorage, or select_storage()'s
        raise MigrationSetupError(
            "the source storage is Cloudflare Images already; name the storage the files are in now "
            "(e.g. --from-storage default)"
        )


@dataclass(frozen=True)
class StorageSource:
    """Every image file of a Django storage (under ``path``); with ``delete_source``, each file is deleted from
    the storage once Cloudflare is known to hold its content."""

    storage: Storage
    path: str = ""
    delete_source: bool = False

    def __post_init__(self) -> None:
        _check_source(self.storage)

    def count(self) -> tuple[int, int | None]:
        return sum(1 for _ in walk_storage(self.storage, self.path)), None

    def items(self) -> Iterator[StoredFile]:
        for name in walk_storage(self.storage, self.path):
            yield StoredFile(self.storage, name)

    async def work(self, client: AsyncImagesClient, item: StoredFile, options: UploadOptions) -> FileResult:
        return await upload_one(client, item, options)

    def record(self, item: StoredFile, result: FileResult) -> FileResult:
        if self.delete_source and result.verified:
            return _delete(item.storage, item.name, result)
        return result


@dataclass(frozen=True, slots=True)
class Row:
    """One row to migrate: its primary key, the file name it holds, and whether the source storage has it."""

    pk: Any
    name: str
    file: StoredFile
    in_source: bool


def resolve_field(path: str) -> models.FileField:
    """``"app_label.Model.field"`` -> the model's ``FileField``/``ImageField``, or a clear error."""
    parts = path.split(".")
    if len(parts) != 3 or not all(parts):
        raise MigrationSetupError(f"{path!r} is not app_label.Model.field (e.g. gallery.Profile.image)")
    app_label, model_name, field_name = parts
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as exc:
        raise MigrationSetupError(f"{path}: {exc}") from None
    try:
        found = model._meta.get_field(field_name)
    except FieldDoesNotExist:
        names = ", ".join(f.name for f in model._meta.get_fields() if isinstance(f, models.FileField)) or "none"
        raise MigrationSetupError(f"{path}: {model_name} has no field {field_name!r} (file fields: {names})") from None
    if not isinstance(found, models.FileField):
        raise MigrationSetupError(f"{path}: {field_name} is a {type(found).__name__}, not a FileField or ImageField")
    return found


class FieldSource:
    """The files the rows of a model field point at (``"app.Model.field"`` or the field itself), read from
    ``from_storage`` (default: the field's own storage). See the module docs."""

    def __init__(
        self,
        field: str | models.FileField,
        *,
        from_storage: Storage | None = None,
        delete_source: bool = False,
        using: str | None = None,
    ) -> None:
        self.field = resolve_field(field) if isinstance(field, str) else field
        self.model: type[models.Model] = self.field.model
        self.storage = from_storage if from_storage is not None else self.field.storage
        _check_source(self.storage)
        self.delete_source = delete_source
        self.using = using or router.db_for_write(self.model)
        self.label = f"{self.model._meta.label}.{self.field.name}"

    def _rows(self) -> models.QuerySet[Any]:
        column = self.field.attname
        manager = self.model._base_manager.using(self.using)
        return manager.exclude(**{column: ""}).exclude(**{f"{column}__isnull": True})

    def count(self) -> tuple[int, int | None]:
        return self._rows().count(), None

    def items(self) -> Iterator[Row]:
        last: Any = None
        while True:
            page = self._rows().order_by("pk")
            if last is not None:
                page = page.filter(pk__gt=last)
            chunk = list(page.values_list("pk", self.field.attname)[:_CHUNK])
            for pk, name in chunk:
                label = f"{self.label} pk={pk} {name}"
                yield Row(pk, name, StoredFile(self.storage, name, label), self.storage.exists(name))
            if len(chunk) < _CHUNK:
                return
            last = chunk[-1][0]

    async def work(self, client: AsyncImagesClient, row: Row, options: UploadOptions) -> FileResult:
        if row.in_source:
            return await upload_one(client, row.file, options)
        shown = row.file.shown
        try:  # not in the source: the row names an image already (an earlier run), or the file is gone
            image = await client.get(row.name)
        except NotFoundError:
            return FileResult(
                shown, "failed", 0, reason="the file is not in the source storage, and no image has it as id"
            )
        except CloudflareImagesError as exc:
            return FileResult(shown, "failed", 0, reason=str(exc))
        if image.draft:
            return FileResult(shown, "failed", 0, image_id=image.id, reason="its image is a pending direct upload")
        return FileResult(shown, "skipped", 0, image_id=image.id, reason="already on Cloudflare Images")

    def record(self, row: Row, result: FileResult) -> FileResult:
        if result.status == "failed" or not row.in_source:
            return result
        new_id = result.image_id
        if not result.verified or new_id is None:
            return FileResult(
                result.path, "failed", result.size, image_id=new_id,
                reason=f"{result.reason}; the row is left as it is (that image was not stored from this file)",
            )  # fmt: skip
        status = result.status
        if new_id != row.name:
            column = self.field.attname
            with transaction.atomic(using=self.using):
                changed = (
                    self.model._base_manager.using(self.using)
                    .filter(pk=row.pk, **{column: row.name})
                    .update(**{column: new_id})
                )
            if not changed:
                return FileResult(
                    result.path, "failed", result.size, image_id=new_id,
                    reason=f"the row changed during the migration; it is left as it is ({new_id} stays on Cloudflare)",
                )  # fmt: skip
            status = "uploaded"  # this run moved the row (its image may have been stored by an earlier one)
        final = FileResult(result.path, status, result.size, image_id=new_id, reason=result.reason, verified=True)
        if self.delete_source and not self._still_named(row):
            return _delete(self.storage, row.name, final)
        return final

    def _still_named(self, row: Row) -> bool:
        """Whether another row still points at the old file (it needs the file until it is migrated too)."""
        others = self.model._base_manager.using(self.using).filter(**{self.field.attname: row.name})
        return others.exclude(pk=row.pk).exists()


def _delete(storage: Storage, name: str, result: FileResult) -> FileResult:
    try:
        storage.delete(name)
    except OSError as exc:
        return FileResult(
            result.path, "failed", result.size, image_id=result.image_id, verified=True,
            reason=f"stored as {result.image_id}, but the old file could not be deleted: {exc}",
        )  # fmt: skip
    return result
