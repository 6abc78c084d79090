"""Where a download goes: a path (written to a temporary file beside it and renamed into place only when
complete, so a failed download never leaves a half-written file) or a binary file object (written in place)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from ._errors import TransportError, ValidationError
from ._requests import Request, transport_error

CHUNK_SIZE = 64 * 1024
Target = str | os.PathLike[str] | IO[bytes]


class Destination:
    """Receives chunks; ``with Destination(target) as out: out.write(chunk)`` commits on success only."""

    def __init__(self, target: Target) -> None:
        self.written = 0
        self._path: Path | None = None
        self._temp: IO[bytes] | None = None
        if isinstance(target, str | os.PathLike):
            self._path = Path(target)
            if self._path.is_dir():
                raise ValidationError(f"download destination {os.fspath(target)!r} is a directory")
            self._file: IO[bytes] = self._open_temp(self._path)
        elif hasattr(target, "write"):
            self._file = target
        else:
            raise ValidationError(f"download destination must be a path or a binary file, not {type(target).__name__}")

    def _open_temp(self, path: Path) -> IO[bytes]:
        self._temp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in __exit__
            dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
        )
        return self._temp

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self.written += len(chunk)

    def __enter__(self) -> Destination:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._temp is None or self._path is None:
            return
        self._temp.close()
        if kind is None:
            os.replace(self._temp.name, self._path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp.name)


def stream_failure(exc: httpx.RequestError, request: Request) -> TransportError:
    """A connection failure after the body started: not retried (chunks may already be consumed)."""
    error = transport_error(exc, request, attempts=1)
    error.maybe_applied = False
    error.note = "the download broke off part way"
    return error
