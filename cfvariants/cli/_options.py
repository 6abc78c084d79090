"""Options shared by the subcommands: settings (``--api-base``, ``--account-id``, ``--token``, ``--account-hash``,
``--signing-key``, ``--domain``, ``--zone``, ``--env-file``), ``--retries`` and ``--json``. An option overrides
the environment, which overrides ``.env``; the values are validated by cfvariants' one configuration model, so
a bad option is named as typed. The token and the signing key are better left to ``CF_IMG_TOKEN`` and
``CF_IMG_SIGNING_KEY``: a command line is visible to other users of the machine and kept in shell history.

Each option's callback records its value on the click context (``ctx.meta``), so a command reads the settings
of its whole command line with ``load_settings(ctx)`` and the retry count with ``retries(ctx)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from cfvariants._settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
_OVERRIDES = "cfvariants.settings_overrides"
_RETRIES_KEY = "cfvariants.retries"
_DEFAULT_RETRIES = 3


def _store(field: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            ctx.meta.setdefault(_OVERRIDES, {})[field] = value
        return value

    return callback


def _option(*decls: str, field: str, help: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(*decls, field, default=None, expose_value=False, callback=_store(field), help=help, **kwargs)


env_file_option = click.option(
    "--env-file",
    "env_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    expose_value=False,
    callback=_store("_env_file"),
    help="Read CF_* settings from this file instead of ./.env (the environment still wins).",
)
_API_BASE = _option("--api-base", field="api_base", help="API base URL [CF_API_BASE], e.g. a local emulator's.")
_ACCOUNT_ID = _option("--account-id", field="account_id", help="Cloudflare account id [CF_ACCT_ID].")
_TOKEN = _option(
    "--token", field="api_token", help="API token [CF_IMG_TOKEN]; prefer the variable, a command line is visible."
)
_ACCOUNT_HASH = _option("--account-hash", field="account_hash", help="Account hash of delivery URLs [CF_IMG_HASH].")
signing_key_option = _option(
    "--signing-key", field="signing_key", help="URL signing key [CF_IMG_SIGNING_KEY]; prefer the variable."
)
_DOMAIN = _option("--domain", field="domain", help="Custom delivery domain [CF_IMG_DOMAIN].")
zone_option = _option(
    "--zone", field="zone", help="Zone of Image Transformations (/cdn-cgi/image/) for images outside Cloudflare "
    "Images [CF_IMG_ZONE]; '/' for root-relative URLs.",
)  # fmt: skip
_RETRIES = click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=_DEFAULT_RETRIES,
    show_default=True,
    expose_value=False,
    callback=lambda ctx, param, value: _remember_retries(ctx, value),
    help="Retries of a failed API call (429, 5xx, dropped connections), with backoff.",
)


def _remember_retries(ctx: click.Context, value: int) -> int:
    ctx.meta[_RETRIES_KEY] = value
    return value


def _apply(decorators: Iterable[Callable[[F], F]]) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        for decorator in reversed(list(decorators)):
            function = decorator(function)
        return function

    return decorate


def api_options(function: F) -> F:
    """Options of commands that call the API: where, which account, which token, how many retries."""
    return _apply([_API_BASE, _ACCOUNT_ID, _TOKEN, _RETRIES, env_file_option])(function)


def delivery_options(*, signing: bool) -> Callable[[F], F]:
    """Options of commands that build delivery URLs (and sign them when ``signing``)."""
    decorators = [_ACCOUNT_HASH, _DOMAIN, *([signing_key_option] if signing else []), env_file_option]
    return _apply(decorators)


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")(function)


def load_settings(ctx: click.Context | None = None) -> Settings:
    """``Settings`` from the environment and ``.env`` (or ``--env-file``), with the command-line options on top,
    validated by the one configuration model: a bad option is named as typed (``--api-base``), a bad variable by
    its name (``CF_API_BASE``)."""
    from cfvariants._config import CLI, load_config  # noqa: PLC0415 - keep --help fast

    ctx = ctx or click.get_current_context()
    overrides: dict[str, Any] = {}
    for context in reversed(_lineage(ctx)):
        overrides.update(context.meta.get(_OVERRIDES, {}))
    env_file = overrides.pop("_env_file", None)
    return load_config(overrides, CLI, env_file=env_file, check_zone=False).cloudflare


def _lineage(ctx: click.Context) -> list[click.Context]:
    chain: list[click.Context] = []
    current: click.Context | None = ctx
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain


def retries(ctx: click.Context | None = None) -> int:
    """``--retries`` of this command (3 when it has no such option)."""
    ctx = ctx or click.get_current_context()
    return int(ctx.meta.get(_RETRIES_KEY, _DEFAULT_RETRIES))
