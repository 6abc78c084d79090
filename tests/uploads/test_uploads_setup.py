"""Choosing the queue and the store from ``HUEY_URL``, and what a worker says at start about the queue, store and
Cloudflare account it uses (and whether they are the web app's): the lines a person reads when a worker never
sees an upload."""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey

from cfvariants.client import ImagesClient
from cfvariants.uploads import (
    RedisUploadStore,
    UploadQueue,
    UploadRecords,
    UploadsError,
    UploadStore,
    huey_from_url,
    store_from_url,
)
from cfvariants.uploads._identity import describe_huey


def _worker_line(huey: Any, store: UploadRecords, client: ImagesClient, caplog: pytest.LogCaptureFixture) -> str:
    """What a worker process on ``huey``, ``store`` and ``client`` logs at start (its level name, then its text)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="cfvariants.uploads"):
        UploadQueue(huey, store, lambda: client)._log_start()
    [record] = [r for r in caplog.records if "upload worker" in r.getMessage()]
    return f"{record.levelname} {record.getMessage()}"


# -- HUEY_URL -> the queue ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [None, ""])
def test_no_huey_url_means_a_sqlite_queue_in_the_default_file(
    url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    huey = huey_from_url(url)
    assert isinstance(huey, SqliteHuey) and huey.name == "cfvariants"
    assert os.path.abspath(huey.storage.filename) == str(tmp_path / "huey.db")
    nested = huey_from_url(url, name="shop", default_path=tmp_path / "data" / "queues" / "huey.db")
    assert isinstance(nested, SqliteHuey) and nested.name == "shop"
    assert nested.storage.filename == str(tmp_path / "data" / "queues" / "huey.db")
    assert (tmp_path / "data" / "queues").is_dir()  # made, parents too
    again = huey_from_url(url, name="shop", default_path=tmp_path / "data" / "queues" / "huey.db")  # it exists now
    again.enqueue(again.task()(lambda: None).s())
    assert nested.pending_count() == 1  # one file, one queue


def test_a_sqlite_url_names_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "huey.db"
    huey = huey_from_url(f"sqlite://{path}", name="shop")
    assert isinstance(huey, SqliteHuey) and huey.name == "shop" and huey.storage.filename == str(path)
    assert path.parent.is_dir()
    assert huey_from_url(f"sqlite://{path}").name == "cfvariants"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///"])
def test_a_sqlite_url_without_a_file_is_refused_naming_the_url(url: str) -> None:
    with pytest.raises(UploadsError) as refused:
        huey_from_url(url)
    assert str(refused.value) == f"HUEY_URL {url!r} names no database file: use sqlite:///path/to/huey.db"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("redis://:s3cret@cache.internal:6390/3", "redis://cache.internal:6390/3"),
        ("rediss://cache.internal:6390/2", "redis://cache.internal:6390/2"),
        ("redis://cache.internal:6390", "redis://cache.internal:6390/0"),
        ("redis://", "redis://?:?/0"),
        ("unix:///run/redis.sock?db=2", "redis:///run/redis.sock"),
    ],
)
def test_a_redis_url_means_a_redis_queue_described_without_its_password(url: str, where: str) -> None:
    huey = huey_from_url(url, name="shop")
    assert isinstance(huey, RedisHuey) and huey.name == "shop"
    assert huey_from_url(url).name == "cfvariants"
    described = describe_huey(huey)  # what the web app and the workers log (nothing is connected to here)
    assert described == f"RedisHuey 'shop' at {where}"
    assert "s3cret" not in described


def _described_queue(huey: Any, tmp_path: Path, client: ImagesClient) -> str:
    """How the web app names its queue in the line it logs at start (``UploadQueue.announce_web``); a queue that
    cannot be reached only fails to take the fingerprint."""
    logging.getLogger("cfvariants.uploads").disabled = True
    try:
        line = UploadQueue(huey, UploadStore(tmp_path / "store"), lambda: client).announce_web()
    finally:
        logging.getLogger("cfvariants.uploads").disabled = False
    return line.removeprefix("uses queue ").partition(", store ")[0]


def test_a_memory_url_means_a_queue_of_this_process_only(tmp_path: Path, cf_client: ImagesClient) -> None:
    huey = huey_from_url("memory://", name="shop")
    assert isinstance(huey, MemoryHuey) and huey.name == "shop"
    assert _described_queue(huey, tmp_path, cf_client) == "MemoryHuey 'shop' (this process only)"


def test_a_sqlite_queue_is_described_by_its_absolute_path_and_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cf_client: ImagesClient
) -> None:
    monkeypatch.chdir(tmp_path)
    huey = huey_from_url("sqlite://queue.db", name="shop")
    described = _described_queue(huey, tmp_path, cf_client)
    assert described == f"SqliteHuey 'shop' at {tmp_path / 'queue.db'} on {socket.gethostname()}"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://app:s3cret@db.internal/queue", "'postgres://app:***@db.internal/queue'"),
        ("amqp://app:s3cret@mq.internal/?fallback=amqp://app:s3cret@mq2.internal", None),
        ("huey.db", "'huey.db'"),
    ],
)
def test_another_scheme_is_refused_without_showing_its_password(url: str, shown: str | None) -> None:
    with pytest.raises(UploadsError) as refused:
        huey_from_url(url)
    message = str(refused.value)
    assert "s3cret" not in message
    assert message.endswith(" is not sqlite:///..., redis://..., rediss://..., unix://... or memory://")
    if shown is not None:
        assert message.startswith(f"HUEY_URL {shown} is not ")


# -- HUEY_URL -> the store ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [None, "", "sqlite:///var/huey.db", "memory://"])
def test_without_redis_the_store_is_files_and_sqlite_under_the_directory(url: str | None, tmp_path: Path) -> None:
    store = store_from_url(url, tmp_path / "uploads", preview_url="/uploads/{id}/preview")
    assert isinstance(store, UploadStore) and store.root == tmp_path / "uploads"
    record = store.stage(b"GIF89a", filename="a.gif", content_type="image/gif")
    assert record.preview_url == f"/uploads/{record.id}/preview"
    assert store_from_url(url, tmp_path / "uploads").preview_url is None


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("redis://127.0.0.1:6390/3", "127.0.0.1:6390"),
        ("rediss://cache.internal:6390/2", "cache.internal:6390"),
        ("unix:///run/redis.sock", "?:?"),
    ],
)
def test_with_redis_the_store_is_in_redis_too(url: str, where: str, tmp_path: Path) -> None:
    store = store_from_url(url, tmp_path / "uploads", name="shop", preview_url="/p/{id}")
    assert isinstance(store, RedisUploadStore)
    assert repr(store) == f"RedisUploadStore({where}, prefix='cfv:uploads:shop')"
    assert store.preview_url == "/p/{id}"
    assert repr(store_from_url(url, tmp_path)) == f"RedisUploadStore({where}, prefix='cfv:uploads:cfvariants')"
    assert not (tmp_path / "uploads").exists()


# -- what a worker says at start -----------------------------------------------------------------------------------


def test_the_web_app_names_its_queue_store_and_account_and_leaves_them_for_workers(
    sqlite_store: UploadStore, cf_client: ImagesClient, tmp_path: Path
) -> None:
    huey = SqliteHuey("shop", filename=str(tmp_path / "huey.db"))
    before = time.time()
    line = UploadQueue(huey, sqlite_store, lambda: cf_client).announce_web()
    after = time.time()
    host = socket.gethostname()
    store = f"UploadStore at {sqlite_store.root} on {host}"
    account = f"account {cf_client.account_id} at {cf_client.base_url}"
    assert (
        line == f"uses queue SqliteHuey 'shop' at {tmp_path / 'huey.db'} on {host}, store {store}, Cloudflare {account}"
    )
    left = SqliteHuey("shop", filename=str(tmp_path / "huey.db")).get("cfvariants:web-app:shop", peek=True)
    assert left["queue"] == f"SqliteHuey 'shop' at {tmp_path / 'huey.db'} on {host}"
    assert (left["store"], left["account"], left["host"], left["pid"]) == (store, account, host, os.getpid())
    assert before <= left["at"] <= after
    assert SqliteHuey("other", filename=str(tmp_path / "huey.db")).get("cfvariants:web-app:other", peek=True) is None


def test_a_worker_on_the_web_apps_queue_names_it_with_its_process_and_start(
    sqlite_store: UploadStore, cf_client: ImagesClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "huey.db")
    before = time.time()
    UploadQueue(SqliteHuey("shop", filename=path), sqlite_store, lambda: cf_client).announce_web()
    after = time.time()
    line = _worker_line(SqliteHuey("shop", filename=path), sqlite_store, cf_client, caplog)
    started = {time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)) for t in (before, after)}
    host = socket.gethostname()
    assert line.startswith(f"INFO upload worker (pid {os.getpid()}) uses queue SqliteHuey 'shop' at {path} on {host}, ")
    assert any(
        line.endswith(f"; the same as the web app on {host} (pid {os.getpid()}, started {when})") for when in started
    ), line
    # the same file, another queue name: another queue, which no web app has used
    other = _worker_line(SqliteHuey("other", filename=path), sqlite_store, cf_client, caplog)
    assert other.startswith("WARNING ") and other.endswith(
        ". No web app has used this queue: if yours is running, this worker is not on its queue and will never see "
        "its uploads (give both the same HUEY_URL)"
    )


@pytest.mark.parametrize("elsewhere", [False, True], ids=["same-store", "other-store"])
def test_a_fingerprint_of_another_version_says_what_it_knows(
    sqlite_store: UploadStore,
    cf_client: ImagesClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    elsewhere: bool,
) -> None:
    path = str(tmp_path / "huey.db")
    UploadQueue(SqliteHuey("shop", filename=path), sqlite_store, lambda: cf_client).announce_web()
    storage = SqliteHuey("shop", filename=path)  # the fingerprint as other versions of the web app left it
    full = storage.get("cfvariants:web-app:shop", peek=True)
    store = UploadStore(tmp_path / "elsewhere") if elsewhere else sqlite_store
    storage.put("cfvariants:web-app:shop", {**full, "at": 1780000000.0, "pid": 4242, "host": "web1"})
    known = _worker_line(SqliteHuey("shop", filename=path), store, cf_client, caplog)
    storage.put("cfvariants:web-app:shop", {name: full[name] for name in ("queue", "store", "account")})
    unknown = _worker_line(SqliteHuey("shop", filename=path), store, cf_client, caplog)
    if elsewhere:
        assert "but the web app on web1 uses store " in known and "but the web app on ? uses store " in unknown
    else:
        assert known.endswith("; the same as the web app on web1 (pid 4242, started 2026-05-28 20:26:40 UTC)")
        assert unknown.endswith("; the same as the web app on ? (pid ?, started at an unknown time)")


def test_a_worker_on_another_account_says_which_the_web_app_uses(
    sqlite_store: UploadStore, cf_client: ImagesClient, cf_app: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "huey.db")
    UploadQueue(SqliteHuey("shop", filename=path), sqlite_store, lambda: cf_client).announce_web()
    other = ImagesClient("f" * 32, "another-token", base_url="https://api.cloudflare.com/client/v4")
    line = _worker_line(SqliteHuey("shop", filename=path), sqlite_store, other, caplog)
    host = socket.gethostname()
    assert line.startswith("WARNING ")
    assert (
        f"Cloudflare account {'f' * 32} at https://api.cloudflare.com/client/v4, but the web app on {host} uses "
        f"Cloudflare account {cf_client.account_id} at {cf_client.base_url}: this worker cannot send its uploads"
        in line
    )
    assert "another-token" not in line and cf_app.emulator.config.api_token not in line
    elsewhere = UploadStore(tmp_path / "elsewhere")
    both = _worker_line(SqliteHuey("shop", filename=path), elsewhere, other, caplog)
    assert (
        f"but the web app on {host} uses store UploadStore at {sqlite_store.root} on {host}; Cloudflare account "
        f"{cf_client.account_id} at {cf_client.base_url}: " in both
    )


def test_a_worker_with_a_batch_token_says_so_instead_of_an_account(
    sqlite_store: UploadStore, caplog: pytest.LogCaptureFixture
) -> None:
    batch = ImagesClient(None, "batch-token", base_url="https://batch.imagedelivery.net/images/v1", batch=True)
    line = _worker_line(MemoryHuey("shop"), sqlite_store, batch, caplog)
    assert "Cloudflare account (batch token) at https://batch.imagedelivery.net/images/v1. No web app" in line


def test_a_worker_on_a_redis_store_names_it_by_host_and_prefix(
    redis_url: str, cf_client: ImagesClient, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisUploadStore(redis_url, name="shop")
    try:
        line = _worker_line(MemoryHuey("shop"), store, cf_client, caplog)
    finally:
        store.close()
    assert f", store {store!r}, Cloudflare " in line and "prefix='cfv:uploads:shop'" in line


def test_a_worker_that_cannot_read_its_queue_says_why(
    sqlite_store: UploadStore,
    cf_client: ImagesClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    huey = MemoryHuey("shop")

    def down(key: str, peek: bool = False) -> object:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(huey, "get", down)
    line = _worker_line(huey, sqlite_store, cf_client, caplog)
    assert line.startswith("WARNING upload worker")
    assert line.endswith(f"Cloudflare account {cf_client.account_id} at {cf_client.base_url}; cannot read the queue "
                         "(ConnectionError: redis is down)")  # fmt: skip


def test_a_name_the_package_does_not_have_is_an_attribute_error_naming_it() -> None:
    import cfvariants.uploads

    with pytest.raises(AttributeError) as missing:
        cfvariants.uploads.UploadStor  # type: ignore[attr-defined]  # noqa: B018
    assert str(missing.value) == "module 'cfvariants.uploads' has no attribute 'UploadStor'"
    assert not hasattr(cfvariants.uploads, "RedisStore")
    assert cfvariants.uploads.RedisUploadStore is RedisUploadStore
    assert RedisUploadStore.__module__ == "cfvariants.uploads"
