"""What every ``cfvariants`` subcommand shares: settings options, the error policy, exit codes, JSON output.

Settings. Each command takes the options it needs (``--api-base``, ``--account-id``, ``--token``,
``--account-hash``, ``--signing-key``, ``--domain``, ``--env-file``); an option overrides the environment, which
overrides ``.env`` (``Settings.load``). The token and the signing key are better left to ``CF_IMG_TOKEN`` and
``CF_IMG_SIGNING_KEY``: a command line is visible to other users of the machine and kept in shell history.

Errors. A failing command prints ONE line (``Error: ...``) to stderr, never a traceback and never a secret, and
exits with a documented code (``EXIT_*``). ``CFVARIANTS_TRACEBACK=1`` shows the traceback of an unexpected error.

Tests and embedding. ``CliRunner().invoke(main, args, obj=Runtime(transport=...))`` makes every API call of the
command go through the given httpx transport (e.g. ``httpx.WSGITransport(app=emulator_app)``), with no socket.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
import httpx

from cfvariants._errors import CFVariantsError, SettingsError
from cfvariants._settings import Settings

EXIT_OK = 0
"""Everything worked (and, with ``--check``, there was no drift)."""
EXIT_FAILED = 1
"""Something failed: an API call, an upload or delete, drift under ``--check``, findings of ``check``, or a
confirmation answered "no"."""
EXIT_USAGE = 2
"""Bad arguments or configuration: a missing ``CF_*`` setting, a refused token, an unreadable declaration file,
input Cloudflare would refuse. Nothing was changed."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C); what was done before stays done, and a rerun resumes."""

F = TypeVar("F", bound=Callable[..., Any])
_OVERRIDES = "cfvariants.settings_overrides"
_TRACEBACK_ENV = "CFVARIANTS_TRACEBACK"


@dataclass(frozen=True)
class Runtime:
    """Things a command gets from its caller rather than from the command line; tests pass one as ``obj=``.

    ``transport``/``async_transport`` replace the network for the sync and async API clients;
    ``stderr_is_tty`` overrides terminal detection (progress bars)."""

    transport: httpx.BaseTransport | None = None
    async_transport: httpx.AsyncBaseTransport | None = None
    stderr_is_tty: bool | None = None

    def is_tty(self) -> bool:
        if self.stderr_is_tty is not None:
            return self.stderr_is_tty
        return sys.stderr.isatty()


def runtime(ctx: click.Context | None = None) -> Runtime:
    """The ``Runtime`` given as ``obj`` to the top command, or the default one (the network, real terminal)."""
    ctx = ctx or click.get_current_context()
    found = ctx.find_object(Runtime)
    return found if found is not None else Runtime()


# -- errors ------------------------------------------------------------------------------------------------------


class CLIError(CFVariantsError, click.ClickException):
    """A failure shown as one ``Error: ...`` line, exit code 1 (``EXIT_FAILED``); also a Click exception, so
    Click prints it and exits with ``exit_code``."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class CLIUsageError(CLIError):
    """Bad configuration or input, found before anything changed: exit code 2 (``EXIT_USAGE``)."""

    exit_code = EXIT_USAGE


class Interrupted(CLIError):
    """Ctrl-C: exit code 130 (``EXIT_INTERRUPTED``)."""

    exit_code = EXIT_INTERRUPTED


def one_line(text: str) -> str:
    """``text`` with line breaks folded, so an error is always a single line."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def as_cli_error(exc: BaseException) -> CLIError:
    """The ``CLIError`` (message and exit code) for an exception escaping a command."""
    from cfvariants.client import AuthenticationError, CloudflareImagesError  # noqa: PLC0415 - keep --help fast
    from cfvariants.client import ValidationError as ClientValidationError  # noqa: PLC0415
    from cfvariants.variants import VariantDeclarationError  # noqa: PLC0415

    if isinstance(exc, SettingsError | VariantDeclarationError | ClientValidationError):
        return CLIUsageError(str(exc))
    if isinstance(exc, AuthenticationError):
        return CLIUsageError(f"{exc} (check CF_IMG_TOKEN, a token with the Images permissions, and CF_ACCT_ID)")
    if isinstance(exc, CloudflareImagesError):
        return CLIError(str(exc))
    if isinstance(exc, CFVariantsError):  # a bad id, URL, variant or option given on the command line
        return CLIUsageError(str(exc))
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return CLIError(f"{where}{exc.strerror or exc}")
    return CLIError(f"unexpected {type(exc).__name__}: {exc} (set {_TRACEBACK_ENV}=1 to see where)")


class UsageLine(CFVariantsError, click.UsageError):
    """A usage error (bad option value, missing argument) as one line with exit code 2, not click's three lines
    of usage, hint and error: ``Error: Invalid value for '--expires-at': ... (see 'cfvariants sign --help')``."""

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message(), error.ctx)

    def show(self, file: Any = None) -> None:
        hint = f" (see '{self.ctx.command_path} --help')" if self.ctx is not None else ""
        click.echo(f"Error: {one_line(self.format_message())}{hint}", err=True, file=file)


