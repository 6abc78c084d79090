"""How an emulator is set up: its data directory, the account it pretends to be, and its starting settings.

The dev defaults are stable on purpose: a developer pastes ``CF_ACCT_ID``/``CF_IMG_TOKEN``/``CF_IMG_HASH`` once
into ``.env`` and they keep working across restarts and machines. They are not secrets (anyone can read them
here); the emulator listens on 127.0.0.1 by default for that reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cfvariants._urls import check_account_hash
from cfvariants.limits import BROWSER_TTL_DEFAULT, BROWSER_TTL_RANGE

DEV_ACCOUNT_ID = "b70b5009bdbb8a9c7211851cab73a2f5"
"""The emulator's account id (development only; published, not a secret)."""
DEV_ACCOUNT_HASH = "cfvariants-local-dev01"
"""The emulator's account hash, in its delivery URLs (development only)."""
DEV_API_TOKEN = "cfvariants-emulator-dev-token"  # noqa: S105 - a published dev default, not a secret
"""The API token the emulator accepts (development only; published, not a secret)."""
DEV_AUTH_EMAIL = "dev@cfvariants.invalid"
"""The e-mail of the emulator's legacy global-key authentication (development only)."""
DEV_AUTH_KEY = "cfvariants-emulator-dev-global-key"
"""The emulator's legacy global API key (development only; published, not a secret)."""
DEV_SIGNING_KEY = "cfvariants-emulator-dev-signing-key"
"""The emulator's URL signing key (development only; published, not a secret)."""
DEFAULT_HOST = "127.0.0.1"
"""The address the emulator listens on by default: loopback only."""
DEFAULT_PORT = 8787
"""The emulator's default port."""
DEFAULT_BROWSER_TTL = BROWSER_TTL_DEFAULT
DEFAULT_ALLOWED_FETCH_HOSTS = ("127.0.0.1", "localhost", "::1")

Fetcher = Callable[[str], tuple[bytes, str | None]]
"""Fetches an image for a ``url`` upload: returns the body and the file name to record (or ``None``). Raises
``EmulatorAPIError`` (or any exception, reported as an origin error) when the origin fails."""

_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_RESERVED_HASHES = frozenset({"client", "images", "upload", "cdn-cgi"})


@dataclass(frozen=True)
class EmulatorConfig:
    """Settings of one emulated account. Only ``data_dir`` is required; everything else has a dev default.

    ``flexible_variants``/``browser_ttl`` are the account settings a *new* data directory starts with
    (``flexible_variants=None`` means "on in dev mode, off otherwise", as on a fresh Cloudflare account); an
    explicit ``flexible_variants=True/False`` is also applied to an existing data directory at start-up, so a
    command-line switch wins over what the directory remembers.

    ``base_url`` is where the emulator is reachable (``http://127.0.0.1:8787``); it is used in the ``variants``
    URLs of image objects and in direct-upload ``uploadURL``s. ``None`` takes it from each request's host; ``"/"``
    makes them root-relative (``/cdn-cgi/imagedelivery/...``, ``/upload/...``), for an emulator mounted into the
    app a browser is looking at, on whatever host and port that is.

    ``rate_limit=(requests, window_seconds)`` answers REST API requests over that many per sliding window with
    429 and a ``Retry-After``, locking the account out for a window, as Cloudflare does with its 1,200 per five
    minutes (see ``cfvariants.emulator._api.WindowLimiter``); off by default. ``webhook_url``/``webhook_secret``:
    where the emulator reports finished direct creator uploads, as Cloudflare's notifications do (see
    ``cfvariants.emulator._api.WebhookSender``).

    ``auth_email``/``auth_key`` are the legacy ``X-Auth-Email``/``X-Auth-Key`` pair, accepted only when given
    (``DEV_AUTH_EMAIL``/``DEV_AUTH_KEY`` are a dev pair to pass; ``cfvariants emulator --legacy-auth`` does): by
    default the API token is the one credential.

    ``lenient_signatures`` additionally accepts the signature forms Cloudflare leaves unconfirmed: on the
    ``/cdn-cgi/imagedelivery`` form a MAC of the path without that prefix, and a MAC of the path without
    ``?exp=...`` (the 2023 report). Off by default: the documented message is the contract.
    """

    data_dir: Path
    account_id: str = DEV_ACCOUNT_ID
    account_hash: str = DEV_ACCOUNT_HASH
    api_token: str = field(default=DEV_API_TOKEN, repr=False)
    auth_email: str | None = None
    auth_key: str | None = field(default=None, repr=False)
    signing_key: str | None = field(default=DEV_SIGNING_KEY, repr=False)
    base_url: str | None = None
    dev_mode: bool = True
    flexible_variants: bool | None = None
    browser_ttl: int = DEFAULT_BROWSER_TTL
    lenient_signatures: bool = False
    allowed_fetch_hosts: tuple[str, ...] = DEFAULT_ALLOWED_FETCH_HOSTS
    fetcher: Fetcher | None = field(default=None, repr=False)
    images_allowed: int = 100_000
    rate_limit: tuple[int, float] | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not _ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError(
                f"account_id {self.account_id!r} must be letters, digits, '-' or '_' (32 hex on Cloudflare)"
            )
        check_account_hash(self.account_hash)
        if self.account_hash in _RESERVED_HASHES:
            raise ValueError(f"account_hash {self.account_hash!r} collides with one of the emulator's own routes")
        if not self.api_token:
            raise ValueError("api_token must not be empty")
        if (self.auth_email is None) != (self.auth_key is None):
            raise ValueError("give both auth_email and auth_key (the legacy key pair) or neither")
        if self.base_url is not None and self.base_url != "/":
            if not self.base_url.startswith(("http://", "https://")):
                raise ValueError(f"base_url {self.base_url!r} must start with http:// or https://, or be '/'")
            object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.rate_limit is not None:
            requests, window = self.rate_limit
            if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1 or not window > 0:
                raise ValueError(f"rate_limit must be (requests >= 1, window seconds > 0), not {self.rate_limit!r}")
        if self.webhook_url is not None and not self.webhook_url.startswith(("http://", "https://")):
            raise ValueError(f"webhook_url {self.webhook_url!r} must start with http:// or https://")
        low, high = BROWSER_TTL_RANGE
        if not low <= self.browser_ttl <= high:
            raise ValueError(f"browser_ttl must be between {low} (1 hour) and {high} (1 year) seconds")

    @property
    def initial_flexible_variants(self) -> bool:
        """Whether a new data directory starts with flexible variants on."""
        return self.dev_mode if self.flexible_variants is None else self.flexible_variants
