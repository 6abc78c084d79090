"""Serving the emulator on a real socket: a werkzeug server in a background thread, stopped on exit.

Used by ``cfvariants emulator`` (foreground), the ``cf_emulator_server`` pytest fixture and the SDK tests. Port 0
picks a free port; ``server.port``/``server.url`` tell which.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, make_server

from ._app import EmulatorApp


class EmulatorServer:
    """``with EmulatorServer(app, port=0) as server: ...`` serves ``app`` on ``server.url`` until the block ends.

    The socket is bound here, so a busy port raises ``OSError`` (werkzeug alone would print and exit)."""

    def __init__(self, app: EmulatorApp, *, host: str = "127.0.0.1", port: int = 0, threaded: bool = True) -> None:
        self.app = app
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(128)
            self._server: BaseWSGIServer = make_server(host, port, app, threaded=threaded, fd=listener.fileno())
        finally:
            listener.close()  # the server holds its own duplicate of the descriptor
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="cfvariants-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` (from another thread) or KeyboardInterrupt."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
