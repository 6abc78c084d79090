"""``cfvariants upload``: directories, image detection, metadata, resuming without duplicates, progress, JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import imagegen
import pytest
from cli_helpers import CLI, DyingTransport, emulator_env
from click.testing import CliRunner
from servers import free_port

from cfvariants import Settings
from cfvariants.cli import main
from cfvariants.cli._progress import Tally, render_bar
from cfvariants.cli._runtime import Runtime
from cfvariants.emulator import DEV_API_TOKEN, Emulator, EmulatorServer


def stored(emulator: Emulator) -> dict[str, dict[str, object]]:
    """Every image on the emulated account: id -> metadata."""
    return {record.id: record.meta for record in emulator.list_images(per_page=1000)}


def photo_tree(root: Path, count: int = 3) -> dict[str, bytes]:
    """``count`` distinct JPEGs (some in a sub-directory) plus files that are not images; returns the images by
    relative path."""
    images = {}
    for index in range(count):
        relative = f"set{index % 2}/photo{index}.jpg" if index else f"photo{index}.jpg"
        images[relative] = imagegen.jpeg(40 + index, 30)
    for relative, data in images.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return images


def test_uploads_a_directory_tree_with_custom_ids_and_only_images(cli: CLI, cf_emulator: Emulator) -> None:
    root = cli.cwd / "photos"
    images = photo_tree(root)
    (root / "set1" / "scan").write_bytes(imagegen.png(20, 20))  # no extension: recognised by its bytes
    images["set1/scan"] = (root / "set1" / "scan").read_bytes()
    (root / "notes.txt").write_text("not an image")
    (root / ".thumbs.jpg").write_bytes(imagegen.jpeg(10, 10))  # hidden
    (root / ".cache").mkdir()
    (root / ".cache" / "x.jpg").write_bytes(imagegen.jpeg(10, 10))

    result = cli("upload", "photos", "--id-from-path", "--metadata", "owner=7", "--metadata", "source=import")

    assert result.exit_code == 0, result.output
    assert "4 uploaded, 0 skipped, 0 failed" in result.stdout
    assert "uploaded  photos/set1/scan -> set1/scan" in result.stdout
    held = stored(cf_emulator)
    assert set(held) == set(images)
    for relative, data in images.items():
        assert held[relative]["cfv_sha256"] == hashlib.sha256(data).hexdigest()
        assert held[relative]["owner"] == 7  # typed as JSON: a number
        assert held[relative]["cfv_thumbhash"] and held[relative]["cfv_width"] > 0  # for layouts and placeholders
        assert held[relative]["source"] == "import"


def test_a_second_run_skips_what_is_already_there(cli: CLI, cf_emulator: Emulator) -> None:
    photo_tree(cli.cwd / "photos")
    assert cli("upload", "photos", "--id-prefix", "p/", "--id-from-path").exit_code == 0
    first = stored(cf_emulator)

    again = cli("upload", "photos", "--id-prefix", "p/", "--id-from-path")

    assert again.exit_code == 0, again.output
    assert "0 uploaded, 3 skipped, 0 failed" in again.stdout
    assert "skipped   photos/photo0.jpg: already uploaded as p/photo0.jpg" in again.stdout
    assert stored(cf_emulator) == first


def test_a_changed_file_under_an_existing_id_fails_and_is_not_overwritten(cli: CLI, cf_emulator: Emulator) -> None:
    photo_tree(cli.cwd / "photos", count=1)
    assert cli("upload", "photos", "--id-from-path").exit_code == 0
    before = stored(cf_emulator)["photo0.jpg"]["cfv_sha256"]
    (cli.cwd / "photos" / "photo0.jpg").write_bytes(imagegen.jpeg(99, 99))

    result = cli("upload", "photos", "--id-from-path")

    assert result.exit_code == 1
    assert "photo0.jpg already exists with different content; delete it first" in result.stderr
    assert "0 uploaded, 0 skipped, 1 failed" in result.stdout
    assert stored(cf_emulator)["photo0.jpg"]["cfv_sha256"] == before


@pytest.mark.parametrize("custom_ids", [True, False], ids=["id-from-path", "generated-ids"])
def test_resumes_after_an_interrupted_run_without_duplicates(cli: CLI, cf_emulator: Emulator, custom_ids: bool) -> None:
    images = photo_tree(cli.cwd / "photos", count=7)
    extra = ["--id-from-path"] if custom_ids else []
    # Two uploads go through, the third is stored but its answer is lost, then the network is gone.
    dying = cli.with_transport(DyingTransport(httpx.WSGITransport(app=cli.app), healthy=2))

    first = cli("upload", "photos", "--concurrency", "3", "--retries", "0", *extra, runtime=dying)

    assert first.exit_code == 2  # the network is gone: it stopped instead of failing every file
    assert "2 uploaded, 0 skipped" in first.stdout
    errors = [line for line in first.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "the Cloudflare API cannot be reached" in errors[0]
    assert len(stored(cf_emulator)) == 3  # including the one whose answer was lost

    second = cli("upload", "photos", "--concurrency", "3", *extra)

    assert second.exit_code == 0, second.output
    assert "4 uploaded, 3 skipped, 0 failed" in second.stdout
    held = stored(cf_emulator)
    assert len(held) == len(images)  # each file exactly once
    hashes = sorted(str(meta["cfv_sha256"]) for meta in held.values())
    assert hashes == sorted(hashlib.sha256(data).hexdigest() for data in images.values())
    if custom_ids:
        assert set(held) == set(images)
    else:
        assert sorted(str(meta["cfv_path"]) for meta in held.values()) == sorted(images)


def test_private_images_cannot_have_custom_ids(cli: CLI, cf_emulator: Emulator) -> None:
    photo_tree(cli.cwd / "photos", count=1)

    result = cli("upload", "photos", "--private", "--id-from-path")

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --private cannot be combined with --id-from-path")
    assert result.stderr.count("\n") == 1
    assert stored(cf_emulator) == {}


def test_private_uploads_require_signed_urls(cli: CLI, cf_emulator: Emulator) -> None:
    photo_tree(cli.cwd / "photos", count=2)

    result = cli("upload", "photos", "--private", "--creator", "user-7")

    assert result.exit_code == 0, result.output
    records = cf_emulator.list_images(per_page=100)
    assert [(r.require_signed_urls, r.creator) for r in records] == [(True, "user-7"), (True, "user-7")]


def test_an_unreachable_api_stops_the_run_with_one_line(cli: CLI, cf_emulator: Emulator) -> None:
    photo_tree(cli.cwd / "photos", count=12)
    nobody = f"http://127.0.0.1:{free_port()}/client/v4"  # a port nothing listens on
    settings_env = {**cli.env, "CF_API_BASE": nobody}
    result = CliRunner().invoke(main, ["upload", "photos", "--retries", "0", "--concurrency", "1"], env=settings_env,
                                catch_exceptions=False)  # fmt: skip

    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "the Cloudflare API cannot be reached (ConnectError" in errors[0]
    assert "stopped after 3 files in a row got no answer" in errors[0] and "CF_API_BASE" in errors[0]
    assert result.stderr.count("failed    ") < 3  # not one error per file
    assert stored(cf_emulator) == {}


def test_private_of_an_image_stored_publicly_makes_it_private(cli: CLI, cf_emulator: Emulator) -> None:
    photo_tree(cli.cwd / "photos", count=2)
    assert cli("upload", "photos").exit_code == 0
    assert [r.require_signed_urls for r in cf_emulator.list_images(per_page=100)] == [False, False]

    again = cli("upload", "photos", "--private")

    assert again.exit_code == 0, again.output
    assert "0 uploaded, 2 skipped, 0 failed" in again.stdout
    assert "it was public: now private (signed URLs required)" in again.stdout
    assert [r.require_signed_urls for r in cf_emulator.list_images(per_page=100)] == [True, True]


def test_different_metadata_or_creator_of_a_stored_file_fails_and_changes_nothing(
    cli: CLI, cf_emulator: Emulator
) -> None:
    photo_tree(cli.cwd / "photos", count=1)
    assert cli("upload", "photos", "--id-from-path", "--metadata", "owner=7", "--creator", "u7").exit_code == 0
    before = stored(cf_emulator)

    other_owner = cli("upload", "photos", "--id-from-path", "--metadata", "owner=8")
    other_creator = cli("upload", "photos", "--id-from-path", "--creator", "u9")
    same = cli("upload", "photos", "--id-from-path", "--metadata", "owner=7", "--creator", "u7")

    assert other_owner.exit_code == 1
    assert "photo0.jpg is already uploaded with metadata owner=7, not 8; nothing was changed" in other_owner.stderr
    assert "cfvariants delete photo0.jpg" in other_owner.stderr
    assert other_creator.exit_code == 1 and "creator 'u7', not 'u9'" in other_creator.stderr
    assert same.exit_code == 0 and "0 uploaded, 1 skipped, 0 failed" in same.stdout
    assert stored(cf_emulator) == before


def test_files_that_cannot_be_uploaded_fail_one_by_one(cli: CLI, cf_emulator: Emulator) -> None:
    (cli.cwd / "cat.jpg").write_bytes(imagegen.jpeg(30, 20))
    (cli.cwd / "notes.txt").write_text("hello")
    with (cli.cwd / "huge.jpg").open("wb") as handle:  # sparse: 11 MB without writing them
        handle.truncate(11 * 1024 * 1024)

    result = cli("upload", "cat.jpg", "notes.txt", "huge.jpg")

    assert result.exit_code == 1
    assert "failed    notes.txt: not an image (by extension and by content)" in result.stderr
    assert "failed    huge.jpg: file 'huge.jpg' is 11,534,336 bytes" in result.stderr
    assert "1 uploaded, 0 skipped, 2 failed" in result.stdout
    assert len(stored(cf_emulator)) == 1


def test_json_output_is_one_document_with_every_file(cli: CLI) -> None:
    images = photo_tree(cli.cwd / "photos", count=3)

    result = cli("upload", "photos", "--id-from-path", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert sorted(item["image_id"] for item in document["files"]) == sorted(images)
    assert {item["status"] for item in document["files"]} == {"uploaded"}
    summary = document["summary"]
    assert (summary["uploaded"], summary["skipped"], summary["failed"], summary["files"]) == (3, 0, 0, 3)
    assert summary["bytes_uploaded"] == sum(len(data) for data in images.values())


def test_a_terminal_gets_a_progress_bar_instead_of_lines(cli: CLI) -> None:
    photo_tree(cli.cwd / "photos", count=3)
    on_a_terminal = Runtime(cli.runtime.transport, cli.runtime.async_transport, stderr_is_tty=True)

    result = cli("upload", "photos", runtime=on_a_terminal)

    assert result.exit_code == 0, result.output
    last_frame = result.stderr.split("\r")[-1]
    assert "3/3 files" in last_frame
    assert "/s  done" in last_frame
    assert "uploaded  " not in result.stdout  # no per-file lines under a bar
    assert "3 uploaded, 0 skipped, 0 failed" in result.stdout


def test_progress_line_shows_files_bytes_rate_and_eta() -> None:
    tally = Tally(total_files=10, total_bytes=4_000_000, started=100.0)
    tally.uploaded, tally.skipped, tally.failed = 3, 1, 1
    tally.bytes_done = 1_000_000

    line = render_bar(tally, width=120, now=110.0)

    assert line.startswith("[#####")
    assert "5/10 files  1.0 MB/4.0 MB  100.0 kB/s  ETA 0:30  (1 skipped, 1 failed)" in line


def test_dry_run_lists_files_and_calls_nothing(cli: CLI) -> None:
    photo_tree(cli.cwd / "photos", count=2)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"dry run sent {request.method} {request.url}")

    offline = cli.with_transport(httpx.MockTransport(refuse))
    result = cli("upload", "photos", "--id-from-path", "--id-prefix", "shop/", "--dry-run", runtime=offline)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "would upload photos/photo0.jpg -> shop/photo0.jpg",
        "would upload photos/set1/photo1.jpg -> shop/set1/photo1.jpg",
    ]


def test_metadata_keys_of_cfvariants_are_refused(cli: CLI) -> None:
    photo_tree(cli.cwd / "photos", count=1)

    result = cli("upload", "photos", "--metadata", "cfv_sha256=abc")

    assert result.exit_code == 2
    assert "cfv_sha256 is kept for cfvariants' own use" in result.stderr


def test_a_refused_token_stops_the_run_without_showing_it(cli: CLI, cf_emulator: Emulator) -> None:
    photo_tree(cli.cwd / "photos", count=3)

    result = cli("upload", "photos", "--token", "not-the-token-s3cr3t")

    assert result.exit_code == 2
    assert "Authentication error" in result.stderr
    assert "not-the-token-s3cr3t" not in result.output
    assert stored(cf_emulator) == {}


def test_uploads_over_a_real_socket_with_settings_from_the_environment(
    cf_emulator_server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    images = photo_tree(tmp_path / "photos", count=5)
    config = cf_emulator_server.app.emulator.config
    settings = Settings(
        account_id=config.account_id,
        api_token=DEV_API_TOKEN,
        account_hash=config.account_hash,
        signing_key="unused-here",
        domain=cf_emulator_server.url,
        api_base=f"{cf_emulator_server.url}/client/v4",
    )

    result = CliRunner().invoke(
        main, ["upload", "photos", "--id-from-path", "-j", "4"], env=emulator_env(settings), catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert set(stored(cf_emulator_server.app.emulator)) == set(images)
