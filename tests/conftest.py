"""Shared test configuration."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Shared, noisy machines: no per-example deadlines, and slow generation is not a failure. Derandomised with no example
# database: every run (and CI) tries the same examples, a failure reproduces exactly, and runs share no state.
settings.register_profile(
    "cfvariants",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.load_profile("cfvariants")


# -- mutation testing (python3 dev.py mutate) ------------------------------------------------------------------------

import functools  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402
from servers import REDIS_SERVER, free_port  # noqa: E402

if "MUTANT_UNDER_TEST" in os.environ:  # set by mutmut in every process it runs tests in

    def pytest_configure() -> None:
        """What was loaded before the tests start is never garbage: each mutant's run (a fork of a process that has
        imported everything) then spends no time on it in the two full collections pytest makes at its end."""
        gc.freeze()

    @pytest.fixture(autouse=True)
    def _empty_process_memos() -> None:
        """mutmut runs each mutant's tests only: those that called its function in a first run of all of them. A
        test answered from a process-wide memo an earlier test filled would not count as calling the functions
        behind it, so under mutmut every test starts with the memos and ``lru_cache`` tables of cfvariants empty."""
        from cfvariants._memo import Memo

        for name, module in list(sys.modules.items()):
            if name == "cfvariants" or name.startswith("cfvariants."):
                for value in list(vars(module).values()):
                    if isinstance(value, Memo):
                        value.entries.clear()
                    elif isinstance(value, functools._lru_cache_wrapper):
                        value.cache_clear()


# -- a real Redis server, for the tests that need one (CI installs Debian's redis-server) --------------------------

import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis on 127.0.0.1 for the whole test session (no persistence), stopped at the end; yields its URL."""
    if REDIS_SERVER is None:
        pytest.skip("needs Debian's redis-server (dev.py test installs it)")
    port = free_port()
    directory: Path = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's Redis."""
    from redis import Redis

    url = f"{redis_server}/0"
    client = Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


# pytester for the plugin tests: pytest honours pytest_plugins only here, in the root conftest.
pytest_plugins = ["pytester"]
