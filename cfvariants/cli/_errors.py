"""The CLI's error policy: a failing command prints ONE line (``Error: ...``) on stderr, never a traceback and
never a secret, and exits with a documented code (``EXIT_*``). ``CFVARIANTS_TRACEBACK=1`` shows the traceback
of an unexpected error."""

from __future__ import annotations

import os
from typing import Any

import click

from cfvariants._errors import CFVariantsError, SettingsError

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
_TRACEBACK_ENV = "CFVARIANTS_TRACEBACK"


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
