"""Running the example Django project (examples/django_app) as a user would: ``manage.py`` commands, the
development server and the ``run_huey`` worker, each a real process with its own environment."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from servers import free_port

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "django_app"
TESTS = Path(__file__).resolve().parent
CF_VARIABLES = ("CF_ACCT_ID", "CF_IMG_TOKEN", "CF_IMG_HASH", "CF_IMG_SIGNING_KEY", "CF_IMG_DOMAIN", "CF_API_BASE")


def example_env(data_dir: Path, *, overrides: Mapping[str, Any] | None = None, **variables: str) -> dict[str, str]:
    """The process environment: none of the machine's CF_*/ENV_NAME values, the example's data in ``data_dir``,
    ``overrides`` applied to its settings (through tests/django_example_settings.py), then ``variables``."""
    env = {k: v for k, v in os.environ.items() if k not in (*CF_VARIABLES, "ENV_NAME", "DJANGO_SETTINGS_MODULE")}
    env.update(
        EXAMPLE_DATA_DIR=str(data_dir),
        PYTHONPATH=os.pathsep.join([str(EXAMPLE), str(TESTS)]),
        DJANGO_SETTINGS_MODULE="django_example_settings",
        CFV_SETTINGS_OVERRIDES=json.dumps(dict(overrides or {})),
        PYTHONUNBUFFERED="1",
    )
    env.update(variables)
    return env


def manage(env: Mapping[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=EXAMPLE, env=dict(env), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


@contextlib.contextmanager
def process(env: Mapping[str, str], *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``manage.py <args>`` running in the background (output in ``log``), stopped with SIGINT at the end."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=EXAMPLE, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@contextlib.contextmanager
def server(env: Mapping[str, str], log: Path) -> Iterator[str]:
    """``manage.py runserver`` on a free port of 127.0.0.1; yields its base URL once it answers."""
    port = free_port()
    with process(env, "runserver", "--noreload", "--nothreading", f"127.0.0.1:{port}", log=log) as proc:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"runserver exited ({proc.returncode}):\n{log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"runserver did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"


def worker(env: Mapping[str, str], log: Path) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """The example's huey worker: ``manage.py run_huey`` (two worker threads)."""
    return process(env, "run_huey", "--workers", "2", "--worker-type", "thread", log=log)


def upload(base: str, client: httpx.Client, name: str, filename: str, data: bytes) -> httpx.Response:
    """Fill in and send the new-profile form (CSRF token and cookie included), as a browser would."""
    form = client.get(f"{base}/new/")
    assert form.status_code == 200, form.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    return client.post(
        f"{base}/new/",
        data={"csrfmiddlewaretoken": token.group(1), "name": name},
        files={"image": (filename, data, "application/octet-stream")},
        headers={"Referer": f"{base}/new/"},
    )


def image_sources(page: str) -> dict[str, str]:
    """``{img id: src}`` of a rendered page."""
    return {m.group(1): m.group(2).replace("&amp;", "&") for m in re.finditer(r'<img id="([^"]+)" src="([^"]*)"', page)}


def wait_for_state(base: str, client: httpx.Client, path: str, state: str, *, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(f"{base}{path}").text
        if f'data-state="{state}"' in page:
            return page
        if time.monotonic() > deadline:
            raise AssertionError(f"the page never showed state {state!r}:\n{page}")
        time.sleep(0.2)
