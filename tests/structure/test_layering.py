"""The library's layers, read from the source with ``ast``: every import counts, also those inside functions and
under ``TYPE_CHECKING`` (a lazy import is still a dependency).

* Nothing in the library imports the emulator except the dev wiring that mounts it.
* The emulator builds on the library, never on the adapters that use it.
* The core (URLs, options, signing, HTML) and ``cfvariants.imaging`` reach no I/O package, directly or through
  another cfvariants module.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

DEV_WIRING = {
    "cfvariants.local",  # LocalCloudflare: the emulator mounted in an app
    "cfvariants.flask",  # the Flask extension in development
    "cfvariants.django._views",  # the Django dev URLconf's views
    "cfvariants.testing",  # the pytest fixtures
    "cfvariants.cli._emulator",  # `cfvariants emulator`
}
CORE = [
    "cfvariants._options",
    "cfvariants._delivery",
    "cfvariants._transformations",
    "cfvariants._signing",
    "cfvariants._html",
    "cfvariants._layouts",
    "cfvariants._urls",
    "cfvariants._segments",
    "cfvariants._errors",
    "cfvariants.limits",
]
IO_PACKAGES = {
    "httpx", "werkzeug", "PIL", "sqlite3", "socket", "http", "urllib.request", "huey", "redis", "django", "flask",
    "jinja2", "click", "anyio", "asyncio", "subprocess", "threading",
}  # fmt: skip
IMAGING_MAY_USE = {"PIL"}
ADAPTERS = ("cfvariants.django", "cfvariants.flask", "cfvariants.local", "cfvariants.uploads", "cfvariants.cli",
            "cfvariants.testing", "cfvariants.migrate", "cfvariants.storage", "flask_app")  # fmt: skip


def _module_files() -> dict[str, Path]:
    files = {}
    for folder in ("cfvariants", "flask_app"):
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = path
    return files


MODULES = _module_files()


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module name ``module`` imports (absolute, relative ones resolved; ``from x import y`` gives both
    ``x`` and ``x.y``, since ``y`` may be a submodule)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return frozenset(found)


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def reachable(start: str) -> set[str]:
    """``start`` and every cfvariants module it imports, transitively (a package import runs its ``__init__``)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in imports_of(module):
            parts = name.split(".")
            todo += [".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in MODULES]
    return seen


def external_imports(modules: set[str]) -> dict[str, str]:
    """Third-party or standard-library modules imported by ``modules``: name -> the importing module."""
    return {
        name: module
        for module in sorted(modules)
        for name in imports_of(module)
        if name.split(".")[0] not in ("cfvariants", "flask_app", "__future__") and name not in MODULES
    }


def test_only_dev_wiring_imports_the_emulator() -> None:
    offenders = sorted(
        f"{module} imports {name}"
        for module in MODULES
        if not _within(module, "cfvariants.emulator") and module not in DEV_WIRING
        for name in imports_of(module)
        if _within(name, "cfvariants.emulator")
    )
    assert offenders == [], "production code may not depend on the emulator:\n" + "\n".join(offenders)


def test_dev_wiring_list_is_current() -> None:
    """Each allowed module does import the emulator (else it should leave the list)."""
    assert {m for m in DEV_WIRING if any(_within(n, "cfvariants.emulator") for n in imports_of(m))} == DEV_WIRING


def test_the_emulator_builds_on_the_library_not_on_its_adapters() -> None:
    offenders = sorted(
        f"{module} imports {name}"
        for module in MODULES
        if _within(module, "cfvariants.emulator")
        for name in imports_of(module)
        if any(_within(name, adapter) for adapter in ADAPTERS)
    )
    assert offenders == []


@pytest.mark.parametrize("module", CORE)
def test_core_modules_reach_no_io_package(module: str) -> None:
    modules = reachable(module)
    assert not any(_within(m, "cfvariants.emulator") or _within(m, "cfvariants.client") for m in modules), modules
    io = {name: by for name, by in external_imports(modules).items() if any(_within(name, p) for p in IO_PACKAGES)}
    assert io == {}, f"{module} reaches I/O packages (name: imported by): {io}"


def test_imaging_reaches_pillow_only() -> None:
    modules = reachable("cfvariants.imaging")
    assert not any(_within(m, "cfvariants.emulator") or _within(m, "cfvariants.client") for m in modules), modules
    io = {
        name: by
        for name, by in external_imports(modules).items()
        if any(_within(name, p) for p in IO_PACKAGES - IMAGING_MAY_USE)
    }
    assert io == {}, io


def test_the_checks_see_imports_the_way_python_resolves_them() -> None:
    """The checker itself: a relative import in a subpackage, a lazy import and a package's ``__init__``."""
    assert "cfvariants.imaging._inspect" in imports_of("cfvariants.imaging")
    assert "cfvariants.emulator" in imports_of("cfvariants.testing")  # imported inside fixtures only
    assert "PIL" in {name.split(".")[0] for name in imports_of("cfvariants.imaging._inspect")}  # inside functions
    assert "cfvariants.limits" in reachable("cfvariants._urls")
