"""The README and the root documents: short, with the two commands, and no link to a file that does not exist;
the API reference reaches a lazily exported class.

(docs/ itself is checked by ``mkdocs build --strict`` in ``dev.py test``: broken links, pages missing from the
navigation, API entries that no longer resolve; its examples run as doctests.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
ROOT_DOCUMENTS = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]


def test_the_readme_is_short_and_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "python3 dev.py run" in readme and "python3 dev.py test" in readme
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("document", ROOT_DOCUMENTS)
def test_relative_links_of_root_documents_exist(document: str) -> None:
    text = re.sub(r"`[^`]*`", "", (ROOT / document).read_text(encoding="utf-8"))  # code spans link nothing
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert local or document == "CHANGELOG.md", f"{document} links no page"
    missing = [target for target in local if not (ROOT / target).exists()]
    assert not missing, f"{document} links files that do not exist: {missing}"


SKIPPED_DIRS = {".git", ".venv", ".venv-django42", "mutants", "site", "node_modules", "__pycache__", "var"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".html", ".js", ".css", ".yml", ".yaml", ".cfg", ".ini", ""}


def test_nothing_cites_a_section_of_a_document_the_repository_lacks() -> None:
    # "reference §5" pointed readers at a fact sheet they do not have: a fact is stated where it is used (the
    # Cloudflare facts the project relies on are gathered in docs/design.md). Code, comments, tests and pages alike.
    offenders = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if set(relative.parts) & SKIPPED_DIRS or not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        if path == Path(__file__).resolve():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "\u00a7" in text:
            offenders.append(str(relative))
    assert not offenders


def test_a_lazy_export_is_in_the_api_reference_without_being_imported() -> None:
    """``RedisUploadStore`` is exported through ``__getattr__`` (redis is optional); the reference generator reads
    the package statically, as griffe does here, and must find it with its docstring. Importing the package must
    still not import redis."""
    import griffe

    uploads = griffe.load("cfvariants.uploads", search_paths=[str(ROOT)], resolve_aliases=True)
    store = uploads["RedisUploadStore"]
    assert store.kind is griffe.Kind.CLASS and store.docstring is not None and "Redis" in store.docstring.value
    assert "::: cfvariants.uploads.RedisUploadStore" in (ROOT / "docs" / "reference" / "uploads.md").read_text()
    script = (
        "import sys; sys.modules['redis'] = None\n"  # as if redis were not installed
        "import cfvariants.uploads as u\n"
        "print('cfvariants.uploads._redis_store' in sys.modules)\n"
        "try:\n    u.RedisUploadStore\nexcept ImportError as exc:\n    print(type(exc).__name__, exc.name)"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert shown.stdout.split() == ["False", "ModuleNotFoundError", "redis"]  # imported only when used
    script = "import cfvariants.uploads as u; print(u.RedisUploadStore.__module__)"
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert shown.stdout.strip() == "cfvariants.uploads"
