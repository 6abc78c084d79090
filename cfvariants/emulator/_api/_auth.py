"""Who may call the API: the account's API token, the legacy e-mail + global key pair, or a batch token.

Cloudflare's v4 API answers a malformed credential header with 400/6003 ("Invalid request headers") and a
credential it does not accept with code 10000 ("Authentication error"). The emulator uses 401 for missing or
wrong credentials and 403 for a valid credential used on another account's path (the status Cloudflare uses for
each case is not documented; the codes are). Credentials are compared in constant time and never echoed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from cfvariants.emulator._config import EmulatorConfig
from cfvariants.emulator._errors import AUTH_ERROR, INVALID_HEADERS, EmulatorAPIError


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of ``Authorization: Bearer <token>``; ``None`` without the header; 6003 when malformed.
    ``headers`` have lower-case names (here and below)."""
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise EmulatorAPIError(
            400, INVALID_HEADERS, "Invalid request headers: the Authorization header must be 'Bearer <API token>'"
        )
    return token.strip()


def check_api_credentials(config: EmulatorConfig, headers: Mapping[str, str]) -> None:
    """Accept the configured API token (Bearer) or the legacy ``X-Auth-Email`` + ``X-Auth-Key`` pair."""
    token = bearer_token(headers)
    if token is not None:
        if not _same(token, config.api_token):
            raise EmulatorAPIError(401, AUTH_ERROR, "Authentication error: the API token is not valid for this account")
        return
    email, key = headers.get("x-auth-email"), headers.get("x-auth-key")
    if email is not None or key is not None:
        if not email or not key:
            raise EmulatorAPIError(
                400, INVALID_HEADERS, "Invalid request headers: send both X-Auth-Email and X-Auth-Key"
            )
        if config.auth_email is None or config.auth_key is None:
            raise EmulatorAPIError(401, AUTH_ERROR, "Authentication error: this emulator accepts only API tokens")
        if not (_same(email.lower(), config.auth_email.lower()) and _same(key, config.auth_key)):
            raise EmulatorAPIError(401, AUTH_ERROR, "Authentication error: X-Auth-Email/X-Auth-Key are not valid")
        return
    raise EmulatorAPIError(
        401, AUTH_ERROR, "Authentication error: send 'Authorization: Bearer <API token>' (or X-Auth-Email + X-Auth-Key)"
    )


def check_batch_credentials(headers: Mapping[str, str], is_valid: Callable[[str], bool]) -> None:
    """The batch host accepts only a batch token from ``GET /images/v1/batch_token`` (``is_valid(token)``)."""
    token = bearer_token(headers)
    if token is None:
        raise EmulatorAPIError(401, AUTH_ERROR, "Authentication error: send 'Authorization: Bearer <batch token>'")
    if not is_valid(token):
        raise EmulatorAPIError(
            401, AUTH_ERROR, "Authentication error: not a valid batch token (get one from /images/v1/batch_token)"
        )
