"""``configure_logging``: the library's and the app's lines reach stderr where nothing else sends them (gunicorn,
huey_consumer), and the app's own logging configuration always wins, then or later. Each case runs in a fresh
interpreter: logging is process-wide, and pytest gives the root logger handlers of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def run(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    code = "import logging, sys\nfrom cfvariants import configure_logging\n" + textwrap.dedent(script)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
        env={**{k: v for k, v in os.environ.items() if k != "LOG_LEVEL"}, **env},
    )  # fmt: skip


def test_lines_go_to_stderr_when_nothing_else_is_configured_and_other_loggers_are_untouched() -> None:
    result = run("""
        configure_logging("myapp")
        configure_logging("myapp")  # twice: still one line each
        logging.getLogger("cfvariants.uploads").info("stored as image cat.jpg")
        logging.getLogger("myapp.views").warning("the app's own line")
        logging.getLogger("cfvariants").debug("below INFO")
        print(logging.getLogger("httpx").level, logging.getLogger("cfvariants").propagate)
    """)
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].endswith("] INFO cfvariants.uploads: stored as image cat.jpg")
    assert lines[1].endswith("] WARNING myapp.views: the app's own line")
    assert result.stdout.split() == ["0", "True"]  # httpx keeps NOTSET; cfvariants still propagates


def test_a_configuration_the_app_makes_later_takes_over_every_line() -> None:
    result = run("""
        configure_logging()
        logging.getLogger("cfvariants").info("before")
        logging.basicConfig(format="APP %(levelname)s %(name)s: %(message)s", level=logging.INFO, stream=sys.stdout)
        logging.getLogger("cfvariants.uploads").info("after")
        logging.getLogger("httpx").info("HTTP Request: POST https://api.cloudflare.com/ 200")
    """)
    assert result.stderr.count("INFO cfvariants: before") == 1 and "after" not in result.stderr
    assert result.stdout.splitlines() == [
        "APP INFO cfvariants.uploads: after",  # once: through the app's handler only
        "APP INFO httpx: HTTP Request: POST https://api.cloudflare.com/ 200",  # the app asked for httpx at INFO
    ]


def test_nothing_changes_when_the_app_configured_logging_first() -> None:
    result = run("""
        logging.basicConfig(format="APP %(name)s: %(message)s", level=logging.WARNING, stream=sys.stdout)
        configure_logging("myapp")
        logging.getLogger("cfvariants").info("not wanted at WARNING")
        logging.getLogger("cfvariants").warning("wanted")
        print(logging.getLogger("cfvariants").level, logging.getLogger("cfvariants").handlers)
    """)
    assert result.stdout.splitlines() == ["APP cfvariants: wanted", "0 []"]
    assert result.stderr == ""


def test_levels_from_the_argument_the_environment_or_the_app() -> None:
    script = """
        logging.getLogger("myapp").setLevel(logging.ERROR)  # the app's own choice for its logger
        configure_logging("myapp")
        logging.getLogger("cfvariants").info("info line")
        logging.getLogger("cfvariants").warning("warning line")
        logging.getLogger("myapp").warning("app warning")
    """
    assert run(script).stderr.count(" line") == 2  # INFO by default
    quiet = run(script, LOG_LEVEL="warning").stderr
    assert "info line" not in quiet and "warning line" in quiet
    assert "app warning" not in quiet  # the level the app set on its logger is kept
    loud = run(script.replace('configure_logging("myapp")', 'configure_logging("myapp", level="DEBUG")')).stderr
    assert "app warning" in loud  # an explicit level is applied to the loggers named
