"""Background uploads for Django: the ``UploadQueue`` on ``huey.contrib.djhuey``'s ``HUEY``, built on first use.

``CloudflareImagesStorage(background=True)`` (``OPTIONS={"background": True}``) stages each saved file here and
returns at once; ``python manage.py run_huey`` is the worker (it imports ``cfvariants.django.tasks``, which
registers the upload task and the reconcile sweep on ``HUEY``). Nothing else is needed:

* a public image's custom id is fixed when it is staged (``<upload_to>/<yyyy>/<mm>/<upload id>.<ext>``), and that
  is the name the model row stores, so the row never points anywhere but at its final image;
* a private image cannot have a custom id (Cloudflare's rule): its row first stores a name of the same form, and
  the worker, once Cloudflare has answered with the generated id, rewrites every row holding that name
  (``UPDATE ... WHERE image = <name>``). Until then, and if that update raced the row's own commit, the storage
  answers for the name from the upload record, and the next read of the row through the field rewrites it;
* while an upload waits, every URL the storage and the template filters give is the staged file's, served by
  the preview view of ``cfvariants.django.urls`` (signed for private uploads).

Staged files live in ``CFVARIANTS["UPLOADS_DIR"]`` (default ``<MEDIA_ROOT>/cfuploads``), records in SQLite
there; with ``CFVARIANTS["UPLOADS_URL"] = "redis://..."`` both live in Redis, for workers on other machines.
"""

from __future__ import annotations

import logging
import os
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.core import signing
from django.urls import NoReverseMatch, reverse

from cfvariants._logsetup import configure_logging
from cfvariants.uploads import UploadQueue, UploadRecord, UploadRecords, custom_id_for, store_from_url

from . import _conf as conf

if TYPE_CHECKING:
    from cfvariants.client import ImagesClient

DEFAULT_DIR_NAME = "cfuploads"
ROW_KEY = "django"  # the record context key naming the rows that point at an upload: model label, field, name
_PREVIEW_SALT = "cfvariants.django.preview"
_PREVIEW_MAX_AGE = 6 * 3600
log = logging.getLogger("cfvariants.django")

saving_row: ContextVar[tuple[str, str] | None] = ContextVar("cfvariants_saving_row", default=None)
"""``(model label, field name)`` of the field file being saved (set by ``CloudflareImageFieldFile.save``)."""


def uploads_dir(config: conf.Config | None = None) -> Path:
    """``CFVARIANTS["UPLOADS_DIR"]``, else ``<MEDIA_ROOT>/cfuploads``, else ``./cfuploads``."""
    config = config if config is not None else conf.get_config()
    if config.uploads_dir is not None:
        return config.uploads_dir
    media_root = getattr(django_settings, "MEDIA_ROOT", "") or "."
    return Path(media_root) / DEFAULT_DIR_NAME


@dataclass
class _Built:
    config: conf.Config
    store: UploadRecords
    queue: UploadQueue | None = None


_lock = threading.Lock()
_built: _Built | None = None


def get_store() -> UploadRecords:
    """The store of upload records (no huey needed: the web process reads states and previews through it)."""
    return _current().store


def _current() -> _Built:
    global _built  # noqa: PLW0603 - the process-wide cache this module exists for
    config = conf.get_config()
    built = _built
    if built is None or built.config is not config:
        with _lock:
            built = _built
            if built is None or built.config is not config:
                if built is not None and built.queue is not None:
                    built.queue.upload_task.unregister()
                    built.queue.reconcile_task.unregister()
                store = store_from_url(config.uploads_url, uploads_dir(config), name="cfvariants")
                built = _built = _Built(config, store)
    return built


def get_queue() -> UploadQueue:
    """The process's upload queue on djhuey's ``HUEY`` (settings ``HUEY``; ``huey.contrib.djhuey`` in
    ``INSTALLED_APPS``). Raises ``ConfigurationError`` when huey is not set up for Django."""
    built = _current()
    if built.queue is None:
        with _lock:
            if built.queue is None:
                huey = _huey()
                huey.on_startup(name="cfvariants.django.logging")(_worker_logging)  # before the queue's own line
                built.queue = UploadQueue(huey, built.store, _worker_client, on_ready=adopt)
    return built.queue


def _worker_logging() -> None:
    """At a worker's start (run_huey), never at import: a stderr handler for ``cfvariants`` unless logging gives
    it one (``LOGGING``, or a root handler)."""
    with _lock:  # huey runs start-up hooks on every worker thread at once: one handler
        if not logging.getLogger("cfvariants").hasHandlers():
            configure_logging()


def background_in_use() -> bool:
    """Whether a Cloudflare storage of ``STORAGES`` or of a model field has ``background=True``."""
    from django.apps import apps  # noqa: PLC0415
    from django.core.files.storage import storages  # noqa: PLC0415
    from django.db import models  # noqa: PLC0415

    from .storage import CloudflareImagesStorage  # noqa: PLC0415 - storage imports this module

    for alias in getattr(django_settings, "STORAGES", None) or {}:
        try:
            storage = storages[alias]
        except Exception:  # noqa: S112 - an unusable entry is the system checks' to report
            continue
        if isinstance(storage, CloudflareImagesStorage) and _background(storage):
            return True
    return any(
        isinstance(field, models.FileField) and isinstance(field.storage, CloudflareImagesStorage)
        and _background(field.storage)
        for model in apps.get_models() for field in model._meta.get_fields()
    )  # fmt: skip


