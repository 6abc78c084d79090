"""The reference app's own settings (Cloudflare's are read by cfvariants: CF_ACCT_ID, CF_IMG_TOKEN, CF_IMG_HASH...).

Everything has a working default, so a fresh clone runs with no configuration at all: development mode, data
under ``./var``, SQLite for the queue, a secret key generated once and kept in ``var/secret_key``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AppSettings"]


class AppSettings(BaseSettings):
    """``ENV_NAME`` (dev by default: the local emulator, no account needed), ``DATA_DIR``, ``HUEY_URL`` (empty:
    SQLite in DATA_DIR; ``redis://...`` for many machines), ``SECRET_KEY``, ``MAX_UPLOAD_MB``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env_name: str = Field(default="dev", validation_alias="ENV_NAME")
    data_dir: Path = Field(default=Path("var"), validation_alias="DATA_DIR")
    huey_url: str = Field(default="", validation_alias="HUEY_URL")
    secret_key: SecretStr | None = Field(default=None, validation_alias="SECRET_KEY")
    max_upload_mb: int = Field(default=10, ge=1, le=10, validation_alias="MAX_UPLOAD_MB")
    variants_file: Path = Field(default=Path(__file__).with_name("variants.toml"), validation_alias="VARIANTS_FILE")

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
