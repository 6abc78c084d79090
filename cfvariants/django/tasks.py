"""What ``python manage.py run_huey`` imports (djhuey loads every installed app's ``tasks`` module): building
the upload queue registers the ``cfvariants.upload`` task and the ``cfvariants.reconcile`` sweep on ``HUEY``.
Without a ``HUEY`` setting nothing is registered (and nothing is imported from huey).

``run_huey`` gives the ``huey`` logger a handler but not ``cfvariants``'s, whose lines (an upload stored, an
attempt that will be retried, one Cloudflare refused) would be lost unless ``LOGGING`` names them; when logging
gives ``cfvariants`` no handler, it gets the worker's stderr handler (``cfvariants._logsetup``).
"""

from __future__ import annotations

import logging

from django.conf import settings

__all__: list[str] = []

if getattr(settings, "HUEY", None) is not None:
    from cfvariants._logsetup import configure_logging

    from ._uploads import get_queue

    if not logging.getLogger("cfvariants").hasHandlers():
        configure_logging()
    queue = get_queue()
    __all__ = ["queue"]
