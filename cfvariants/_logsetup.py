"""Log lines where a server's own go: ``configure_logging()`` for an app's web and worker entry points.

Under gunicorn or ``huey_consumer`` the root logger has no handler (each configures only its own logger), so
the lines of cfvariants and of your app vanish, warnings included. ``configure_logging("myapp")`` gives the
``cfvariants`` logger and yours a handler on stderr, at ``LOG_LEVEL`` (default ``INFO``), unless logging is
configured already (a root handler: your own ``logging.config``, gunicorn's ``--log-config``). It is safe to
call more than once.
"""

from __future__ import annotations

import logging
import os

LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
"""The format of the lines ``configure_logging`` writes: time, process id, level, logger, message."""
_MARK = "_cfvariants_handler"


def configure_logging(*names: str, level: str | None = None) -> None:
    """A stderr handler for the ``cfvariants`` logger and the loggers ``names``, unless the root logger has one."""
    chosen = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per API call: the upload log says what matters
    if logging.getLogger().handlers:
        return
    for name in ("cfvariants", *names):
        logger = logging.getLogger(name)
        logger.setLevel(chosen)
        if any(getattr(handler, _MARK, False) for handler in logger.handlers):
            continue
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        setattr(handler, _MARK, True)
        logger.addHandler(handler)
        logger.propagate = False  # one line each, even if the root logger gets a handler later
