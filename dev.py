#!/usr/bin/env python3
"""One entry point for developers and CI, needing nothing but Python (and root for system packages).

    python3 dev.py run      set up, then start the reference app on embedded defaults (no account, no network)
    python3 dev.py test     set up (system packages too), then lint, type-check and run the whole test suite
    python3 dev.py bench    set up (with the peer libraries of the `bench` extra), then run the speed
                            measurements in benchmarks/ (`python3 dev.py bench core` runs one)
    python3 dev.py setup    only set up the virtual environment

Set-up is idempotent: the virtual environment in .venv is rebuilt only when pyproject.toml or constraints.txt
change. Extra arguments after `test` go to pytest (`python3 dev.py test -k signing`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".cfvariants-stamp"

# Debian packages the test suite needs: (package, a file it installs that proves it is there).
SYSTEM_PACKAGES: list[tuple[str, str]] = [
    ("redis-server", "/usr/bin/redis-server"),  # the multi-worker upload test runs a real Redis
    ("chromium", "/usr/bin/chromium"),  # the browser test drives Debian's Chromium through Playwright
]


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    command = [str(a) for a in args]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        say(f"failed ({result.returncode}): {' '.join(command)}")
        sys.exit(result.returncode)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def setup(extras: tuple[str, ...] = ("dev",)) -> None:
    """Install cfvariants with ``extras`` (``dev``; ``bench`` adds the peers the core benchmark compares with)."""
    if not PYTHON.exists():
        say("creating .venv")
        try:
            venv.create(VENV, with_pip=True)
        except Exception as exc:  # Debian's python3 without ensurepip
            say(f"venv failed ({exc}); installing python3-venv")
            apt_install(["python3-venv"])
            shutil.rmtree(VENV, ignore_errors=True)
            venv.create(VENV, with_pip=True)
    stamp = STAMP.read_text().split("\n") if STAMP.exists() else []
    if stamp[:1] == [fingerprint()] and set(extras) <= set(stamp[1:]):
        return
    say(f"installing cfvariants with {', '.join(extras)} dependencies")
    constraints = ["-c", "constraints.txt"] if (ROOT / "constraints.txt").exists() else []
    wanted = ",".join(sorted(set(extras) | set(stamp[1:] if stamp[:1] == [fingerprint()] else ())))
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *constraints, "-e", f".[{wanted}]")
    STAMP.write_text("\n".join([fingerprint(), *wanted.split(",")]))


def apt_install(packages: list[str]) -> None:
    if not packages:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        say(f"cannot install {' '.join(packages)}: needs root and apt-get; the tests that need them will be skipped")
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    say(f"installing system packages: {' '.join(packages)}")
    run("apt-get", "update", "-qq", env=env)
    run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages, env=env)


def system_packages() -> None:
    missing = [package for package, proof in SYSTEM_PACKAGES if not Path(proof).exists()]
    apt_install(missing)


def test(pytest_args: list[str]) -> None:
    setup()
    system_packages()
    say("ruff")
    run(PYTHON, "-m", "ruff", "check", ".")
    run(PYTHON, "-m", "ruff", "format", "--check", "--quiet", ".")
    say("mypy")
    run(PYTHON, "-m", "mypy")
    say("pytest")
    run(PYTHON, "-m", "pytest", *pytest_args)


def serve(args: list[str]) -> None:
    setup()
    run(PYTHON, "-m", "flask_app", *args)


def bench(args: list[str]) -> None:
    setup(("dev", "bench"))
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    chosen = [s for s in scripts if not args or any(a in s.name for a in args)]
    for script in chosen:
        say(f"benchmark {script.name}")
        run(PYTHON, script)


def main() -> None:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "setup":
        setup()
    elif command == "test":
        test(rest)
    elif command == "run":
        serve(rest)
    elif command == "bench":
        bench(rest)
    else:
        print(__doc__)
        sys.exit(0 if command in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    main()
