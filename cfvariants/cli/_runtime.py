"""What a command gets from its caller rather than its command line (tests and embedding pass a ``Runtime``
as ``obj=``: ``CliRunner().invoke(main, args, obj=Runtime(transport=...))`` sends every API call of the command
through that httpx transport, with no socket)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import click
import httpx


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


def ensure_cwd_importable() -> None:
    """Let ``--module pkg.mod`` find modules of the current project (as ``flask --app`` does)."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
