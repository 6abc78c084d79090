"""The engine of ``cfvariants upload``: N concurrent uploads over one async client, resumable.

"Already uploaded" is decided per file, before sending it, from a content hash stored with every upload:

* with custom ids (``--id-from-path``), the id is the file's path under its root. The upload is sent at once;
  when it is refused, the image holding that id is looked up: the same SHA-256 in its metadata is the same
  file: skipped. Same id, other hash: a failure (nothing is overwritten). Same id without a hash (stored by
  something else): skipped, as the id says it is there.
* without, Cloudflare makes the ids; an image whose metadata holds this file's relative path and SHA-256 (list
  v2 metadata filters) is the same file: skipped.

So a run that was interrupted, or that failed part way, is simply run again: files already stored (even those
whose answer was lost) are skipped, the rest are uploaded, none twice. Without custom ids this costs one lookup
per file; with them, a lookup only for files already there. Files come from anything with a ``shown`` name, a
``relative`` path and ``open()`` (``UploadItem``): local files here, Django storage files in ``cfvariants.migrate``.

A file already stored must also match what the command asks: ``--private`` makes a public copy private (never
the reverse), and ``--metadata``/``--creator`` that differ from what is stored fail that file (nothing is
overwritten). When the API cannot be reached at all, the run stops after ``UNREACHABLE_LIMIT`` connection
failures in a row (``Unreachable``) instead of failing every file one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from cfvariants._errors import CFVariantsError
from cfvariants.client import (
    APIError,
    AsyncImagesClient,
    AuthenticationError,
    CloudflareImagesError,
    Image,
    MetaFilter,
    NotFoundError,
    TransportError,
)
from cfvariants.imaging import with_placeholder_metadata

from ._errors import one_line
from ._files import Found, Ignored, LocalFile, Rejected, UploadItem, sha256_stream, stream_size
from ._progress import FileResult

HASH_KEY = "cfv_sha256"
"""Metadata key of the file's SHA-256 (hex): how a later run recognises the same file."""
PATH_KEY = "cfv_path"
"""Metadata key of the file's path relative to its root (only without custom ids, where the id is not the path)."""
RESERVED_KEYS = frozenset({HASH_KEY, PATH_KEY, "cfv_upload"})
UNREACHABLE_LIMIT = 3
"""Files in a row that got no answer at all (each after the client's own retries) that stop the run."""


class Unreachable(CFVariantsError):
    """The API could not be reached for ``UNREACHABLE_LIMIT`` files in a row; ``error`` is the last failure."""

    def __init__(self, error: TransportError) -> None:
        self.error = error
        super().__init__(str(error))


class _NoConnection(Exception):
    """One file got no answer from the API at all (the connection failed, dropped or timed out, after the
    client's retries); ``result`` is its failure."""

    def __init__(self, result: FileResult, error: TransportError) -> None:
        self.result = result
        self.error = error


@dataclass(frozen=True)
class UploadOptions:
    """How files are uploaded (``cfvariants upload``, migrations): concurrency, metadata, privacy, ids..."""

    concurrency: int = 4
    metadata: Mapping[str, Any] = field(default_factory=dict)
    private: bool = False
    id_from_path: bool = False
    id_prefix: str = ""
    creator: str | None = None


class Streak:
    """Counts files in a row that got no answer from the API at all; at ``UNREACHABLE_LIMIT`` it raises
    ``Unreachable`` and keeps it in ``stopped``. One per run, shared by its workers (one event loop, no races)."""

    def __init__(self) -> None:
        self.count = 0
        self.stopped: Unreachable | None = None
        self._started = 0
        self._last_failed = -1

    async def run(self, upload: Awaitable[FileResult]) -> FileResult:
        ticket = self._started  # a success resets the count only if it started after the last failure
        self._started += 1
        try:
            result = await upload
        except _NoConnection as failure:
            self.count += 1
            self._last_failed = max(self._last_failed, ticket)
            if self.count >= UNREACHABLE_LIMIT:
                self.stopped = Unreachable(failure.error)
                raise self.stopped from None
            return failure.result
        if ticket > self._last_failed:
            self.count = 0
        return result


def custom_id_for(file: UploadItem | Rejected, options: UploadOptions) -> str | None:
    """The custom id of a file under ``--id-from-path`` (prefix + relative path), else ``None``."""
    return options.id_prefix + file.relative if options.id_from_path else None


async def upload_all(
    client: AsyncImagesClient,
    files: Iterator[Found] | Iterator[UploadItem | Rejected],
    options: UploadOptions,
    on_result: Callable[[FileResult], None],
) -> None:
    """Upload every ``LocalFile`` of ``files`` with ``options.concurrency`` workers, reporting each result.

    A refused token stops the run (every other file would be refused too), and so does an API that cannot be
    reached for ``UNREACHABLE_LIMIT`` files in a row (``Unreachable``); other failures are per file."""
    streak = Streak()

    async def worker() -> None:
        for found in files:  # shared iterator: each worker takes the next file (one thread, no races)
            if streak.stopped is not None:
                return  # unreachable: take no more files; uploads in flight elsewhere finish and are reported
            if isinstance(found, Ignored):
                continue
            try:
                result = await streak.run(upload_one(client, found, options))
            except Unreachable:
                return
            on_result(result)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, options.concurrency)):
                group.create_task(worker())
    except BaseExceptionGroup as group_error:
        raise first_error(group_error) from None
    if streak.stopped is not None:
        raise streak.stopped


