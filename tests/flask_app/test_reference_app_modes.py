"""No silent development mode: ENV_NAME is required and checked, development says so loudly, and the emulator's
token API answers only this machine unless asked otherwise."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reference_app_helpers import make_app

from cfvariants import SettingsError
from cfvariants.emulator import DEV_ACCOUNT_ID, DEV_API_TOKEN
from cfvariants.local import EMULATOR_API_PUBLIC
from flask_app import create_app
from flask_app.config import AppSettings

ROOT = Path(__file__).resolve().parent.parent.parent
API = f"/client/v4/accounts/{DEV_ACCOUNT_ID}/images/v1"
AUTH = {"Authorization": f"Bearer {DEV_API_TOKEN}"}


@pytest.fixture
def no_env_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ENV_NAME", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here


@pytest.mark.usefixtures("no_env_name")
def test_without_env_name_the_app_refuses_to_start_and_says_how(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"ENV_NAME is not set: .*ENV_NAME=production .* or ENV_NAME=dev"):
        create_app(AppSettings.load(DATA_DIR=tmp_path / "var"))
    with pytest.raises(SettingsError, match=r"ENV_NAME='prod' is not a mode this app knows"):
        AppSettings.load(ENV_NAME="prod", DATA_DIR=tmp_path / "var")
    assert AppSettings.load(ENV_NAME="production").is_dev is False
    assert AppSettings.load(ENV_NAME="dev").is_dev is True


def test_a_worker_without_env_name_stops_at_start_with_the_reason(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ENV_NAME", "HUEY_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "cfvariants.uploads.consumer", "flask_app.tasks.huey"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "var")},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "cfvariants-worker: cannot start flask_app.tasks.huey: ENV_NAME is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "cfimages").exists()  # no local emulator was opened


def test_development_mode_says_so_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    make_app(tmp_path, ENV_NAME="dev")
    banner = [r.getMessage() for r in caplog.records if "DEVELOPMENT MODE" in r.getMessage()]
    assert banner and str((tmp_path / "var" / "cfimages").resolve()) in banner[0]
    assert any("web app" in r.getMessage() and "SqliteHuey" in r.getMessage() for r in caplog.records)


def test_production_mode_has_no_banner_and_no_emulator(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    env = {"CF_ACCT_ID": "a" * 32, "CF_IMG_TOKEN": "tok-secret-123", "CF_IMG_HASH": "h" * 22}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        app = make_app(tmp_path, ENV_NAME="production", SECRET_KEY="k" * 32)
    assert not any("DEVELOPMENT MODE" in r.getMessage() for r in caplog.records)
    assert app.test_client().get(API, headers=AUTH).status_code == 404
    assert all("tok-secret-123" not in r.getMessage() for r in caplog.records)


def test_the_emulator_api_answers_only_this_machine_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(EMULATOR_API_PUBLIC, raising=False)
    client = make_app(tmp_path, ENV_NAME="dev").test_client()
    assert client.get(API, headers=AUTH).status_code == 200  # from 127.0.0.1
    remote = client.get(API, headers=AUTH, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert remote.status_code == 403
    assert "answers only this machine" in remote.json["errors"][0]["message"]
    assert client.get("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200  # the app itself is served

    monkeypatch.setenv(EMULATOR_API_PUBLIC, "1")
    public = make_app(tmp_path / "public", ENV_NAME="dev").test_client()
    assert public.get(API, headers=AUTH, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
