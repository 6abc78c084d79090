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
(``CF_ACCT_ID``, ``CF_IMG_TOKEN``, ``CF_IMG_HASH``...; see ``cfvariants.django.conf``), on first use: building
the storage reads nothing and opens no connection. Storage-only options: ``require_signed_urls`` (every image
private, every URL signed), ``custom_ids`` (default: names are custom ids unless the storage is private),
``timeout`` (seconds per API request), ``dev`` (``True``/``False`` overrides ``CFVARIANTS["DEV"]``; in
development the storage works on the local emulator in ``CFVARIANTS["DATA_DIR"]``, the one the template tags and
``cfvariants.django.urls`` use).

The stored name of a file is its image id, so ``{{ profile.image|variant:'w=200' }}`` works on the field. How
names, sizes and times are decided is explained in ``cfvariants.storage``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from django.conf import settings as django_settings
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.core.files.storage.handler import InvalidStorageError
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone

from cfvariants.client import ConflictError, ImagesClient, NotFoundError
from cfvariants.client._checks import is_uuid
from cfvariants.delivery import Delivery, Variant
from cfvariants.errors import SettingsError
from cfvariants.storage import ImageStore

from . import conf

__all__ = ["CloudflareImagesStorage", "dev_storage", "select_storage"]

MAX_ID_LENGTH = 1024  # Cloudflare's limit on custom ids
_CONF_OPTIONS = (
    "account_id", "api_token", "account_hash", "signing_key", "domain", "api_base", "signed_expires_in", "dev",
)  # fmt: skip
_OWN_OPTIONS = ("require_signed_urls", "custom_ids", "timeout")
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
        for flag in ("require_signed_urls", "custom_ids", "dev"):
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
            from .dev import local_cloudflare  # noqa: PLC0415 - the emulator is imported only in development

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

    # -- names ---------------------------------------------------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """With custom ids: Django's rule (a free name as it is, else ``_`` + 7 random characters before the
        extension), within Cloudflare's 1,024 characters and never UUID-shaped. With generated ids: the name
        as it is (Cloudflare picks the id, so there is nothing to check)."""
        name = str(name).replace("\\", "/")
        if not self.store.custom_ids:
            return name
        limit = min(max_length, MAX_ID_LENGTH) if max_length else MAX_ID_LENGTH
        return super().get_available_name(name, max_length=limit)

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        return not is_uuid(name) and super().is_name_available(name, max_length=max_length)

    # -- files ---------------------------------------------------------------------------------------------------

    def save(self, name: str | None, content: IO[Any] | File[Any], max_length: int | None = None) -> str:
        """Django's ``save``; with custom ids, a name taken after ``get_available_name`` checked it (another
        upload won the race: Cloudflare answers 409) goes round again, so it gets the next free name within
        ``max_length``."""
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
        return self.store.save(content, name, unique=False).id

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
        """Delete the image; a name with no image is not an error (as with Django's file storage)."""
        if not name:
            raise ValueError("The name must be given to delete().")
        self.store.delete(name)

    def exists(self, name: str) -> bool:
        """Whether an image has this id (one request for the image's details; nothing is downloaded)."""
        return bool(name) and self.store.exists(name)

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
        variant: Variant = None,
        expire: int | float | timedelta | None = None,
        **options: Any,
    ) -> str:
        """The delivery URL of the image: ``url(name)`` (``public``), ``url(name, "avatar")``,
        ``url(name, "w=200")``, ``url(name, width=200, fit="cover")``; signed when ``expire`` (seconds or a
        timedelta) is given or the storage is private. No network."""
        if not name:
            raise ValueError("CloudflareImagesStorage.url() needs the name (image id) of a stored file")
        return self.store.url(name, variant, expires_in=expire, **options)

    def url_variant(self, name: str, variant: Variant) -> str:
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
    ``CFVARIANTS["DATA_DIR"]`` (one per directory and process)."""
    from .dev import data_dir  # noqa: PLC0415 - the emulator is imported only in development

    directory = str(data_dir())
    storage = _dev_storages.get(directory)
    if storage is None:
        storage = _dev_storages.setdefault(directory, CloudflareImagesStorage(dev=True))
    return storage


def select_storage() -> Storage:
    """``ImageField(storage=select_storage)``: in development (``CFVARIANTS["DEV"]``, default
    ``ENV_NAME == "dev"``) the images stay on this machine, in the local emulator (``dev_storage()``), with
    working variant URLs; otherwise ``storages["cloudflare_images"]`` (or the alias in
    ``CFVARIANTS["STORAGE"]``). Django calls it once, when the model class is created; migrations record the
    function, not the storage."""
    config = conf.get_config()
    if config.dev:
        return dev_storage()
    try:
        return storages[config.storage]
    except InvalidStorageError:
        raise conf.ConfigurationError(
            f"select_storage(): settings.STORAGES has no {config.storage!r} entry; add one with BACKEND "
            f"'{_CANONICAL_PATH}', or name another alias in {conf.SETTING_NAME}['STORAGE']"
        ) from None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    global _generation  # noqa: PLW0603 - the process-wide counter this module exists for
    if setting in (conf.SETTING_NAME, "ENV_NAME", "MEDIA_ROOT", "FILE_UPLOAD_MAX_MEMORY_SIZE"):
        _generation += 1
        _dev_storages.clear()
