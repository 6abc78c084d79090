"""Static checks of the variants that templates use, so a typo fails in CI rather than as a broken image.

Every use of the cfvariants template helpers is found, in Jinja and in Django templates:

    Jinja    {{ x | variant('w=200') }}  {{ x | signed_variant("avatar") }}  {{ x | srcset([320, 640], 'fit=cover') }}
             {{ x | cf_img('avatar', alt='') }}  {{ x | cf_picture(...) }}  {{ x | variant(width=200, fit='cover') }}
             (and cf_img(x, ...), cf_url(x, ...)... called as functions)
    Django   {{ x|variant:'w=200' }}  {{ x|signed_variant:"avatar" }}  {{ x|srcset:'fit=cover' }}
             {% cf_img x 'w=640' alt=t %}  {% cf_srcset x 'fit=cover' widths='320,640' %}  {% cf_url x width=200 %}
             {% cf_picture x 'w=1200' alt=t %}

Each use is then run through the same code that renders it (``ImageFilters`` over a ``Delivery`` with a dummy
account), so flexible options are validated by the core and every message is the one the template would raise:
bad options, a srcset of a named variant, a signed flexible variant, a missing ``alt``. Named variants are
compared with the declaration (``cfvariants.variants``); ``public`` always exists. Arguments that are only known
at render time (variables, expressions) are skipped, or reported with ``strict=True``.

Jinja templates are parsed with Jinja's own parser (unknown extension tags are stepped over), so line numbers
follow its lexer through multi-line tags, comments and raw blocks. Django templates are tokenised the way
Django's lexer does it (tags on one line; ``{# #}``, ``{% comment %}`` and ``{% verbatim %}`` skipped) with
exact line and column positions. Pure: no network; files are only read.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import itertools
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from .delivery import Delivery
from .errors import CFVariantsError, OptionsError, SigningError, VariantError
from .layouts import Original
from .limits import VARIANT_ID_PATTERN
from .segments import DEFAULT_VARIANT, merge_options
from .templating import ImageFilters, TemplateFilterError, looks_like_descriptors, parse_descriptors
from .transformations import Transformations

__all__ = [
    "DEFAULT_EXTENSIONS",
    "IMAGES",
    "Arg",
    "Finding",
    "Images",
    "Report",
    "Syntax",
    "Use",
    "check_paths",
    "check_source",
    "detect_syntax",
    "find_uses",
    "template_files",
    "validate",
]

Syntax = Literal["jinja", "django"]
Images = Literal["hosted", "remote", "both"]
"""Which URL form the templates' images take: ``hosted`` (Cloudflare Images, the default), ``remote`` (Image
Transformations of paths and other URLs: no named variants, remote-only options allowed), or ``both`` (a template
that shows either, e.g. local media in development and Cloudflare Images in production): valid in both forms."""
IMAGES: tuple[Images, ...] = ("hosted", "remote", "both")
Code = Literal["options", "variant", "usage", "undeclared", "unresolved", "syntax", "load"]

DEFAULT_EXTENSIONS: tuple[str, ...] = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".djhtml", ".txt", ".xml")
"""File extensions searched in template directories (a file named on its own is always checked)."""

FILTERS = frozenset({"variant", "signed_variant", "srcset", "cf_img", "cf_picture", "cf_preload"})
"""Jinja filters (Django has the first three as filters)."""
DJANGO_FILTERS = frozenset({"variant", "signed_variant", "srcset"})
TAGS = frozenset({"cf_img", "cf_picture", "cf_srcset", "cf_url", "cf_preload"})
"""Django tags; in Jinja, the same names called as functions."""

_JINJA_EXTENSIONS = (".jinja", ".jinja2", ".j2")
_MENTIONS = re.compile(r"variant|srcset|cf_(?:img|picture|url|srcset|preload)")
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
_MAX_COMBINATIONS = 16
_VARIANT_NAME = VARIANT_ID_PATTERN


# -- results ----------------------------------------------------------------------------------------------------


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


# -- entry points -----------------------------------------------------------------------------------------------


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
        if not _MENTIONS.search(source):
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
        return _JinjaScanner(source, path).scan()
    return _DjangoScanner(source, path, strict=strict).scan()


# -- validation ---------------------------------------------------------------------------------------------------


@dataclass
class _Call:
    """A use in engine-neutral form: which ``ImageFilters`` method, with which arguments."""

    method: Literal["url", "srcset", "img", "picture", "preload"]
    variant: Arg | None = None
    options: dict[str, Arg] = field(default_factory=dict)
    extras: dict[str, Arg] = field(default_factory=dict)
    signed: bool = False
    unknown: str | None = None  # why the variant cannot be known statically


_URL_EXTRAS = ("signed", "expires_in", "expires_at")
_SRCSET_EXTRAS = ("widths", "densities", "min_width", "max_width", "tolerance", "layout", "original")
_SIZING = ("layout", "width", "height", "original")
_IMG_EXTRAS = ("alt", "widths", "densities", "sizes", "placeholder", "formats", "sources", "priority", *_SIZING)
_PRELOAD_EXTRAS = ("widths", "densities", "sizes", *_SIZING)
_STAND_INS: dict[str, Any] = {"width": 800, "height": 600, "original": Original(4000, 3000)}
"""Values for sizing arguments only known at render time, so the rest of the call is still checked."""


def validate(
    use: Use,
    *,
    declared: Collection[str] | None = None,
    declared_in: str | None = None,
    strict: bool = False,
    images: Images = "hosted",
) -> list[Finding]:
    """Problems with one use: run it through ``ImageFilters`` as a render would (for a hosted image, an image
    outside Cloudflare Images, or both: ``images``), then look its named variant up in ``declared``."""
    call = _normalise(use)
    findings: list[Finding] = []
    if call.unknown is not None or use.opaque:
        if strict:
            why = call.unknown or "arguments are passed with * or **"
            findings.append(_finding(use, use.line, use.column, "unresolved", f"{use.label}: {why}; not checked"))
        if call.unknown is not None:
            return findings
    if call.variant is not None and not call.variant.const:
        if strict:
            text = f"{use.label}: variant {call.variant.text} is only known at render time; not checked"
            findings.append(_finding(use, call.variant.line, call.variant.column, "unresolved", text))
        return findings
    variant = call.variant.value if call.variant is not None else None
    dynamic = {name: arg for name, arg in call.options.items() if not arg.const}
    if dynamic:
        if strict:
            names = ", ".join(f"{name}={arg.text}" for name, arg in dynamic.items())
            first = next(iter(dynamic.values()))
            text = f"{use.label}: options {names} are only known at render time; not fully checked"
            findings.append(_finding(use, first.line, first.column, "unresolved", text))
        problem = _option_names_problem(variant, call.options)
        if problem is not None:
            findings.append(_finding(use, *_where(use, call, problem), _code(problem), str(problem)))
            return findings
    for problem in _problems(call, variant, use.label, with_options=not dynamic, images=images):
        findings.append(_finding(use, *_where(use, call, problem), _code(problem), str(problem)))
    named = variant if isinstance(variant, str) and _VARIANT_NAME.fullmatch(variant) else None
    if declared is not None and named is not None and named != DEFAULT_VARIANT and named not in declared:
        line, column = _where(use, call, None)
        findings.append(_finding(use, line, column, "undeclared", _undeclared(named, declared, declared_in)))
    return findings


def _normalise(use: Use) -> _Call:
    args = list(use.args)
    kwargs = dict(use.kwargs)
    helper = use.helper
    if helper in ("variant", "signed_variant", "cf_url"):
        call = _Call("url", signed=helper == "signed_variant")
        extras: tuple[str, ...] = _URL_EXTRAS if helper == "cf_url" else ("expires_in", "expires_at")
    elif helper in ("srcset", "cf_srcset"):
        call = _Call("srcset")
        extras = _SRCSET_EXTRAS + (("width", "height") if "layout" in kwargs else ())  # a layout's CSS size
    elif helper == "cf_preload":
        call = _Call("preload")
        extras = _PRELOAD_EXTRAS
    else:
        call = _Call("img" if helper == "cf_img" else "picture")
        extras = _IMG_EXTRAS
    if helper == "srcset" and use.kind == "filter":
        _srcset_filter_arguments(use, args, kwargs, call)
    elif args:
        call.variant = args.pop(0)
    if "variant" in kwargs:
        call.variant = kwargs.pop("variant")
    for name, arg in kwargs.items():
        if name in extras:
            call.extras[name] = arg
        elif call.method in ("url", "srcset"):
            call.options[name] = arg
        # img/picture: other keywords are HTML attributes, not options
    signed = call.extras.pop("signed", None)
    if signed is not None and signed.const:
        call.signed = call.signed or bool(signed.value)
    return call


def _srcset_filter_arguments(use: Use, args: list[Arg], kwargs: dict[str, Arg], call: _Call) -> None:
    """The ``srcset`` filter reads its first argument as widths/densities or, when it is not a list of them, as
    the variant (Jinja: ``srcset([320, 640], 'fit=cover')``, ``srcset('fit=cover')``; Django: one argument)."""
    if not args:
        return
    first = args.pop(0)
    if not first.const:
        call.unknown = f"its first argument {first.text} may be widths or a variant, only known at render time"
        return
    if isinstance(first.value, str) and not looks_like_descriptors(first.value):
        call.variant = first
        if args:
            kwargs.setdefault("widths", args.pop(0))
        return
    if isinstance(first.value, str) and parse_descriptors(first.value)[0] == "densities":
        kwargs.setdefault("densities", first)
    else:
        kwargs.setdefault("widths", first)
    if args and use.syntax == "jinja":
        call.variant = args.pop(0)


@functools.cache
def _filters() -> ImageFilters:
    return ImageFilters(
        Delivery("cfvariants-check", signing_key="cfvariants-check"),
        transformations=Transformations("cfvariants-check.invalid"),
        on_error="raise",
    )


_SAMPLE = {"hosted": "image", "remote": "/image.jpg"}  # an image id; a path on the site (Image Transformations)
_FORMS: dict[str, tuple[str, ...]] = {"hosted": ("hosted",), "remote": ("remote",), "both": ("hosted", "remote")}


def _problems(call: _Call, variant: Any, label: str, *, with_options: bool, images: Images) -> list[CFVariantsError]:
    """What rendering the use would raise, for each form ``images`` names. A missing ``alt`` is reported, then
    the use is tried again with one, so a second mistake in the same tag is not hidden behind the first."""
    found: list[CFVariantsError] = []
    for form in _FORMS[images]:
        image = _SAMPLE[form]
        problem = _render(call, variant, label, with_options=with_options, image=image)
        if problem is not None and call.method in ("img", "picture") and "alt" not in call.extras:
            second = _render(call, variant, label, with_options=with_options, alt="", image=image)
            tried = [problem] if second is None or str(second) == str(problem) else [problem, second]
        else:
            tried = [] if problem is None else [problem]
        found += [p for p in tried if all(str(p) != str(seen) for seen in found)]
    return found


def _render(
    call: _Call, variant: Any, label: str, *, with_options: bool, image: str, alt: str | None = None
) -> CFVariantsError | None:
    """The error the template would raise, or ``None``."""
    filters = _filters()
    options = {name: arg.value for name, arg in call.options.items()} if with_options else {}
    extras = {name: arg.value for name, arg in call.extras.items() if arg.const}
    for name, arg in call.extras.items():
        if not arg.const and name in _STAND_INS:
            extras[name] = _STAND_INS[name]
    if alt is not None:
        extras["alt"] = alt
    try:
        if call.method == "url":
            filters.url(
                label, image, variant, signed=call.signed,
                expires_in=extras.get("expires_in"), expires_at=extras.get("expires_at"), **options,
            )  # fmt: skip
        elif call.method == "srcset":
            kept = {k: v for k, v in extras.items() if k in _SRCSET_EXTRAS or k in _SIZING}
            filters.srcset(label, image, variant, **kept, **options)
        elif call.method == "preload":
            filters.preload(label, image, variant, **{k: v for k, v in extras.items() if k in _PRELOAD_EXTRAS})
        else:
            alt = extras.pop("alt", None)
            if alt is None and "alt" in call.extras:  # alt given, but only known at render time
                alt = "alt"
            kept = {k: v for k, v in extras.items() if k in _IMG_EXTRAS and k != "sources"}
            if call.method == "img":
                kept.pop("formats", None)
                filters.img(label, image, variant, alt=alt, **kept)
            else:
                filters.picture(label, image, variant, alt=alt, **kept)
    except TemplateFilterError as exc:
        cause = exc.__cause__
        return cause if isinstance(cause, CFVariantsError) else exc
    except CFVariantsError as exc:
        return exc
    except TypeError as exc:  # an argument of the wrong kind (e.g. a number where a list belongs)
        return CFVariantsError(str(exc))
    return None


def _option_names_problem(variant: Any, options: dict[str, Arg]) -> CFVariantsError | None:
    """With option values unknown: are the option names real, and may this variant take options at all?"""
    try:
        merge_options(variant, dict.fromkeys(options))
    except CFVariantsError as exc:
        return exc
    return None


def _code(problem: CFVariantsError) -> Code:
    if isinstance(problem, OptionsError):
        return "options"
    if isinstance(problem, VariantError | SigningError):
        return "variant"
    return "usage"


def _where(use: Use, call: _Call, problem: CFVariantsError | None) -> tuple[int, int | None]:
    """Where to point: the keyword option a problem names, else the variant argument, else the helper."""
    if isinstance(problem, OptionsError) and problem.part is not None:
        name = problem.part.split("=", 1)[0]
        for key, arg in call.options.items():
            if key == name or (name and key.startswith(name)):
                return arg.line, arg.column
    if call.variant is not None:
        return call.variant.line, call.variant.column
    if call.options:
        first = next(iter(call.options.values()))
        return first.line, first.column
    return use.line, use.column


def _finding(use: Use, line: int, column: int | None, code: Code, message: str) -> Finding:
    return Finding(use.path, line, column, code, message)


def _undeclared(name: str, declared: Collection[str], declared_in: str | None) -> str:
    where = f" in {declared_in}" if declared_in else ""
    guess = difflib.get_close_matches(name, sorted({*declared, DEFAULT_VARIANT}), n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    return f"named variant {name!r} is not declared{where}{hint}"


# -- Jinja ----------------------------------------------------------------------------------------------------------

_JINJA_BUILTIN_TAGS = frozenset(
    {
        "for", "endfor", "if", "elif", "else", "endif", "block", "endblock", "extends", "print", "macro",
        "endmacro", "include", "from", "import", "set", "endset", "with", "endwith", "autoescape",
        "endautoescape", "filter", "endfilter", "call", "endcall", "raw", "endraw", "trans", "pluralize",
        "endtrans", "do", "break", "continue", "debug",
    }
)  # fmt: skip
_JINJA_INSTEAD_OF_TAG = {
    "cf_img": "cf_img", "cf_picture": "cf_picture", "cf_url": "variant", "cf_srcset": "srcset",
    "cf_preload": "cf_preload",
}  # fmt: skip
_JINJA_TAG_NAME = re.compile(r"{%[-+]?\s*(\w+)")


class _JinjaScanner:
    """Uses in a Jinja template, from Jinja's own parse tree."""

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path
        self.lines = source.splitlines()
        self._cursor: dict[int, int] = {}

    def scan(self) -> tuple[list[Use], list[Finding]]:
        from jinja2 import TemplateSyntaxError, nodes  # noqa: PLC0415 - Jinja is needed only for Jinja templates

        names = set(_JINJA_TAG_NAME.findall(self.source))
        unknown = frozenset(name for name in names if name not in _JINJA_BUILTIN_TAGS)
        blocks = frozenset(name for name in unknown if f"end{name}" in names)
        env = _jinja_environment(unknown - {f"end{name}" for name in blocks}, blocks)
        findings: list[Finding] = []
        try:
            tree = env.parse(self.source)
        except TemplateSyntaxError as exc:
            line = exc.lineno or 1
            return [], [Finding(self.path, line, None, "syntax", f"Jinja syntax error: {exc.message}")]
        for name in sorted(unknown & TAGS):
            line = next((i for i, text in enumerate(self.lines, 1) if re.search(rf"{{%[-+]?\s*{name}\b", text)), 1)
            instead = _JINJA_INSTEAD_OF_TAG[name]
            message = f"{{% {name} %}} is a Django tag; in Jinja write {{{{ image | {instead}(...) }}}}"
            findings.append(Finding(self.path, line, None, "usage", message))
        uses: list[Use] = []
        eval_ctx = nodes.EvalContext(env)
        for node in tree.find_all((nodes.Filter, nodes.Call)):
            if isinstance(node, nodes.Filter) and node.name in FILTERS:
                uses.extend(self._uses(node, node.name, "filter", node.args, node.kwargs, node, eval_ctx))
            elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in TAGS:
                uses.extend(self._uses(node, node.node.name, "function", node.args[1:], node.kwargs, node, eval_ctx))
        uses.sort(key=lambda use: (use.line, use.column or 0))
        return uses, findings

    def _uses(
        self, node: Any, helper: str, kind: Any, args: list[Any], kwargs: list[Any], whole: Any, eval_ctx: Any
    ) -> list[Use]:
        line = node.lineno
        column = self._find(line, [f"{helper}"], quoted=False)
        arg_choices = [self._choices(arg, eval_ctx) for arg in args]
        kwarg_choices = [[(kw.key, a) for a in self._choices(kw.value, eval_ctx, key=kw.key)] for kw in kwargs]
        opaque = getattr(whole, "dyn_args", None) is not None or getattr(whole, "dyn_kwargs", None) is not None
        uses = []
        for combination in itertools.islice(itertools.product(*arg_choices, *kwarg_choices), _MAX_COMBINATIONS):
            positional = cast(tuple[Arg, ...], tuple(combination[: len(args)]))
            keywords = cast(tuple[tuple[str, Arg], ...], tuple(combination[len(args) :]))
            uses.append(Use(self.path, "jinja", helper, kind, line, column, positional, keywords, opaque))
        return uses

    def _choices(self, node: Any, eval_ctx: Any, key: str | None = None) -> list[Arg]:
        """The values an argument can take: one constant, the constants of both branches of an inline ``if``
        with a run-time test, or one run-time expression."""
        from jinja2 import nodes  # noqa: PLC0415

        try:
            value = node.as_const(eval_ctx)
        except Exception:  # jinja2.nodes.Impossible, or an error evaluating a constant expression
            if isinstance(node, nodes.CondExpr):
                branches = [node.expr1, node.expr2 if node.expr2 is not None else nodes.Const(None, lineno=node.lineno)]
                return [choice for branch in branches for choice in self._choices(branch, eval_ctx, key)]
            text = _describe(node)
            column = self._column_of(node, key) if key else self._find(node.lineno, [text], quoted=False)
            return [Arg(None, False, text, node.lineno, column)]
        return [Arg(value, True, repr(value), node.lineno, self._column_of(node, key, value))]

    def _column_of(self, node: Any, key: str | None, value: Any = None) -> int | None:
        if key is not None:
            return self._find(node.lineno, [key], quoted=False, keyword=True)
        if isinstance(value, str):
            return self._find(node.lineno, [value], quoted=True)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self._find(node.lineno, [str(value)], quoted=False)
        return None

    def _find(self, line: int, needles: list[str], *, quoted: bool, keyword: bool = False) -> int | None:
        """The 1-based column of the first of ``needles`` on ``line``, searching on from the last match on that
        line (so repeated values on one line get their own columns), else from the start."""
        if not 1 <= line <= len(self.lines):
            return None
        text = self.lines[line - 1]
        patterns = []
        for needle in needles:
            escaped = re.escape(needle)
            if quoted:
                patterns.append(rf"'{escaped}'|\"{escaped}\"")
            elif keyword:
                patterns.append(rf"\b{escaped}\s*=")
            else:
                patterns.append(rf"(?<![\w.]){escaped}(?!\w)")
        pattern = re.compile("|".join(patterns))
        start = self._cursor.get(line, 0)
        match = pattern.search(text, start) or pattern.search(text)
        if match is None:
            return None
        self._cursor[line] = match.start() + 1
        return match.start() + 1


