"""One error tree: every exception class cfvariants defines derives from CFVariantsError, and the diagram in the
``cfvariants._errors`` docstring (and docs/errors.md) is exactly the real tree: each class under its real parent,
in the package that defines it, with its other bases.

Private classes (a leading ``_``) are signals caught inside their own module and never reach a caller; they are
the only classes allowed outside the tree.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from django_project import setup

import cfvariants
from cfvariants import CFVariantsError
from cfvariants import _errors as errors
from cfvariants.client import APIError, CloudflareImagesError, TransportError

setup()  # cfvariants.django modules import models and settings

ROOT = Path(__file__).resolve().parent.parent.parent
_LINE = re.compile(r"^(?P<indent>[│├└─ ]*)(?P<name>\w+)\s+(?P<area>[\w.]+)(?:\s+also (?P<also>[\w, ]+))?$")


def defined_exceptions() -> list[type[BaseException]]:
    """Every exception class defined in a cfvariants module (all modules imported)."""
    found: dict[type[BaseException], None] = {}
    for module_info in pkgutil.walk_packages(cfvariants.__path__, "cfvariants."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.split(".")[0] == "cfvariants"
            ):
                found[value] = None
    return list(found)


def area(cls: type) -> str:
    """The package a class belongs to as a user sees it: ``cfvariants.client`` for ``cfvariants.client._errors``,
    ``cfvariants`` for a top-level module (``cfvariants._errors``, ``cfvariants._templating``)."""
    parts = cls.__module__.split(".")
    package = ".".join(parts[:2])  # a class a package exports names the package (cfvariants.client)
    return package if len(parts) > 2 or hasattr(importlib.import_module(package), "__path__") else "cfvariants"


def other_bases(cls: type) -> set[str]:
    """Names of the direct bases from outside cfvariants, but ``Exception`` (e.g. ``ValueError``)."""
    return {base.__name__ for base in cls.__bases__ if base.__module__.split(".")[0] != "cfvariants"} - {"Exception"}


def diagram(text: str) -> list[tuple[int, str, str, set[str]]]:
    """(depth, class name, package, other bases) for each line of the first tree diagram in ``text``."""
    rows: list[tuple[int, str, str, set[str]]] = []
    margin = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not rows and not stripped.startswith("CFVariantsError "):
            continue
        if not rows:
            margin = len(line) - len(line.lstrip(" "))
        if rows and (not stripped or stripped.startswith("```")):
            break
        match = _LINE.match(line[len(line) - len(line.lstrip(" ")) :] if not rows else line[margin:])
        assert match, f"not a line of the tree: {line!r}"
        depth = len(match["indent"]) // 4
        also = {name.strip() for name in (match["also"] or "").split(",") if name.strip()}
        rows.append((depth, match["name"], match["area"], also))
    return rows


def parents(rows: list[tuple[int, str, str, set[str]]]) -> dict[tuple[str, str], tuple[str, str] | None]:
    """(name, package) of each row -> (name, package) of the row it hangs under."""
    stack: list[tuple[str, str]] = []
    result: dict[tuple[str, str], tuple[str, str] | None] = {}
    for depth, name, package, _ in rows:
        del stack[depth:]
        result[(name, package)] = stack[-1] if stack else None
        stack.append((name, package))
    return result


def test_every_exception_class_derives_from_cfvariants_error() -> None:
    outside = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in defined_exceptions()
        if not issubclass(cls, CFVariantsError) and not cls.__name__.startswith("_")
    ]
    assert outside == []


def test_the_diagram_is_the_real_tree() -> None:
    rows = diagram(errors.__doc__ or "")
    assert rows[0][:2] == (0, "CFVariantsError")
    drawn = parents(rows)
    assert len(drawn) == len(rows), "a class appears twice in the diagram"
    classes = {(cls.__name__, area(cls)): cls for cls in defined_exceptions() if not cls.__name__.startswith("_")}
    assert sorted(drawn) == sorted(classes), "the diagram lists other classes than cfvariants defines"
    for (name, package), parent in drawn.items():
        cls = classes[(name, package)]
        nearest = next((base for base in cls.__mro__[1:] if (base.__name__, area(base)) in drawn), None)
        assert parent == (None if nearest is None else (nearest.__name__, area(nearest))), name
    for _, name, package, also in rows:
        assert also == other_bases(classes[(name, package)]), f"{name}: other bases"


def test_docs_page_shows_the_same_tree() -> None:
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert diagram(page) == diagram(errors.__doc__ or "")


@pytest.mark.parametrize("cls", [CloudflareImagesError, APIError, TransportError])
def test_service_failures_are_caught_as_cfvariants_errors_but_not_as_bad_values(cls: type[Exception]) -> None:
    assert issubclass(cls, CFVariantsError)
    assert not issubclass(cls, ValueError)  # a network failure is not bad input: `except ValueError` must not hide it


def test_bad_values_stay_value_errors() -> None:
    bad_values = [cls for cls in CFVariantsError.__subclasses__() if issubclass(cls, ValueError)]
    assert {cls.__name__ for cls in bad_values} >= {"OptionsError", "SettingsError", "ImageIdError", "URLError"}
    with pytest.raises(ValueError, match="width must be"):
        cfvariants.Options.parse("w=abc")
