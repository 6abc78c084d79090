"""docs/configuration.md lists every setting the code reads: a setting added without documenting it fails here.

The names come from the code itself: the environment variables it reads (``os.environ``, ``os.getenv``,
pydantic-settings aliases, click ``envvar=``, names held in ``*_ENV`` constants), found by reading the source of
``cfvariants`` and ``flask_app``; and the keys of the one configuration model (``settings_table()``, which also
generates the page's first two tables: they must be what the model says), the Django storage's ``OPTIONS`` and the
direct-upload keys.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PAGE = ROOT / "docs" / "configuration.md"
SOURCES = [ROOT / "cfvariants", ROOT / "flask_app"]
# Read, but not settings of cfvariants: passed on as they are.
NOT_SETTINGS = {"PYTHONPATH"}  # python -m flask_app hands it to the worker process it starts


def documented() -> set[str]:
    """Every name written as code (in backticks) on the page, table cells and prose alike: ``CF_IMG_HASH`` and
    ``app.config["CFVARIANTS_DEV"]`` both name their setting."""
    spans = re.findall(r"`([^`]+)`", PAGE.read_text(encoding="utf-8"))
    return {name for span in spans for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", node.value):
        return node.value
    return None


def environment_reads(tree: ast.AST) -> Iterator[str]:
    """Names of environment variables a module reads with a literal name."""
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call):
            func = node.func
            reads = isinstance(func, ast.Attribute) and (
                (func.attr in ("get", "setdefault") and _is_environ(func.value)) or func.attr == "getenv"
            )
            if reads and node.args:
                name = _literal(node.args[0])
            for keyword in node.keywords:
                if keyword.arg in ("envvar", "validation_alias"):
                    yield from filter(None, [_literal(keyword.value)])
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _literal(node.slice)
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id.endswith("_ENV") for target in node.targets
        ):
            name = _literal(node.value)
        if name is not None:
            yield name


def read_by_code() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            for name in environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_scan_finds_what_the_code_reads() -> None:
    # The scan itself must see the reads this page is about, or the tests below would pass on nothing.
    found = read_by_code()
    assert {"CF_ACCT_ID", "CF_IMG_HASH", "CF_API_BASE", "HUEY_URL", "LOG_LEVEL", "ENV_NAME"} <= set(found)
    assert {"CFV_UPLOADS_STORE", "CFVARIANTS_TRACEBACK", "MAX_UPLOAD_MB"} <= set(found)


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    names = documented()
    missing = {name: sorted(where) for name, where in read_by_code().items() if name not in names | NOT_SETTINGS}
    assert not missing, f"read by the code but not in docs/configuration.md: {missing}"


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_settings_tables_are_the_configuration_model() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert "<!-- settings: cloudflare -->" in page and "<!-- settings: adapters -->" in page
    assert hooks().with_settings_tables(page) == page, "docs/configuration.md is stale: run python docs/hooks.py"


def test_every_key_of_the_configuration_model_is_documented() -> None:
    from cfvariants._config import settings_table

    names = documented()
    rows = settings_table()
    assert len(rows) > 15
    keys = [key for row in rows for key in (row.env, row.django, row.flask, row.cli) if key]
    assert not [key for key in keys if key.lstrip("-") not in names and key not in PAGE.read_text()]


def test_every_storage_option_and_direct_upload_key_is_documented() -> None:
    from cfvariants.django import storage
    from cfvariants.flask_direct import _KNOWN as DIRECT_UPLOAD_KEYS

    names = documented()
    assert not [option for option in storage.OPTIONS if option not in names]
    assert not [key for key in DIRECT_UPLOAD_KEYS if key not in names]


@pytest.mark.parametrize("name", ["CF_IMG_HASH", "CFVARIANTS_ZONE", "TRANSFORM_DEFAULTS"])
def test_the_page_is_read_as_code_names(name: str) -> None:
    assert name in documented()
