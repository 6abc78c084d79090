"""What ``python manage.py run_huey`` imports (djhuey loads every installed app's ``tasks`` module): building
the upload queue registers the ``cfvariants.upload`` task and the ``cfvariants.reconcile`` sweep on ``HUEY``.
Without a ``HUEY`` setting nothing is registered (and nothing is imported from huey).

Importing it configures no logging (every process that runs ``django.setup()`` imports it: the web server and
``manage.py shell`` too). ``run_huey`` gives the ``huey`` logger a handler but not ``cfvariants``'s, whose lines
(an upload stored, an attempt that will be retried, one Cloudflare refused) would be lost, so when a worker
starts and logging gives ``cfvariants`` no handler, it gets one on stderr (``cfvariants.configure_logging``,
which steps aside for any handler the root logger has).
"""

from __future__ import annotations

from django.conf import settings

__all__: list[str] = []

if getattr(settings, "HUEY", None) is not None:
    from ._uploads import get_queue

    queue = get_queue()
    __all__ = ["queue"]
