"""``cfvariants url``: the delivery URL of an image through a variant, signed when asked."""

from __future__ import annotations

import click

from cfvariants.delivery import Delivery
from cfvariants.segments import resolve_variant
from cfvariants.signing import expiry
from cfvariants.urls import is_url, parse_url

from ._common import (
    DURATION,
    TIMESTAMP,
    CFCommand,
    ConfigurationError,
    delivery_options,
    echo_json,
    iso,
    json_option,
    load_settings,
)

__all__ = ["url"]

DEFAULT_EXPIRES_IN = 3600


@click.command(
    cls=CFCommand,
    short_help="Print the delivery URL of an image through a variant.",
    epilog="""\b
Examples:
  cfvariants url 083eb7b2-5392-4565-b69e-aff66acddd00 avatar
  cfvariants url users/7/me.jpg w=200,fit=cover
  cfvariants url 083eb7b2-5392-4565-b69e-aff66acddd00 avatar --sign --expires-in 15m
  cfvariants url https://imagedelivery.net/<hash>/<id>/public w=640   # swap the variant of a URL
""",
)
@click.argument("image")
@click.argument("variant", required=False)
@click.option("--sign", is_flag=True, help="Sign the URL (private images); needs CF_IMG_SIGNING_KEY.")
@click.option(
    "--expires-in",
    type=DURATION,
    default=None,
    help="Signature lifetime: 3600, 15m, 2h... (default 1h). Implies --sign.",
)
@click.option(
    "--expires-at", type=TIMESTAMP, default=None, help="Signature expiry: unix seconds or ISO 8601. Implies --sign."
)
@delivery_options(signing=True)
@json_option
def url(
    image: str, variant: str | None, sign: bool, expires_in: int | None, expires_at: int | None, as_json: bool
) -> None:
    """Print the delivery URL of IMAGE (an id or a delivery URL) through VARIANT.

    VARIANT is a named variant (avatar) or flexible options (w=200,fit=cover); without it, public. Built by the
    same code as the template filters, from CF_IMG_HASH (and CF_IMG_DOMAIN for a custom domain).
    """
    if expires_in is not None and expires_at is not None:
        raise ConfigurationError("give --expires-in or --expires-at, not both")
    sign = sign or expires_in is not None or expires_at is not None
    settings = load_settings()
    if is_url(image):
        parsed = parse_url(image)  # validates the URL; its own account hash and domain are kept
        delivery = Delivery(parsed.account_hash, domain=parsed.delivery_domain, signing_key=settings.signing_key)
    else:
        delivery = Delivery.from_settings(settings)
    exp: int | None = None
    if sign:
        exp = (
            expiry(expires_at=expires_at)
            if expires_at is not None
            else expiry(expires_in=expires_in or DEFAULT_EXPIRES_IN)
        )
        result = delivery.signed_url(image, variant, expires_at=exp)
    else:
        result = delivery.url(image, variant)
    if as_json:
        segment = resolve_variant(variant)
        echo_json(
            {
                "url": result,
                "variant": segment.text,
                "flexible": not segment.named,
                "signed": sign,
                "exp": exp,
                "expires": iso(exp),
            }
        )
    else:
        click.echo(result)
