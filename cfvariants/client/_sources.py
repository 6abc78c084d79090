"""Upload bodies that stream: a path, bytes or a binary file object becomes a sized, re-readable stream.

The size is known before sending (``os.fstat`` or seeking, never reading the file), so the 10 MB limit is
checked up front, and the multipart body carries a ``Content-Length``. A retry reads the same bytes again from
the start position. A stream that cannot seek (a pipe, a socket) is first copied into a temporary file that
stays in memory only while small, so memory never grows with the file size.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any

from cfvariants.limits import MAX_UPLOAD_BYTES

from ._checks import check_upload_size
from ._errors import ValidationError

FileInput = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
_SPOOL_IN_MEMORY = 1024 * 1024
_COPY_CHUNK = 64 * 1024
# type/subtype (RFC 9110 tokens), then optional ;parameters of printable ASCII: nothing that could end the
# multipart part's header line (CR, LF) or hide in it (other controls, non-ASCII).
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:[ \t]*;[\x20-\x7e]*)?")


class _Window:
    """A read-only view of ``file`` from ``start`` to ``start + size``, positions relative to ``start``.

    httpx rewinds a file part (``seek(0)``) each time it renders a body; through this view the rewind goes
    back to where the caller's file was, so a retry resends exactly the same bytes. No ``fileno``: httpx would
    otherwise ``fstat`` the whole file and send a wrong length.
    """

    def __init__(self, file: IO[bytes], start: int, size: int) -> None:
        self._file = file
        self._start = start
        self._size = size
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        remaining = self._size - self._pos
        if remaining <= 0:
            return b""
        n = remaining if n is None or n < 0 else min(n, remaining)
        self._file.seek(self._start + self._pos)
        chunk = self._file.read(n)
        self._pos += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


@dataclass
class UploadSource:
    """The ``file`` part of an upload: its name, media type, size, and a stream over exactly those bytes."""

    filename: str
    content_type: str
    size: int
    stream: Any  # a _Window; typed loosely because httpx expects IO[bytes]
    _close: Callable[[], None] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close what this source opened (a path's file, a spool); a caller's file object stays open."""
        if self._close is not None:
            self._close()
            self._close = None


def open_source(file: FileInput, *, filename: str | None = None, content_type: str | None = None) -> UploadSource:
    """Turn ``file`` into an ``UploadSource``; ``ValidationError`` if it is empty, too large or not binary."""
    if isinstance(file, str | os.PathLike):
        return _from_path(file, filename, content_type)
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
        check_upload_size(len(data), "the image data")
        name = filename or "image"
        return UploadSource(name, _media_type(name, content_type), len(data), _Window(io.BytesIO(data), 0, len(data)))
    if hasattr(file, "read"):
        return _from_file_object(file, filename, content_type)
    raise ValidationError(
        f"file must be a path, bytes or a binary file object, not {type(file).__name__} (for a remote image pass url=)"
    )


def _from_path(path: str | os.PathLike[str], filename: str | None, content_type: str | None) -> UploadSource:
    text = os.fspath(path)
    if isinstance(text, str) and text.startswith(("http://", "https://")) and not os.path.exists(text):
        raise ValidationError(f"{text!r} is a URL, not a file; pass url={text!r} to have Cloudflare fetch it")
    handle = open(text, "rb")  # noqa: SIM115 - closed by UploadSource.close
    try:
        stat = os.fstat(handle.fileno())
        name = filename or PurePath(text).name or "image"
        check_upload_size(stat.st_size, f"file {text!r}")
    except BaseException:
        handle.close()
        raise
    window = _Window(handle, 0, stat.st_size)
    return UploadSource(name, _media_type(name, content_type), stat.st_size, window, handle.close)


def _from_file_object(file: Any, filename: str | None, content_type: str | None) -> UploadSource:
    if isinstance(file, io.TextIOBase):
        raise ValidationError("file object is in text mode; open it in binary mode ('rb')")
    name = filename or _name_of(file)
    shown = f"file object {name!r}" if name != "image" else "the file object"
    if _seekable(file):
        start = file.tell()
        end = file.seek(0, io.SEEK_END)
        file.seek(start)
        size = max(0, end - start)
        check_upload_size(size, shown)
        return UploadSource(name, _media_type(name, content_type), size, _Window(file, start, size))
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by UploadSource.close
    try:
        size = _copy_limited(file, spool, shown)
        check_upload_size(size, shown)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return UploadSource(name, _media_type(name, content_type), size, _Window(spool, 0, size), spool.close)


def _copy_limited(source: Any, target: Any, shown: str) -> int:
    size = 0
    while chunk := source.read(_COPY_CHUNK):
        if isinstance(chunk, str):
            raise ValidationError("file object returns text; open it in binary mode ('rb')")
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"{shown} holds more than {MAX_UPLOAD_BYTES:,} bytes; Cloudflare Images accepts files up to "
                f"{MAX_UPLOAD_BYTES:,} bytes (10 MB)"
            )
        target.write(chunk)
    return size


def _seekable(file: IO[bytes]) -> bool:
    try:
        return bool(file.seekable()) if hasattr(file, "seekable") else False
    except (OSError, ValueError):
        return False


def _name_of(file: object) -> str:
    name = getattr(file, "name", None)
    if isinstance(name, str) and name and not name.startswith("<"):
        return PurePath(name).name or "image"
    return "image"


def _media_type(filename: str, given: str | None) -> str:
    if given is not None:
        return check_content_type(given)
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def check_content_type(content_type: str) -> str:
    """A media type such as ``image/png`` for the file part's header; ``ValidationError`` for anything else
    (a CR or LF would let the value write headers of its own)."""
    if not isinstance(content_type, str) or not _MEDIA_TYPE.fullmatch(content_type):
        shown = repr(content_type[:80]) if isinstance(content_type, str) else type(content_type).__name__
        raise ValidationError(
            f"content_type {shown} is not a media type such as image/png (type/subtype, no line breaks or "
            "control characters)"
        )
    return content_type
