"""``cfvariants-worker`` (``cfvariants.uploads.consumer``) in this process: which huey it finds from the import path
a person types, the consumer it runs (thread workers, periodic tasks, SIGTERM graceful within ``--grace``), what it
logs and at which level, ``--help``, and ``--exit-with-parent``.

The consumer runs here, not in a child process, so that what it does is seen by these tests directly; the signal
handlers it installs are put back after each test. It is stopped as a supervisor stops it: SIGTERM to this process
(sent by a task of the app, or by the parent watch)."""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from huey import Huey

from cfvariants import LOG_FORMAT
from cfvariants.uploads import consumer
from cfvariants.uploads.consumer import DEFAULT_GRACE, load_huey, main

APP = '''
"""A small app with a huey queue, as cfvariants-worker finds one by its import path."""
import os
import signal
import threading

import httpx
from huey import MemoryHuey

huey = MemoryHuey("worker-app")
other = MemoryHuey("other-queue")
not_a_queue = "huey"
ran = []
release = threading.Event()


@huey.task()
def stop():
    """What a supervisor does: SIGTERM to the worker process."""
    ran.append("stop")
    os.kill(os.getpid(), signal.SIGTERM)


@huey.task()
def slow():
    ran.append("slow")
    release.wait(60)


@huey.task()
def call_api():
    with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(204))) as client:
        client.get("http://cfimages.test/client/v4/ping")
    ran.append("call_api")
'''


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The current directory holds the app (as where a person runs cfvariants-worker), not yet on sys.path; a
    directory first on sys.path holds a package of the same name that is not the app."""
    (tmp_path / "cfvworkerapp").mkdir()
    (tmp_path / "cfvworkerapp" / "__init__.py").write_text("")
    (tmp_path / "cfvworkerapp" / "tasks.py").write_text(APP)
    (tmp_path / "cfvsingle.py").write_text("from huey import MemoryHuey\n\nhuey = MemoryHuey('single')\n")
    (tmp_path / "cfvbroken.py").write_text("import cfv_missing_dependency  # noqa\n")
    (tmp_path / "cfvmisconfigured.py").write_text(
        "from cfvariants import SettingsError\n\nraise SettingsError('CF_ACCT_ID is not set')\n"
    )
    decoy = tmp_path / "installed"
    (decoy / "cfvworkerapp").mkdir(parents=True)
    (decoy / "cfvworkerapp" / "__init__.py").write_text("")
    (decoy / "cfvworkerapp" / "tasks.py").write_text("huey = None\n")
    monkeypatch.chdir(tmp_path)
    here = {"", ".", str(tmp_path)}
    monkeypatch.setattr(sys, "path", [str(decoy), *(p for p in sys.path if p not in here)])
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith(("cfvworkerapp", "cfvsingle", "cfvbroken", "cfvmis"))]:
        del sys.modules[name]


def _app() -> Any:
    return sys.modules["cfvworkerapp.tasks"]


@pytest.fixture
def signals() -> Iterator[None]:
    """The consumer installs handlers for SIGTERM, SIGINT and SIGHUP: they are this process's again afterwards.
    A SIGTERM that arrives before the consumer has installed its own is sent again a moment later (as a supervisor
    that is not answered sends it again), but never once the test is over: a worker that failed before it could
    stop leaves no signal behind for the tests after it. A consumer still running after 20 s is stopped by a
    SIGINT (at once), and the test fails: it did not stop the way it should have."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    over = threading.Event()
    resent: list[threading.Timer] = []

    def resend(signum: int) -> None:
        if not over.is_set():
            os.kill(os.getpid(), signum)

    def again(signum: int, frame: FrameType | None) -> None:
        if not over.is_set():
            resent.append(threading.Timer(0.05, resend, (signum,)))
            resent[-1].start()

    fired = threading.Event()

    def interrupt() -> None:
        if not over.is_set():
            fired.set()
            os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGTERM, again)
    failsafe = threading.Timer(20, interrupt)
    failsafe.daemon = True
    failsafe.start()
    yield
    signal.signal(signal.SIGTERM, again)  # until the last re-send is cancelled: a stray SIGTERM is swallowed
    over.set()
    failsafe.cancel()
    for timer in resent:
        timer.cancel()
        timer.join()
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    assert not fired.is_set(), "the worker did not stop by itself: the test stopped it with SIGINT after 20 s"


