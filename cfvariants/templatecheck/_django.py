"""Uses in Django templates, tokenised the way Django's lexer does it (tags on one line; ``{# #}``,
``{% comment %}`` and ``{% verbatim %}`` skipped), with exact line and column positions.

Django's own ``django.template.base.Lexer`` is not used: the check runs where Django is not installed (a Jinja
project, CI without the extra), and Django's tokens carry line numbers but no columns. Tokenising here keeps
one code path with the same findings everywhere."""

from __future__ import annotations

import bisect
import re
from typing import Any

from ._model import DJANGO_FILTERS, MENTIONS, TAGS, Arg, Finding, Use

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


class DjangoScanner:
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
            if MENTIONS.search(rest):
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