def _describe(node: Any) -> str:
    from jinja2 import nodes  # noqa: PLC0415

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_describe(node.node)}[...]"
    return f"({type(node).__name__.lower()} expression)"


@functools.lru_cache(maxsize=64)
def _jinja_environment(unknown_tags: frozenset[str], block_tags: frozenset[str]) -> Any:
    """A parse-only environment with Jinja's bundled extensions, that steps over other extensions' tags (their
    bodies are still scanned)."""
    from jinja2 import Environment, nodes  # noqa: PLC0415
    from jinja2.ext import Extension  # noqa: PLC0415

    class StepOverUnknownTags(Extension):
        tags = set(unknown_tags | block_tags)  # noqa: RUF012 - Jinja's own declaration of it

        def parse(self, parser: Any) -> Any:
            token = next(parser.stream)
            while parser.stream.current.type != "block_end":
                next(parser.stream)
            if token.value in block_tags:
                return parser.parse_statements((f"name:end{token.value}",), drop_needle=True)
            return nodes.Output([], lineno=token.lineno)

    return Environment(  # noqa: S701 - parses only, never renders
        extensions=[
            "jinja2.ext.i18n",
            "jinja2.ext.do",
            "jinja2.ext.loopcontrols",
            "jinja2.ext.debug",
            StepOverUnknownTags,
        ]
    )


