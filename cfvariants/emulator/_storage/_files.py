"""Originals and rendered variants on disk, under names that no image id can steer.

Every on-disk name is derived from a SHA-256 of the id plus a random suffix (``file_key``), never from the id
itself, so ids such as ``../../etc/passwd``, ``..%2F``, absolute paths or NUL bytes cannot reach outside the data
directory; a ``file_key`` read back from the database is checked against its pattern before use. The random
suffix makes a re-upload under a deleted custom id a different file, so a stale cached variant can never be
served for it. Writes go to a temporary file in the same directory, then ``os.replace``: a reader sees the whole
file or none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("cfvariants.emulator")
_FILE_KEY = re.compile(r"[0-9a-f]{40}-[0-9a-f]{16}")
_FORMAT = re.compile(r"[a-z-]{1,16}")


def _check_key(file_key: str) -> str:
    if not _FILE_KEY.fullmatch(file_key):
        raise ValueError(f"not an emulator file key: {file_key[:80]!r}")
    return file_key


def _write_atomically(path: Path, data: bytes) -> None:
    for attempt in range(3):  # another process may remove the directory between mkdir and mkstemp (a purge)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Originals:
    """Uploaded files, one per image: ``originals/<2 hex>/<file key>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def new_key(self, image_id: str) -> str:
        return f"{hashlib.sha256(image_id.encode('utf-8')).hexdigest()[:40]}-{secrets.token_hex(8)}"

    def path(self, file_key: str) -> Path:
        _check_key(file_key)
        return self.root / file_key[:2] / file_key

    def write(self, file_key: str, data: bytes) -> None:
        _write_atomically(self.path(file_key), data)

    def read(self, file_key: str) -> bytes:
        return self.path(file_key).read_bytes()

    def delete(self, file_key: str) -> None:
        # The shard directory stays (at most 256 of them): removing it when it looks empty would race with
        # another process that has just created it to write into it.
        self.path(file_key).unlink(missing_ok=True)


@dataclass(frozen=True)
class CachedVariant:
    """A rendered variant as delivered: body, type, strong ETag and the options the renderer ignored."""

    body: bytes
    content_type: str
    etag: str
    ignored: tuple[str, ...]


class VariantCache:
    """Rendered variants: ``cache/<file key>/<options hash>/<output format>``.

    The options hash is of the canonical options string (the same string for a named variant and the equal
    flexible options), so a purge can target one image (all its entries) or one set of options (every image's
    entry for a variant that changed).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def options_hash(options_key: str) -> str:
        return hashlib.sha256(options_key.encode("utf-8")).hexdigest()[:32]

    def _path(self, file_key: str, options_key: str, output_format: str) -> Path:
        if not _FORMAT.fullmatch(output_format):
            raise ValueError(f"not an output format: {output_format[:20]!r}")
        return self.root / _check_key(file_key) / self.options_hash(options_key) / output_format

    def get(self, file_key: str, options_key: str, output_format: str) -> CachedVariant | None:
        try:
            raw = self._path(file_key, options_key, output_format).read_bytes()
        except OSError:  # not cached, or the cache is unreadable: render again
            return None
        header, _, body = raw.partition(b"\n")
        try:
            meta = json.loads(header)
            return CachedVariant(body, str(meta["content_type"]), str(meta["etag"]), tuple(meta["ignored"]))
        except (ValueError, KeyError, TypeError):
            return None  # a damaged entry is rendered again

    def put(
        self,
        file_key: str,
        options_key: str,
        output_format: str,
        body: bytes,
        content_type: str,
        ignored: tuple[str, ...],
    ) -> CachedVariant:
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        header = json.dumps({"content_type": content_type, "etag": etag, "ignored": list(ignored)}).encode()
        try:
            _write_atomically(self._path(file_key, options_key, output_format), header + b"\n" + body)
        except OSError as exc:  # the cache only saves work: a full disk or a racing purge must not fail a delivery
            log.warning("could not cache a rendered variant (%s); it will be rendered again next time", exc)
        return CachedVariant(body, content_type, etag, ignored)

    def purge_image(self, file_key: str) -> None:
        shutil.rmtree(self.root / _check_key(file_key), ignore_errors=True)

    def purge_options(self, options_key: str) -> None:
        """Drop every image's entries rendered with these options (a named variant was changed or deleted)."""
        digest = self.options_hash(options_key)
        try:
            image_dirs = list(self.root.iterdir())
        except FileNotFoundError:
            return
        for image_dir in image_dirs:
            shutil.rmtree(image_dir / digest, ignore_errors=True)
