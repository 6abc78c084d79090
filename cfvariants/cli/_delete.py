"""``cfvariants delete``: delete images by id (or delivery URL), after asking."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

import click

from cfvariants._urls import is_url, parse_delivery_url
from cfvariants.client import AuthenticationError, CloudflareImagesError, NotFoundError

from ._clients import sync_client
from ._errors import EXIT_FAILED, CFCommand, CLIError, CLIUsageError, one_line
from ._options import api_options, json_option
from ._output import echo_json


@click.command(
    cls=CFCommand,
    short_help="Delete images by id or delivery URL.",
    epilog="""\b
Examples:
  cfvariants delete 083eb7b2-5392-4565-b69e-aff66acddd00
  cfvariants delete users/7/avatar.jpg https://imagedelivery.net/<hash>/<id>/public --yes
  cfvariants list --meta owner=7 --json | jq -r '.[].id' | cfvariants delete - --yes
""",
)
@click.argument("images", nargs=-1, required=True, metavar="ID...")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_options
@json_option
def delete(images: tuple[str, ...], yes: bool, as_json: bool) -> None:
    """Delete images: each ID is an image id or one of its delivery URLs; '-' reads ids from stdin, one a line.

    Asks first unless --yes. Every image is attempted; the exit code is 1 if any could not be deleted (one
    that does not exist counts as a failure, named as such).
    """
    if "-" in images and not yes:
        raise CLIUsageError("reading ids from stdin ('-') needs --yes: stdin cannot also answer the question")
    ids = list(_unique(_image_ids(images)))
    if not ids:
        raise CLIUsageError("no image ids given")
    if not yes:
        shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        noun = "image" if len(ids) == 1 else f"{len(ids)} images"
        if not click.confirm(f"Delete {noun} ({shown})? This cannot be undone.", default=False, err=True):
            raise CLIError("not deleted: nothing was changed")
    deleted: list[str] = []
    failed: list[dict[str, str]] = []
    with sync_client() as client:
        for image_id in ids:
            try:
                client.delete(image_id)
            except NotFoundError:
                failed.append({"id": image_id, "error": "no such image"})
            except AuthenticationError:
                raise  # every other id would be refused the same way
            except CloudflareImagesError as exc:  # every id is attempted; each failure is reported on its own
                failed.append({"id": image_id, "error": one_line(str(exc))})
            else:
                deleted.append(image_id)
                if not as_json:
                    click.echo(f"deleted {image_id}")
                continue
            if not as_json:
                click.echo(f"failed  {image_id}: {failed[-1]['error']}", err=True)
    if as_json:
        echo_json({"deleted": deleted, "failed": failed})
    else:
        click.echo(f"{len(deleted)} deleted, {len(failed)} failed", err=True)
    if failed:
        raise click.exceptions.Exit(EXIT_FAILED)


def _image_ids(arguments: Iterable[str]) -> Iterator[str]:
    for argument in arguments:
        if argument == "-":
            for line in sys.stdin:
                if line.strip():
                    yield _image_id(line.strip())
        else:
            yield _image_id(argument)


def _image_id(text: str) -> str:
    return parse_delivery_url(text).image_id if is_url(text) else text


def _unique(ids: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for image_id in ids:
        if image_id not in seen:
            seen.add(image_id)
            yield image_id
