"""Settings: environment names of the original app, .env files, 1Password references, secrets kept secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cfvariants import Settings, SettingsError

VARS = ("CF_ACCT_ID", "CF_IMG_TOKEN", "CF_IMG_HASH", "CF_IMG_SIGNING_KEY", "CF_IMG_DOMAIN", "CF_API_BASE")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_reads_the_original_names_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_ACCT_ID", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("CF_IMG_TOKEN", "tok-secret")
    monkeypatch.setenv("CF_IMG_HASH", "ZWd9g1K7eljCn_KDTu_MWA")
    settings = Settings.load()
    assert settings.account_id == "0123456789abcdef0123456789abcdef"
    assert settings.require("api_token") == "tok-secret"
    assert settings.account_hash == "ZWd9g1K7eljCn_KDTu_MWA"
    assert settings.api_base == "https://api.cloudflare.com/client/v4"


def test_reads_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "CF_ACCT_ID=i-am-the-id\nCF_IMG_TOKEN=i-am-the-secret\nCF_IMG_HASH=hash123\n"
        "CF_IMG_SIGNING_KEY=sk\nCF_IMG_DOMAIN=img.example.com\nCF_API_BASE=http://127.0.0.1:8787/client/v4/\n"
    )
    settings = Settings.load()
    assert settings.account_id == "i-am-the-id"
    assert settings.require("signing_key") == "sk"
    assert settings.domain == "img.example.com"
    assert settings.api_base == "http://127.0.0.1:8787/client/v4"


def test_environment_wins_over_dot_env_and_keywords_win_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("CF_IMG_HASH=from-file\n")
    monkeypatch.setenv("CF_IMG_HASH", "from-env")
    assert Settings.load().account_hash == "from-env"
    assert Settings.load(account_hash="from-code").account_hash == "from-code"


def test_one_password_references_get_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CF_ACCT_ID=op://dev/cf-img/acct_id\nCF_IMG_TOKEN=op://dev/cf-img/token\n")
    with pytest.raises(SettingsError) as info:
        Settings.load()
    message = str(info.value)
    assert "CF_ACCT_ID is a 1Password secret reference" in message
    assert "CF_IMG_TOKEN is a 1Password secret reference" in message
    assert "op run" in message
    assert "op://dev" not in message


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CF_IMG_TOKEN", "tok-very-secret")
    monkeypatch.setenv("CF_IMG_SIGNING_KEY", "key-very-secret")
    settings = Settings.load()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings: %s %r", settings, settings)
    for text in (repr(settings), str(settings), caplog.text, str(settings.model_dump())):
        assert "very-secret" not in text


def test_invalid_values_are_reported_without_echoing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_API_BASE", "ftp://secret-host")
    with pytest.raises(SettingsError) as info:
        Settings.load()
    assert "CF_API_BASE must be an http(s) URL" in str(info.value)
    assert "secret-host" not in str(info.value)


def test_require_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="CF_IMG_TOKEN is not set"):
        Settings.load().require("api_token")


def test_empty_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_IMG_DOMAIN", "")
    monkeypatch.setenv("CF_API_BASE", "")
    settings = Settings.load()
    assert settings.domain is None
    assert settings.api_base == "https://api.cloudflare.com/client/v4"
