"""mkdocs hooks: CONTRIBUTING.md and CHANGELOG.md, kept at the repository's root where people look for them, are
pages of the site too (one source each, no copy to drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"CONTRIBUTING.md": "contributing.md", "CHANGELOG.md": "changelog.md"}


def on_files(files: Files, config: Any) -> Files:
    for source, page in PAGES.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        text = text.replace("](docs/", "](")  # links into docs/ from the root are links within the site
        files.append(File.generated(config, page, content=text))
    return files
