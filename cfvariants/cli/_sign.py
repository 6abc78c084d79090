"""``cfvariants sign``: sign (or re-sign) a delivery URL of a private image."""

from __future__ import annotations

import time

import click

from cfvariants._errors import SigningError
from cfvariants._signing import expiry, sign_url
from cfvariants._urls import parse_delivery_url

from ._errors import CFCommand, CLIUsageError
from ._options import env_file_option, json_option, load_settings, signing_key_option
from ._output import echo_json, iso, warn
from ._values import DURATION, TIMESTAMP

DEFAULT_EXPIRES_IN = 3600


@click.command(
    cls=CFCommand,
    short_help="Sign a delivery URL of a private image.",
    epilog="""\b
Examples:
  cfvariants sign https://imagedelivery.net/<hash>/<id>/avatar                  # valid for 1 hour
  cfvariants sign https://imagedelivery.net/<hash>/<id>/avatar --expires-in 7d
  cfvariants sign "$URL" --expires-at 2026-01-01T00:00:00Z
""",
)
@click.argument("delivery_url", metavar="URL")
@click.option("--expires-in", type=DURATION, default=None, help="Lifetime: 3600, 15m, 2h, 7d... (default 1h).")
@click.option("--expires-at", type=TIMESTAMP, default=None, help="Expiry: unix seconds or ISO 8601 with a time zone.")
@signing_key_option
@env_file_option
@json_option
def sign(delivery_url: str, expires_in: int | None, expires_at: int | None, as_json: bool) -> None:
    """Sign URL with CF_IMG_SIGNING_KEY: set exp and append sig, exactly as Cloudflare checks them.

    An existing exp/sig is replaced, other query parameters are kept. Only named variants can be signed:
    Cloudflare serves private images only through them.
    """
    if expires_in is not None and expires_at is not None:
        raise CLIUsageError("give --expires-in or --expires-at, not both")
    parsed = parse_delivery_url(delivery_url)
    if parsed.options is not None:
        raise SigningError(
            f"flexible options {str(parsed.options)!r} cannot be signed: Cloudflare serves private images only "
            "through named variants (define one, e.g. 'avatar', and sign that)"
        )
    settings = load_settings()
    key = settings.require("signing_key")
    if settings.account_hash and settings.account_hash != parsed.account_hash:
        warn(
            f"the URL's account hash {parsed.account_hash!r} is not CF_IMG_HASH ({settings.account_hash!r}); "
            "the signing key may belong to another account"
        )
    if expires_at is not None:
        exp = expiry(expires_at=expires_at)
    else:
        exp = expiry(expires_in=expires_in or DEFAULT_EXPIRES_IN)
    if exp <= time.time():
        warn(f"exp {exp} ({iso(exp)}) is already past: Cloudflare will refuse this URL (403) from the first request")
    signed = sign_url(delivery_url, key, exp=exp)
    if as_json:
        echo_json({"url": signed, "exp": exp, "expires": iso(exp)})
    else:
        click.echo(signed)
