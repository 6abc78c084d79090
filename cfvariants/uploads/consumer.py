"""``cfvariants-worker``: huey's consumer, set up the way background uploads need it.

    cfvariants-worker flask_app.tasks.huey [-w 4] [--grace 8]
    python -m cfvariants.uploads.consumer flask_app.tasks.huey

* SIGTERM (what systemd, Docker and Kubernetes send to stop a service) stops it gracefully: uploads in progress
  finish within ``--grace`` seconds, and whatever is still held then is handed back to the queue, for another
  worker to take over within seconds. Keep ``--grace`` below your supervisor's kill timeout (Docker's is 10 s).
  SIGINT (Ctrl-C) hands back at once.
* Thread workers (an upload waits on the network, not the CPU), the reconcile sweep, worker health checks.
* Log lines of huey, cfvariants and your app on stderr (``LOG_LEVEL``, default ``INFO``), starting with the
  queue, store and Cloudflare account it uses, and whether they are the web app's.

Plain ``huey_consumer`` works too: SIGTERM then interrupts at once, and the uploads in progress are handed back.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from cfvariants._errors import CFVariantsError
from cfvariants._logsetup import LOG_FORMAT

if TYPE_CHECKING:
    from huey import Huey

__all__ = ["DEFAULT_GRACE", "load_huey", "main"]

DEFAULT_GRACE = 8.0
"""Seconds a stopping worker gives uploads in flight before it hands the rest back (``--grace``)."""
log = logging.getLogger("cfvariants.uploads")


def load_huey(path: str) -> Huey:
    """The huey instance at ``package.module.attribute`` (or ``module:attribute``; a module alone means its
    ``huey``), importable from the current directory as with ``huey_consumer``."""
    from huey import Huey  # noqa: PLC0415 - huey is an optional dependency

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module_name, _, attribute = path.replace(":", ".").rpartition(".")
    candidates = [(module_name, attribute), (path.replace(":", "."), "huey")] if module_name else [(path, "huey")]
    for name, attr in candidates:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        found = getattr(module, attr, None)
        if isinstance(found, Huey):
            return found
    raise SystemExit(f"cfvariants-worker: {path!r} is not a huey instance (e.g. flask_app.tasks.huey)")


def main(argv: list[str] | None = None) -> int:
    """``cfvariants-worker``: a huey consumer for the upload queue (options: ``--help``); returns the exit code."""
    parser = argparse.ArgumentParser(prog="cfvariants-worker", description=__doc__.split("\n\n")[0])
    parser.add_argument("huey", help="import path of the huey instance, e.g. flask_app.tasks.huey")
    parser.add_argument("-w", "--workers", type=int, default=4, help="worker threads (default 4)")
    parser.add_argument("--grace", type=float, default=DEFAULT_GRACE,
                        help=f"seconds SIGTERM waits for uploads in progress (default {DEFAULT_GRACE:g})")  # fmt: skip
    parser.add_argument("--exit-with-parent", type=int, help=argparse.SUPPRESS)  # a pid: python -m flask_app's
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), format=LOG_FORMAT)
    httpx = logging.getLogger("httpx")
    if httpx.level == logging.NOTSET:  # a line per API call: the upload log says what matters (this is a program)
        httpx.setLevel(logging.WARNING)
    if args.exit_with_parent is not None:
        _exit_with_parent(args.exit_with_parent)  # first: the parent may go while the app is still importing
    try:
        huey = load_huey(args.huey)
    except CFVariantsError as exc:  # the app's settings are wrong: one line that says which, no traceback
        raise SystemExit(f"cfvariants-worker: cannot start {args.huey}: {exc}") from None
    consumer = huey.create_consumer(
        workers=args.workers,
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
        graceful_signal="TERM",
        shutdown_timeout=args.grace,
    )
    consumer.run()
    return 0


def _exit_with_parent(parent: int) -> None:
    """Stop gracefully once ``parent`` (the pid of ``python -m flask_app``, which started this worker) is gone,
    also when it went before this process got here: read now, ``os.getppid()`` would already be init's, and the
    worker would outlive it."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        log.warning("the parent process %d is gone: stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="cfvariants-parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
