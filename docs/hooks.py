"""mkdocs hooks for the site, and the generator of the configuration page's tables.

* CONTRIBUTING.md and CHANGELOG.md, kept at the repository's root where people look for them, are pages of the
  site too (one source each, no copy to drift).
* docs/configuration.md's settings tables are generated from the configuration model
  (``cfvariants._config.settings_table()``): the build renders them from the model, and
  ``python docs/hooks.py`` writes them into the page, so the file reads right on its own too;
  tests/docs/test_docs_configuration.py fails when the page and the model disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"CONTRIBUTING.md": "contributing.md", "CHANGELOG.md": "changelog.md"}
CONFIGURATION = ROOT / "docs" / "configuration.md"
BLOCK = re.compile(r"(<!-- settings: ([a-z]+) -->\n)(.*?)(<!-- /settings -->)", re.DOTALL)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File  # noqa: PLC0415 - only mkdocs needs it, not the page generator

    for source, page in PAGES.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        text = text.replace("](docs/", "](")  # links into docs/ from the root are links within the site
        files.append(File.generated(config, page, content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return with_settings_tables(markdown) if page.file.src_uri == "configuration.md" else markdown


def _code(value: str | None) -> str:
    return f"`{value}`" if value else ""


def _cell(text: str) -> str:
    """Prose in a table cell: no ``|`` (it would end the cell), no ``<`` (it would start an HTML tag)."""
    return text.replace("|", "\\|").replace("<", "&lt;")


def _type(annotation: str) -> str:
    """``Optional[Literal['raise', 'fallback']]`` -> ``'raise' or 'fallback' or None``: readable, and no ``|``."""
    text = re.sub(r"Optional\[(.*)\]$", r"\1 | None", annotation)
    text = re.sub(r"Literal\[(.*?)\]", lambda m: m.group(1).replace(", ", " | "), text)
    return _code(text.replace(" | ", " or "))


def _default(value: str) -> str:
    if not value:
        return "none"
    return _cell(value) if (", " in value or " (" in value or "otherwise" in value) else _code(value)


def settings_tables() -> dict[str, str]:
    """The Markdown tables: ``cloudflare`` (the values with an environment variable) and ``adapters``."""
    sys.path.insert(0, str(ROOT))
    from cfvariants._config import settings_table  # noqa: PLC0415 - the package of this checkout

    rows = settings_table()
    cloudflare = [
        "| environment | Django `CFVARIANTS[...]` | Flask `app.config[...]` | command line | meaning | default |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    adapters = [
        "| Django `CFVARIANTS[...]` | Flask `app.config[...]` | type | meaning | default |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        default = _default(row.default)
        if row.env:
            cloudflare.append(
                f"| {_code(row.env)} | {_code(row.django)} | {_code(row.flask)} | {_code(row.cli)} | "
                f"{_cell(row.meaning)} | {default} |"
            )
        else:
            adapters.append(
                f"| {_code(row.django)} | {_code(row.flask)} | {_type(row.type)} | {_cell(row.meaning)} | {default} |"
            )
    return {"cloudflare": "\n".join(cloudflare), "adapters": "\n".join(adapters)}


def with_settings_tables(page: str) -> str:
    """``page`` with each ``<!-- settings: name -->`` block holding the generated table of that name."""
    tables = settings_tables()

    def replace(match: re.Match[str]) -> str:
        return f"{match.group(1)}\n{tables[match.group(2)]}\n\n{match.group(4)}"

    return BLOCK.sub(replace, page)


if __name__ == "__main__":
    before = CONFIGURATION.read_text(encoding="utf-8")
    after = with_settings_tables(before)
    CONFIGURATION.write_text(after, encoding="utf-8")
    print("docs/configuration.md updated" if after != before else "docs/configuration.md already up to date")