_STDERR = io.StringIO()


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """The worker's log lines as it writes them on stderr (``run`` leaves logging unconfigured for it, as in a
    fresh ``cfvariants-worker`` process). Returns a function that reads the lines so far."""
    _STDERR.seek(0)
    _STDERR.truncate()
    monkeypatch.setattr(logging.getLogger("httpx"), "level", logging.NOTSET)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    return lambda: _STDERR.getvalue().splitlines()


def run(argv: list[str]) -> int:
    """``cfvariants-worker argv`` with logging as a new process has it (no handler, root at WARNING) and its
    stderr read by ``logs``; this process's logging and stderr are put back afterwards."""
    saved, level, stderr = logging.root.handlers[:], logging.root.level, sys.stderr
    logging.root.handlers.clear()
    logging.root.setLevel(logging.WARNING)
    sys.stderr = _STDERR
    try:
        return main(argv)
    finally:
        sys.stderr = stderr
        for handler in logging.root.handlers[:]:
            logging.root.removeHandler(handler)
        logging.root.handlers.extend(saved)
        logging.root.setLevel(level)


LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[(\d+)\] ([A-Z]+) ([\w.-]+): (.*)$")


def _lines(logs: Callable[[], list[str]]) -> list[tuple[str, str, str]]:
    """(level, logger, message) of each line, every line checked against the documented format."""
    out = []
    for line in logs():
        if not line.startswith((" ", "+", "The following")):  # huey's list of commands spans lines
            match = LINE.match(line)
            assert match is not None, line
            assert int(match[1]) == os.getpid()
            out.append((match[2], match[3], match[4]))
    return out


# -- finding the app's huey --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("cfvworkerapp.tasks.huey", "worker-app"),
        ("cfvworkerapp.tasks:huey", "worker-app"),
        ("cfvworkerapp.tasks", "worker-app"),  # a module alone: its huey
        ("cfvworkerapp.tasks.other", "other-queue"),
        ("cfvworkerapp.tasks:other", "other-queue"),
        ("cfvworkerapp:tasks", "worker-app"),  # no such attribute: the module of that path, and its huey
        ("cfvsingle", "single"),
        ("cfvsingle:huey", "single"),
    ],
)
def test_the_huey_is_found_from_the_current_directory_by_its_import_path(app_dir: Path, path: str, name: str) -> None:
    huey = load_huey(path)
    assert isinstance(huey, Huey) and huey.name == name
    assert sys.path[0] == str(app_dir)  # the app here, before an installed package of the same name
    load_huey(path)
    assert sys.path.count(str(app_dir)) == 1


@pytest.mark.parametrize(
    "path", ["cfvworkerapp.tasks.not_a_queue", "cfvworkerapp.nowhere", "cfvnowhere", "cfvnowhere.huey"]
)
def test_an_import_path_that_is_not_a_huey_is_refused_with_an_example(app_dir: Path, path: str) -> None:
    with pytest.raises(SystemExit) as refused:
        load_huey(path)
    assert refused.value.code == f"cfvariants-worker: {path!r} is not a huey instance (e.g. flask_app.tasks.huey)"


def test_an_app_that_lacks_a_dependency_says_which(app_dir: Path) -> None:
    with pytest.raises(ModuleNotFoundError) as missing:
        load_huey("cfvbroken.huey")
    assert missing.value.name == "cfv_missing_dependency"


def test_an_app_whose_settings_are_wrong_stops_the_worker_in_one_line(app_dir: Path, signals: None) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["cfvmisconfigured.huey"])
    assert stopped.value.code == "cfvariants-worker: cannot start cfvmisconfigured.huey: CF_ACCT_ID is not set"
    assert stopped.value.__suppress_context__ and stopped.value.__cause__ is None  # no traceback to read


# -- running the consumer ------------------------------------------------------------------------------------------


def test_sigterm_stops_the_worker_gracefully_once_its_tasks_are_done(
    app_dir: Path, signals: None, logs: Callable[[], list[str]]
) -> None:
    load_huey("cfvworkerapp.tasks")
    app = _app()
    app.call_api()
    app.stop()
    assert run(["cfvworkerapp.tasks.huey", "-w", "2"]) == 0
    assert sorted(app.ran) == ["call_api", "stop"]
    lines = _lines(logs)
    messages = [message for _, _, message in lines]
    assert any(m.startswith(f"Huey consumer started with 2 thread, PID {os.getpid()}") for m in messages), messages
    assert "Periodic tasks are enabled." in messages
    assert messages[-4:] == ["Received SIGTERM", "Shutting down gracefully...", "All workers have stopped.",
                             "Consumer exiting."]  # fmt: skip
    assert {level for level, _, _ in lines} == {"INFO"}
    assert not any(logger == "httpx" for _, logger, _ in lines)  # a program: no line per API call


