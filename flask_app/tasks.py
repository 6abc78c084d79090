"""What ``huey_consumer`` loads: ``huey_consumer flask_app.tasks.huey -w 2 -k thread``.

Importing this module builds the upload queue from the environment (the same settings the web app reads), which
registers the ``cfvariants.upload`` task and the ``cfvariants.reconcile`` sweep on ``huey``.
"""

from __future__ import annotations

from .config import AppSettings
from .uploads import build_queue

settings = AppSettings()
queue = build_queue(settings)
huey = queue.huey

__all__ = ["huey", "queue", "settings"]
