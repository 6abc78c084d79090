"""The README and the root documents: short, with the two commands, and no link to a file that does not exist.

(docs/ itself is checked by ``mkdocs build --strict`` in ``dev.py test``: broken links, pages missing from the
navigation, API entries that no longer resolve; its examples run as doctests.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


def test_no_document_cites_a_section_of_a_document_the_repository_lacks() -> None:
    # "reference §5" pointed readers at a fact sheet they do not have; facts are stated where they are used.
    offenders = []
    for path in [*(ROOT / "docs").rglob("*.md"), *(ROOT / name for name in ROOT_DOCUMENTS)]:
        if "§" in path.read_text(encoding="utf-8"):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders
