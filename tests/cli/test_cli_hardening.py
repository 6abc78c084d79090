"""CLI errors are one clear line with exit 2, and the rough edges: the emulator's short URLs parse, an expired
signature warns, a closed pipe is quiet, an interruption is reported once, the bar and the summary agree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import imagegen
import pytest
from cli_helpers import CLI, invoke

from cfvariants.cli._progress import FileResult, Tally, TextReporter
from cfvariants.emulator import DEV_ACCOUNT_HASH

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
KEY = "example-signing-key-123"


def one_line_exit_2(result: object) -> str:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    return stderr


@pytest.mark.parametrize("kind", ["a file", "under a file", "not creatable"])
def test_an_unusable_emulator_data_directory_is_one_line(tmp_path: Path, kind: str) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    data = {"a file": afile, "under a file": afile / "sub", "not creatable": Path("/proc/cfvariants-nope")}[kind]
    stderr = one_line_exit_2(invoke(["emulator", "--data", str(data), "--dry-run"]))
    assert str(data) in stderr or "--data" in stderr


def test_a_non_utf8_env_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    env = tmp_path / "latin1.env"
    env.write_bytes("CF_IMG_HASH=caf\xe9\n".encode("latin-1"))
    stderr = one_line_exit_2(invoke(["url", "abc", "--env-file", str(env)], env={"CF_IMG_HASH": None}))
    assert f"{env} is not UTF-8 text" in stderr and "unexpected" not in stderr


def test_a_date_without_time_zone_gets_a_suggestion_that_works() -> None:
    url = f"https://imagedelivery.net/{HASH}/abc/avatar"
    env = {"CF_IMG_SIGNING_KEY": KEY}
    stderr = one_line_exit_2(invoke(["sign", url, "--expires-at", "2026-01-01"], env=env))
    suggestion = stderr.split("e.g. ")[1].split(" ")[0]
    assert suggestion == "2026-01-01T00:00:00Z"
    followed = invoke(["sign", url, "--expires-at", "2099-01-01T00:00:00Z"], env=env)
    assert followed.exit_code == 0 and "exp=4070908800&sig=" in followed.stdout


def test_usage_errors_are_one_line_with_exit_2() -> None:
    stderr = one_line_exit_2(invoke(["sign", "https://imagedelivery.net/h/i/avatar", "--expires-in", "soon"]))
    assert "--expires-in" in stderr and "sign --help')" in stderr
    one_line_exit_2(invoke(["url"]))  # a missing argument


def test_an_api_base_without_client_v4_is_reported_as_such(cli: CLI) -> None:
    env = {**cli.env, "CF_API_BASE": cli.env["CF_API_BASE"].removesuffix("/client/v4")}  # type: ignore[union-attr]
    result = CLI(cli.runtime, env, cli.cwd, cli.app)("list")
    stderr = one_line_exit_2(result)
    assert "CF_API_BASE http://cfimages.test does not end in /client/v4" in stderr
    assert "CF_IMG_TOKEN" not in result.stderr  # not blamed on the token or the account


def test_parse_takes_the_emulator_short_form_from_its_banner(cli: CLI) -> None:
    url = f"http://127.0.0.1:8787/{DEV_ACCOUNT_HASH}/users/7/me.jpg/w=200,fit=cover"
    result = cli("parse", url)
    assert result.exit_code == 0, result.output
    assert "image id      users/7/me.jpg" in result.stdout
    assert "options       w=200,fit=cover" in result.stdout
    assert "emulator short form on http://127.0.0.1:8787" in result.stdout
    refused = cli("parse", "http://127.0.0.1:8787/just/two")
    assert refused.exit_code == 2 and "not a Cloudflare Images delivery URL" in refused.stderr


def test_signing_an_expired_url_warns(cli: CLI) -> None:
    url = f"https://imagedelivery.net/{DEV_ACCOUNT_HASH}/abc/avatar"
    result = cli("sign", url, "--expires-at", "1700000000")
    assert result.exit_code == 0
    assert result.stderr.startswith("Warning: exp 1700000000 (2023-11-14T22:13:20Z) is already past")
    fresh = cli("sign", url, "--expires-in", "1h")
    assert "Warning" not in fresh.stderr


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone, as after `| head -1` has its line
    try:
        result = subprocess.run(
            [sys.executable, "-m", "cfvariants.cli", "url", "abc", "w=200"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60, cwd=tmp_path,
            env={**os.environ, "CF_IMG_HASH": HASH}, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert result.stderr == ""  # no "Error: Broken pipe", no "Exception ignored"


def test_an_interrupted_migrate_says_so_once(cli: CLI) -> None:
    (cli.cwd / "media").mkdir()
    for index in range(3):
        (cli.cwd / "media" / f"p{index}.jpg").write_bytes(imagegen.jpeg(64 + index, 48, "noise"))

    pressed = threading.Event()

    def ctrl_c(request: httpx.Request) -> httpx.Response:  # uploads run on a second thread: Ctrl-C reaches the main
        if not pressed.is_set():
            pressed.set()
            signal.raise_signal(signal.SIGINT)
        return httpx.Response(503, json={"success": False, "errors": [], "messages": [], "result": None})

    result = cli(
        "migrate", "media", "-j", "1", "--retries", "0", runtime=cli.with_transport(httpx.MockTransport(ctrl_c))
    )
    assert result.exit_code == 130
    assert result.output.lower().count("interrupted") == 1  # the summary's "Interrupted: ...", no "Error: interrupted"
    assert "Interrupted: 0 migrated" in result.output


def test_an_interrupted_upload_says_so_once(cli: CLI) -> None:
    for index in range(3):
        (cli.cwd / f"p{index}.jpg").write_bytes(imagegen.jpeg(64 + index, 48, "noise"))

    pressed = threading.Event()

    def ctrl_c(request: httpx.Request) -> httpx.Response:  # a real SIGINT, as a terminal sends it
        if not pressed.is_set():
            pressed.set()
            signal.raise_signal(signal.SIGINT)
        return httpx.Response(503, json={"success": False, "errors": [], "messages": [], "result": None})

    result = cli("upload", ".", "-j", "1", runtime=cli.with_transport(httpx.MockTransport(ctrl_c)))
    assert pressed.is_set()
    assert result.exit_code == 130
    assert result.output.lower().count("interrupted") == 1


def test_the_last_bar_and_the_summary_show_the_same_bytes_and_rate(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = TextReporter(Tally(total_files=3, total_bytes=3_000_000), bar=True)
    reporter.file_done(FileResult("a.jpg", "uploaded", 1_000_000, "a"))
    reporter.file_done(FileResult("b.jpg", "skipped", 1_500_000, reason="already uploaded"))
    reporter.file_done(FileResult("c.jpg", "failed", 500_000, reason="refused"))
    reporter.finish()
    captured = capsys.readouterr()
    bar = captured.err.split("\r")[-1]  # the last frame (click drops the escape codes off a terminal)
    summary = captured.out.strip().splitlines()[-1]
    bar_bytes, bar_rate = bar.split("files  ")[1].split("  ")[:2]
    assert bar_bytes == "3.0 MB/3.0 MB"
    assert f"({bar_bytes} in " in summary and f", {bar_rate}; 1.0 MB uploaded)" in summary
