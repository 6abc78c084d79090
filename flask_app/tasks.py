"""What the workers load: ``cfvariants-worker flask_app.tasks.huey -w 4`` (or ``huey_consumer flask_app.tasks.huey
-w 4 -k thread``).

Importing this module builds the upload queue from the environment (the same settings the web app reads), which
registers the ``cfvariants.upload`` task and the ``cfvariants.reconcile`` sweep on ``huey``, and sends the log
lines of the app and of cfvariants to stderr when nothing else configured logging (``huey_consumer`` does not).
"""

from __future__ import annotations

import logging

from cfvariants import configure_logging

from .config import AppSettings
from .uploads import build_queue

configure_logging("flask_app")
settings = AppSettings.load()
if settings.is_dev:
    logging.getLogger("flask_app").warning("upload worker: %s", settings.dev_banner())
queue = build_queue(settings)
huey = queue.huey

__all__ = ["huey", "queue", "settings"]
