"""``CloudflareImagesStorage``: a Django ``Storage`` whose files are Cloudflare Images, and ``select_storage``.

Configured like any Django 4.2+ storage::

    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "cloudflare_images": {
            "BACKEND": "cfvariants.django.storage.CloudflareImagesStorage",
            "OPTIONS": {"require_signed_urls": False},
        },
    }

Each value is read from the ``OPTIONS`` first, then ``settings.CFVARIANTS``, then the environment
(``CF_ACCT_ID``, ``CF_IMG_TOKEN``, ``CF_IMG_HASH``...; see ``cfvariants.django._conf``), on first use: building
the storage reads nothing and opens no connection. Storage-only options: ``require_signed_urls`` (every image
private, every URL signed), ``custom_ids`` (default: names are custom ids unless the storage is private),
``timeout`` (seconds per API request), ``dev`` (``True``/``False`` overrides ``CFVARIANTS["DEV"]``; in
development the storage works on the local emulator in ``CFVARIANTS["DATA_DIR"]``, the one the template tags and
``cfvariants.django.urls`` use), ``background`` (``True``: saving stages the file and returns at once; huey
uploads it, see ``cfvariants.django._uploads``).

The stored name of a file is its image id, so ``{{ profile.image|variant:'w=200' }}`` works on the field. How
names, sizes and times are decided is explained in ``cfvariants.storage``.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from django.conf import settings as django_settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.core.files.storage.handler import InvalidStorageError
from django.core.files.utils import validate_file_name
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone

from cfvariants._delivery import Delivery
from cfvariants._errors import SettingsError
from cfvariants._layouts import THUMBHASH_KEY, Original
from cfvariants._refs import LocalImage, PrivateImage
from cfvariants._segments import VariantLike
from cfvariants.client import ConflictError, ImagesClient, NotFoundError
from cfvariants.limits import MAX_CUSTOM_ID_LENGTH, is_uuid
from cfvariants.storage import HEIGHT_KEY, SIZE_KEY, WIDTH_KEY, ImageStore
from cfvariants.uploads import UploadRecord, UploadState, custom_id_for
from cfvariants.uploads._records import is_upload_id

from . import _conf as conf
from ._compat import HAS_IS_NAME_AVAILABLE, available_name

__all__ = [
    "CloudflareImagesStorage",
    "SelectedStorage",
    "background_target",
    "dev_storage",
    "is_cloudflare_storage",
    "select_storage",
]

_CONF_OPTIONS = (
    "account_id", "api_token", "account_hash", "signing_key", "domain", "api_base", "signed_expires_in", "dev",
)  # fmt: skip
_OWN_OPTIONS = ("require_signed_urls", "custom_ids", "timeout", "background")
OPTIONS = _CONF_OPTIONS + _OWN_OPTIONS
SECRET_OPTIONS = frozenset({"api_token", "signing_key"})
_CANONICAL_PATH = "cfvariants.django.storage.CloudflareImagesStorage"
_SAVE_ATTEMPTS = 5

_generation = 0  # bumped when the settings a storage reads change; each storage rebuilds its backend then


@dataclass(frozen=True)
class _Backend:
    generation: int
    store: ImageStore
    dev: bool


class CloudflareImagesStorage(Storage):
    """Files on Cloudflare Images (or, in development, on the local emulator). See the module docs.

    Beyond Django's ``Storage``: ``url(name, variant=None, expire=None, **options)`` (a variant, keyword
    options, a signed URL when ``expire`` seconds are given or the storage is private), ``url_variant(name,
    variant)`` (the original app's), and ``store`` (the ``cfvariants.storage.ImageStore`` underneath).
    """

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise conf.ConfigurationError(
                f"CloudflareImagesStorage: unknown option {unknown[0]!r}{conf._suggestion(unknown[0], OPTIONS)}; "
                f"known: {', '.join(OPTIONS)}"
            )
        for flag in ("require_signed_urls", "custom_ids", "dev", "background"):
            if options.get(flag) is not None and not isinstance(options[flag], bool):
                raise conf.ConfigurationError(f"CloudflareImagesStorage: {flag} must be True or False")
        timeout = options.get("timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
            raise conf.ConfigurationError("CloudflareImagesStorage: timeout must be a positive number of seconds")
        if options.get("custom_ids") and options.get("require_signed_urls"):
            raise conf.ConfigurationError(
                "CloudflareImagesStorage: custom_ids=True with require_signed_urls=True: Cloudflare cannot make an "
                "image with a custom id private; leave custom_ids out so private images get generated ids"
            )
        self._options = dict(options)
        self._backend_cache: _Backend | None = None
        self._lock = threading.Lock()
        self._known: dict[str, _Known] = {}  # name -> (image id, size, ThumbHash) of a stored image: final
        self._originals: dict[str, Original] = {}  # name -> size and ThumbHash recorded when this process saved it

    # -- configuration, read on first use ------------------------------------------------------------------------

    def _backend(self) -> _Backend:
        backend = self._backend_cache
        if backend is None or backend.generation != _generation:
            with self._lock:
                backend = self._backend_cache
                if backend is None or backend.generation != _generation:
                    backend = self._backend_cache = self._build_backend(_generation)
        return backend

    def _build_backend(self, generation: int) -> _Backend:
        config = conf.load(**{name: self._options.get(name) for name in _CONF_OPTIONS})
        private = bool(self._options.get("require_signed_urls"))
        delivery: Delivery | None
        make_client: Callable[[], ImagesClient]
        timeout = self._options.get("timeout")
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        if config.dev:
            from ._dev import local_cloudflare  # noqa: PLC0415 - the emulator is imported only in development

            local = local_cloudflare(config)
            delivery = local.delivery

            def make_client() -> ImagesClient:
                return local.client(**extra)
        else:
            delivery = config.delivery() if config.settings.account_hash else None
            settings = config.settings

            def make_client() -> ImagesClient:
                try:
                    return ImagesClient.from_settings(settings, delivery=delivery, **extra)
                except SettingsError as exc:
                    raise conf.ConfigurationError(
                        f"CloudflareImagesStorage: {exc} (or set it in {conf.SETTING_NAME} or the storage's OPTIONS)"
                    ) from None

        store = ImageStore(
            make_client, delivery=delivery, require_signed_urls=private, custom_ids=self._options.get("custom_ids"),
            signed_expires_in=config.signed_expires_in,
            spool_max_memory=django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
        )  # fmt: skip
        return _Backend(generation=generation, store=store, dev=config.dev)

    @property
    def store(self) -> ImageStore:
        """The framework-neutral store this storage works through (its client is made on first use)."""
        return self._backend().store

    @property
    def dev(self) -> bool:
        """Whether this storage works on the local emulator (development)."""
        return self._backend().dev

    @property
    def background(self) -> bool:
        """Whether saving stages the file for a huey worker instead of uploading in the request."""
        return bool(self._options.get("background"))

    # -- names ---------------------------------------------------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """With custom ids: Django's rule (a free name as it is, else ``_`` + 7 random characters before the
        extension), within Cloudflare's 1,024 characters and never UUID-shaped. With generated ids: the name
        as it is (Cloudflare picks the id, so there is nothing to check)."""
        name = str(name).replace("\\", "/")
        if not self.store.custom_ids:
            return name
        limit = min(max_length, MAX_CUSTOM_ID_LENGTH) if max_length else MAX_CUSTOM_ID_LENGTH
        if not HAS_IS_NAME_AVAILABLE:
            return available_name(self, name, limit)
        return super().get_available_name(name, max_length=limit)

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        """Free, within ``max_length``, and not UUID-shaped (Cloudflare refuses UUIDs as custom ids)."""
        exceeds = bool(max_length) and len(name) > (max_length or 0)
        return not is_uuid(name) and not exceeds and not self.exists(name)

    # -- files ---------------------------------------------------------------------------------------------------

    def save(self, name: str | None, content: IO[Any] | File[Any], max_length: int | None = None) -> str:
        """Django's ``save``; with custom ids, a name taken after ``get_available_name`` checked it (another
        upload won the race: Cloudflare answers 409) goes round again, so it gets the next free name within
        ``max_length``."""
        if self.background:
            name = str(name if name is not None else getattr(content, "name", "") or "").replace("\\", "/")
            validate_file_name(name, allow_relative_path=True)
            return self._stage(name, content, max_length)
        for attempt in range(_SAVE_ATTEMPTS):
            try:
                return super().save(name, content, max_length=max_length)
            except ConflictError:
                if not self.store.custom_ids or attempt == _SAVE_ATTEMPTS - 1:
                    raise
                if _seekable(content):
                    content.seek(0)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _save(self, name: str, content: File[Any]) -> str:
        """Upload ``content`` (from its start); the returned name is the image id."""
        if _seekable(content):
            content.seek(0)
        image = self.store.save(content, name, unique=False, metadata=_recorded_metadata(content))
        original = Original.of(image.meta)
        if original is not None and (original.size or original.thumbhash) and len(self._originals) < 10_000:
            self._originals[image.id] = original
        return image.id

    def _stage(self, name: str, content: IO[Any] | File[Any], max_length: int | None) -> str:
        """Background save: stage ``content`` durably and enqueue it; the returned name is final (see
        ``cfvariants.django._uploads``). Nothing touches the network."""
        from ._uploads import get_queue, row_context, saving_row, staged_name  # noqa: PLC0415 - huey only when used

        directory, filename = posixpath.split(name.strip("/"))
        directory = directory or "uploads"
        longest = len(custom_id_for("0" * 32, filename, prefix=directory))
        if max_length is not None and longest > max_length:
            raise SuspiciousFileOperation(
                f"the stored name of {filename!r} would be {longest} characters, over the field's max_length "
                f"{max_length}: shorten upload_to or raise max_length"
            )
        if _seekable(content):
            content.seek(0)
        private = self.store.require_signed_urls
        row = saving_row.get()
        metadata = _recorded_metadata(content, placeholder=True)  # the record keeps the ThumbHash: restarts too
        size = getattr(content, "size", None)
        if isinstance(size, int) and not filename.lower().endswith(".svg"):
            metadata[SIZE_KEY] = size
        record = get_queue().submit(
            content,
            filename=filename,
            private=private,
            metadata=metadata,
            context=row_context(*row, prefix=directory) if row is not None and private else None,
            id_prefix=directory,
        )
        return staged_name(record, directory)

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        """The ORIGINAL file (the blob endpoint, not a variant), spooled: in memory up to
        ``FILE_UPLOAD_MAX_MEMORY_SIZE``, on disk beyond. Cloudflare images cannot change, so only reading is
        supported."""
        if mode not in ("rb", "br"):
            raise ValueError(
                f"CloudflareImagesStorage opens files for reading only, mode 'rb', not {mode!r}: an image on "
                "Cloudflare cannot be changed in place; save a new one"
            )
        try:
            spool = self.store.open(name)
        except NotFoundError:
            raise FileNotFoundError(f"no image {name!r} on Cloudflare Images") from None
        return File(spool, name=name)

    def delete(self, name: str) -> None:
        """Delete the image; a name with no image is not an error (as with Django's file storage). A background
        upload still waiting is discarded with its staged bytes."""
        if not name:
            raise ValueError("The name must be given to delete().")
        record = self.upload_record(name)
        if record is not None and record.state is not UploadState.READY:
            from ._uploads import get_queue  # noqa: PLC0415

            get_queue().discard(record.id)  # the row let go of it: a person's decision, so its bytes go too
            return
        self.store.delete(self._image_id(name, record))

    def exists(self, name: str) -> bool:
        """Whether an image has this id (one request for the image's details; nothing is downloaded)."""
        if not name:
            return False
        record = self.upload_record(name)
        if record is not None and record.state is not UploadState.READY:
            return True  # staged: the name is taken, the image is on its way
        return self.store.exists(self._image_id(name, record))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """``(directories, files)`` under ``path``: ``/`` in custom ids forms directories. Reads the whole
        account's listing (Cloudflare has no prefix filter)."""
        return self.store.listdir(path)

    def size(self, name: str) -> int:
        """The original's size in bytes, from the size recorded at save time (no download); for images saved
        by other means, counted while streaming the original."""
        try:
            return self.store.size(name)
        except NotFoundError:
            raise FileNotFoundError(f"no image {name!r} on Cloudflare Images") from None

    def get_created_time(self, name: str) -> datetime:
        """When the image was uploaded (from its details)."""
        try:
            return _django_datetime(self.store.uploaded(name))
        except NotFoundError:
            raise FileNotFoundError(f"no image {name!r} on Cloudflare Images") from None

    def get_modified_time(self, name: str) -> datetime:
        """The upload time too: an image on Cloudflare never changes after upload."""
        return self.get_created_time(name)

    # -- URLs ------------------------------------------------------------------------------------------------------

    def url(
        self,
        name: str | None,
        variant: VariantLike = None,
        expire: int | float | timedelta | None = None,
        **options: Any,
    ) -> str:
        """The delivery URL of the image: ``url(name)`` (``public``), ``url(name, "avatar")``,
        ``url(name, "w=200")``, ``url(name, width=200, fit="cover")``; signed when ``expire`` (seconds or a
        timedelta) is given or the storage is private. No network."""
        if not name:
            raise ValueError("CloudflareImagesStorage.url() needs the name (image id) of a stored file")
        ref = self.image_ref(name)
        if isinstance(ref, LocalImage):
            return str(ref)
        return self.store.url(ref or name, variant, expires_in=expire, **options)

    # -- background uploads: what a name stands for while and after it is uploaded ------------------------------

    def upload_record(self, name: str) -> UploadRecord | None:
        """The background upload behind ``name``, if it came from one and its record is kept (else ``None``)."""
        if not self.background or not name or name in self._known:
            return None
        upload_id = posixpath.basename(name).split(".", 1)[0]
        if not is_upload_id(upload_id):
            return None
        from ._uploads import get_store  # noqa: PLC0415

        record = get_store().find(upload_id)
        if record is not None and record.state is UploadState.READY and len(self._known) < 10_000:
            self._known[name] = (record.image_id, _recorded_size(record.metadata), _recorded_hash(record.metadata))
        return record

    def image_ref(self, name: str) -> str | LocalImage | None:
        """What templates show for ``name``: its image id once stored (a ``PrivateImage`` when the storage is
        private: every filter signs it); while a background upload waits, the staged file's preview (a
        ``LocalImage``: every filter renders it unchanged); ``None`` when the upload failed."""
        known = self._known.get(name)
        if known is not None:
            return self._stored_ref(known[0] or name)
        record = self.upload_record(name)
        if record is None:
            return self._stored_ref(name)
        if record.state is UploadState.READY:
            return self._stored_ref(record.image_id or name)
        if record.state is UploadState.FAILED:
            return None
        from ._uploads import preview_url  # noqa: PLC0415

        preview = preview_url(record)
        return LocalImage(preview) if preview else None

    def _stored_ref(self, image_id: str) -> str:
        return PrivateImage(image_id) if self._options.get("require_signed_urls") else image_id

    def upload_state(self, name: str) -> str:
        """``"pending"``, ``"uploading"``, ``"failed"``... while a background upload is not stored, ``"ready"``
        once it is (and for every image that did not come through the queue), ``""`` for no file."""
        if not name:
            return ""
        if name in self._known:
            return UploadState.READY.value
        record = self.upload_record(name)
        return UploadState.READY.value if record is None else record.state.value

    def dimensions(self, name: str) -> tuple[int, int] | None:
        """``(width, height)`` recorded when the image was staged or saved: no download (the staged record, or
        one request for the image's details). ``None`` when nothing was recorded (images stored by other means)."""
        known = self._known.get(name)
        if known is not None and known[1] is not None:
            return known[1]
        saved = self._originals.get(name)
        if saved is not None and saved.size is not None:
            return saved.size
        record = self.upload_record(name)
        if record is not None:
            return _recorded_size(record.metadata)
        try:
            size = _recorded_size(self.store.get(name).meta)
        except NotFoundError:
            return None
        if size is not None and len(self._known) < 10_000:
            self._known[name] = (name, size, None)
        return size

    def recorded_original(self, name: str) -> Original | None:
        """What was recorded of ``name``'s original, for layouts and placeholders, without a request (a template
        render asks): the size and ThumbHash this process stored with it, else those its background upload's
        record holds (the record ``image_ref`` reads anyway; it survives restarts). ``None`` when neither knows:
        declare ``width_field``/``height_field``/``thumbhash_field`` on the model to keep them with the row."""
        if not name:
            return None
        original = self._originals.get(name)
        if original is not None:
            return original
        known = self._known.get(name)
        if known is None:
            record = self.upload_record(name)
            if record is not None:
                known = (record.image_id, _recorded_size(record.metadata), _recorded_hash(record.metadata))
        if known is None or (known[1] is None and known[2] is None):
            return None
        width, height = known[1] or (None, None)
        return Original(width, height, known[2])

    def _image_id(self, name: str, record: UploadRecord | None) -> str:
        if record is not None and record.image_id:
            return record.image_id
        known = self._known.get(name)
        return known[0] if known is not None and known[0] else name

    def url_variant(self, name: str, variant: VariantLike) -> str:
        """``url(name, variant)``, under the original app's name."""
        return self.url(name, variant)

    # -- copies, pickles, migrations -----------------------------------------------------------------------------

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """For migrations: the options, without secrets (``api_token`` and ``signing_key`` come from settings
        or the environment when the storage is rebuilt, and never end up in a migration file)."""
        cls = type(self)
        path = _CANONICAL_PATH if cls is CloudflareImagesStorage else f"{cls.__module__}.{cls.__qualname__}"
        kwargs = {name: value for name, value in self._options.items() if name not in SECRET_OPTIONS}
        return path, (), kwargs

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles (task queues) and copies carry the options only: no client, no connection, no lock. Options
        given as ``OPTIONS`` travel with the pickle, secrets included; secrets kept in ``settings.CFVARIANTS``
        or the environment do not."""
        return (_restore, (type(self), self._options))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'**********' if name in SECRET_OPTIONS and value else value!r}"
            for name, value in self._options.items()
        )
        return f"{type(self).__name__}({shown})"


def _restore(cls: type[CloudflareImagesStorage], options: dict[str, Any]) -> CloudflareImagesStorage:
    return cls(**options)


def _recorded_size(metadata: dict[str, Any]) -> tuple[int, int] | None:
    width, height = metadata.get(WIDTH_KEY), metadata.get(HEIGHT_KEY)
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return None


_Known = tuple[str | None, tuple[int, int] | None, str | None]


def _recorded_hash(metadata: dict[str, Any]) -> str | None:
    thumbhash = metadata.get(THUMBHASH_KEY)
    return thumbhash if isinstance(thumbhash, str) and thumbhash else None


def _recorded_metadata(content: object, *, placeholder: bool = False) -> dict[str, Any]:
    """``{cfv_width, cfv_height}`` of an image about to be stored, from what the validators found (or read from
    the file's header now), so ``dimensions()`` never needs the original; with the ThumbHash too when a
    ``thumbhash_field`` computed it at assignment (``placeholder_facts``), or when ``placeholder`` asks for it
    (a background upload's record then carries it, and the worker does not compute it again)."""
    from .validators import image_facts, placeholder_facts  # noqa: PLC0415

    facts = image_facts(content)
    metadata: dict[str, Any] = {} if facts is None else {WIDTH_KEY: facts.width, HEIGHT_KEY: facts.height}
    recorded = placeholder_facts(content, compute=placeholder)
    if recorded:
        metadata = {**recorded, **metadata}  # the validators' size is the one the checks passed
    return metadata


def _seekable(content: IO[bytes] | File[Any]) -> bool:
    try:
        return bool(content.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _django_datetime(moment: datetime) -> datetime:
    """Aware UTC with ``USE_TZ``, naive in the default time zone without (as Django's file storage returns)."""
    if django_settings.USE_TZ:
        return moment.astimezone(UTC)
    return timezone.make_naive(moment, timezone.get_default_timezone())


# -- select_storage: the original app's pattern ----------------------------------------------------------------------

_dev_storages: dict[str, CloudflareImagesStorage] = {}


def dev_storage() -> CloudflareImagesStorage:
    """The development storage: a ``CloudflareImagesStorage`` on the local emulator in
    ``CFVARIANTS["DATA_DIR"]`` (one per directory and process). It takes the production storage's behaviour
    options (``background``, ``require_signed_urls``, ``custom_ids``, ``timeout`` from
    ``STORAGES[CFVARIANTS["STORAGE"]]["OPTIONS"]``), never its credentials, so development takes the same path."""
    from ._dev import data_dir  # noqa: PLC0415 - the emulator is imported only in development

    directory = str(data_dir())
    storage = _dev_storages.get(directory)
    if storage is None:
        storage = _dev_storages.setdefault(directory, CloudflareImagesStorage(dev=True, **_production_behaviour()))
    return storage


def _production_behaviour() -> dict[str, Any]:
    entry = (getattr(django_settings, "STORAGES", None) or {}).get(conf.get_config().storage)
    options = entry.get("OPTIONS") if isinstance(entry, dict) else None
    if not isinstance(options, dict):
        return {}
    return {name: options[name] for name in _OWN_OPTIONS if name in options}


class SelectedStorage(Storage):
    """What ``select_storage()`` returns: a storage that decides which storage it is on first use, not when the
    model class is created. So a broken configuration never crashes an import (``manage.py check`` reports it
    as ``cfvariants.E0xx``), and a settings change (``override_settings``) is followed. Every method is the
    selected storage's: ``dev_storage()`` in development, else ``STORAGES[CFVARIANTS["STORAGE"]]``."""

    _config: conf.Config | None = None
    _target: Storage | None = None

    @property
    def target(self) -> Storage:
        """The storage selected for the current settings (raises ``ConfigurationError`` naming the problem)."""
        config = conf.get_config()
        target = self._target
        if target is None or self._config is not config:
            target = _select(config)
            self._config, self._target = config, target
        return target

    def __getattr__(self, name: str) -> Any:  # CloudflareImagesStorage extras: store, dev, background, url_variant
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.target, name)

    def __repr__(self) -> str:
        return "SelectedStorage(select_storage)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (select_storage, ())


def _delegate(method: str) -> Callable[..., Any]:
    def delegated(self: SelectedStorage, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.target, method)(*args, **kwargs)

    delegated.__name__ = delegated.__qualname__ = method
    delegated.__doc__ = f"``{method}()`` of the selected storage."
    return delegated


for _method in (
    "open", "save", "get_valid_name", "get_alternative_name", "get_available_name", "generate_filename", "path",
    "delete", "exists", "listdir", "size", "url", "get_accessed_time", "get_created_time", "get_modified_time",
    "is_name_available", "upload_record", "image_ref", "upload_state", "dimensions",
):  # fmt: skip
    setattr(SelectedStorage, _method, _delegate(_method))

_SELECTED = SelectedStorage()


def select_storage() -> Storage:
    """``ImageField(storage=select_storage)``: in development (``CFVARIANTS["DEV"]``, default
    ``ENV_NAME == "dev"``) the images stay on this machine, in the local emulator (``dev_storage()``), with
    working variant URLs; otherwise ``storages["cloudflare_images"]`` (or the alias in
    ``CFVARIANTS["STORAGE"]``). Django calls it when the model class is created; what it returns decides on
    first use (``SelectedStorage``), so importing models never reads the configuration. Migrations record the
    function, not the storage."""
    return _SELECTED


def _select(config: conf.Config) -> Storage:
    if config.dev:
        return dev_storage()
    try:
        return storages[config.storage]
    except InvalidStorageError:
        raise conf.ConfigurationError(
            f"select_storage(): settings.STORAGES has no {config.storage!r} entry; add one with BACKEND "
            f"'{_CANONICAL_PATH}', or name another alias in {conf.SETTING_NAME}['STORAGE']"
        ) from None


def background_target() -> CloudflareImagesStorage:
    """The Cloudflare storage ``select_storage()`` picks: background upload workers send files with its client."""
    target = _SELECTED.target
    if not isinstance(target, CloudflareImagesStorage):
        raise conf.ConfigurationError(
            f"background uploads: STORAGES[{conf.get_config().storage!r}] is a {type(target).__name__}, not a "
            f"CloudflareImagesStorage"
        )
    return target


def is_cloudflare_storage(storage: object) -> bool:
    """Whether ``storage`` keeps its files on Cloudflare Images (``CloudflareImagesStorage`` or
    ``select_storage()``'s), decided without reading the configuration."""
    return isinstance(storage, CloudflareImagesStorage | SelectedStorage)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    global _generation  # noqa: PLW0603 - the process-wide counter this module exists for
    if setting in (conf.SETTING_NAME, "ENV_NAME", "MEDIA_ROOT", "FILE_UPLOAD_MAX_MEMORY_SIZE", "STORAGES"):
        _generation += 1
        _dev_storages.clear()
