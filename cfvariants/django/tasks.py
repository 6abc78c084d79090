"""What ``python manage.py run_huey`` imports (djhuey loads every installed app's ``tasks`` module): building
the upload queue registers the ``cfvariants.upload`` task and the ``cfvariants.reconcile`` sweep on ``HUEY``.
Without a ``HUEY`` setting nothing is registered (and nothing is imported from huey).

``run_huey`` gives the ``huey`` logger a handler but not ``cfvariants``'s, whose lines (an upload stored, an
attempt that will be retried, one Cloudflare refused) would then be lost unless ``LOGGING`` names them. When
the consumer starts and ``cfvariants`` has no handler of its own, it logs through huey's handlers.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings

__all__: list[str] = []

_lock = threading.Lock()
_shared = False


def share_huey_handlers() -> None:
    """Let ``cfvariants`` log through the ``huey`` logger's handlers when logging gives it none."""
    global _shared  # noqa: PLW0603 - once per process
    with _lock:
        if _shared:
            return
        _shared = True
        ours, huey = logging.getLogger("cfvariants"), logging.getLogger("huey")
        if ours.hasHandlers() or not huey.handlers:
            return
        for handler in huey.handlers:
            ours.addHandler(handler)
        if ours.level == logging.NOTSET:
            ours.setLevel(huey.getEffectiveLevel())
        ours.propagate = False


if getattr(settings, "HUEY", None) is not None:
    from .uploads import get_queue

    queue = get_queue()
    queue.huey.on_startup(name="cfvariants.logging")(share_huey_handlers)
    __all__ = ["queue", "share_huey_handlers"]
