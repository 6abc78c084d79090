"""Uses in Jinja templates, found with Jinja's own parser (unknown extension tags stepped over), so line numbers
follow its lexer through multi-line tags, comments and raw blocks."""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any, cast

from ._model import FILTERS, TAGS, Arg, Finding, Use

_MAX_COMBINATIONS = 16


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


class JinjaScanner:
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
