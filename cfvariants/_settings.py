"""Configuration from the environment or a ``.env`` file, under the names the original app used.

``CF_ACCT_ID``, ``CF_IMG_TOKEN``, ``CF_IMG_HASH`` (plus ``CF_IMG_SIGNING_KEY``, ``CF_IMG_DOMAIN``,
``CF_IMG_ZONE``, ``CF_API_BASE``). Secrets are ``SecretStr``: they never show in a repr, a log line or an error
message, and a validation error is re-raised without the offending input. A value still in 1Password reference form
(``op://vault/item/field``) means the app was not started under ``op run``; that is said plainly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._errors import SettingsError

DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4"
"""Cloudflare's API v4; ``CF_API_BASE`` or ``api_base=`` points elsewhere (the emulator)."""

ENV_NAMES: dict[str, str] = {
    "account_id": "CF_ACCT_ID",
    "api_token": "CF_IMG_TOKEN",
    "account_hash": "CF_IMG_HASH",
    "signing_key": "CF_IMG_SIGNING_KEY",
    "domain": "CF_IMG_DOMAIN",
    "zone": "CF_IMG_ZONE",
    "api_base": "CF_API_BASE",
}
"""Each setting and the environment variable it is read from (``account_id``: ``CF_ACCT_ID``...)."""
_SECRET_FIELDS = frozenset({"api_token", "signing_key"})


class Settings(BaseSettings):
    """Cloudflare Images settings. ``Settings.load()`` reads the environment and ``.env``; keyword arguments
    (by field name) override both."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,
    )

    account_id: str | None = Field(default=None, validation_alias="CF_ACCT_ID")
    api_token: SecretStr | None = Field(default=None, validation_alias="CF_IMG_TOKEN")
    account_hash: str | None = Field(default=None, validation_alias="CF_IMG_HASH")
    signing_key: SecretStr | None = Field(default=None, validation_alias="CF_IMG_SIGNING_KEY")
    domain: str | None = Field(default=None, validation_alias="CF_IMG_DOMAIN")
    zone: str | None = Field(default=None, validation_alias="CF_IMG_ZONE")
    """The site's zone for Image Transformations of images outside Cloudflare Images (``/cdn-cgi/image/``)."""
    api_base: str = Field(default=DEFAULT_API_BASE, validation_alias="CF_API_BASE")

    @field_validator("*", mode="before")
    @classmethod
    def _no_unresolved_references(cls, value: Any, info: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str):
            raw = raw.strip()
            if raw.startswith("op://"):
                raise ValueError(
                    "is a 1Password secret reference, not a value; start the app under 1Password's CLI so it is "
                    "resolved, e.g. `op run --env-file=.env -- <your command>`"
                )
            if raw == "":
                return None if info.field_name != "api_base" else DEFAULT_API_BASE
            return raw
        return value

    @field_validator("api_base")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://api.cloudflare.com/client/v4")
        return value.rstrip("/")

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read the settings, turning a validation failure into a ``SettingsError`` that names the variable
        and never echoes its value."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise _settings_error(exc) from None
        except UnicodeDecodeError as exc:
            where = overrides.get("_env_file") or ".env"
            raise SettingsError(
                f"{where} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); save it as UTF-8"
            ) from None

    def require(self, field: str) -> str:
        """The value of ``field`` (secret values unwrapped), or a ``SettingsError`` naming its variable."""
        value = getattr(self, field)
        if value is None:
            name = ENV_NAMES.get(field, field)
            raise SettingsError(f"{name} is not set; put it in the environment or in a .env file")
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name in _SECRET_FIELDS and value is not None:
                yield name, SecretStr("**********")
            else:
                yield name, value


def _settings_error(exc: ValidationError) -> SettingsError:
    return settings_error(exc, lambda field: ENV_NAMES.get(field, field))


def settings_error(exc: ValidationError, key: Callable[[str], str]) -> SettingsError:
    """One ``SettingsError`` for a validation failure, each problem led by the bad key as ``key(field)`` spells
    it (``CF_IMG_HASH``, ``CFVARIANTS['ACCOUNT_HASH']``, ``--account-hash``...); never the value."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "string_type":
            message = "must be text (str)"
        problems.append(f"{key(field)}{'' if message.startswith(':') else ' '}{message}")
    return SettingsError("; ".join(problems))
