"""What commands print besides their errors: JSON for scripts, ISO times, warning lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from ._errors import one_line


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
