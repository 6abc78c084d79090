"""Log lines where a server's own go: ``configure_logging()`` for an app's web and worker entry points.

Under gunicorn or ``huey_consumer`` the root logger has no handler (each configures only its own logger), so
the lines of cfvariants and of your app vanish, warnings included. ``configure_logging("myapp")`` gives the
``cfvariants`` logger and yours a handler on stderr, at ``LOG_LEVEL`` (default ``INFO``; a level a logger has
already is kept). It is safe to call more than once (from one thread at a time).

The application's own logging configuration always wins: nothing happens when the root logger has a handler
(your ``logging.config``, gunicorn's ``--log-config``), and a handler given to the root logger later (by
``dictConfig``, pytest, an error tracker) takes over from the stderr handler, which then writes nothing: every
line is written once, where the app says. No other logger is touched (httpx's keeps its level).
"""

from __future__ import annotations

import logging
import os

LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
"""The format of the lines ``configure_logging`` writes: time, process id, level, logger, message."""
_MARK = "_cfvariants_handler"


def configure_logging(*names: str, level: str | None = None) -> None:
    """A stderr handler for the ``cfvariants`` logger and the loggers ``names``, while the root logger has none."""
    if logging.getLogger().handlers:
        return
    chosen = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    for name in ("cfvariants", *names):
        logger = logging.getLogger(name)
        if level is not None or logger.level == logging.NOTSET:
            logger.setLevel(chosen)
        if any(getattr(handler, _MARK, False) for handler in logger.handlers):
            continue
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(_until_root_has_handlers)
        setattr(handler, _MARK, True)
        logger.addHandler(handler)


def _until_root_has_handlers(record: logging.LogRecord) -> bool:
    """Write only while the root logger has no handler: once the app configures one, the record reaches it
    (loggers propagate) and this handler steps aside, so no line is written twice."""
    return not logging.getLogger().handlers
