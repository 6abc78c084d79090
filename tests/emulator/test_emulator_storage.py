"""The data directory: what survives a restart, what ids can (not) reach on disk, that refused requests leave
no trace, and that several threads and processes can share one directory."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import imagegen
import pytest
from emulator_helpers import API, fails, in_process, ok, snapshot, upload

from cfvariants import Delivery
from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_API_TOKEN, Emulator, EmulatorAPIError, create_app

JPEG = imagegen.jpeg(40, 30)
THUMB = {"fit": "cover", "width": 20, "height": 20, "metadata": "none"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "cfimages"


@pytest.fixture
def http(data_dir: Path) -> Iterator[httpx.Client]:
    app = create_app(data_dir=data_dir, base_url="http://cfimages.test")
    with in_process(app, token=DEV_API_TOKEN) as client:
        yield client
    app.emulator.close()


def test_everything_survives_a_restart(data_dir: Path) -> None:
    first = Emulator(data_dir=data_dir)
    image = first.upload(JPEG, filename="kept.jpg", metadata={"k": 1}, require_signed_urls=True)
    first.create_variant("thumb", THUMB, never_require_signed_urls=True)
    keys = first.put_signing_key("extra")
    first.update_settings(flexible_variants=False, browser_ttl=7200)
    draft = first.create_direct_upload()
    first.close()

    second = Emulator(data_dir=data_dir)
    restored = second.get_image(image.id)
    assert (restored.filename, restored.meta, restored.require_signed_urls) == ("kept.jpg", {"k": 1}, True)
    assert second.image_blob(image.id) == (JPEG, "image/jpeg")
    assert second.get_variant("thumb").never_require_signed_urls is True
    assert [(k.name, k.value) for k in second.list_signing_keys()] == [(k.name, k.value) for k in keys]
    settings = second.settings()
    assert (settings.flexible_variants, settings.browser_ttl) == (False, 7200)
    assert second.get_image(draft.id).draft is True
    answer = second.deliver(f"/{DEV_ACCOUNT_HASH}/{image.id}/thumb")
    assert answer.status == 200 and imagegen.decode(answer.body).size == (20, 20)
    second.close()


def test_a_flexible_switch_given_at_start_wins_over_the_directory(data_dir: Path) -> None:
    with Emulator(data_dir=data_dir) as fresh:
        assert fresh.settings().flexible_variants is True  # dev mode
    with Emulator(data_dir=data_dir, flexible_variants=False) as switched:
        assert switched.settings().flexible_variants is False
    with Emulator(data_dir=data_dir) as again:
        assert again.settings().flexible_variants is False  # remembered, not reset


@pytest.mark.parametrize("image_id", ["..%2F..%2Fetc%2Fpasswd", "..%2e", "C:\\windows\\system32", "~root/.ssh", "%00"])
def test_odd_ids_are_stored_inside_the_data_directory_under_hashed_names(
    http: httpx.Client, data_dir: Path, image_id: str
) -> None:
    image = ok(upload(http, JPEG, id=image_id))
    assert image["id"] == image_id
    stored = [path for path in data_dir.rglob("*") if path.is_file() and path.suffix != ".sqlite3"]
    assert stored and all(path.resolve().is_relative_to(data_dir.resolve()) for path in stored)
    names = {path.name for path in stored if not path.name.startswith("emulator.sqlite3")}
    assert all(set(name) <= set("0123456789abcdef-") for name in names), names
    assert http.get(f"{API}/v1/{image_id.replace('%', '%25').replace('/', '%2F')}/blob").content == JPEG


@pytest.mark.parametrize("image_id", ["../../etc/passwd", "/etc/passwd", "a/../../b", "nul\x00", "a/.."])
def test_traversal_ids_are_refused_before_touching_the_disk(http: httpx.Client, data_dir: Path, image_id: str) -> None:
    before = snapshot(data_dir)
    fails(upload(http, JPEG, id=image_id), 400, 5400)
    assert snapshot(data_dir) == before
    assert sorted(p.name for p in data_dir.parent.iterdir()) == [data_dir.name]


def test_refused_requests_leave_no_trace(http: httpx.Client, data_dir: Path) -> None:
    ok(upload(http, JPEG, id="taken.jpg"))
    ok(http.post(f"{API}/v1/variants", json={"id": "thumb", "options": THUMB}))
    before = snapshot(data_dir)
    refused = [
        upload(http, b"not an image"),
        upload(http, JPEG[:100]),
        upload(http, JPEG, id="taken.jpg"),
        upload(http, JPEG, metadata={"k": "v" * 2000}),
        upload(http, JPEG, id="x" * 2000),
        upload(http, None, url="https://example.com/a.jpg"),
        upload(http, JPEG + b"\0" * (10 * 1024 * 1024)),
        http.post(f"{API}/v1/variants", json={"id": "thumb", "options": THUMB}),
        http.post(f"{API}/v1/variants", json={"id": "bad-id", "options": THUMB}),
        http.post(f"{API}/v2/direct_upload", json={"expiry": "2000-01-01T00:00:00Z"}),
        http.patch(f"{API}/v1/taken.jpg", json={"requireSignedURLs": True}),
        http.delete(f"{API}/v1/variants/public"),
        http.put(f"{API}/v1/keys/bad-name"),
    ]
    assert all(response.status_code >= 400 for response in refused)
    assert snapshot(data_dir) == before


def test_the_database_uses_wal_for_concurrent_readers_and_writers(http: httpx.Client, data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "emulator.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_several_emulators_on_one_directory_see_each_others_writes(data_dir: Path) -> None:
    left, right = Emulator(data_dir=data_dir), Emulator(data_dir=data_dir)
    image = left.upload(JPEG)
    assert right.get_image(image.id).id == image.id
    right.create_variant("thumb", THUMB)
    assert left.deliver(f"/{DEV_ACCOUNT_HASH}/{image.id}/thumb").status == 200
    right.delete_image(image.id)
    with pytest.raises(EmulatorAPIError) as error:
        left.get_image(image.id)
    assert error.value.status == 404
    left.close()
    right.close()


def test_concurrent_uploads_from_threads_all_land(data_dir: Path) -> None:
    emulator = Emulator(data_dir=data_dir)
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda n: emulator.upload(JPEG, metadata={"n": n}).id, range(24)))
    assert emulator.stats()[0] == 24 and len(set(ids)) == 24
    emulator.close()


def test_a_race_for_one_custom_id_has_exactly_one_winner(data_dir: Path) -> None:
    emulator = Emulator(data_dir=data_dir)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def contender() -> None:
        barrier.wait()
        try:
            emulator.upload(JPEG, image_id="contested.jpg")
            outcomes.append("won")
        except EmulatorAPIError as exc:
            outcomes.append(str(exc.status))

    threads = [threading.Thread(target=contender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["409"] * 5 + ["won"]
    originals = [p for p in (data_dir / "originals").rglob("*") if p.is_file()]
    assert len(originals) == 1
    emulator.close()


def _upload_in_process(data_dir: str, worker: int, count: int) -> list[str]:
    emulator = Emulator(data_dir=Path(data_dir))
    try:
        return [emulator.upload(JPEG, metadata={"worker": worker, "n": n}).id for n in range(count)]
    finally:
        emulator.close()


def test_several_processes_share_one_data_directory(data_dir: Path) -> None:
    Emulator(data_dir=data_dir).close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(_upload_in_process, [(str(data_dir), worker, 5) for worker in range(2)])
    emulator = Emulator(data_dir=data_dir)
    assert emulator.stats()[0] == 10
    assert sorted(emulator.get_image(i).meta["worker"] for ids in results for i in ids) == [0] * 5 + [1] * 5
    emulator.close()


def test_renders_are_cached_per_options_and_format_and_purged_with_the_image(
    http: httpx.Client, data_dir: Path
) -> None:
    image_id = ok(upload(http, JPEG))["id"]
    delivery = Delivery(DEV_ACCOUNT_HASH, domain="http://cfimages.test")
    for accept in ("image/webp", "image/avif", "*/*"):
        assert http.get(delivery.url(image_id, "w=20"), headers={"Accept": accept}).status_code == 200
    assert http.get(delivery.url(image_id, "width=20"), headers={"Accept": "*/*"}).status_code == 200  # same options
    entries = [p for p in (data_dir / "cache").rglob("*") if p.is_file()]
    assert sorted(p.name for p in entries) == ["avif", "jpeg", "webp"]
    ok(http.delete(f"{API}/v1/{image_id}"))
    assert not [p for p in (data_dir / "cache").rglob("*") if p.is_file()]


def test_a_cache_that_cannot_be_written_does_not_fail_deliveries(
    http: httpx.Client, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    image_id = ok(upload(http, imagegen.jpeg(300, 200), id="cache/full.jpg"))["id"]
    cache = data_dir / "cache"
    if cache.exists():
        import shutil

        shutil.rmtree(cache)
    cache.write_bytes(b"not a directory: every cache write fails, like a full disk")
    for _ in range(2):
        response = http.get(f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/{image_id}/w=100")
        assert response.status_code == 200 and imagegen.decode(response.content).size == (100, 67)
    assert "could not cache a rendered variant" in caplog.text


def test_a_thread_per_request_does_not_keep_file_descriptors_open(data_dir: Path) -> None:
    """A threaded server answers each request on a new thread; the connections of ended threads are closed
    (10,000 requests used to exhaust the process's descriptors)."""
    emulator = Emulator(data_dir=data_dir)
    emulator.upload(JPEG, image_id="kept.jpg")

    def open_descriptors() -> int:
        return len(list(Path("/proc/self/fd").iterdir()))

    def one_request() -> None:
        assert emulator.get_image("kept.jpg").id == "kept.jpg"

    for _ in range(5):
        worker = threading.Thread(target=one_request)
        worker.start()
        worker.join()
    before = open_descriptors()
    for _ in range(200):
        worker = threading.Thread(target=one_request)
        worker.start()
        worker.join()

    assert open_descriptors() <= before + 3
    emulator.close()


def test_a_full_database_fails_the_upload_with_its_own_error_and_the_emulator_goes_on_once_there_is_room(
    data_dir: Path,
) -> None:
    emulator = Emulator(data_dir=data_dir)
    kept = emulator.upload(JPEG, filename="kept.jpg")
    connection = emulator.storage.db._connection()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full for the database from now on
    with pytest.raises(sqlite3.OperationalError, match="full"):  # not "cannot rollback", which hid the cause
        for number in range(100):
            emulator.upload(JPEG, filename=f"more-{number}.jpg", metadata={"caption": "x" * 900})
    listed = {image.filename for image in emulator.list_images()}
    connection.execute("PRAGMA max_page_count = 1073741823")  # room again
    later = emulator.upload(JPEG, filename="later.jpg")
    assert {image.filename for image in emulator.list_images()} == listed | {"later.jpg"}
    assert emulator.get_image(kept.id).filename == "kept.jpg" and emulator.image_blob(later.id) == (JPEG, "image/jpeg")
    emulator.close()
