"""``python -m flask_app``: the web server and a huey worker together, for development and demos.

    python -m flask_app [--host 127.0.0.1] [--port 5000] [--workers 2]

The worker is the library's consumer in a child process (``cfvariants-worker flask_app.tasks.huey``), exactly
what a production deployment runs. Ctrl-C or SIGTERM stops both: the worker finishes or hands back the uploads it
holds, and it also stops by itself if this process is killed, so none is left behind. For production use
gunicorn and separate workers (docs/uploads.md, "Production recipe").
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from werkzeug.serving import make_server

from cfvariants import LOG_FORMAT, SettingsError
from cfvariants.local import EMULATOR_API_PUBLIC, is_loopback

from . import create_app
from .config import AppSettings

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flask_app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--workers", type=int, default=2, help="huey worker threads (default 2)")
    parser.add_argument(
        "--expose-emulator-api", action="store_true", help="development: serve the emulator's API to other machines"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per in-process API call is noise here

    try:
        settings = AppSettings.load()
    except SettingsError as exc:
        if "ENV_NAME is not set" not in str(exc):
            raise SystemExit(f"python -m flask_app: {exc}") from None
        print("  ENV_NAME is not set: this development runner starts in development mode (ENV_NAME=dev)", flush=True)
        settings = AppSettings.load(ENV_NAME="dev")
    if args.expose_emulator_api:
        os.environ[EMULATOR_API_PUBLIC] = "1"
    app = create_app(settings)
    server = make_server(args.host, args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, _stop)  # before the worker exists: a SIGTERM from here on stops both
    worker: subprocess.Popen[bytes] | None = None
    try:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "cfvariants.uploads.consumer", "flask_app.tasks.huey", "-w", str(args.workers),
             "--grace", str(GRACE), "--exit-with-parent", str(os.getpid())],  # it stops if this process dies
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches this process only; it then stops the worker gracefully
            env={**os.environ, "ENV_NAME": str(settings.env_name),
                 "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
        )  # fmt: skip
        where = f"http://{args.host}:{server.port}/"
        print(f"\n  cfvariants reference app ({settings.env_name})\n  open {where}", flush=True)
        if settings.is_dev:
            print(f"  {settings.dev_banner()}", flush=True)
            if not is_loopback(args.host) and not args.expose_emulator_api:
                print("  Listening beyond this machine: the emulator's API (/client/v4/) answers only this machine "
                      "(--expose-emulator-api to serve it to others; its token is public)", flush=True)  # fmt: skip
        print(flush=True)
        server.serve_forever()
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        server.server_close()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)  # graceful: finish or hand back what it holds
            try:
                worker.wait(timeout=GRACE + 10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


GRACE = 8.0


class _Stopped(Exception):
    """SIGTERM arrived: leave ``serve_forever`` and stop the worker."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


if __name__ == "__main__":
    sys.exit(main())
