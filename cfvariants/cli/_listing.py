"""``cfvariants list``: the account's images, page after page (list v2), as a table or JSON."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from datetime import UTC
from typing import Any, Literal

import click

from cfvariants.client import Image, MetaFilter
from cfvariants.limits import PER_PAGE_RANGE

from ._clients import sync_client
from ._errors import CFCommand, CLIUsageError
from ._options import api_options, json_option
from ._values import parse_json_value

_FILTER = re.compile(r"^\s*([^<>=!\s]+)\s*(>=|<=|>|<|=)(.*)$", re.DOTALL)
_OPERATORS = {"=": "eq", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


def parse_filter(text: str) -> MetaFilter:
    """``--meta`` syntax: ``key=value`` (equality; a JSON list means "any of"), ``key>=4``, ``key<10``...;
    dotted keys reach into nested metadata (``region.name=eu``)."""
    match = _FILTER.match(text)
    if match is None:
        raise CLIUsageError(f"--meta {text!r} is not key=value (or key>=number, key<number...)")
    key, op, raw = match.group(1), match.group(2), match.group(3)
    value = parse_json_value(raw)
    if op == "=":
        if isinstance(value, list):
            kinds = {type(item) for item in value}
            suffix = ":number" if kinds <= {int, float} else ":string" if kinds == {str} else ""
            return MetaFilter(key, f"in{suffix}", tuple(value))
        if isinstance(value, bool):
            return MetaFilter(key, "eq:boolean", value)
        if isinstance(value, int | float):
            return MetaFilter(key, "eq:number", value)
        return MetaFilter(key, "eq:string", value if isinstance(value, str) else raw)
    return MetaFilter(key, _OPERATORS[op], value)


@click.command(
    "list",
    cls=CFCommand,
    short_help="List the account's images (table or JSON).",
    epilog="""\b
Examples:
  cfvariants list
  cfvariants list --creator user-7 --meta owner=7 --meta 'stars>=4'
  cfvariants list --json | jq -r '.[].id'
  cfvariants list --limit 20 --sort asc
""",
)
@click.option(
    "--per-page",
    type=click.IntRange(*PER_PAGE_RANGE),
    default=None,
    help="Images per request ({}-{}).".format(*PER_PAGE_RANGE),
)
@click.option("--creator", default=None, help="Only images with this creator ('' for images without one).")
@click.option(
    "--meta",
    "meta",
    multiple=True,
    help='Metadata filter, repeatable (AND): key=value, key>=4, key<10, key=["a","b"] (any of).',
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Stop after this many images.")
@click.option(
    "--sort", type=click.Choice(["desc", "asc"]), default=None, help="By upload time (default: newest first)."
)
@api_options
@json_option
def list_images(
    per_page: int | None,
    creator: str | None,
    meta: tuple[str, ...],
    limit: int | None,
    sort: Literal["asc", "desc"] | None,
    as_json: bool,
) -> None:
    """List the account's images (newest first), following Cloudflare's continuation tokens.

    Text output is a table (id, upload time, signed-URL requirement, file name); --json prints an array of
    Cloudflare's image objects. Pages are fetched as they are printed, so memory stays flat.
    """
    filters = [parse_filter(item) for item in meta]
    with sync_client() as client:
        images: Iterable[Image] = client.iter_images(
            per_page=per_page, creator=creator, meta=filters or None, sort_order=sort
        )
        if limit is not None:
            images = itertools.islice(images, limit)
        if as_json:
            _print_json(images)
        else:
            count = _print_table(images)
            click.echo(f"{count} image{'s' if count != 1 else ''}", err=True)


def _print_json(images: Iterable[Image]) -> None:
    first = True
    click.echo("[", nl=False)
    for image in images:
        click.echo(("\n  " if first else ",\n  ") + json.dumps(_image_json(image), ensure_ascii=False), nl=False)
        first = False
    click.echo("\n]" if not first else "]")


def _image_json(image: Image) -> dict[str, Any]:
    return image.model_dump(mode="json", by_alias=True)


def _print_table(images: Iterable[Image]) -> int:
    count = 0
    for image in images:
        if count == 0:
            click.echo(f"{'ID':<36}  {'UPLOADED':<20}  {'SIGNED':<6}  FILENAME")
        uploaded = image.uploaded.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if image.uploaded else "-"
        signed = "yes" if image.require_signed_urls else "no"
        click.echo(f"{image.id:<36}  {uploaded:<20}  {signed:<6}  {image.filename or '-'}")
        count += 1
    return count
