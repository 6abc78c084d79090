#!/usr/bin/env python3
"""One entry point for developers and CI, needing nothing but Python (and root for system packages).

    python3 dev.py run      set up, then start the reference app on embedded defaults (no account, no network)
    python3 dev.py run --django [ADDR:PORT]
                            the same for the example Django project (examples/django_app): migrate, then
                            runserver and its run_huey worker together; Ctrl-C stops both
    python3 dev.py test     set up (system packages too), then lint, type-check, build the documentation
                            (mkdocs build --strict) and run the whole test suite, the examples of README.md and
                            docs/ included; then the Django tests again on Django 4.2 LTS (.venv-django42)
    python3 dev.py bench    set up (with the peer libraries of the `bench` extra), then run the speed
                            measurements in benchmarks/ (`python3 dev.py bench core` runs one) and copy the
                            tables they write to benchmarks/results/ into docs/performance.md (`--docs`: only
                            that; `--quick`: a short run, not written)
    python3 dev.py mutate   set up (with mutmut), then mutation-test the core, the upload queue and the client's
                            flows, and print the kill rate per module (`python3 dev.py mutate cfvariants._signing
                            cfvariants.uploads`: some modules or packages; `--survivors`: only the mutants that
                            survived their last run, to check new tests; slow, not part of CI)
    python3 dev.py setup    only set up the virtual environment

Set-up is idempotent: the virtual environment in .venv is rebuilt only when pyproject.toml or constraints.txt
change. Extra arguments after `test` go to pytest (`python3 dev.py test -k signing`).
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".cfvariants-stamp"
EXAMPLE_DJANGO = ROOT / "examples" / "django_app"
# The oldest Django supported (4.2 LTS): its own environment runs the Django tests again; the main one has 5.2.
DJANGO_LTS = "Django==4.2.30"
VENV_LTS = ROOT / ".venv-django42"
PYTHON_LTS = VENV_LTS / ("Scripts" if os.name == "nt" else "bin") / "python"
DJANGO_TESTS = [
    "tests/django/test_django_storage.py",
    "tests/django/test_django_tags.py",
    "tests/django/test_django_fields.py",
    "tests/django/test_django_example.py",
    "tests/django/test_django_layouts.py",
]

# Debian packages the test suite needs: (package, a file it installs that proves it is there).
SYSTEM_PACKAGES: list[tuple[str, str]] = [
    ("redis-server", "/usr/bin/redis-server"),  # the multi-worker upload test runs a real Redis
    ("chromium", "/usr/bin/chromium"),  # the browser test drives Debian's Chromium through Playwright
]


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
    command = [str(a) for a in args]
    result = subprocess.run(command, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        say(f"failed ({result.returncode}): {' '.join(command)}")
        sys.exit(result.returncode)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    version = re.search(r"^__version__ = .*$", (ROOT / "cfvariants" / "__init__.py").read_text(), re.MULTILINE)
    digest.update(version.group(0).encode() if version else b"")  # the metadata holds the version: reinstall
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
    fresh = not stamp
    say(
        f"installing cfvariants with {', '.join(extras)} dependencies into .venv "
        f"({'first time: about 2 minutes, ~75 packages' if fresh else 'an update: usually under a minute'})"
    )
    constraints = ["-c", "constraints.txt"] if (ROOT / "constraints.txt").exists() else []
    wanted = ",".join(sorted(set(extras) | set(stamp[1:] if stamp[:1] == [fingerprint()] else ())))
    pip_install([*constraints, "-e", f".[{wanted}]"])
    STAMP.write_text("\n".join([fingerprint(), *wanted.split(",")]))


def pip_install(args: list[str]) -> None:
    """pip install with a line of progress per package (its name and the seconds so far), not pip's noise."""
    command = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", *args]
    started, count = time.monotonic(), 0
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as pip:
        assert pip.stdout is not None
        lines = []
        for line in pip.stdout:
            lines.append(line)
            if line.startswith(("Collecting ", "Obtaining ")):
                count += 1
                name = re.split(r"[<>=!~;\[ ]", line.split()[1])[0]  # "click>=8.1.3" -> "click"
                print(f"[dev]   {time.monotonic() - started:5.0f} s  {count:3d}  {name}", flush=True)
            elif line.startswith(("Installing collected packages", "Building editable", "Successfully installed")):
                print(f"[dev]   {time.monotonic() - started:5.0f} s  {line.split(':')[0].strip()}", flush=True)
    if pip.returncode != 0:
        print("".join(lines[-30:]), end="", file=sys.stderr)
        say(f"failed ({pip.returncode}): {' '.join(command)}")
        sys.exit(pip.returncode)
    say(f"installed in {time.monotonic() - started:.0f} s")


