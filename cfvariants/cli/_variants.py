"""``cfvariants variants plan|apply|export``: named variants as code, like ``terraform plan`` / ``apply``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cfvariants import variants as declared_variants
from cfvariants.variants import Change, Plan, VariantDeclarationError, VariantSpec

from ._clients import sync_client
from ._errors import EXIT_FAILED, CFCommand, CLIError, CLIUsageError
from ._options import api_options, json_option
from ._output import echo_json
from ._runtime import ensure_cwd_importable

DEFAULT_FILE = "variants.toml"
F = TypeVar("F", bound=Callable[..., Any])

_DECLARATION_HELP = f"""\b
The declaration is a TOML file ({DEFAULT_FILE} in the current directory unless --file says otherwise):
  [variants.avatar]
  fit = "cover"
  width = 240
  height = 240
  never_require_signed_urls = true
  [variants.thumb]
  options = "w=320,h=320,fit=scale-down"
or a Python module with a VARIANTS list (--module myapp.images or myapp.images:VARIANTS).

\b
Examples:
  cfvariants variants export > {DEFAULT_FILE}   # start from what the account holds
  cfvariants variants plan                        # what would change
  cfvariants variants apply                       # make it so (asks first)
  cfvariants variants plan --check                # in CI: exit 1 on drift"""


@click.group(epilog=_DECLARATION_HELP, short_help="Named variants as code: plan, apply, export.")
def variants() -> None:
    """Named variants as code: declare them in a file, see the difference from the account, make it so."""


def declaration_options(function: F) -> F:
    function = click.option(
        "--module",
        "module",
        default=None,
        metavar="PKG.MOD[:ATTR]",
        help="Read the declaration from a Python module (its VARIANTS list) instead of a file.",
    )(function)
    return click.option(
        "--file",
        "file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Declaration file (default: ./{DEFAULT_FILE}).",
    )(function)


def load_declaration(file: Path | None, module: str | None) -> tuple[list[VariantSpec], str]:
    """The declared variants and where they came from (``--file``, ``--module`` or ``./variants.toml``)."""
    if file is not None and module is not None:
        raise CLIUsageError("give --file or --module, not both")
    if module is not None:
        ensure_cwd_importable()
        return declared_variants.load(module), module
    path = file if file is not None else Path(DEFAULT_FILE)
    if file is None and not path.exists():
        raise VariantDeclarationError(
            f"no {DEFAULT_FILE} in the current directory; pass --file PATH or --module PKG.MOD"
        )
    return declared_variants.load(path), str(path)


def _plan(file: Path | None, module: str | None, prune: bool) -> tuple[Plan, str, Any]:
    declared, source = load_declaration(file, module)
    client = sync_client()
    try:
        todo = declared_variants.plan(declared, declared_variants.account_variants(client), prune=prune)
    except BaseException:
        client.close()
        raise
    return todo, source, client


_PRUNE = click.option(
    "--prune", is_flag=True, help="Also delete variants the declaration does not list (never 'public')."
)


@variants.command(
    cls=CFCommand,
    short_help="Show what apply would change (like terraform plan).",
    epilog=f"""\b
Examples:
  cfvariants variants plan                        # ./{DEFAULT_FILE} against the account
  cfvariants variants plan --module myapp.images --prune
  cfvariants variants plan --check                # in CI: exit 1 when the account differs
""",
)
@declaration_options
@_PRUNE
@click.option("--check", is_flag=True, help="Exit 1 when there is anything to change (drift), for CI.")
@api_options
@json_option
def plan(file: Path | None, module: str | None, prune: bool, check: bool, as_json: bool) -> None:
    """Show what `variants apply` would change on the account: + create, ~ update, - delete."""
    todo, source, client = _plan(file, module, prune)
    client.close()
    if as_json:
        echo_json({"declaration": source, "drift": not todo.is_empty, **json.loads(todo.to_json())})
    else:
        click.echo(todo.describe())
    if check and not todo.is_empty:
        if not as_json:
            click.echo(f"Drift: the account does not match {source}.", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)


@variants.command(
    cls=CFCommand,
    short_help="Make the account's variants match the declaration.",
    epilog=f"""\b
Examples:
  cfvariants variants apply                       # shows the plan, asks, then applies ./{DEFAULT_FILE}
  cfvariants variants apply --yes --prune         # unattended; deletes undeclared variants too
""",
)
@declaration_options
@_PRUNE
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_options
@json_option
def apply(file: Path | None, module: str | None, prune: bool, yes: bool, as_json: bool) -> None:
    """Make the account's named variants match the declaration (after showing the plan and asking).

    Updating or deleting a variant purges every image served through it from Cloudflare's cache.
    """
    todo, source, client = _plan(file, module, prune)
    with client:
        if todo.is_empty:
            if as_json:
                echo_json({"declaration": source, "applied": [], "unchanged": list(todo.unchanged)})
            else:
                click.echo(todo.describe())
            return
        if not as_json:
            click.echo(todo.describe())
        if not yes and not click.confirm("Apply these changes?", default=False, err=True):
            raise CLIError("not applied: nothing was changed")
        done: list[Change] = []
        try:
            declared_variants.execute(client, todo, on_change=lambda change: _report(change, done, as_json))
        except Exception as exc:
            left = len(todo.changes) - len(done)
            raise CLIError(
                f"{_failed_change(todo, done)}: {exc} ({len(done)} change(s) made, {left} not made)"
            ) from None
    if as_json:
        echo_json({"declaration": source, "applied": [c.to_json() for c in done], "unchanged": list(todo.unchanged)})
    else:
        click.echo(f"Apply complete: {_counts(done)}.")


def _report(change: Change, done: list[Change], as_json: bool) -> None:
    done.append(change)
    if not as_json:
        verb = {"create": "created", "update": "updated", "delete": "deleted"}[change.action]
        click.echo(f"{verb} {change.id}")


def _failed_change(todo: Plan, done: list[Change]) -> str:
    change = todo.changes[len(done)]
    return f"could not {change.action} variant {change.id!r}"


def _counts(done: list[Change]) -> str:
    counts = {action: sum(c.action == action for c in done) for action in ("create", "update", "delete")}
    return f"{counts['create']} created, {counts['update']} updated, {counts['delete']} deleted"


@variants.command(
    cls=CFCommand,
    short_help="Print the account's variants as a declaration.",
    epilog=f"""\b
Examples:
  cfvariants variants export > {DEFAULT_FILE}    # start managing the account's variants as code
  cfvariants variants export --json
""",
)
@click.option(
    "--include-public", is_flag=True, help="Also declare 'public' (left out by default: every account has it)."
)
@api_options
@json_option
def export(include_public: bool, as_json: bool) -> None:
    """Print the account's named variants as a declaration (TOML), to start from what the dashboard holds."""
    with sync_client() as client:
        specs = declared_variants.account_variants(client)
    specs = [s for s in specs if include_public or s.id not in declared_variants.PROTECTED_VARIANTS]
    if as_json:
        echo_json([spec.model_dump() for spec in specs])
    else:
        click.echo(declared_variants.to_toml(specs), nl=False)
