"""Two web processes staging the same upload id at the same moment (a retried form post, two workers of one app
given the same id): the first to record it keeps it, the other is told the id is taken, and neither loses or mixes
the other's bytes. On both stores; the second staging runs inside the first one's check, the moment between its
bytes being written and their being recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import imagegen
import pytest

from cfvariants.uploads import RedisUploadStore, UploadRecords, UploadsError, UploadStore

MINE = imagegen.photo_jpeg(300_000, seed=61)
THEIRS = imagegen.photo_jpeg(200_000, seed=62)
UPLOAD_ID = "0123456789abcdef" * 2


@pytest.fixture
def other(store: UploadRecords, request: pytest.FixtureRequest) -> Iterator[UploadRecords]:
    """A second process's store on the same data (the same directory, or the same Redis)."""
    second: UploadRecords
    if isinstance(store, UploadStore):
        second = UploadStore(store.root)
    else:
        second = RedisUploadStore(request.getfixturevalue("redis_url"))
    yield second
    second.close()


def staged_bytes(store: UploadRecords, upload_id: str) -> bytes:
    with store.open_staged(upload_id) as staged:
        return staged.read()


def leftovers(store: UploadRecords) -> list[str]:
    """What the staging directory holds besides the staged uploads (``.part`` files of stagings that went wrong)."""
    if not isinstance(store, UploadStore):
        return []
    return sorted(path.name for path in store.staging.iterdir() if path.name not in store.staged_ids())


def test_an_id_staged_by_another_process_meanwhile_is_refused_and_theirs_is_kept_whole(
    store: UploadRecords, other: UploadRecords
) -> None:
    def meanwhile(path: Path) -> None:  # this upload's bytes are written; another process stages the same id now
        other.stage(THEIRS, filename="theirs.jpg", content_type="image/jpeg", upload_id=UPLOAD_ID)

    with pytest.raises(UploadsError, match=f"^upload '{UPLOAD_ID}' already exists$"):
        store.stage(MINE, filename="mine.jpg", content_type="image/jpeg", upload_id=UPLOAD_ID, check=meanwhile)
    record = store.get(UPLOAD_ID)
    assert (record.filename, record.size) == ("theirs.jpg", len(THEIRS))
    assert staged_bytes(store, UPLOAD_ID) == THEIRS  # not overwritten, not mixed with this staging's bytes
    assert store.staged_ids() == [UPLOAD_ID] and leftovers(store) == []


def test_an_id_staged_and_stored_by_another_process_meanwhile_is_refused_and_leaves_no_bytes(
    store: UploadRecords, other: UploadRecords
) -> None:
    def meanwhile(path: Path) -> None:  # another process stages the id and a worker stores it, all in between
        other.stage(THEIRS, filename="theirs.jpg", content_type="image/jpeg", upload_id=UPLOAD_ID)
        assert other.mark_ready(UPLOAD_ID, "img-theirs")

    with pytest.raises(UploadsError, match=f"^upload '{UPLOAD_ID}' already exists$"):
        store.stage(MINE, filename="mine.jpg", content_type="image/jpeg", upload_id=UPLOAD_ID, check=meanwhile)
    assert store.get(UPLOAD_ID).image_id == "img-theirs"
    assert store.staged_ids() == [] and leftovers(store) == []  # this staging's bytes are gone, not kept unowned


def test_the_staging_that_was_refused_can_be_made_again_under_a_new_id(
    store: UploadRecords, other: UploadRecords
) -> None:
    def meanwhile(path: Path) -> None:
        other.stage(THEIRS, filename="theirs.jpg", content_type="image/jpeg", upload_id=UPLOAD_ID)

    with pytest.raises(UploadsError, match="already exists"):
        store.stage(MINE, filename="mine.jpg", content_type="image/jpeg", upload_id=UPLOAD_ID, check=meanwhile)
    again = store.stage(MINE, filename="mine.jpg", content_type="image/jpeg")
    assert staged_bytes(store, again.id) == MINE and staged_bytes(store, UPLOAD_ID) == THEIRS
    assert sorted(store.staged_ids()) == sorted([again.id, UPLOAD_ID]) and leftovers(store) == []
