"""``cfvariants migrate`` and ``cfvariants.migrate`` on directories: resuming, rate limits, the report, dry runs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from pathlib import Path

import httpx
import imagegen
import pytest
from cli_helpers import CLI, AsyncBridge, DyingTransport

from cfvariants import Settings
from cfvariants.cli._progress import FileResult, Reporter, Tally, render_bar
from cfvariants.cli._uploader import UNREACHABLE_LIMIT
from cfvariants.client import RateLimit, RateLimitedTransport
from cfvariants.client._ratelimit import TokenBucket
from cfvariants.emulator import Emulator, EmulatorConfig, create_app
from cfvariants.migrate import UploadOptions, migrate_directory


def stored(emulator: Emulator) -> dict[str, dict[str, object]]:
    return {record.id: record.meta for record in emulator.list_images(per_page=1000)}


def media_tree(root: Path, count: int) -> dict[str, bytes]:
    """``count`` distinct photo-like JPEGs in two sub-directories, plus a text file; images by relative path."""
    images = {
        f"set{index % 2}/photo{index:03d}.jpg": imagegen.photo_jpeg(20_000 + index, seed=index)
        for index in range(count)
    }
    for relative, data in images.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    (root / "notes.txt").write_text("not an image")
    return images


# -- the command ------------------------------------------------------------------------------------------------


def test_migrates_a_directory_and_a_second_run_skips_everything(cli: CLI, cf_emulator: Emulator) -> None:
    images = media_tree(cli.cwd / "media", count=5)

    first = cli("migrate", "media", "--id-from-path", "--id-prefix", "legacy/")

    assert first.exit_code == 0, first.output
    assert "5 migrated, 0 skipped, 0 failed" in first.stdout
    held = stored(cf_emulator)
    assert set(held) == {f"legacy/{name}" for name in images}
    assert all(held[f"legacy/{n}"]["cfv_sha256"] == hashlib.sha256(d).hexdigest() for n, d in images.items())

    second = cli("migrate", "media", "--id-from-path", "--id-prefix", "legacy/")

    assert second.exit_code == 0, second.output
    assert "0 migrated, 5 skipped, 0 failed" in second.stdout
    assert len(stored(cf_emulator)) == 5
    assert all(path.exists() for path in (cli.cwd / "media").rglob("*.jpg"))  # kept without --delete-source


@pytest.mark.parametrize("custom_ids", [True, False], ids=["id-from-path", "generated-ids"])
def test_resumes_after_an_interrupted_run_without_duplicates(cli: CLI, cf_emulator: Emulator, custom_ids: bool) -> None:
    images = media_tree(cli.cwd / "media", count=8)
    extra = ["--id-from-path"] if custom_ids else []
    dying = cli.with_transport(DyingTransport(httpx.WSGITransport(app=cli.app), healthy=3))

    first = cli("migrate", "media", "-j", "2", "--retries", "0", *extra, runtime=dying)

    assert first.exit_code == 2  # the network is gone: it stopped instead of failing every file
    assert "3 migrated, 0 skipped" in first.stdout
    assert "the Cloudflare API cannot be reached" in first.stderr
    assert len(stored(cf_emulator)) == 4  # the fourth was stored, its answer lost

    second = cli("migrate", "media", "-j", "2", *extra)

    assert second.exit_code == 0, second.output
    assert "4 migrated, 4 skipped, 0 failed" in second.stdout
    held = stored(cf_emulator)
    assert sorted(str(meta["cfv_sha256"]) for meta in held.values()) == sorted(
        hashlib.sha256(data).hexdigest() for data in images.values()
    )


class LateAnswer(httpx.BaseTransport):
    """The third upload is stored, then the network goes (every later request fails to connect), and that upload's
    answer comes back only after enough files have failed for the run to stop: it is in flight when it stops."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._uploads = self._failed = 0
        self._dead = False
        self._stopping = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._dead:
                self._failed += 1
                if self._failed >= UNREACHABLE_LIMIT:
                    self._stopping.set()
                raise httpx.ConnectError("network unreachable", request=request)
            late = request.method == "POST" and request.url.path.endswith("/images/v1")
            self._uploads += late
            late = late and self._uploads == 3
            self._dead = late
        response = self._inner.handle_request(request)
        if late:
            assert self._stopping.wait(timeout=60)
            time.sleep(0.3)  # room for the stop to reach the other workers first, as it did when this answer was lost
        return response


def test_an_upload_in_flight_when_the_run_stops_is_still_recorded(cli: CLI, cf_emulator: Emulator) -> None:
    media_tree(cli.cwd / "media", count=8)
    late = cli.with_transport(LateAnswer(httpx.WSGITransport(app=cli.app)))

    first = cli("migrate", "media", "-j", "4", "--retries", "0", runtime=late)

    assert first.exit_code == 2 and "the Cloudflare API cannot be reached" in first.stderr
    assert len(stored(cf_emulator)) == 3
    assert "3 migrated, 0 skipped" in first.stdout  # the late answer too: the run waited for it
    second = cli("migrate", "media", "-j", "4")
    assert "5 migrated, 3 skipped, 0 failed" in second.stdout


def test_delete_source_removes_only_files_whose_image_is_checked(cli: CLI, cf_emulator: Emulator) -> None:
    media_tree(cli.cwd / "media", count=3)
    other = imagegen.photo_jpeg(30_000, seed=99)
    cf_emulator.upload(other, image_id="set0/photo000.jpg", metadata={"cfv_sha256": hashlib.sha256(other).hexdigest()})
    cf_emulator.upload(other, image_id="set1/photo001.jpg")  # stored by something else: content unknown

    result = cli("migrate", "media", "--id-from-path", "--delete-source")

    assert result.exit_code == 1
    assert "1 migrated, 1 skipped, 1 failed" in result.stdout
    assert "set0/photo000.jpg already exists with different content" in result.stderr
    left = sorted(p.relative_to(cli.cwd / "media").as_posix() for p in (cli.cwd / "media").rglob("*.jpg"))
    assert left == ["set0/photo000.jpg", "set1/photo001.jpg"]
    assert (cli.cwd / "media" / "notes.txt").exists()


def test_dry_run_lists_and_calls_nothing(cli: CLI) -> None:
    media_tree(cli.cwd / "media", count=2)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"dry run sent {request.method} {request.url}")

    result = cli(
        "migrate", "media", "--id-from-path", "--dry-run", runtime=cli.with_transport(httpx.MockTransport(refuse))
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "would migrate media/set0/photo000.jpg -> set0/photo000.jpg",
        "would migrate media/set1/photo001.jpg -> set1/photo001.jpg",
    ]


