"""The code behind ``cfvariants.cli`` (its ``__init__`` re-exports what it offers)."""

from __future__ import annotations

import importlib
from typing import Any

import click

from cfvariants import __version__

COMMANDS: dict[str, str] = {
    "check": "cfvariants.cli._check:check",
    "delete": "cfvariants.cli._delete:delete",
    "emulator": "cfvariants.cli._emulator:emulator",
    "list": "cfvariants.cli._listing:list_images",
    "migrate": "cfvariants.cli._migrate:migrate",
    "parse": "cfvariants.cli._parse:parse",
    "sign": "cfvariants.cli._sign:sign",
    "upload": "cfvariants.cli._upload:upload",
    "uploads": "cfvariants.cli._uploads:uploads",
    "url": "cfvariants.cli._url:url",
    "variants": "cfvariants.cli._variants:variants",
}
"""Subcommand name -> ``module:attribute`` of its click command."""


class LazyGroup(click.Group):
    """A group that imports each listed subcommand on first use."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cfvariants")
def main() -> None:
    """cfvariants: Cloudflare Images for Python web apps.

    Settings come from CF_ACCT_ID, CF_IMG_TOKEN, CF_IMG_HASH, CF_IMG_SIGNING_KEY, CF_IMG_DOMAIN and CF_API_BASE
    (environment or ./.env); each command's options override them. Exit codes: 0 success, 1 something failed
    (or drift/problems found), 2 bad usage or configuration, 130 interrupted. Try `cfvariants COMMAND --help`.
    """