def test_a_worker_gives_uploads_in_flight_the_grace_it_was_given(
    app_dir: Path, signals: None, logs: Callable[[], list[str]]
) -> None:
    load_huey("cfvworkerapp.tasks")
    app = _app()
    app.slow()  # still running when SIGTERM comes
    app.stop()
    try:
        assert run(["cfvworkerapp.tasks", "--workers", "3", "--grace", "0.2"]) == 0
    finally:
        app.release.set()
    messages = [message for _, _, message in _lines(logs)]
    assert any(m.startswith("Huey consumer started with 3 thread") for m in messages), messages
    assert "Shutdown timeout of 0.2s elapsed, interrupting workers." in messages
    assert sorted(app.ran) == ["slow", "stop"]


def test_without_grace_a_worker_gives_uploads_in_flight_the_default_grace(
    app_dir: Path, signals: None, logs: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer, "DEFAULT_GRACE", 0.3)  # the documented 8 s, shortened for the test
    load_huey("cfvworkerapp.tasks")
    app = _app()
    app.slow()
    app.stop()
    try:
        assert run(["cfvworkerapp.tasks", "-w", "2"]) == 0
    finally:
        app.release.set()
    assert "Shutdown timeout of 0.3s elapsed, interrupting workers." in [m for _, _, m in _lines(logs)]


def test_the_log_level_comes_from_log_level_and_the_apps_own_httpx_level_is_kept(
    app_dir: Path, signals: None, logs: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    load_huey("cfvworkerapp.tasks")
    app = _app()
    logging.getLogger("httpx").setLevel(logging.INFO)  # the app wants its API calls in the log
    monkeypatch.setenv("LOG_LEVEL", "debug")
    app.call_api()
    app.stop()
    assert run(["cfvworkerapp.tasks:huey"]) == 0
    lines = _lines(logs)
    assert any(level == "DEBUG" for level, _, _ in lines)
    assert ("INFO", "httpx", 'HTTP Request: GET http://cfimages.test/client/v4/ping "HTTP/1.1 204 No Content"') in lines
    assert any(m.startswith("Huey consumer started with 4 thread") for _, _, m in lines)  # the default


def test_a_worker_whose_parent_is_gone_stops_by_itself(
    app_dir: Path, signals: None, logs: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warning")
    parent = os.getpid()  # never this process's parent: as if it had gone before the worker started
    assert run(["cfvworkerapp.tasks.huey", "--exit-with-parent", str(parent)]) == 0
    lines = _lines(logs)
    assert ("WARNING", "cfvariants.uploads", f"the parent process {parent} is gone: stopping") in lines
    assert {level for level, _, _ in lines} == {"WARNING"}  # LOG_LEVEL, in any letter case


def test_while_its_parent_lives_the_watch_never_keeps_the_worker_alive(
    app_dir: Path, signals: None, logs: Callable[[], list[str]]
) -> None:
    load_huey("cfvworkerapp.tasks")
    app = _app()
    app.stop()
    assert run(["cfvworkerapp.tasks.huey", "--exit-with-parent", str(os.getppid())]) == 0
    assert app.ran == ["stop"]
    [watch] = [t for t in threading.enumerate() if t.name == "cfvariants-parent-watch" and t.is_alive()][-1:]
    assert watch.daemon  # still watching, and the process can exit without it
    assert not any("is gone" in line for line in logs())


def test_help_names_every_option_and_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: cfvariants-worker [-h] [-w WORKERS] [--grace GRACE] huey ")
    assert "``cfvariants-worker``: huey's consumer, set up the way background uploads need it." in text
    assert "SIGTERM (what systemd" not in text  # the module's first paragraph only
    assert "huey import path of the huey instance, e.g. flask_app.tasks.huey" in text
    assert "-w WORKERS, --workers WORKERS worker threads (default 4)" in text
    assert f"--grace GRACE seconds SIGTERM waits for uploads in progress (default {DEFAULT_GRACE:g})" in text
    assert DEFAULT_GRACE == 8.0 and "(default 8)" in text
    assert "exit-with-parent" not in text  # for python -m flask_app only
    assert LOG_FORMAT.startswith("%(asctime)s [%(process)d] %(levelname)s %(name)s: ")
