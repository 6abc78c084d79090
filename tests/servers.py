"""Helpers for tests that start servers: a free port on 127.0.0.1, and whether Redis is there."""

from __future__ import annotations

import shutil
import socket

import pytest

REDIS_SERVER = shutil.which("redis-server")


needs_redis = pytest.mark.skipif(REDIS_SERVER is None, reason="needs Debian's redis-server (dev.py test installs it)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
