"""Each use run through the code that renders it (``ImageFilters`` on a dummy account), so every message is the
one the template would raise; named variants compared with the declaration."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from cfvariants._delivery import Delivery
from cfvariants._errors import CFVariantsError, OptionsError, SigningError, VariantError
from cfvariants._layouts import Original
from cfvariants._segments import DEFAULT_VARIANT, merge_options
from cfvariants._templating import ImageFilters, TemplateFilterError, looks_like_descriptors, parse_descriptors
from cfvariants._transformations import Transformations
from cfvariants.limits import VARIANT_ID_PATTERN

from ._model import Arg, Code, Finding, Images, Use

_VARIANT_NAME = VARIANT_ID_PATTERN


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
_PRELOAD_EXTRAS = ("widths", "densities", "sizes", "alt", "priority", "placeholder", *_SIZING)
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
