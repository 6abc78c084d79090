"""What every ``cfvariants`` command shares: help with examples, one-line errors, exit codes, no secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest
from cli_helpers import CLI, invoke
from click.testing import CliRunner

from cfvariants.cli import COMMANDS, main


def every_command() -> list[list[str]]:
    paths: list[list[str]] = []
    ctx = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None
        paths.append([name])
        if isinstance(command, click.Group):
            paths.extend([name, sub] for sub in command.list_commands(ctx))
    return paths


@pytest.mark.parametrize("path", every_command(), ids=" ".join)
def test_every_command_explains_itself_with_an_example(path: list[str]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])

    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert f"cfvariants {' '.join(path)}" in result.stdout


def test_the_group_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])

    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)
    assert "Exit codes: 0 success, 1 something failed" in " ".join(result.stdout.split())


@pytest.fixture(autouse=True)
def empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_missing_settings_are_a_configuration_error() -> None:
    result = invoke(["list"], env={"CF_ACCT_ID": None, "CF_IMG_TOKEN": "t"})

    assert result.exit_code == 2
    assert result.stderr == "Error: CF_ACCT_ID is not set; put it in the environment or in a .env file\n"


def test_an_unresolved_secret_reference_is_named_but_not_shown() -> None:
    result = invoke(["list"], env={"CF_ACCT_ID": "a" * 32, "CF_IMG_TOKEN": "op://vault/cf-img/secret-token-ref"})

    assert result.exit_code == 2
    assert "CF_IMG_TOKEN is a 1Password secret reference" in result.stderr
    assert "secret-token-ref" not in result.output


def test_an_unreachable_api_is_one_line_and_exit_1() -> None:
    env = {"CF_ACCT_ID": "a" * 32, "CF_IMG_TOKEN": "tok-abc123456"}

    result = invoke(["list", "--api-base", "http://127.0.0.1:1/client/v4", "--retries", "0"], env=env)

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: GET /images/v2: ConnectError")
    assert result.stderr.count("\n") == 1
    assert "tok-abc123456" not in result.output


def test_an_unexpected_error_is_one_line_without_traceback(cli: CLI) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("the transport broke")

    result = cli("list", runtime=cli.with_transport(httpx.MockTransport(broken)))

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unexpected RuntimeError: the transport broke (set CFVARIANTS_TRACEBACK=1 to see where)\n"
    )


def test_ctrl_c_exits_130(cli: CLI) -> None:
    def interrupted(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    result = cli("variants", "export", runtime=cli.with_transport(httpx.MockTransport(interrupted)))

    assert result.exit_code == 130
    assert result.stderr == "Error: interrupted\n"


def test_a_real_process_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cfvariants.cli", "parse", "https://imagedelivery.net/h/id/w=abc"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr == "Error: \"w=abc\": width must be a positive integer or 'auto'\n"
    assert result.stdout == ""