def _background(storage: Any) -> bool:
    try:
        return bool(storage.background)
    except (conf.ConfigurationError, TypeError):  # bad OPTIONS: the system checks report them
        return False


def announce_web() -> None:
    """In a web process (the first request, see ``cfvariants.django.apps``): when background uploads are on,
    leave the queue's fingerprint (``UploadQueue.announce_web``: queue, store, account; never a secret) that the
    ``run_huey`` worker checks at start, as the Flask reference app does at start-up. Without it the worker
    would warn that no web app has used its queue."""
    try:
        if not background_in_use():
            return
        log.info("web app (pid %d) %s", os.getpid(), get_queue().announce_web())
    except Exception as exc:  # e.g. huey not set up (the system checks say so): never fail the request
        log.warning("background uploads: could not leave the web app's fingerprint for the worker (%s)", exc)


def _huey() -> Any:
    if getattr(django_settings, "HUEY", None) is None:
        raise conf.ConfigurationError(
            "background uploads need huey for Django: add 'huey.contrib.djhuey' to INSTALLED_APPS and set HUEY "
            "(e.g. HUEY = {'huey_class': 'huey.SqliteHuey', 'filename': BASE_DIR / 'huey.db', 'immediate': False})"
        )
    from huey.contrib.djhuey import HUEY  # noqa: PLC0415 - importing djhuey builds the huey from settings

    return HUEY


def _worker_client() -> ImagesClient:
    """The client workers upload with: the storage ``select_storage()`` picks (the local emulator in
    development, ``STORAGES[CFVARIANTS["STORAGE"]]`` otherwise)."""
    from .storage import background_target  # noqa: PLC0415 - storage imports this module

    return background_target().store.client


# -- previews -------------------------------------------------------------------------------------------------------


def preview_url(record: UploadRecord) -> str | None:
    """The URL of the staged file, served by ``cfvariants.django.urls`` (signed, expiring, for a private upload);
    ``None`` when the URLconf does not include those routes."""
    try:
        url = reverse("cfvariants:upload-preview", kwargs={"upload_id": record.id})
    except NoReverseMatch:
        return None
    if record.private:
        token = signing.TimestampSigner(salt=_PREVIEW_SALT).sign(record.id)[len(record.id) + 1 :]
        url += "?sig=" + token
    return url


def verify_preview(record: UploadRecord, sig: str | None) -> bool:
    """Whether a preview request may see ``record``'s staged bytes (public ones: always)."""
    if not record.private:
        return True
    if not sig:
        return False
    try:
        signing.TimestampSigner(salt=_PREVIEW_SALT).unsign(f"{record.id}:{sig}", max_age=_PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return False
    return True


# -- rows learning a generated id -----------------------------------------------------------------------------------


def staged_name(record: UploadRecord, directory: str) -> str:
    """The name a background upload is saved under: its custom id for a public image; for a private one (which
    cannot have a custom id) a name of the same form, until the worker writes the generated id into the row."""
    if record.custom_id is not None:
        return record.custom_id
    return custom_id_for(record.id, record.filename, prefix=directory, now=record.created_at)


def row_context(model_label: str, field_name: str, *, prefix: str) -> dict[str, Any]:
    """The record context that lets ``adopt`` find the rows of ``model_label.field_name`` holding the staged
    name (``staged_name(record, prefix)``)."""
    return {ROW_KEY: {"model": model_label, "field": field_name, "prefix": prefix}}


def adopt(record: UploadRecord) -> None:
    """The queue's ``on_ready`` hook: ``adopt_rows``."""
    adopt_rows(record)


def adopt_rows(record: UploadRecord) -> int:
    """After a private upload is stored: write its generated image id into the rows still holding the staged
    name. Idempotent; returns how many rows changed (0 when the row is not committed yet: the storage answers
    for the staged name until a read through the field rewrites it)."""
    target = record.context.get(ROW_KEY)
    if not record.private or not record.image_id or not isinstance(target, dict):
        return 0
    from django.apps import apps  # noqa: PLC0415
    from django.db import close_old_connections  # noqa: PLC0415

    in_worker = not get_queue().huey.immediate  # as djhuey's db_task: a request's connection is left alone
    if in_worker:
        close_old_connections()
    try:
        model = apps.get_model(str(target["model"]))
        field = str(target["field"])
        name = staged_name(record, str(target["prefix"]))
        changed = model._default_manager.filter(**{field: name}).update(**{field: record.image_id})
    finally:
        if in_worker:
            close_old_connections()
    if changed:
        log.info("upload %s: %d row(s) of %s now hold image %s", record.id, changed, target["model"], record.image_id)
    return int(changed)