def setup_django_lts() -> None:
    """``.venv-django42``: cfvariants with the Django extra and the test tools, on Django 4.2 LTS (every other
    pin as in constraints.txt)."""
    if not PYTHON_LTS.exists():
        say("creating .venv-django42")
        venv.create(VENV_LTS, with_pip=True)
    stamp = VENV_LTS / ".cfvariants-stamp"
    wanted = fingerprint() + DJANGO_LTS
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say(f"installing cfvariants[django] with {DJANGO_LTS} into .venv-django42")
    pins = [
        line for line in (ROOT / "constraints.txt").read_text().splitlines() if not line.lower().startswith("django")
    ]
    constraints = VENV_LTS / "constraints.txt"
    constraints.write_text("\n".join([*pins, DJANGO_LTS, ""]))
    run(PYTHON_LTS, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", constraints,
        "-e", ".[django,testing]", "pytest-asyncio", "hypothesis", "respx")  # fmt: skip
    stamp.write_text(wanted)


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
    build_docs()
    say("pytest")
    run(PYTHON, "-m", "pytest", *pytest_args)
    if not pytest_args:
        setup_django_lts()
        say(f"pytest: the Django tests on {DJANGO_LTS}")
        run(PYTHON_LTS, "-m", "pytest", "-q", "-p", "no:cacheprovider", *DJANGO_TESTS)


def build_docs() -> None:
    """``mkdocs build --strict`` into a temporary directory: a broken link, a missing page or an API reference
    entry that no longer resolves fails the build. Offline: the theme loads no web fonts (``font: false``)."""
    say("mkdocs build --strict")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # mkdocs-material's notice about its successor, not a problem
    with tempfile.TemporaryDirectory(prefix="cfvariants-site-") as site:
        run(BIN / "mkdocs", "build", "--strict", "--quiet", "--site-dir", site, env=env)


def serve(args: list[str]) -> None:
    setup()
    if "--django" in args:
        serve_django([a for a in args if a != "--django"])
        return
    say("starting the reference app (the first start draws its sample photos: a few seconds)")
    run(PYTHON, "-m", "flask_app", *args)


def serve_django(args: list[str]) -> None:
    """The example Django project in development mode: migrate, then ``runserver`` with ``run_huey`` beside it."""
    env = dict(os.environ)
    env.setdefault("ENV_NAME", "dev")
    manage = [str(PYTHON), "manage.py"]
    run(*manage, "migrate", "--noinput", env=env, cwd=EXAMPLE_DJANGO)
    worker = subprocess.Popen([*manage, "run_huey", "--workers", "2", "--worker-type", "thread"], cwd=EXAMPLE_DJANGO,
                              env=env)  # fmt: skip
    try:
        subprocess.run([*manage, "runserver", *(args or ["127.0.0.1:8000"])], cwd=EXAMPLE_DJANGO, env=env, check=False)
    except KeyboardInterrupt:
        pass
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def bench(args: list[str]) -> None:
    """Run the benchmarks (all, or those whose name contains an argument), then copy the tables they wrote to
    benchmarks/results/ into docs/performance.md; ``--docs`` only copies."""
    if args != ["--docs"]:
        setup(("dev", "bench"))
        scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
        names, flags = [a for a in args if not a.startswith("-")], [a for a in args if a.startswith("-")]
        for script in [s for s in scripts if not names or any(name in s.name for name in names)]:
            say(f"benchmark {script.name}")
            run(PYTHON, script, *flags)
    say("docs/performance.md from benchmarks/results/")
    run(sys.executable, ROOT / "benchmarks" / "_results.py")


# The tests whose verdict counts for a module's mutants, by module prefix (the longest that matches; mutmut picks,
# among them, those that called the mutated function): the upload queue and the client have their own; the core's
# are the rest of [tool.mutmut]'s selection, its fast in-process unit and property tests.
MUTATION_TESTS = {"cfvariants.uploads": ["tests/uploads/test_uploads*.py", "tests/uploads/test_worker_signals.py",
                                         "tests/uploads/test_task_names.py", "tests/cli/test_cli_uploads.py"],
                  "cfvariants.client": ["tests/client/test_client_*.py"]}  # fmt: skip


