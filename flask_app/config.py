"""The reference app's own settings (Cloudflare's are read by cfvariants: CF_ACCT_ID, CF_IMG_TOKEN, CF_IMG_HASH...).

``ENV_NAME`` must say which mode: ``production`` (Cloudflare) or ``dev`` (the local emulator); unset or anything
else is a start-up error, so a process never quietly uploads into a local emulator. ``python3 dev.py run`` (and
``python -m flask_app``) set ``dev`` when it is unset, and say so. Everything else has a working default: data
under ``var/`` next to the app (whatever the current directory), SQLite for the queue, and in development a secret
key generated once and kept in ``var/secret_key``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cfvariants import SettingsError

__all__ = ["ENV_CHOICES", "AppSettings"]

ROOT = Path(__file__).resolve().parent.parent
ENV_CHOICES = ("production", "dev")
_ENV_HELP = (
    "ENV_NAME=production (Cloudflare, with CF_ACCT_ID, CF_IMG_TOKEN, CF_IMG_HASH) or ENV_NAME=dev (the local emulator)"
)


class AppSettings(BaseSettings):
    """``ENV_NAME`` (``production`` or ``dev``, required), ``DATA_DIR`` (``var/`` next to the app), ``HUEY_URL``
    (empty: SQLite in DATA_DIR; ``redis://...`` for many machines), ``SECRET_KEY``, ``MAX_UPLOAD_MB``. Read
    from the environment, then ``.env`` in the current directory, then ``.env`` next to the app."""

    model_config = SettingsConfigDict(
        env_file=(ROOT / ".env", ".env"), env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    env_name: str | None = Field(default=None, validation_alias="ENV_NAME", validate_default=True)
    data_dir: Path = Field(default=ROOT / "var", validation_alias="DATA_DIR")
    huey_url: str = Field(default="", validation_alias="HUEY_URL")
    secret_key: SecretStr | None = Field(default=None, validation_alias="SECRET_KEY")
    max_upload_mb: int = Field(default=10, ge=1, le=10, validation_alias="MAX_UPLOAD_MB")
    variants_file: Path = Field(default=Path(__file__).with_name("variants.toml"), validation_alias="VARIANTS_FILE")

    @field_validator("env_name")
    @classmethod
    def _known_mode(cls, value: str | None) -> str:
        if value is None or not value.strip():
            raise ValueError(f"ENV_NAME is not set: say which mode, {_ENV_HELP}")
        if value.strip() not in ENV_CHOICES:
            raise ValueError(f"ENV_NAME={value.strip()[:40]!r} is not a mode this app knows: {_ENV_HELP}")
        return value.strip()

    @classmethod
    def load(cls, **values: Any) -> AppSettings:
        """The settings, or a ``SettingsError`` naming what is wrong (never echoing a value such as a secret)."""
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = [str(error["msg"]).removeprefix("Value error, ") for error in exc.errors(include_input=False)]
            raise SettingsError("; ".join(problems)) from None

    @property
    def is_dev(self) -> bool:
        return self.env_name == "dev"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def emulator_dir(self) -> Path:
        return self.data_dir / "cfimages"

    @property
    def huey_path(self) -> Path:
        return self.data_dir / "huey.db"

    @property
    def app_db(self) -> Path:
        return self.data_dir / "app.db"

    def dev_banner(self) -> str:
        """What development mode announces at start: that it is, and where its local Cloudflare lives."""
        return (
            f"DEVELOPMENT MODE (ENV_NAME=dev): Cloudflare Images is the local emulator, its data in "
            f"{self.emulator_dir.resolve()}; no image reaches Cloudflare. Set ENV_NAME=production for the real one."
        )

    def flask_secret(self) -> str:
        """SECRET_KEY, or (development only) one generated once and kept in DATA_DIR."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if not self.is_dev:
            raise RuntimeError("SECRET_KEY is not set; production needs a fixed secret key for sessions and CSRF")
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()