def test_json_report_lists_every_file(cli: CLI) -> None:
    media_tree(cli.cwd / "media", count=3)

    result = cli("migrate", "media", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["summary"]["migrated"] == 3
    assert {item["status"] for item in document["files"]} == {"uploaded"}
    assert all(item["verified"] for item in document["files"])


def test_bad_sources_are_usage_errors(cli: CLI) -> None:
    (cli.cwd / "cat.jpg").write_bytes(imagegen.jpeg(10, 10))

    assert cli("migrate", "cat.jpg").exit_code == 2
    result = cli("migrate", "nothing-here")
    assert result.exit_code == 2
    assert "neither a directory, storage:ALIAS nor app_label.Model.field" in result.stderr
    assert cli("migrate", ".", "--rate-limit", "lots").exit_code == 2


def test_progress_by_files_when_sizes_are_unknown() -> None:
    tally = Tally(total_files=100, total_bytes=None, started=0.0, verb="migrated")
    for _ in range(40):
        tally.add(FileResult("x", "uploaded", 1000))

    line = render_bar(tally, width=120, now=10.0)

    assert "40/100 files  40.0 kB  4.0 files/s  ETA 0:15" in line
    assert line.startswith("[" + "#" * 10)


# -- rate limits ----------------------------------------------------------------------------------------------


def limited_emulator(
    tmp_path: Path, requests: int, window: float
) -> tuple[Emulator, httpx.AsyncBaseTransport, Settings]:
    emulator = Emulator(EmulatorConfig(data_dir=tmp_path / "limited", rate_limit=(requests, window)))
    transport = AsyncBridge(httpx.WSGITransport(app=create_app(emulator)))
    settings = Settings(
        account_id=emulator.config.account_id, api_token=emulator.config.api_token,
        api_base="http://cfimages.test/client/v4",
    )  # fmt: skip
    return emulator, transport, settings


def test_stays_within_the_rate_limit(tmp_path: Path) -> None:
    """The emulator refuses any request over 12 per 1 s window; the migration never gets there."""
    emulator, transport, settings = limited_emulator(tmp_path, requests=12, window=1.0)
    images = media_tree(tmp_path / "media", count=24)

    report = migrate_directory(
        tmp_path / "media", settings=settings, transport=transport, rate_limit=RateLimit(12, 1.0),
        upload=UploadOptions(concurrency=6, id_from_path=True),
    )  # fmt: skip

    assert (report.migrated, report.failed) == (24, 0), report.failures
    stats = emulator.rate_limiter.stats() if emulator.rate_limiter else None
    assert stats is not None
    assert stats.refused == 0 and report.throttled == 0
    assert stats.accepted == len(images)  # one request per new file with custom ids
    assert stats.busiest_window <= 12
    assert report.waited > 0  # it did have to hold requests back


def test_a_429_pauses_everything_for_its_retry_after_and_nothing_is_lost(tmp_path: Path) -> None:
    """The client thinks it may send 1,000 a second; the emulator allows 10 per second and locks out for a
    second after that. Every file still arrives, once."""
    emulator, transport, settings = limited_emulator(tmp_path, requests=10, window=1.0)
    images = media_tree(tmp_path / "media", count=16)

    report = migrate_directory(
        tmp_path / "media", settings=settings, transport=transport, rate_limit=RateLimit(1000, 1.0),
        upload=UploadOptions(concurrency=4, id_from_path=True),
    )  # fmt: skip

    assert (report.migrated, report.failed) == (16, 0), report.failures
    assert report.throttled >= 1
    assert sorted(stored(emulator)) == sorted(images)


def test_the_token_bucket_never_lets_more_than_the_budget_through_any_window() -> None:
    """On a fake clock: 1,200 per 300 s, 5,000 requests; count them in every 300 s window."""
    now = [0.0]
    sent: list[float] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket(RateLimit(1200, 300.0), clock=lambda: now[0], sleep=sleep)

    async def run() -> None:
        for _ in range(5000):
            await bucket.acquire()
            sent.append(now[0])

    asyncio.run(run())

    start = 0
    for end, moment in enumerate(sent):
        while sent[start] <= moment - 300.0:
            start += 1
        assert end - start + 1 <= 1200
    assert sent[-1] == pytest.approx((5000 - 20) / ((1140 - 20) / 300), rel=0.01)  # and it runs at the limit


def test_rate_limits_parse_from_the_command_line_form() -> None:
    assert RateLimit.parse("1200/5m") == RateLimit(1200, 300.0)
    assert RateLimit.parse("200/s") == RateLimit(200, 1.0)
    assert RateLimit.parse("50/30") == RateLimit(50, 30.0)
    with pytest.raises(ValueError, match="not a rate limit"):
        RateLimit.parse("fast")


def test_a_silent_reporter_still_counts() -> None:
    reporter = Reporter(Tally(1, None))
    reporter.file_done(FileResult("x", "failed", 0, reason="r"))
    assert reporter.tally.failed == 1


def test_the_transport_blocks_after_a_429_without_retry_after() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429 if len(slept) == 0 and request.url.path == "/first" else 200)

    transport = RateLimitedTransport(
        httpx.MockTransport(answer), TokenBucket(RateLimit(100, 60.0), clock=lambda: now[0], sleep=sleep)
    )

    async def run() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            assert (await client.get("/first")).status_code == 429
            assert (await client.get("/second")).status_code == 200

    asyncio.run(run())

    assert transport.throttled == 1
    assert sum(slept) >= 60.0  # no Retry-After: the whole window


def test_with_a_batch_token_only_the_token_counts_against_the_account(tmp_path: Path) -> None:
    """The emulator allows the account 3 API requests a minute; through the batch host 12 files still move."""
    emulator, transport, settings = limited_emulator(tmp_path, requests=3, window=60.0)
    images = media_tree(tmp_path / "media", count=12)

    report = migrate_directory(
        tmp_path / "media", settings=settings, transport=transport, batch=True,
        upload=UploadOptions(concurrency=4, id_from_path=True),
    )  # fmt: skip

    assert (report.migrated, report.failed) == (12, 0), report.failures
    assert emulator.rate_limiter is not None and emulator.rate_limiter.stats().accepted == 1  # the token
    assert sorted(stored(emulator)) == sorted(images)


def test_the_command_with_a_batch_token(cli: CLI, cf_emulator: Emulator) -> None:
    images = media_tree(cli.cwd / "media", count=3)

    result = cli("migrate", "media", "--batch", "--id-from-path")

    assert result.exit_code == 0, result.output
    assert "3 migrated, 0 skipped, 0 failed" in result.stdout
    assert sorted(stored(cf_emulator)) == sorted(images)