def first_error(group_error: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that stopped a task group (not the cancellations it caused)."""
    for error in group_error.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return first_error(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group_error.exceptions[0]


async def upload_one(client: AsyncImagesClient, found: UploadItem | Rejected, options: UploadOptions) -> FileResult:
    """Upload one file unless it is already there (see the module docs). A refused token is raised; so is a
    connection that could not be made at all (``_NoConnection``, for ``Streak``); other failures are the result."""
    shown = found.shown
    if isinstance(found, Rejected):
        return FileResult(shown, "failed", 0, reason=found.reason)
    custom_id = custom_id_for(found, options)
    size = 0
    try:
        with found.open() as handle:
            size = stream_size(handle)
            digest = await asyncio.to_thread(sha256_stream, handle)
            handle.seek(0)
            if custom_id is None:
                existing = await _existing(client, found.relative, digest)
                if existing is not None:
                    return await _already_there(client, shown, size, existing, digest, options)
            metadata = {**options.metadata, HASH_KEY: digest}
            if custom_id is None:
                metadata[PATH_KEY] = found.relative
            metadata = await asyncio.to_thread(with_placeholder_metadata, metadata, handle)  # size + ThumbHash
            try:
                image = await client.upload(
                    found.path if isinstance(found, LocalFile) else handle,  # a path names itself in errors
                    filename=PurePosixPath(found.relative).name,
                    id=custom_id,
                    metadata=metadata,
                    require_signed_urls=True if options.private else None,
                    creator=options.creator,
                )
            except APIError as exc:
                # With a custom id the upload is tried first and the id looked up only when it is refused (the
                # status Cloudflare gives a taken id is not documented): one request per new file, not two.
                taken = await _taken(client, custom_id, exc)
                if taken is None:
                    raise
                return await _already_there(client, shown, size, taken, digest, options)
    except AuthenticationError:
        raise
    except TransportError as exc:  # no answer at all (refused, reset, timed out): counted by ``Streak``
        result = FileResult(shown, "failed", size, image_id=custom_id, reason=one_line(str(exc)))
        raise _NoConnection(result, exc) from None
    except CloudflareImagesError as exc:
        return FileResult(shown, "failed", size, image_id=custom_id, reason=one_line(str(exc)))
    except OSError as exc:
        return FileResult(shown, "failed", size, image_id=custom_id, reason=f"cannot read it: {exc.strerror or exc}")
    return FileResult(shown, "uploaded", size, image_id=image.id, verified=True)


async def _existing(client: AsyncImagesClient, relative: str, digest: str) -> Image | None:
    page = await client.list_images(
        per_page=10, meta=[MetaFilter(HASH_KEY, "eq:string", digest), MetaFilter(PATH_KEY, "eq:string", relative)]
    )
    return page.images[0] if page.images else None


async def _taken(client: AsyncImagesClient, custom_id: str | None, error: APIError) -> Image | None:
    """The image already holding ``custom_id`` when that is why the upload was refused, else ``None``."""
    if custom_id is None or not 400 <= error.status_code < 500 or error.status_code in (401, 403, 413, 429):
        return None
    try:
        return await client.get(custom_id)
    except NotFoundError:
        return None


async def _already_there(
    client: AsyncImagesClient, shown: str, size: int, image: Image, digest: str, options: UploadOptions
) -> FileResult:
    if image.draft:
        return FileResult(
            shown, "failed", size, image_id=image.id, reason=f"id {image.id!r} is held by a pending direct upload"
        )
    stored = image.meta.get(HASH_KEY)
    if stored is not None and stored != digest:
        return FileResult(
            shown,
            "failed",
            size,
            image_id=image.id,
            reason=f"{image.id} already exists with different content; delete it first to replace it "
            f"(cfvariants delete {image.id})",
        )
    differences = _differences(image, options)
    if differences:
        return FileResult(
            shown,
            "failed",
            size,
            image_id=image.id,
            reason=f"{image.id} is already uploaded with {'; '.join(differences)}; nothing was changed (delete it "
            f"first to upload it again with these values: cfvariants delete {image.id})",
        )
    made_private = ""
    if options.private and not image.require_signed_urls:
        await client.update(image.id, require_signed_urls=True)
        made_private = "; it was public: now private (signed URLs required)"
    if stored is None:
        return FileResult(
            shown,
            "skipped",
            size,
            image_id=image.id,
            reason=f"{image.id} already exists (content not compared){made_private}",
        )
    return FileResult(
        shown, "skipped", size, image_id=image.id, reason=f"already uploaded as {image.id}{made_private}", verified=True
    )


def _differences(image: Image, options: UploadOptions) -> list[str]:
    """What the command asks that the stored image does not have (metadata values, creator)."""
    found = [
        f"metadata {key}={image.meta[key]!r}, not {value!r}" if key in image.meta else f"no metadata {key}"
        for key, value in options.metadata.items()
        if image.meta.get(key, _MISSING) != value
    ]
    if options.creator is not None and image.creator != options.creator:
        found.append(f"creator {image.creator!r}, not {options.creator!r}")
    return found


_MISSING = object()
