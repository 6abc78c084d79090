"""What a template check finds: the uses of the helpers, their arguments, findings and the report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Syntax = Literal["jinja", "django"]
"""The template languages the checker reads."""
Images = Literal["hosted", "remote", "both"]
"""Which URL form the templates' images take: ``hosted`` (Cloudflare Images, the default), ``remote`` (Image
Transformations of paths and other URLs: no named variants, remote-only options allowed), or ``both`` (a template
that shows either, e.g. local media in development and Cloudflare Images in production): valid in both forms."""
IMAGES: tuple[Images, ...] = ("hosted", "remote", "both")
"""The kinds of image value a template use may expect: hosted, remote, or both."""
Code = Literal["options", "variant", "usage", "undeclared", "unresolved", "syntax", "load"]

DEFAULT_EXTENSIONS: tuple[str, ...] = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".djhtml", ".txt", ".xml")
"""File extensions searched in template directories (a file named on its own is always checked)."""
MENTIONS = re.compile(r"variant|srcset|cf_(?:img|picture|url|srcset|preload)")
"""Text that names a helper: a template without it is not parsed."""

FILTERS = frozenset({"variant", "signed_variant", "srcset", "cf_img", "cf_picture", "cf_preload"})
"""Jinja filters (Django has the first three as filters)."""
DJANGO_FILTERS = frozenset({"variant", "signed_variant", "srcset"})
TAGS = frozenset({"cf_img", "cf_picture", "cf_srcset", "cf_url", "cf_preload"})
"""Django tags; in Jinja, the same names called as functions."""


@dataclass(frozen=True, slots=True)
class Arg:
    """A template argument: its constant value, or (``const=False``) an expression known only at render time
    (``text`` says which)."""

    value: Any
    const: bool
    text: str
    line: int
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Use:
    """One use of a helper: ``args``/``kwargs`` are its arguments after the image (the value being filtered or
    the tag's first argument); ``opaque`` when ``*args``/``**kwargs`` hide some of them."""

    path: str
    syntax: Syntax
    helper: str
    kind: Literal["filter", "tag", "function"]
    line: int
    column: int | None
    args: tuple[Arg, ...] = ()
    kwargs: tuple[tuple[str, Arg], ...] = ()
    opaque: bool = False

    @property
    def label(self) -> str:
        return f"{self.helper} {self.kind}"


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem at ``path:line[:column]``; ``code`` says which kind (``options``, ``variant``, ``usage``,
    ``undeclared``, ``unresolved``, ``syntax``, ``load``)."""

    path: str
    line: int
    column: int | None
    code: Code
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class Report:
    """Findings over a set of templates, in path and line order."""

    findings: list[Finding] = field(default_factory=list)
    templates: int = 0
    uses: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "templates": self.templates,
            "uses": self.uses,
            "findings": [finding.to_json() for finding in self.findings],
        }