def mutate(args: list[str]) -> None:
    """Mutation testing with mutmut (configured in pyproject's [tool.mutmut]) of the modules named (a package: its
    modules; none: every module [tool.mutmut] names), then the kill rate per module: all mutants, without those
    that change only the text of a message, and also without the equivalent mutants accepted in EQUIVALENTS.

    Two passes differ only in the fork server's warm-up (see [tool.mutmut]): the functions nothing calls while the
    tests are collected run against a server that has collected them already (a mutant pays for its own tests
    only), the others against one that has imported third-party libraries only, so that their mutants are in
    place when cfvariants is imported (each mutant imports it and collects the tests again).

    ``--survivors``: only the mutants of those modules that are not killed: those that survived (or met no test)
    when they last ran, unless they only change message text or are accepted as equivalent, and those that have
    not run since their function changed; the others keep their verdicts (tests are only ever added), so the
    figures printed are of the last run of each mutant."""
    setup(("dev", "mutate"))
    os.nice(10)  # long and CPU-bound: other work on the machine goes first
    survivors = "--survivors" in args
    modules = mutated_modules([arg for arg in args if arg != "--survivors"])
    files = {module: module_file(module) for module in modules}
    at_collection = _run_in_venv("collection_calls", *files.values())
    passes: dict[str, list[str]] = {"collect": [], "import": []}
    for module, file in files.items():
        for name in mutated_functions(ROOT / file):
            passes["import" if name in at_collection[file] else "collect"].append(f"{module}.{name}__mutmut_*")
    tests = json.dumps({module: mutation_tests(module) for module in modules})
    # mutmut learns which tests call each function once, and later adds only new tests: a function changed or
    # added since would keep a stale list (no tests at all for a new one). So every dev.py mutate learns afresh.
    (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    started = time.monotonic()
    for warmup, patterns in passes.items():
        if patterns:
            say(f"mutmut: {len(patterns)} functions of {len(modules)} modules, fork server warm-up {warmup!r}")
            command = [str(PYTHON), "-c", "import dev; dev.mutmut_cli()", warmup, tests, "run", "--max-children", "2"]
            environment = {**os.environ, "CFVARIANTS_MUTATE_UNKILLED": "1"} if survivors else None
            subprocess.run([*command, *patterns], cwd=ROOT, check=False, env=environment)
    say(f"mutmut took {time.monotonic() - started:.0f} s")
    say("kill rate per module (message text: mutants that only change the words of a message)")
    for module in modules:
        print(mutation_score(module))


def _mutmut_settings() -> dict[str, Any]:
    settings: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return settings


def mutated_modules(names: list[str]) -> list[str]:
    """The dotted names of the modules to mutate: ``names`` (a package stands for its modules), or those
    [tool.mutmut] only_mutate names, in its order. Modules without functions are left out (nothing to mutate)."""
    patterns = [
        f"{name.replace('.', '/')}/*.py" if (ROOT / name.replace(".", "/")).is_dir() else module_file(name)
        for name in names
    ]
    files = [path for pattern in patterns or _mutmut_settings()["only_mutate"] for path in sorted(ROOT.glob(pattern))]
    modules = [".".join(path.relative_to(ROOT).with_suffix("").parts) for path in files if mutated_functions(path)]
    return [module.removesuffix(".__init__") for module in modules]


def module_file(module: str) -> str:
    """``cfvariants.uploads._queue`` -> ``cfvariants/uploads/_queue.py`` (or the package's ``__init__.py``)."""
    path = Path(*module.split("."))
    return str(path.with_suffix(".py") if (ROOT / path.with_suffix(".py")).exists() else path / "__init__.py")


def mutated_functions(path: Path) -> list[str]:
    """mutmut's names of the functions it mutates in a module: its functions and the methods of its classes."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(f"x_{node.name}")
        elif isinstance(node, ast.ClassDef):
            names += [
                f"x\u01c1{node.name}\u01c1{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    return names


def mutation_tests(module: str) -> list[str]:
    """The test files of [tool.mutmut]'s selection whose verdict counts for ``module``'s mutants."""
    owners = [prefix for prefix in MUTATION_TESTS if module == prefix or module.startswith(prefix + ".")]
    selection = _mutmut_settings()["pytest_add_cli_args_test_selection"]
    if owners:
        patterns = MUTATION_TESTS[max(owners, key=len)]
        return [test for test in selection if any(fnmatch.fnmatch(test, pattern) for pattern in patterns)]
    others = [pattern for patterns in MUTATION_TESTS.values() for pattern in patterns]
    return [test for test in selection if not any(fnmatch.fnmatch(test, pattern) for pattern in others)]


def _run_in_venv(function: str, *args: str) -> Any:
    """Call ``function`` of this file in .venv's Python (where pytest and mutmut are) and return its JSON answer."""
    command = [str(PYTHON), "-c", f"import dev; dev.{function}()", *args]
    answer = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True)
    if answer.returncode != 0:
        print(answer.stdout[-3000:], answer.stderr[-3000:], file=sys.stderr)
        say(f"failed ({answer.returncode}): dev.{function}")
        sys.exit(answer.returncode)
    return json.loads(answer.stdout.splitlines()[-1])


