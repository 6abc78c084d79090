"""``ImageStore``: images kept on Cloudflare Images (or the local emulator), as a file store.

A Django ``Storage``, an upload worker and a script all need the same few things from Cloudflare: store a file
under a name, read the original back, know whether it exists, how big and how old it is, delete it, list a
"directory", and give a URL. ``ImageStore`` does that over one ``ImagesClient``, and decides the things the API
leaves open:

* **Names are image ids.** By default the id is a custom id built from the name (``prefix`` + ``name``, e.g.
  ``avatars/cat.jpg``): readable, stable, and ``/`` in ids makes directories for ``listdir``. Cloudflare cannot
  make an image with a custom id private, so a private store (``require_signed_urls=True``) lets Cloudflare
  generate the ids (UUIDs); the name is then kept only as the image's ``filename``. ``custom_ids=False`` asks
  for generated ids on a public store too.
* **Unique names.** ``save(..., unique=True)`` keeps a free name as it is and otherwise adds ``_`` and seven
  random characters before the extension (as Django does); a name taken between that check and the upload (a
  race, Cloudflare answers 409) gets another suffix. Uploads are retried by the client without ever storing an
  image twice.
* **Size without downloading.** Cloudflare's image details have no byte size, so ``save`` records it in the
  image's metadata under ``cfv_size`` (SVGs excepted: Cloudflare sanitises them, so their stored size differs);
  ``size()`` reads it from the details and, for images stored some other way, counts the original's bytes as
  they stream past (constant memory).
* **Times.** An image never changes after upload, so its creation and modification time are both ``uploaded``.

Imports nothing from Django or Flask.
"""

from __future__ import annotations

import io
import os
import posixpath
import secrets
import string
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import IO, Any

from ._delivery import Delivery
from ._errors import SettingsError
from ._layouts import HEIGHT_KEY, WIDTH_KEY  # the original's pixel size in metadata: layouts read what we record
from ._segments import VariantLike, keyword_options
from ._templating import DEFAULT_SIGNED_EXPIRES_IN
from .client import APIError, ConflictError, Image, ImagesClient, NotFoundError
from .client._errors import ValidationError
from .imaging import with_placeholder_metadata
from .limits import MAX_UPLOAD_BYTES, is_uuid

__all__ = ["HEIGHT_KEY", "SIZE_KEY", "WIDTH_KEY", "FileSource", "ImageStore"]

SIZE_KEY = "cfv_size"
"""The metadata key under which ``ImageStore.save`` records the original's size in bytes."""

FileSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""What a file to store may be: a path, bytes, or a binary file object."""

DEFAULT_SPOOL_MEMORY = 2_621_440  # Django's FILE_UPLOAD_MAX_MEMORY_SIZE: originals above it spool to disk
_RENAME_ATTEMPTS = 8
_SUFFIX_ALPHABET = string.ascii_letters + string.digits
_COPY_CHUNK = 64 * 1024


class ImageStore:
    """A file store on Cloudflare Images.

    ``client`` is an ``ImagesClient`` or a function that makes one (called on first use, so building a store
    costs nothing and touches no network). ``delivery`` builds URLs (default: the client's). ``prefix`` is put
    before every name saved with a custom id. ``require_signed_urls`` makes every image private and every URL
    signed, expiring after ``signed_expires_in`` unless told otherwise.
    """

    def __init__(
        self,
        client: ImagesClient | Callable[[], ImagesClient],
        *,
        delivery: Delivery | None = None,
        prefix: str = "",
        require_signed_urls: bool = False,
        custom_ids: bool | None = None,
        signed_expires_in: int | float | timedelta = DEFAULT_SIGNED_EXPIRES_IN,
        spool_max_memory: int = DEFAULT_SPOOL_MEMORY,
    ) -> None:
        if custom_ids is None:
            custom_ids = not require_signed_urls
        if custom_ids and require_signed_urls:
            raise SettingsError(
                "custom_ids=True with require_signed_urls=True: Cloudflare cannot make an image with a custom id "
                "private; leave custom_ids unset so private images get generated ids"
            )
        if prefix and not custom_ids:
            raise SettingsError(f"prefix {prefix!r} needs custom ids; images with generated ids have no name prefix")
        if prefix.startswith("/") or "\\" in prefix:
            raise SettingsError(f"prefix {prefix!r} must be a relative name like 'media/' (no leading '/', no '\\')")
        self._client = client if isinstance(client, ImagesClient) else None
        self._make_client = None if isinstance(client, ImagesClient) else client
        self._owns_client = self._client is None
        self._delivery = delivery
        self.prefix = prefix
        self.require_signed_urls = require_signed_urls
        self.custom_ids = custom_ids
        self.signed_expires_in = signed_expires_in
        self.spool_max_memory = spool_max_memory
        self._lock = threading.Lock()

    # -- the client ---------------------------------------------------------------------------------------------

    @property
    def client(self) -> ImagesClient:
        """The ``ImagesClient`` (made on first use when the store was given a factory)."""
        client = self._client
        if client is None:
            with self._lock:
                client = self._client
                if client is None:
                    assert self._make_client is not None
                    client = self._client = self._make_client()
        return client

    @property
    def delivery(self) -> Delivery:
        delivery = self._delivery if self._delivery is not None else self.client.delivery
        if delivery is None:
            raise SettingsError("this store has no Delivery to build URLs: set CF_IMG_HASH or pass delivery=")
        return delivery

    def close(self) -> None:
        """Close the client if this store made it (a client passed in belongs to the caller)."""
        with self._lock:
            client, owned = self._client, self._owns_client
            if owned:
                self._client = None
        if owned and client is not None:
            client.close()

    # -- writing ------------------------------------------------------------------------------------------------

    def save(
        self,
        file: FileSource,
        name: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        unique: bool = True,
        content_type: str | None = None,
    ) -> Image:
        """Upload ``file`` (a path, bytes or a binary file object, read from its current position) and return
        the stored ``Image``; its ``id`` is the name to keep.

        With custom ids the id is ``prefix + name`` (``name`` defaults to the file's own name); ``unique`` picks
        a free variation of it (see the module docs), otherwise a taken id raises ``ConflictError``. With
        generated ids ``name`` only sets the recorded file name. ``metadata`` is stored with the image, plus its
        size under ``cfv_size``.
        """
        name = _normalise(name) if name is not None else _name_of(file)
        filename = posixpath.basename(name) if name else None
        with _Sized(file, self.spool_max_memory) as (source, size):
            meta = dict(metadata or {})
            if size is not None and not _is_svg(filename, content_type):
                meta[SIZE_KEY] = size
            meta = with_placeholder_metadata(meta, source)  # pixel size + ThumbHash for layouts and placeholders
            if not self.custom_ids:
                return self.client.upload(
                    source, metadata=meta, filename=filename, content_type=content_type,
                    require_signed_urls=True if self.require_signed_urls else None,
                )  # fmt: skip
            if not name:
                raise ValidationError("a name is needed to store an image under a custom id (e.g. 'avatars/cat.jpg')")
            image_id = self.prefix + name
            if unique:
                image_id = self.available_id(image_id)
            start = source.tell() if not isinstance(source, bytes) else 0
            for attempt in range(_RENAME_ATTEMPTS):
                try:
                    return self.client.upload(
                        source, id=image_id, metadata=meta, filename=filename, content_type=content_type
                    )
                except ConflictError:
                    if not unique or attempt == _RENAME_ATTEMPTS - 1:
                        raise
                    image_id = self.available_id(alternative_id(image_id))
                    if not isinstance(source, bytes):
                        source.seek(start)
            raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def available_id(self, image_id: str) -> str:
        """``image_id`` if no image has it (and Cloudflare would accept it as a custom id), else the first free
        ``alternative_id`` of it."""
        candidate = image_id if not is_uuid(image_id) else alternative_id(image_id)
        for _ in range(_RENAME_ATTEMPTS * 4):
            if not self.exists(candidate):
                return candidate
            candidate = alternative_id(image_id)
        raise ConflictError(409, method="POST", path="/images/v1", reason=f"no free id found near {image_id!r}")

    def delete(self, image_id: str) -> bool:
        """Delete an image; ``False`` when there was none with that id."""
        try:
            self.client.delete(image_id)
        except NotFoundError:
            return False
        return True

    # -- reading ------------------------------------------------------------------------------------------------

    def get(self, image_id: str) -> Image:
        """The image's details (raises ``NotFoundError``)."""
        return self.client.get(image_id)

    def exists(self, image_id: str) -> bool:
        """Whether an image has this id (a direct upload still waiting for its file counts: the id is taken)."""
        try:
            self.client.get(image_id)
        except NotFoundError:
            return False
        return True

    def open(self, image_id: str) -> IO[bytes]:
        """The original file, downloaded into a spooled temporary file (in memory up to ``spool_max_memory``
        bytes, on disk beyond) and rewound. Close it when done."""
        spool = tempfile.SpooledTemporaryFile(max_size=self.spool_max_memory)  # noqa: SIM115 - returned open
        try:
            self.client.download(image_id, spool)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool

    def iter_bytes(self, image_id: str) -> Iterator[bytes]:
        """The original file as chunks, streamed."""
        return self.client.iter_download(image_id)

    def size(self, image_id: str, image: Image | None = None) -> int:
        """The original's size in bytes: recorded at save time, else counted while streaming it."""
        image = image if image is not None else self.client.get(image_id)
        recorded = image.meta.get(SIZE_KEY)
        if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 0:
            return recorded
        return sum(len(chunk) for chunk in self.client.iter_download(image_id))

    def uploaded(self, image_id: str) -> datetime:
        """When the image was uploaded (aware, UTC); Cloudflare images never change afterwards."""
        uploaded = self.client.get(image_id).uploaded
        if uploaded is None:
            raise APIError(200, method="GET", path="/images/v1", reason=f"image {image_id!r} has no upload time")
        return uploaded

    def images(self) -> Iterator[Image]:
        """Every stored image of the account (list v2; direct uploads still waiting for a file left out)."""
        return (image for image in self.client.iter_images() if not image.draft)

    def listdir(self, path: str = "") -> tuple[list[str], list[str]]:
        """``(directories, files)`` directly under ``path``, reading ``/`` in ids as directory separators.

        Cloudflare lists a whole account (there is no prefix filter), so this reads every image's details once:
        fine for thousands, slow for millions."""
        base = _normalise(path).strip("/")
        start = f"{base}/" if base else ""
        directories: set[str] = set()
        files: list[str] = []
        for image in self.images():
            if not image.id.startswith(start):
                continue
            rest = image.id[len(start) :]
            head, slash, _ = rest.partition("/")
            if slash:
                directories.add(head)
            elif rest:
                files.append(rest)
        return sorted(directories), sorted(files)

    # -- URLs ---------------------------------------------------------------------------------------------------

    def url(
        self,
        image_id: str,
        variant: VariantLike = None,
        *,
        expires_in: int | float | timedelta | None = None,
        **options: Any,
    ) -> str:
        """The delivery URL of ``image_id`` through ``variant`` (default ``public``) or keyword options.

        Signed when ``expires_in`` is given or the store is private (then expiring after
        ``signed_expires_in``); signing needs a named variant and a ``Delivery`` with the signing key, and
        raises ``SigningError`` saying so otherwise. No network."""
        delivery = self.delivery
        if expires_in is None and not self.require_signed_urls:
            return delivery.url(image_id, variant, **options)
        signed_variant = keyword_options(variant, options) if options else variant
        lifetime = expires_in if expires_in is not None else self.signed_expires_in
        return delivery.signed_url(image_id, signed_variant, expires_in=lifetime)

    def __repr__(self) -> str:
        mode = "generated ids" if not self.custom_ids else f"custom ids, prefix={self.prefix!r}"
        private = ", private" if self.require_signed_urls else ""
        return f"ImageStore({mode}{private})"


def alternative_id(image_id: str) -> str:
    """``avatars/cat.jpg`` -> ``avatars/cat_x7Gq2Lm.jpg`` (seven random letters and digits before the extension)."""
    directory, base = posixpath.split(image_id)
    root, extension = posixpath.splitext(base)
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(7))
    return posixpath.join(directory, f"{root}_{suffix}{extension}")


def _normalise(name: str) -> str:
    if not isinstance(name, str):
        raise ValidationError(f"image name must be a string, not {type(name).__name__}")
    return name.replace("\\", "/").lstrip("/")


def _name_of(file: object) -> str:
    if isinstance(file, str | os.PathLike):
        return posixpath.basename(os.fspath(file).replace("\\", "/"))
    name = getattr(file, "name", None)
    if isinstance(name, str) and name and not name.startswith("<"):
        return posixpath.basename(name.replace("\\", "/"))
    return ""


def _is_svg(filename: str | None, content_type: str | None) -> bool:
    return (content_type or "").lower().startswith("image/svg") or (filename or "").lower().endswith(".svg")


class _Sized:
    """``with _Sized(file) as (source, size)``: ``file`` ready to upload and its size in bytes (``None`` if it
    cannot be known without reading). A stream that cannot seek is spooled first so its size is known."""

    def __init__(self, file: FileSource, spool_max_memory: int) -> None:
        self._file = file
        self._spool_max = spool_max_memory
        self._opened: IO[bytes] | None = None

    def __enter__(self) -> tuple[Any, int | None]:
        file = self._file
        if isinstance(file, bytes | bytearray | memoryview):
            return bytes(file), len(file)
        if isinstance(file, str | os.PathLike):
            handle = self._opened = open(file, "rb")
            return handle, os.fstat(handle.fileno()).st_size
        if _seekable(file):
            start = file.tell()
            end = file.seek(0, io.SEEK_END)
            file.seek(start)
            return file, max(0, end - start)
        spool = self._opened = tempfile.SpooledTemporaryFile(max_size=self._spool_max)
        size = 0
        while chunk := file.read(_COPY_CHUNK):
            spool.write(chunk)
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:  # past Cloudflare's limit: the client refuses it by size, no need for more
                break
        spool.seek(0)
        return spool, size

    def __exit__(self, *exc: object) -> None:
        if self._opened is not None:
            self._opened.close()


def _seekable(file: Any) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False
