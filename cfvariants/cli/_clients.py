"""The API clients of a command: its settings, the runtime's transport (tests: no socket) and the ``--retries``
policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._options import load_settings, retries
from ._runtime import runtime

if TYPE_CHECKING:
    from cfvariants.client import AsyncImagesClient, ImagesClient


def _overrides(ctx: click.Context, transport: object) -> dict[str, Any]:
    """The client's keyword arguments besides its settings: the ``--retries`` policy, and the runtime's transport
    when it has one."""
    from cfvariants.client import RetryPolicy  # noqa: PLC0415 - keep --help fast

    overrides: dict[str, Any] = {"retry": RetryPolicy(max_attempts=retries(ctx) + 1)}
    if transport is not None:
        overrides["transport"] = transport
    return overrides


def sync_client(ctx: click.Context | None = None) -> ImagesClient:
    """An ``ImagesClient`` from the settings (the runtime's transport, the ``--retries`` policy)."""
    from cfvariants.client import ImagesClient  # noqa: PLC0415 - keep --help fast

    ctx = ctx or click.get_current_context()
    return ImagesClient.from_settings(load_settings(ctx), **_overrides(ctx, runtime(ctx).transport))


def async_client(ctx: click.Context | None = None) -> AsyncImagesClient:
    """An ``AsyncImagesClient`` from the settings (the runtime's async transport, the ``--retries`` policy)."""
    from cfvariants.client import AsyncImagesClient  # noqa: PLC0415 - keep --help fast

    ctx = ctx or click.get_current_context()
    return AsyncImagesClient.from_settings(load_settings(ctx), **_overrides(ctx, runtime(ctx).async_transport))