# -- Django ---------------------------------------------------------------------------------------------------------

_DJANGO_TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}")  # like Django's lexer: no tag spans lines
_STR_DQ = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_STR_SQ = r"'[^'\\]*(?:\\.[^'\\]*)*'"
_CONSTANT = rf"(?:_\({_STR_DQ}\)|_\({_STR_SQ}\)|{_STR_DQ}|{_STR_SQ})"
_NUMBER = r"[-+.]?\d[\d.e]*"
_FILTER_EXPRESSION = re.compile(
    rf"""
    ^(?P<constant>{_CONSTANT})
    |^(?P<var>[\w.]+|{_NUMBER})
    |(?:\s*\|\s*(?P<filter_name>\w+)(?::(?:(?P<constant_arg>{_CONSTANT})|(?P<var_arg>[\w.]+|{_NUMBER})))?)
    """,
    re.VERBOSE,
)
_BITS = re.compile(
    r"""((?:[^\s'"]*(?:(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')[^\s'"]*)+)|\S+)""",
)  # Django's smart_split: whitespace-separated, quoted strings kept whole
_OPENER = re.compile(r"{[{%#]")
_KWARG = re.compile(r"(\w+)=(.+)", re.DOTALL)
_LITERALS = {"True": True, "False": False, "None": None}


