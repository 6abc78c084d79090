"""Finding the image files an upload is about: directories walked lazily, images told apart by extension or by
their first bytes, each file named by its path relative to the root it was found under."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".webp", ".avif", ".heic", ".heif", ".svg"}
)
"""Extensions taken as images without looking inside (the formats Cloudflare Images accepts: JPEG,
PNG, GIF, WebP, AVIF, SVG and HEIC; its docs disagree on whether HEIC and AVIF input are available to every account)."""

_SNIFF_BYTES = 512
_HASH_CHUNK = 1024 * 1024
_ISO_BRANDS = frozenset({b"avif", b"avis", b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"})


class UploadItem(Protocol):
    """A file to upload, wherever it lives: how reports name it, its path relative to its root (``/``-separated;
    the custom id under ``--id-from-path``), and how to read it."""

    @property
    def shown(self) -> str: ...

    @property
    def relative(self) -> str: ...

    def open(self) -> IO[bytes]: ...


@dataclass(frozen=True, slots=True)
class LocalFile:
    """An image file to upload: where it is, its path relative to its root (``/``-separated), its size."""

    path: Path
    relative: str
    size: int

    @property
    def shown(self) -> str:
        return str(self.path)

    def open(self) -> IO[bytes]:
        return self.path.open("rb")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A file named on the command line that cannot be uploaded (not an image, unreadable)."""

    path: Path | str
    relative: str
    reason: str

    @property
    def shown(self) -> str:
        return str(self.path)


@dataclass(frozen=True, slots=True)
class Ignored:
    """A file inside a directory that is not an image (or is hidden); skipped without a word."""

    path: Path


Found = LocalFile | Rejected | Ignored


def sniff(head: bytes) -> str | None:
    """The image format that ``head`` (a file's first bytes) starts with, or ``None``."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _ISO_BRANDS:
        return "avif" if head[8:12] in (b"avif", b"avis") else "heic"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in text):
        return "svg"
    return None


def is_image(path: Path) -> bool:
    """By extension, else by content (files without a telling extension are sniffed)."""
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return True
    with path.open("rb") as handle:
        return sniff(handle.read(_SNIFF_BYTES)) is not None


def sha256_stream(handle: IO[bytes]) -> str:
    """The SHA-256 (hex) of what is left to read in ``handle``, read in chunks: what says "the same file"
    across runs."""
    digest = hashlib.sha256()
    while chunk := handle.read(_HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def stream_size(handle: IO[bytes]) -> int:
    """The size of a seekable file, from its current position to the end (the position is kept)."""
    start = handle.tell()
    end = handle.seek(0, os.SEEK_END)
    handle.seek(start)
    return end - start


def discover(paths: Sequence[Path]) -> Iterator[Found]:
    """Every file under ``paths``, in a stable order (sorted names), one at a time.

    A directory is walked recursively (hidden files and directories are left out, symlinked directories are
    not followed); its files are named relative to it. A file given directly is named by its own name and is
    ``Rejected`` when it is not an image (in a directory, such a file is just ``Ignored``).
    """
    seen: set[tuple[int, int]] | None = set() if len(paths) > 1 else None
    for given in paths:
        if given.is_dir():
            yield from _walk(given, seen)
        else:
            yield _examine(given, given.name, explicit=True, seen=seen)


def _walk(root: Path, seen: set[tuple[int, int]] | None) -> Iterator[Found]:
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        base = Path(directory)
        for name in sorted(filenames):
            path = base / name
            relative = path.relative_to(root).as_posix()
            if name.startswith("."):
                yield Ignored(path)
                continue
            yield _examine(path, relative, explicit=False, seen=seen)


def _examine(path: Path, relative: str, *, explicit: bool, seen: set[tuple[int, int]] | None) -> Found:
    try:
        stat = path.stat()
        if seen is not None:
            identity = (stat.st_dev, stat.st_ino)
            if identity in seen:
                return Ignored(path)
            seen.add(identity)
        if not path.is_file():
            return Rejected(path, relative, "not a regular file") if explicit else Ignored(path)
        if is_image(path):
            return LocalFile(path, relative, stat.st_size)
    except OSError as exc:
        return Rejected(path, relative, f"cannot read it: {exc.strerror or exc}")
    if explicit:
        return Rejected(path, relative, "not an image (by extension and by content)")
    return Ignored(path)
