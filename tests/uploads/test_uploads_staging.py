"""Staging an upload: the size limit to the byte, for bytes and for streams (read in pieces, so a huge stream is
refused without being read whole), ids that are not upload ids refused (they name files and Redis keys), and a
disk with no room even for a new file refused as the full disk it is. Both stores where both apply."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import imagegen
import pytest

from cfvariants.uploads import StorageFull, UploadRecords, UploadsError, UploadStore, UploadTooLarge

PHOTO = imagegen.photo_jpeg(200_000, seed=50)  # camera-like, 200 KB


class _Endless(io.RawIOBase):
    """A stream of ``size`` bytes made as it is read, counting what was read."""

    def __init__(self, size: int) -> None:
        self.size, self.read_so_far = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.size - self.read_so_far)
        buffer[:n] = b"\xff" * n
        self.read_so_far += n
        return n


def test_the_size_limit_is_inclusive_for_bytes_and_streams(store: UploadRecords) -> None:
    exact = store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg", max_bytes=len(PHOTO))
    streamed = store.stage(io.BytesIO(PHOTO), filename="b.jpg", content_type="image/jpeg", max_bytes=len(PHOTO))
    assert exact.size == streamed.size == len(PHOTO)
    for source in (PHOTO, io.BytesIO(PHOTO)):
        with pytest.raises(UploadTooLarge) as info:
            store.stage(source, filename="c.jpg", content_type="image/jpeg", max_bytes=len(PHOTO) - 1)
        assert info.value.limit == len(PHOTO) - 1
    assert sorted(store.staged_ids()) == sorted([exact.id, streamed.id])


def test_a_huge_stream_is_refused_having_read_little_more_than_the_limit(store: UploadRecords) -> None:
    stream = _Endless(200 * 1024 * 1024)  # 200 MB that a client keeps sending
    with pytest.raises(UploadTooLarge) as info:
        store.stage(stream, filename="huge.jpg", content_type="image/jpeg", max_bytes=10 * 1024 * 1024)
    assert info.value.limit == 10 * 1024 * 1024
    assert stream.read_so_far <= 12 * 1024 * 1024  # it stopped reading: no 200 MB in memory, nothing kept
    assert store.staged_ids() == [] and store.recent() == []


@pytest.mark.parametrize(
    "bad", ["abc123", "0" * 31, "0" * 33, "X" * 32, "ABCDEF0123456789ABCDEF0123456789", "../" + "0" * 29]
)
def test_what_is_not_an_upload_id_is_refused(sqlite_store: UploadStore, bad: str) -> None:
    with pytest.raises(UploadsError, match="is not an upload id"):
        sqlite_store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg", upload_id=bad)
    with pytest.raises(UploadsError, match="is not an upload id"):
        sqlite_store.open_staged(bad)
    assert sqlite_store.recent() == [] and list(sqlite_store.staging.iterdir()) == []


def test_a_disk_with_no_room_for_a_new_file_is_a_full_disk(
    sqlite_store: UploadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = open

    def no_inodes(path: object, *args: object, **kwargs: object) -> object:
        if isinstance(path, Path) and path.name.endswith(".part"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", no_inodes)
    with pytest.raises(StorageFull, match="no space left on the disk holding "):
        sqlite_store.stage(PHOTO, filename="a.jpg", content_type="image/jpeg")
    monkeypatch.undo()
    assert sqlite_store.recent() == [] and list(sqlite_store.staging.iterdir()) == []
