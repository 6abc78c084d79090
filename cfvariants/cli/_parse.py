"""``cfvariants parse``: what a delivery URL says (account, image, variant or options, form, signature), or
what an Image Transformations URL says (zone, options, source)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from cfvariants._errors import URLError
from cfvariants._signing import signature_problem
from cfvariants._urls import DELIVERY_HOST, SAME_SITE, ParsedURL, TransformationURL, parse_origin, parse_url

from ._errors import EXIT_FAILED, CFCommand
from ._options import env_file_option, json_option, load_settings, signing_key_option
from ._output import echo_json, iso


@click.command(
    cls=CFCommand,
    short_help="Take a delivery URL apart.",
    epilog="""\b
Examples:
  cfvariants parse https://imagedelivery.net/ZWd9g1K7eljCn_KDTu_MWA/083eb7b2-5392-4565-b69e-aff66acddd00/w=200
  cfvariants parse "https://images.example.com/cdn-cgi/imagedelivery/<hash>/<id>/avatar?exp=...&sig=..." --verify
  cfvariants parse --json "$URL" | jq -r .image_id
  cfvariants parse https://www.example.com/cdn-cgi/image/w=200,f=auto/media/cat.jpg
""",
)
@click.argument("delivery_url", metavar="URL")
@click.option(
    "--verify", is_flag=True, help="Check the signature with CF_IMG_SIGNING_KEY; exit 1 if it is missing or invalid."
)
@signing_key_option
@env_file_option
@json_option
def parse(delivery_url: str, verify: bool, as_json: bool) -> None:
    """Take a delivery URL apart: account hash, image id, named variant or canonical options, the URL form,
    and its expiry and signature. Flexible options are checked and shown in canonical form."""
    short_origin: str | None = None
    try:
        parsed = parse_url(delivery_url)
    except URLError as exc:
        parsed, short_origin = _emulator_short_form(delivery_url, exc)
    if isinstance(parsed, TransformationURL):
        if verify:
            raise click.UsageError("--verify: Image Transformations URLs are never signed")
        _show_transformation(parsed, as_json=as_json)
        return
    problem: str | None = None
    if verify:
        key = load_settings().require("signing_key")
        problem = signature_problem(delivery_url, key)
    if as_json:
        data = _as_dict(parsed)
        if short_origin is not None:
            data.update(form="emulator", domain=short_origin, origin=short_origin)
        if verify:
            data["signature_valid"] = problem is None
            data["signature_problem"] = problem
        echo_json(data)
    else:
        for label, value in _rows(parsed):
            shown = value
            if label == "form" and short_origin is not None:
                shown = f"emulator short form on {short_origin} (the imagedelivery.net path on another host)"
            click.echo(f"{label:<13} {shown}")
        if verify:
            click.echo(f"{'signature':<13} {'valid' if problem is None else 'INVALID: ' + problem}")
    if problem is not None:
        raise click.exceptions.Exit(EXIT_FAILED)


def _emulator_short_form(url: str, error: URLError) -> tuple[ParsedURL, str]:
    """``http(s)://<host>/<hash>/<id>/<variant>``: the imagedelivery.net path on another host, as the emulator
    serves it (its start-up banner prints this form). Returns it parsed, with the origin it was on; raises
    ``error`` (the first one) when the URL is not of this form either."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise error from None
    if parts.scheme not in ("http", "https") or not host or parts.path.startswith("/cdn-cgi/"):
        raise error
    try:
        parsed = parse_url(urlunsplit(("https", DELIVERY_HOST, parts.path, parts.query, "")))
    except URLError:
        raise error from None
    if not isinstance(parsed, ParsedURL):
        raise error
    netloc = f"[{host}]" if ":" in host else host
    origin, _shown = parse_origin(f"{parts.scheme}://{netloc}" + (f":{port}" if port else ""))
    return parsed, origin


def _form(parsed: ParsedURL) -> str:
    if parsed.domain is None:
        return "imagedelivery.net"
    if parsed.domain == SAME_SITE:
        return "root-relative (/cdn-cgi/imagedelivery on the current site)"
    return f"custom domain {parsed.origin}"


def _rows(parsed: ParsedURL) -> list[tuple[str, str]]:
    rows = [("account hash", parsed.account_hash), ("image id", parsed.image_id)]
    if parsed.options is not None:
        rows.append(("options", str(parsed.options)))
    else:
        rows.append(("variant", str(parsed.variant)))
    rows.append(("form", _form(parsed)))
    if parsed.exp is not None:
        expired = " (expired)" if parsed.exp < time.time() else ""
        rows.append(("expires", f"{iso(parsed.exp)} (exp={parsed.exp}){expired}"))
    if parsed.sig is not None:
        rows.append(("sig", parsed.sig))
    if parsed.exp is None and parsed.sig is None:
        rows.append(("signed", "no"))
    return rows


def _as_dict(parsed: ParsedURL) -> dict[str, Any]:
    return {
        "account_hash": parsed.account_hash,
        "image_id": parsed.image_id,
        "variant": parsed.variant,
        "options": str(parsed.options) if parsed.options is not None else None,
        "options_fields": parsed.options.to_kwargs() if parsed.options is not None else None,
        "form": "imagedelivery" if parsed.domain is None else "relative" if parsed.domain == SAME_SITE else "domain",
        "domain": parsed.delivery_domain,
        "origin": parsed.origin,
        "exp": parsed.exp,
        "expires": iso(parsed.exp),
        "expired": parsed.exp is not None and parsed.exp < time.time(),
        "sig": parsed.sig,
        "signed": parsed.is_signed,
    }


def _show_transformation(parsed: TransformationURL, *, as_json: bool) -> None:
    form = "root-relative (/cdn-cgi/image on the current site)" if parsed.zone == SAME_SITE else parsed.origin
    if as_json:
        echo_json(
            {
                "form": "transformation",
                "zone": parsed.zone,
                "origin": parsed.origin,
                "options": str(parsed.options),
                "options_fields": parsed.options.to_kwargs(),
                "source": parsed.source,
                "source_is_url": parsed.source_is_url,
                "signed": False,
            }
        )
        return
    rows = [
        ("form", f"Image Transformations on {form}"),
        ("options", str(parsed.options)),
        ("source", parsed.source + (" (another origin)" if parsed.source_is_url else " (path on the zone)")),
        ("signed", "no (transformation URLs are never signed)"),
    ]
    for label, value in rows:
        click.echo(f"{label:<13} {value}")