class CFCommand(click.Command):
    """A click command that applies the error policy: one line on stderr, a documented exit code."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageLine:
            raise
        except click.UsageError as exc:
            raise UsageLine(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageLine:
            raise
        except click.UsageError as exc:
            raise UsageLine(exc) from None
        except BrokenPipeError:
            raise  # the reader went away (| head): click exits quietly, without an "Error: Broken pipe"
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise Interrupted("interrupted") from None
        except Exception as exc:
            if os.environ.get(_TRACEBACK_ENV) and not isinstance(exc, CFVariantsError):
                raise
            raise as_cli_error(exc) from None


# -- settings options ----------------------------------------------------------------------------------------------


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
    default=3,
    show_default=True,
    expose_value=False,
    callback=lambda ctx, param, value: _remember_retries(ctx, value),
    help="Retries of a failed API call (429, 5xx, dropped connections), with backoff.",
)


def _remember_retries(ctx: click.Context, value: int) -> int:
    ctx.meta["cfvariants.retries"] = value
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


def _retry(ctx: click.Context) -> Any:
    from cfvariants.client import RetryPolicy  # noqa: PLC0415 - keep --help fast

    retries = ctx.meta.get("cfvariants.retries", 3)
    return RetryPolicy(max_attempts=int(retries) + 1)


def sync_client(ctx: click.Context | None = None) -> Any:
    """An ``ImagesClient`` from the settings (the runtime's transport, the ``--retries`` policy)."""
    from cfvariants.client import ImagesClient  # noqa: PLC0415 - keep --help fast

    ctx = ctx or click.get_current_context()
    overrides: dict[str, Any] = {"retry": _retry(ctx)}
    transport = runtime(ctx).transport
    if transport is not None:
        overrides["transport"] = transport
    return ImagesClient.from_settings(load_settings(ctx), **overrides)


def async_client(ctx: click.Context | None = None) -> Any:
    """An ``AsyncImagesClient`` from the settings (the runtime's async transport, the ``--retries`` policy)."""
    from cfvariants.client import AsyncImagesClient  # noqa: PLC0415 - keep --help fast

    ctx = ctx or click.get_current_context()
    overrides: dict[str, Any] = {"retry": _retry(ctx)}
    transport = runtime(ctx).async_transport
    if transport is not None:
        overrides["transport"] = transport
    return AsyncImagesClient.from_settings(load_settings(ctx), **overrides)


# -- values on the command line ------------------------------------------------------------------------------------


def parse_json_value(text: str) -> Any:
    """A value typed on the command line: JSON when it reads as JSON (``7``, ``true``, ``"7"``, ``[1, 2]``),
    otherwise the text itself (``cat``)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(values: Iterable[str], option: str) -> dict[str, Any]:
    """``key=value`` options into a dict (values as ``parse_json_value``); a malformed one is a usage error."""
    pairs: dict[str, Any] = {}
    for item in values:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise CLIUsageError(f"{option} {item!r} is not key=value")
        pairs[key.strip()] = parse_json_value(value)
    return pairs


if TYPE_CHECKING:
    _IntParam = click.ParamType[int, Any]
else:  # click < 8.2 has no type parameters
    _IntParam = click.ParamType


class Duration(_IntParam):
    """Seconds, or a duration such as ``90s``, ``15m``, ``2h``, ``7d``, ``1h30m``."""

    name = "duration"
    _PART = re.compile(r"(\d+)([smhdw]?)")
    _UNITS: Mapping[str, int] = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        parts = list(self._PART.finditer(text))
        if not text or "".join(m.group(0) for m in parts) != text:
            self.fail(f"{value!r} is not a duration such as 3600, 90s, 15m, 2h or 7d", param, ctx)
        seconds = sum(int(m.group(1)) * self._UNITS[m.group(2)] for m in parts)
        if seconds <= 0:
            self.fail(f"{value!r} must be longer than zero", param, ctx)
        return seconds


class Timestamp(_IntParam):
    """Unix seconds, or an ISO 8601 date-time with a time zone (``2026-01-01T00:00:00Z``)."""

    name = "timestamp"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is neither unix seconds nor an ISO 8601 date-time", param, ctx)
        if when.tzinfo is None:
            stem = text if "T" in text or " " in text else f"{text}T00:00:00"  # a date alone takes a time first
            self.fail(f"{value!r} has no time zone; add one, e.g. {stem}Z or {stem}+02:00", param, ctx)
        return int(when.timestamp())


DURATION = Duration()
TIMESTAMP = Timestamp()


# -- output ----------------------------------------------------------------------------------------------------------


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def iso(timestamp: int | None) -> str | None:
    """Unix seconds as ``2026-01-01T00:00:00Z``."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def warn(message: str) -> None:
    """A warning line on stderr."""
    click.echo(f"Warning: {one_line(message)}", err=True)


def ensure_cwd_importable() -> None:
    """Let ``--module pkg.mod`` find modules of the current project (as ``flask --app`` does)."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
