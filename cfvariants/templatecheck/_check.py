"""The entry points: find the templates, tell Jinja from Django, scan each, validate each use."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path

from ._django import DjangoScanner
from ._jinja import JinjaScanner
from ._model import DEFAULT_EXTENSIONS, MENTIONS, Finding, Images, Report, Syntax, Use
from ._validate import validate

_JINJA_EXTENSIONS = (".jinja", ".jinja2", ".j2")
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})


def check_source(
    source: str,
    path: str = "<template>",
    *,
    syntax: Syntax | None = None,
    declared: Collection[str] | None = None,
    declared_in: str | None = None,
    strict: bool = False,
    images: Images = "hosted",
) -> tuple[list[Use], list[Finding]]:
    """Find and validate every use in one template's text; ``declared`` (names of the named variants) turns on
    the undeclared-variant check; ``images`` says which URL form the templates' images take (``IMAGES``)."""
    uses, findings = find_uses(source, path, syntax=syntax, strict=strict)
    for use in uses:
        findings.extend(validate(use, declared=declared, declared_in=declared_in, strict=strict, images=images))
    findings.sort(key=lambda f: (f.line, f.column or 0))
    return uses, findings


def check_paths(
    paths: Iterable[Path],
    *,
    declared: Collection[str] | None = None,
    declared_in: str | None = None,
    syntax: Syntax | None = None,
    strict: bool = False,
    extensions: Sequence[str] = DEFAULT_EXTENSIONS,
    images: Images = "hosted",
) -> Report:
    """Check every template under ``paths`` (directories searched for ``extensions``; files taken as given).
    A template that names none of the helpers is counted but not parsed."""
    report = Report()
    for template in template_files(paths, extensions):
        report.templates += 1
        shown = str(template)
        try:
            source = template.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            report.findings.append(Finding(shown, 1, None, "syntax", "not UTF-8 text; cannot check it"))
            continue
        if not MENTIONS.search(source):
            continue
        uses, findings = check_source(
            source, shown, syntax=syntax, declared=declared, declared_in=declared_in, strict=strict, images=images
        )
        report.uses += len(uses)
        report.findings.extend(findings)
    return report


def template_files(paths: Iterable[Path], extensions: Sequence[str] = DEFAULT_EXTENSIONS) -> Iterator[Path]:
    """Template files: a file is taken as given; a directory is searched recursively (sorted; hidden
    directories, ``node_modules`` and ``__pycache__`` left out) for files with one of ``extensions``."""
    wanted = tuple(ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in extensions)
    for given in paths:
        if not given.is_dir():
            yield given
            continue
        for path in sorted(given.rglob("*")):
            relative = path.relative_to(given).parts
            if any(part.startswith(".") or part in _SKIPPED_DIRS for part in relative[:-1]):
                continue
            if path.suffix.lower() in wanted and path.is_file() and not path.name.startswith("."):
                yield path


def detect_syntax(source: str, path: str = "") -> Syntax:
    """Jinja or Django: by extension (``.jinja``, ``.j2``...), else by what the text uses (``{% load %}``,
    ``|filter:arg`` and ``{% cf_img %}`` tags are Django; ``|filter(...)``, ``{%-`` and ``{% set %}`` are
    Jinja); Jinja when nothing tells."""
    if path.lower().endswith(_JINJA_EXTENSIONS):
        return "jinja"
    django = len(_DJANGO_MARKERS.findall(source))
    jinja = len(_JINJA_MARKERS.findall(source))
    return "django" if django > jinja else "jinja"


_DJANGO_MARKERS = re.compile(
    r"{%\s*load\s|{%\s*(?:cf_img|cf_picture|cf_srcset|cf_url|cf_preload)\b|\|\s*\w+:|{%\s*(?:verbatim|comment|endcomment)\b"
)
_JINJA_MARKERS = re.compile(
    r"\|\s*\w+\s*\(|{%-|-%}|{%\s*(?:set|macro|call|import|from|raw)\s|\b(?:cf_img|cf_picture|cf_url|cf_srcset|cf_preload)\s*\("
)


def find_uses(
    source: str, path: str = "<template>", *, syntax: Syntax | None = None, strict: bool = False
) -> tuple[list[Use], list[Finding]]:
    """The uses in one template, and the problems found reading it (a Jinja syntax error; with ``strict``, a
    Django template using the helpers without ``{% load cfvariants %}``)."""
    chosen = syntax or detect_syntax(source, path)
    if chosen == "jinja":
        return JinjaScanner(source, path).scan()
    return DjangoScanner(source, path, strict=strict).scan()
