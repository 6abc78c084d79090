"""``cfvariants url``: the delivery URL of an image through a variant, signed when asked; or the Image
Transformations URL of an image outside Cloudflare Images (a path on the zone or another URL) with options."""

from __future__ import annotations

import click

from cfvariants._delivery import Delivery
from cfvariants._segments import resolve_variant
from cfvariants._settings import Settings
from cfvariants._signing import expiry
from cfvariants._transformations import Transformations
from cfvariants._urls import TransformationURL, is_remote_source, is_url, parse_delivery_url, parse_url

from ._errors import CFCommand, CLIUsageError
from ._options import delivery_options, json_option, load_settings, zone_option
from ._output import echo_json, iso
from ._values import DURATION, TIMESTAMP

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
  cfvariants url --zone example.com /media/cat.jpg w=200              # Image Transformations
  cfvariants url --zone example.com https://uploads.example.net/cat.jpg w=200,f=auto
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
@zone_option
@json_option
def url(
    image: str, variant: str | None, sign: bool, expires_in: int | None, expires_at: int | None, as_json: bool
) -> None:
    """Print the delivery URL of IMAGE (an id or a delivery URL) through VARIANT.

    VARIANT is a named variant (avatar) or flexible options (w=200,fit=cover); without it, public. Built by the
    same code as the template filters, from CF_IMG_HASH (and CF_IMG_DOMAIN for a custom domain).

    An image outside Cloudflare Images (a path such as /media/cat.jpg, or an http(s) URL that is not a delivery
    URL) gets an Image Transformations URL on --zone / CF_IMG_ZONE; VARIANT must then be options. A
    transformation URL as IMAGE keeps its source and zone and takes the new options.
    """
    if expires_in is not None and expires_at is not None:
        raise CLIUsageError("give --expires-in or --expires-at, not both")
    sign = sign or expires_in is not None or expires_at is not None
    settings = load_settings()
    if is_remote_source(image):
        _transformation_url(image, variant, settings, sign=sign, as_json=as_json)
        return
    if is_url(image):
        parsed = parse_delivery_url(image)  # validates the URL; its own account hash and domain are kept
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


def _transformation_url(image: str, variant: str | None, settings: Settings, *, sign: bool, as_json: bool) -> None:
    if sign:
        raise CLIUsageError(
            "Image Transformations URLs cannot be signed (Cloudflare signs hosted images only; control access to "
            "the source with a Worker)"
        )
    parsed = parse_url(image) if "/cdn-cgi/image/" in image else None
    if isinstance(parsed, TransformationURL):
        zone, source = settings.zone or parsed.zone, parsed.source
        options: str | None = variant if variant is not None else str(parsed.options)
    else:
        if not settings.zone:
            raise CLIUsageError(
                f"{image!r} is not an image stored in Cloudflare Images; give --zone (or CF_IMG_ZONE) to build its "
                "Image Transformations URL"
            )
        zone, source, options = settings.zone, image, variant
    result = Transformations(zone).url(source, options)
    if as_json:
        built = parse_url(result)
        assert isinstance(built, TransformationURL)
        echo_json({"url": result, "zone": built.zone, "source": built.source, "options": str(built.options)})
    else:
        click.echo(result)