class _DjangoScanner:
    """Uses in a Django template, tokenised the way Django's lexer does it."""

    def __init__(self, source: str, path: str, *, strict: bool) -> None:
        self.source = source
        self.path = path
        self.strict = strict
        self._newlines = [index for index, char in enumerate(source) if char == "\n"]
        self._loaded: set[str] | None = set()  # names loaded so far; None once the whole library is
        self.findings: list[Finding] = []

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1

    def scan(self) -> tuple[list[Use], list[Finding]]:
        uses: list[Use] = []
        verbatim: str | None = None
        in_comment = False
        text_start = 0
        for match in _DJANGO_TAG.finditer(self.source):
            if verbatim is None and not in_comment:
                self._unclosed(text_start, match.start())
            text_start = match.end()
            token = match.group(0)
            if token.startswith("{#"):
                continue
            inner = token[2:-2]
            content = inner.strip()
            offset = match.start() + 2 + (len(inner) - len(inner.lstrip()))
            if token.startswith("{%"):
                if verbatim is not None:
                    verbatim = None if content == verbatim else verbatim
                    continue
                if in_comment:
                    in_comment = content != "endcomment"
                    continue
                if content[:9] in ("verbatim", "verbatim "):
                    verbatim = f"end{content}"
                    continue
                bits = [(m.group(0), offset + m.start()) for m in _BITS.finditer(content)]
                if not bits:
                    continue
                if bits[0][0] == "comment":
                    in_comment = True
                    continue
                if bits[0][0] == "load":
                    self._load([bit for bit, _ in bits[1:]])
                    continue
                uses.extend(self._tag(bits))
            elif verbatim is None and not in_comment:
                uses.extend(self._expression(content, offset))
        if verbatim is None and not in_comment:
            self._unclosed(text_start, len(self.source))
        return uses, self.findings

    def _unclosed(self, start: int, end: int) -> None:
        """Django reads a tag only when it closes on the same line; one that does not is output as text. Said
        for those that use the cfvariants helpers (there it is surely a mistake)."""
        for match in _OPENER.finditer(self.source, start, end):
            rest = self.source[match.start() : min(end, match.start() + 400)]
            if _MENTIONS.search(rest):
                line, column = self.position(match.start())
                message = (
                    f"this {match.group(0)} is not closed on its line; Django tags cannot span lines, so it is "
                    "output as text instead of being rendered"
                )
                self.findings.append(Finding(self.path, line, column, "syntax", message))

    def _load(self, names: list[str]) -> None:
        if "from" in names and names[-1] == "cfvariants" and names.index("from") == len(names) - 2:
            if self._loaded is not None:
                self._loaded.update(names[:-2])
        elif "cfvariants" in names:
            self._loaded = None

    def _check_loaded(self, helper: str, offset: int) -> None:
        if not self.strict or self._loaded is None or helper in self._loaded:
            return
        line, column = self.position(offset)
        self._loaded.add(helper)  # once per name
        self.findings.append(
            Finding(
                self.path,
                line,
                column,
                "load",
                f"{helper} is used without {{% load cfvariants %}} in this template (loads are per template; not "
                "needed if cfvariants is in the TEMPLATES OPTIONS 'builtins')",
            )
        )

    def _tag(self, bits: list[tuple[str, int]]) -> list[Use]:
        uses: list[Use] = []
        name, name_offset = bits[0]
        for bit, bit_offset in bits[1:]:  # filters in any tag's arguments: {% with u=x|variant:'a' %}
            kwarg = _KWARG.fullmatch(bit)
            value_offset = bit_offset + (len(kwarg.group(1)) + 1 if kwarg else 0)
            uses.extend(self._expression(kwarg.group(2) if kwarg else bit, value_offset))
        if name not in TAGS:
            return uses
        self._check_loaded(name, name_offset)
        arguments = bits[1:]
        if len(arguments) >= 2 and arguments[-2][0] == "as":
            arguments = arguments[:-2]
        positional: list[Arg] = []
        keywords: list[tuple[str, Arg]] = []
        for bit, bit_offset in arguments:
            kwarg = _KWARG.fullmatch(bit)
            if kwarg:  # positioned at the keyword, as problems name the name=value part
                keywords.append((kwarg.group(1), self._value(kwarg.group(2), bit_offset)))
            else:
                positional.append(self._value(bit, bit_offset))
        line, column = self.position(name_offset)
        uses.append(Use(self.path, "django", name, "tag", line, column, tuple(positional[1:]), tuple(keywords)))
        return uses

    def _value(self, text: str, offset: int) -> Arg:
        """A tag argument: a literal (string, number, True/False/None) or a variable/filter expression."""
        line, column = self.position(offset)
        parts = list(_FILTER_EXPRESSION.finditer(text))
        if len(parts) == 1 and parts[0].end() == len(text):
            literal = _literal(parts[0].group("constant"), parts[0].group("var"))
            if literal is not _DYNAMIC:
                return Arg(literal, True, text, line, column)
        return Arg(None, False, text, line, column)

    def _expression(self, text: str, offset: int) -> list[Use]:
        """Uses of the cfvariants filters in one filter expression (``x|variant:'w=200'|default:''``)."""
        uses: list[Use] = []
        upto = 0
        for match in _FILTER_EXPRESSION.finditer(text):
            if match.start() != upto:
                break  # Django would refuse the rest ("Could not parse the remainder"); nothing more to read
            upto = match.end()
            name = match.group("filter_name")
            if name not in DJANGO_FILTERS:
                continue
            self._check_loaded(name, offset + match.start("filter_name"))
            line, column = self.position(offset + match.start("filter_name"))
            args: tuple[Arg, ...] = ()
            for group in ("constant_arg", "var_arg"):
                if match.group(group) is not None:
                    args = (self._argument(match, group, offset),)
            uses.append(Use(self.path, "django", name, "filter", line, column, args))
        return uses

    def _argument(self, match: re.Match[str], group: str, offset: int) -> Arg:
        text = match.group(group)
        line, column = self.position(offset + match.start(group))
        literal = _literal(text if group == "constant_arg" else None, text if group == "var_arg" else None)
        if literal is _DYNAMIC:
            return Arg(None, False, text, line, column)
        return Arg(literal, True, text, line, column)


_DYNAMIC = object()


def _literal(constant: str | None, var: str | None) -> Any:
    """The value of a Django literal, or ``_DYNAMIC`` for a variable or a translated string."""
    if constant is not None:
        if constant.startswith("_("):
            return _DYNAMIC
        quote = constant[0]
        return constant[1:-1].replace(f"\\{quote}", quote).replace("\\\\", "\\")
    if var is None:
        return _DYNAMIC
    if var in _LITERALS:
        return _LITERALS[var]
    try:
        number = float(var)
    except ValueError:
        return _DYNAMIC
    return int(var) if "." not in var and "e" not in var.lower() else number
