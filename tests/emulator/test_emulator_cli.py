"""``cfvariants emulator``: what it prints, how it refuses bad options, and a real start and stop."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import imagegen
import pytest
from click.testing import CliRunner

from cfvariants import Settings
from cfvariants.cli import main
from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_ACCOUNT_ID, DEV_API_TOKEN, DEV_SIGNING_KEY


def test_dry_run_prints_everything_needed_to_connect(tmp_path: Path) -> None:
    data = tmp_path / "images"
    result = CliRunner().invoke(main, ["emulator", "--port", "9911", "--data", str(data), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        DEV_ACCOUNT_ID,
        DEV_ACCOUNT_HASH,
        DEV_API_TOKEN,
        "http://127.0.0.1:9911/client/v4",
        f"http://127.0.0.1:9911/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/<image id>/<variant>",
        f"http://127.0.0.1:9911/{DEV_ACCOUNT_HASH}/<image id>/<variant>",
        "flexible variants  on",
    ):
        assert text in out
    env = dict(re.findall(r"^(CF_[A-Z_]+)=(.*)$", out, re.MULTILINE))
    assert env == {
        "CF_ACCT_ID": DEV_ACCOUNT_ID,
        "CF_IMG_TOKEN": DEV_API_TOKEN,
        "CF_IMG_HASH": DEV_ACCOUNT_HASH,
        "CF_IMG_SIGNING_KEY": DEV_SIGNING_KEY,
        "CF_IMG_DOMAIN": "http://127.0.0.1:9911",
        "CF_API_BASE": "http://127.0.0.1:9911/client/v4",
    }
    settings = Settings(**env)  # the lines are valid settings (by their environment names)
    assert settings.require("account_hash") == DEV_ACCOUNT_HASH
    assert (data / "emulator.sqlite3").exists()


def test_options_override_the_dev_defaults(tmp_path: Path) -> None:
    args = ["emulator", "--data", str(tmp_path / "d"), "--dry-run", "--no-flexible"]
    args += ["--account-id", "a" * 32, "--account-hash", "myHash_1", "--token", "tok-123"]
    args += ["--base-url", "https://images.example.test"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "CF_ACCT_ID=" + "a" * 32 in result.output and "CF_IMG_HASH=myHash_1" in result.output
    assert "CF_IMG_TOKEN=tok-123" in result.output
    assert "CF_API_BASE=https://images.example.test/client/v4" in result.output
    assert "flexible variants  off" in result.output


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    bad_hash = CliRunner().invoke(
        main, ["emulator", "--data", str(tmp_path), "--account-hash", "no/slash", "--dry-run"]
    )
    assert bad_hash.exit_code == 2 and "account hash" in bad_hash.output
    bad_port = CliRunner().invoke(main, ["emulator", "--port", "70000", "--dry-run"])
    assert bad_port.exit_code == 2 and "70000" in bad_port.output


def test_a_busy_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["emulator", "--port", str(port), "--data", str(tmp_path / "d")])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output


def test_help_explains_with_an_example() -> None:
    result = CliRunner().invoke(main, ["emulator", "--help"])
    assert result.exit_code == 0
    assert "cfvariants emulator --port 8787 --data .cfimages" in result.output
    assert "--flexible / --no-flexible" in result.output
    assert "emulator" in CliRunner().invoke(main, ["--help"]).output


def _lines(stream: IO[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, queue.Queue[str]]]:
    """``python -m cfvariants.cli emulator --port 0`` in a subprocess, and the URL it reports."""
    with emulator_process(tmp_path) as started:
        yield started


@contextmanager
def emulator_process(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str, queue.Queue[str]]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cfvariants.cli",
            "emulator",
            "--port",
            "0",
            "--data",
            str(tmp_path / "d"),
            "--quiet",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines = _lines(process.stdout)
    try:
        url = ""
        while not url:
            line = lines.get(timeout=30)
            match = re.match(r"Serving on (http://127\.0\.0\.1:\d+)", line)
            url = match.group(1) if match else ""
        yield process, url, lines
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_real_server_serves_and_stops_cleanly(
    running: tuple[subprocess.Popen[str], str, queue.Queue[str]], stop_signal: signal.Signals
) -> None:
    process, url, lines = running
    response = httpx.get(
        f"{url}/client/v4/accounts/{DEV_ACCOUNT_ID}/images/v1/stats",
        headers={"Authorization": f"Bearer {DEV_API_TOKEN}"},
        timeout=10,
    )
    assert response.json()["result"]["count"]["current"] == 0
    process.send_signal(stop_signal)
    assert process.wait(timeout=20) == 0
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert "Emulator stopped." in "".join(rest)


@pytest.mark.slow
def test_the_standalone_emulator_serves_image_transformations_of_its_roots(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    photo = imagegen.photo_jpeg(300_000, seed=5)
    (media / "cat.jpg").write_bytes(photo)
    (tmp_path / "secret.jpg").write_bytes(photo)
    with emulator_process(tmp_path, "--transform-root", f"/media/={media}") as (_process, url, _lines):
        answer = httpx.get(f"{url}/cdn-cgi/image/w=160,f=webp/media/cat.jpg", timeout=30)
        outside = httpx.get(f"{url}/cdn-cgi/image/w=160/secret.jpg", timeout=30)
        escape = httpx.get(f"{url}/cdn-cgi/image/w=160/media/%2e%2e/secret.jpg", timeout=30)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/webp"
    original = imagegen.decode(photo)
    assert imagegen.decode(answer.content).size == (160, round(160 * original.height / original.width))
    assert outside.status_code == 400 and outside.headers["cf-resized"] == "err=9419"
    assert escape.status_code == 400 and escape.headers["cf-resized"] == "err=9419"


def test_transform_roots_are_printed_and_bad_ones_refused(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    data = str(tmp_path / "d")
    shown = CliRunner().invoke(main, ["emulator", "--data", data, "--transform-root", f"/media/={media}", "--dry-run"])
    assert shown.exit_code == 0, shown.output
    assert "/cdn-cgi/image/<options>/<source>" in shown.output and f"/media/... from {media}" in shown.output

    for bad in ("media", f"media/={media}", f"/media/={tmp_path / 'missing'}"):
        refused = CliRunner().invoke(main, ["emulator", "--data", data, "--transform-root", bad, "--dry-run"])
        assert refused.exit_code == 2 and "--transform-root" in refused.output, refused.output
    origin = CliRunner().invoke(main, ["emulator", "--data", data, "--transform-origin", "ftp://x", "--dry-run"])
    assert origin.exit_code == 2 and "ftp://x" in origin.output