def collection_calls() -> None:
    """(In .venv.) For each file named on the command line, mutmut's names of its functions that run while
    cfvariants and the selected tests are imported and collected, printed as JSON: a mutant of one of them must
    be in place before the import (a parser built at import, a value a test module computes at collection)."""
    import pytest  # noqa: PLC0415 - these run in .venv's Python (dev.py itself needs none of them)

    files = {str((ROOT / name).resolve()): name for name in sys.argv[1:]}
    called: dict[str, set[str]] = {name: set() for name in files.values()}

    def profile(frame: Any, event: str, arg: object) -> None:
        name = files.get(frame.f_code.co_filename)
        if event == "call" and name is not None:
            qualname = frame.f_code.co_qualname.partition(".<locals>")[0].split(".")
            called[name].add(f"x_{qualname[0]}" if len(qualname) == 1 else "x\u01c1" + "\u01c1".join(qualname))

    settings = _mutmut_settings()
    arguments = ["--collect-only", *settings["pytest_add_cli_args"], *settings["pytest_add_cli_args_test_selection"]]
    sys.setprofile(profile)
    try:
        exit_code = pytest.main(arguments)
    finally:
        sys.setprofile(None)
    if exit_code != 0:
        sys.exit(int(exit_code))
    print(json.dumps({name: sorted(names) for name, names in called.items()}))


def mutmut_cli() -> None:
    """(In .venv.) mutmut's command line, given first the fork server's warm-up (``collect`` or ``import``) and
    the test files that count for each module (JSON), of which each mutant runs those that call its function,
    fastest first (as mutmut does with plain fork: a killed mutant stops sooner)."""
    from mutmut import configuration  # noqa: PLC0415
    from mutmut.__main__ import cli  # noqa: PLC0415
    from mutmut.state import state  # noqa: PLC0415
    from mutmut.workers.isolation import ForkServerRunner  # noqa: PLC0415

    configuration.config().forkserver_warmup = configuration.ForkServerWarmup(sys.argv.pop(1))
    configuration.config().log_to_file = True  # mutants/mutmut-debug.log: each mutant's verdict and seconds
    files_by_module = {module: set(files) for module, files in json.loads(sys.argv.pop(1)).items()}
    every_file = set().union(*files_by_module.values())
    # mutmut learns which tests call each function from one run of its whole selection (minutes, before the first
    # mutant): only the files that count for the modules mutated now can kill their mutants, so only those run.
    settings = configuration.config()
    selection = settings.pytest_add_cli_args_test_selection
    settings.pytest_add_cli_args_test_selection = [test for test in selection if test in every_file]
    submit, run_clean_tests = ForkServerRunner.submit, ForkServerRunner.run_clean_tests

    def chosen(tests: Iterable[str], files: set[str]) -> list[str]:
        durations = state().duration_by_test
        return sorted((test for test in tests if test.partition("::")[0] in files), key=lambda t: durations.get(t, 0))

    def submit_chosen(runner: ForkServerRunner, mutant: str, tests: list[str], cpu_limit: int, estimate: float) -> None:
        submit(runner, mutant, chosen(tests, files_by_module[_module_of(mutant)]), cpu_limit, estimate)

    def run_chosen_clean_tests(runner: ForkServerRunner, tests: Iterable[str]) -> int:
        return run_clean_tests(runner, chosen(tests, every_file))

    if os.environ.get("CFVARIANTS_MUTATE_UNKILLED") and not _only_unkilled_mutants():  # dev.py mutate --survivors
        print("every mutant of these functions is killed already")
        return
    ForkServerRunner.submit = submit_chosen  # type: ignore[method-assign]
    ForkServerRunner.run_clean_tests = run_chosen_clean_tests  # type: ignore[method-assign]
    sys.argv[0] = "mutmut"
    cli()


