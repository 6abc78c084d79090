"""Fixtures of the tests of the ``cfvariants`` command line, and migrations (run through it)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cli_helpers import CLI, AsyncBridge, emulator_env

from cfvariants import Settings
from cfvariants.cli._runtime import Runtime
from cfvariants.emulator import EmulatorApp


@pytest.fixture
def cli(cf_app: EmulatorApp, cf_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """Runs ``cfvariants`` commands against this test's emulator, in process, from an empty directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # no stray ./.env or ./variants.toml from the repository
    transport = httpx.WSGITransport(app=cf_app)
    runtime = Runtime(transport=transport, async_transport=AsyncBridge(transport))
    return CLI(runtime, emulator_env(cf_settings), work, cf_app)
