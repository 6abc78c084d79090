"""What the sync and async clients share besides the flows: configuration, authentication, URLs, paging.

Kept apart from ``sync.py`` and ``aio.py`` so the two differ only in how they send and sleep.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from cfvariants import __version__
from cfvariants._delivery import Delivery
from cfvariants._settings import Settings

from ._errors import APIError, ValidationError
from ._models import ImagesPage
from ._requests import Context, Request, segment
from ._retry import RetryPolicy

BATCH_API_BASE = "https://batch.imagedelivery.net"
"""Where requests go when the client has a batch token (``use_batch_token``): a higher rate limit."""
BATCH_HOST = "batch.imagedelivery.net"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"cfvariants/{__version__} httpx/{httpx.__version__}"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` added to each request as it is sent; the token stays a ``SecretStr``
    everywhere else (httpx also masks the header in request reprs)."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth('**********')"


class ClientBase:
    """Configuration common to ``ImagesClient`` and ``AsyncImagesClient``."""

    def __init__(
        self,
        account_id: str | None,
        api_token: str | SecretStr | None,
        *,
        base_url: str,
        retry: RetryPolicy | None,
        delivery: Delivery | None,
        batch: bool | None,
    ) -> None:
        token = api_token if isinstance(api_token, SecretStr) else SecretStr(api_token or "")
        if not isinstance(api_token, str | SecretStr) or not token.get_secret_value().strip():
            raise ValidationError("api_token is required (an API token with Images permissions, or a batch token)")
        if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
            raise ValidationError(f"base_url must be an http(s) URL, not {base_url!r}")
        base = base_url.rstrip("/")
        is_batch = urlsplit(base).hostname == BATCH_HOST if batch is None else bool(batch)
        if is_batch:
            prefix = base
        else:
            if not isinstance(account_id, str) or not account_id.strip():
                raise ValidationError("account_id is required (the 32-character account id, CF_ACCT_ID)")
            prefix = f"{base}/accounts/{segment(account_id.strip())}"
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValidationError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        if delivery is not None and not isinstance(delivery, Delivery):
            raise ValidationError(f"delivery must be a cfvariants.Delivery, not {type(delivery).__name__}")
        self._account_id = account_id.strip() if isinstance(account_id, str) else None
        self._base_url = base
        self._prefix = prefix
        self._auth = BearerAuth(token)
        self._context = Context(retry=retry or RetryPolicy(), delivery=delivery, batch=is_batch)

    @property
    def account_id(self) -> str | None:
        return self._account_id

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def retry(self) -> RetryPolicy:
        return self._context.retry

    @property
    def delivery(self) -> Delivery | None:
        """The ``Delivery`` that results' ``Image.url()`` use (``None``: derived from each image's URLs)."""
        return self._context.delivery

    @property
    def is_batch(self) -> bool:
        """Whether this client talks to the batch host (paths without ``/accounts/<id>``)."""
        return self._context.batch

    def _url(self, request: Request) -> str:
        return self._prefix + request.path

    def __repr__(self) -> str:
        account = f"account_id={self._account_id!r}, " if self._account_id else ""
        return f"{type(self).__name__}({account}base_url={self._base_url!r}, api_token='**********')"


def settings_arguments(settings: Settings | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments from ``Settings`` (``CF_ACCT_ID``, ``CF_IMG_TOKEN``, ``CF_API_BASE``, and a
    ``Delivery`` from ``CF_IMG_HASH``/``CF_IMG_SIGNING_KEY``/``CF_IMG_DOMAIN`` when the hash is set), with
    ``overrides`` winning."""
    settings = settings if settings is not None else Settings.load()
    arguments: dict[str, Any] = {"base_url": settings.api_base}
    arguments.update(overrides)
    batch = arguments.get("batch")
    on_batch = urlsplit(arguments["base_url"]).hostname == BATCH_HOST if batch is None else bool(batch)
    if "account_id" not in arguments and not on_batch:
        arguments["account_id"] = settings.require("account_id")
    if "api_token" not in arguments:
        arguments["api_token"] = settings.api_token if settings.api_token is not None else settings.require("api_token")
    if "delivery" not in arguments and settings.account_hash:
        arguments["delivery"] = Delivery.from_settings(settings)
    return arguments


def next_token(page: ImagesPage, seen: set[str]) -> str | None:
    """The continuation token of ``page`` (``None`` on the last page); a token seen before would loop forever,
    so it is an error."""
    token = page.continuation_token
    if not token:
        return None
    if token in seen:
        raise APIError(200, method="GET", path="/images/v2", reason=f"continuation token {token!r} repeated")
    seen.add(token)
    return token