# mutmut's exit codes (mutmut.stats.status_by_exit_code); a mutant that loops forever is stopped by its CPU limit
# (SIGXCPU: -24, 24, 152) and counts as a timeout, i.e. caught.
def _only_unkilled_mutants() -> bool:
    """(In .venv, for mutmut_cli.) Make mutmut's mutants (a function changed since its last run gets verdicts of
    None), then narrow the patterns on the command line (after ``run --max-children N``) to the mutants they match
    that are not killed or timed out; whether any is left."""
    from mutmut.__main__ import create_mutants  # noqa: PLC0415
    from mutmut.mutation.trampoline import set_mutant_under_test  # noqa: PLC0415
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir  # noqa: PLC0415

    set_mutant_under_test("mutant_generation")
    (ROOT / "mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    create_mutants(2)
    set_mutant_under_test("")
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415

    patterns = sys.argv[4:]
    accepted = _accepted_equivalents()
    names = []
    for meta in (ROOT / "mutants").rglob("*.py.meta"):
        path = str(meta.relative_to(ROOT / "mutants")).removesuffix(".meta")
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if not any(fnmatch.fnmatch(name.replace(".__init__.", "."), pattern) for pattern in patterns):
                continue
            if code is not None:  # it ran: again only if it survived and is neither message text nor accepted
                if _STATUS.get(code, "other") in ("killed", "timeout"):
                    continue
                diff = get_diff_for_mutant(name, path=path).splitlines()
                if _only_message_text(diff) or _is_accepted(name, diff, accepted):
                    continue
            names.append(name)
    sys.argv[4:] = sorted(names)
    return bool(names)


_STATUS = {1: "killed", 3: "killed", 37: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout",
           255: "timeout", 0: "survived", 33: "no tests", 5: "no tests"}  # fmt: skip
_STRING = re.compile(r"""[rbfu]{0,2}("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_MESSAGE = re.compile(r"raise |Error\(|warn\(|log\.|logger\.|^\s*return f?(\"[^\"]*\"|'[^']*')\s*$", re.MULTILINE)


EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.toml"


def mutation_score(module: str) -> str:
    """The figures for ``module`` (its dotted name) from mutmut's results in mutants/, and its survivors: all of
    them, then without those that change only message text, then also without the equivalent mutants accepted in
    tests/mutation_equivalents.toml (each with the reason it changes nothing a user can see)."""
    statuses, paths = _mutant_statuses(module)
    if not statuses:
        return f"{module}: no mutant has run yet"
    survivors = sorted(name for name, status in statuses.items() if status not in ("killed", "timeout"))
    diffs = _run_in_venv("mutant_diffs", json.dumps({name: paths[name] for name in survivors})) if survivors else {}
    functions: dict[str, dict[str, ast.AST]] = {}
    text_only = [
        name
        for name in survivors
        if _only_message_text(diffs[name]) or _only_log_arguments(name, paths[name], functions)
    ]
    accepted = _accepted_equivalents()
    equivalent = [name for name in survivors if name not in text_only and _is_accepted(name, diffs[name], accepted)]
    killed, total = len(statuses) - len(survivors), len(statuses)
    counted = total - len(text_only)
    lines = [
        f"{module} ({total} mutants run): {killed}/{total} killed ({100 * killed / total:.1f} %); "
        f"without the {len(text_only)} that only change message text: {killed}/{counted} "
        f"({100 * killed / max(counted, 1):.1f} %); also without the {len(equivalent)} accepted as equivalent: "
        f"{killed}/{counted - len(equivalent)} ({100 * killed / max(counted - len(equivalent), 1):.1f} %)"
    ]
    lines += [f"    survived: {name}" for name in survivors if name not in text_only and name not in equivalent]
    return "\n".join(lines)


def _mutant_statuses(module: str) -> tuple[dict[str, str], dict[str, str]]:
    """The verdict of each mutant of ``module`` that has run (killed, timeout, survived, no tests, other) and the
    file it is in, from mutmut's results in mutants/."""
    statuses: dict[str, str] = {}
    paths: dict[str, str] = {}
    for meta in (ROOT / "mutants").rglob("*.py.meta"):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if _module_of(name) == module and code is not None:  # None: not run yet
                statuses[name] = _STATUS.get(code, "other")
                paths[name] = str(meta.relative_to(ROOT / "mutants")).removesuffix(".meta")
    return statuses, paths


def _module_of(mutant: str) -> str:
    """``cfvariants._memo.x_remember__mutmut_1`` -> ``cfvariants._memo`` (a package's own: without ``.__init__``)."""
    return mutant.rpartition(".")[0].removesuffix(".__init__")


def mutant_diffs() -> None:
    """(In .venv.) The lines of ``mutmut show`` of each mutant of a JSON {mutant: source file}, printed as JSON."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415

    mutants = json.loads(sys.argv[1])
    print(json.dumps({name: get_diff_for_mutant(name, path=path).splitlines() for name, path in mutants.items()}))


def _accepted_equivalents() -> dict[str, set[str]]:
    """Function (``cfvariants._segments.x_keyword_options``) -> its accepted mutated lines, from EQUIVALENTS."""
    accepted: dict[str, set[str]] = {}
    if EQUIVALENTS.exists():
        for entry in tomllib.loads(EQUIVALENTS.read_text())["equivalent"]:
            accepted.setdefault(entry["function"], set()).update(line.strip() for line in entry["mutations"])
    return accepted


def _is_accepted(mutant: str, diff: list[str], accepted: dict[str, set[str]]) -> bool:
    """Whether every line ``mutant`` adds is one accepted as equivalent for its function. Matched by text, not by
    mutmut's numbers (which shift when a function changes), so an entry stops matching once its line changes."""
    added = {line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")}
    return bool(added) and added <= accepted.get(mutant.partition("__mutmut_")[0], set())


_LOG_CALL = re.compile(r"(log|logger)\.(debug|info|warning|error|exception|critical)")


def _only_log_arguments(mutant: str, path: str, functions: dict[str, dict[str, ast.AST]]) -> bool:
    """Whether ``mutant`` changes nothing but what a log call is given: an argument dropped, or ``None`` or other
    text in its place. Nothing new is evaluated, so only the words of the log line change (message text, like a
    changed string). Compares the mutant's function with mutmut's copy of the original in mutants/ (``functions``
    caches each file's functions by name)."""
    if path not in functions:
        tree = ast.parse((ROOT / "mutants" / path).read_text())
        found = (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef))
        functions[path] = {node.name: node for node in found}
    name = mutant.rpartition(".")[2]
    original, mutated = functions[path].get(name.partition("__mutmut_")[0] + "__mutmut_orig"), functions[path].get(name)
    if original is None or mutated is None:
        return False
    old_calls, new_calls = _log_calls(original), _log_calls(mutated)
    if len(old_calls) != len(new_calls) or _without_log_calls(original) != _without_log_calls(mutated):
        return False
    changed = [(old, new) for old, new in zip(old_calls, new_calls, strict=True) if ast.dump(old) != ast.dump(new)]
    return bool(changed) and all(_weaker_log_arguments(old, new) for old, new in changed)


def _log_calls(function: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and _LOG_CALL.fullmatch(ast.unparse(node.func)) is not None
    ]


def _without_log_calls(function: ast.AST) -> str:
    """The function's code with every log call's arguments left out (and its name, which mutmut numbers)."""
    text = ast.unparse(function).split("\n", 1)[1]
    for call in _log_calls(function):
        text = text.replace(ast.unparse(call), ast.unparse(call.func) + "(...)", 1)
    return text


def _weaker_log_arguments(old: ast.Call, new: ast.Call) -> bool:
    """Same logger and level; each new argument is an old one kept in order, or a constant in its place."""
    if ast.dump(old.func) != ast.dump(new.func) or ast.dump(ast.List(old.keywords)) != ast.dump(ast.List(new.keywords)):
        return False
    kept = iter(ast.dump(argument) for argument in old.args)
    return all(
        isinstance(argument, ast.Constant) or ast.dump(argument) in kept  # `in` on an iterator: in order
        for argument in new.args
    )


def _only_message_text(diff: list[str]) -> bool:
    """Whether a mutant changes nothing but string literals of a message (an error, a warning, a log line, a
    problem description returned as text): read from its diff, so approximate, and listed apart."""
    removed = [i for i, line in enumerate(diff) if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    if not removed or len(removed) != len(added):
        return False
    for index, new in zip(removed, added, strict=True):
        old = diff[index][1:]
        if _STRING.sub('""', old) != _STRING.sub('""', new) or old == new:
            return False  # something besides the text of a string changed
        # the changed line, and when it continues a call (it starts with a string), the lines that open the call
        opening = diff[max(0, index - 3) : index] if new.lstrip().startswith(("f'", 'f"', "'", '"')) else []
        if not _MESSAGE.search("\n".join(line[1:] for line in [*opening, diff[index]])):
            return False
    return True


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
    elif command == "mutate":
        mutate(rest)
    else:
        print(__doc__)
        sys.exit(0 if command in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    main()
