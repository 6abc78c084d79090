"""The flexible-variant options (``w=200,fit=cover``) as a validated, immutable model.

Every option of Cloudflare's URL interface is a field with its type, range and enumeration. One model serves
both URL forms: hosted images (``imagedelivery.net``, ``Delivery``) and Image Transformations of images anywhere
(``/cdn-cgi/image/``, ``Transformations``); the few options that exist in only one form are refused in the
other by ``Options.check_form`` (``FORM_ONLY``). Input comes from a URL string (``Options.parse``) or from
keywords (``Options(width=200)``, short aliases included); both go through the same per-option parsers, so a
value means the same whatever its spelling.

``str(options)`` is the one canonical form: a fixed order and the shortest name of each option. Equal
transformations therefore give byte-equal URLs, which is what CDN caches key on. Parsing a string is cached, so
templates that repeat ``'w=200'`` pay for validation once.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from ._colors import canonical_color, color_to_url
from ._errors import OptionsError, shown
from ._memo import Memo

Fit = Literal["scale-down", "contain", "cover", "crop", "pad", "squeeze", "aspect-crop", "scale-up"]
GravityName = Literal["auto", "face", "left", "right", "top", "bottom"]
QualityLevel = Literal["high", "medium-high", "medium-low", "low"]
Format = Literal["auto", "avif", "webp", "jpeg", "baseline-jpeg", "json"]
Metadata = Literal["keep", "copyright", "none"]
Flip = Literal["h", "v", "hv"]
Rotate = Literal[90, 180, 270]
Upscale = Literal["interpolate", "generate"]
OnError = Literal["redirect"]
Form = Literal["hosted", "remote"]
"""The two URL forms: ``"hosted"`` (images stored in Cloudflare Images) and ``"remote"`` (Image Transformations)."""

FITS: tuple[str, ...] = (
    "scale-down",
    "contain",
    "cover",
    "crop",
    "pad",
    "squeeze",
    "aspect-crop",
    "scale-up",
)
GRAVITIES: tuple[str, ...] = ("auto", "face", "left", "right", "top", "bottom")
QUALITY_LEVELS: tuple[str, ...] = ("high", "medium-high", "medium-low", "low")
FORMATS: tuple[str, ...] = ("auto", "avif", "webp", "jpeg", "baseline-jpeg", "json")
METADATA: tuple[str, ...] = ("keep", "copyright", "none")

# ASCII digits only: ``\d`` would also take Arabic-Indic or full-width digits, which Cloudflare does not.
_INT = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_GRAVITY_POINT = re.compile(r"([0-9]*\.?[0-9]*)x([0-9]*\.?[0-9]*)")
_DECIMALS = 4  # numbers are kept to 4 decimal places, so 0.5 and 0.50000 are one option
_MAX_DIGITS = 9  # the parser reads at most 9 integer digits, so keywords are held to the same bound
MAX_INT = 10**_MAX_DIGITS - 1
"""The largest integer any option takes (from a URL or a keyword): a URL with more digits is refused."""
NUMBER_LIMIT = float(10**_MAX_DIGITS)
"""Every number option is below this (after rounding to 4 decimals), whichever way it was given."""


class _Bad(Exception):
    """Internal: a value broke its option's rule; carries the reason only."""


# ---------------------------------------------------------------------------------------------------------------
# Value checkers: each takes an option's rule (_Spec) and a URL string or a Python value, and returns the
# normalised value, or raises _Bad. The rules are data (the option table below); a checker reads them per call.


def _as_int(value: object) -> int | None:
    """The integer ``value`` means, ``MAX_INT + 1`` for any larger one (never converting thousands of digits),
    or ``None`` when it is not a non-negative integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value <= MAX_INT else MAX_INT + 1
    if isinstance(value, float) and value.is_integer():
        return int(value) if value <= MAX_INT else MAX_INT + 1
    if isinstance(value, str) and _INT.fullmatch(value):
        digits = value.lstrip("0") or "0"
        return int(digits) if len(digits) <= _MAX_DIGITS else MAX_INT + 1
    return None


def _as_number(value: object) -> float | None:
    """The non-negative finite number ``value`` means, rounded to 4 decimals (``NUMBER_LIMIT`` or more when it is
    too large), or ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value < 0:
            return None
        if value >= NUMBER_LIMIT:  # float(10**400) would overflow
            return NUMBER_LIMIT
        number = float(value)
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str) and _NUMBER.fullmatch(value):
        whole = value.partition(".")[0].lstrip("0")
        number = NUMBER_LIMIT if len(whole) > _MAX_DIGITS else float(value)
    else:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return round(number, _DECIMALS) + 0.0  # + 0.0: -0.0 would be written "-0", which no parser reads back


def _format_number(number: float) -> str:
    return f"{number:.{_DECIMALS}f}".rstrip("0").rstrip(".")  # never empty: a digit stands before the point


def _check_int(spec: _Spec, value: object) -> object:
    """An integer from ``spec.lo`` to ``spec.hi`` (no bound: any up to ``MAX_INT``), or one of ``spec.words``."""
    if isinstance(value, str) and value in spec.words:
        return value
    number = _as_int(value)
    if number is not None and spec.hi is None and number > MAX_INT:
        raise _Bad(f"{spec.label} is too large: at most {MAX_INT}")
    if number is None or number < spec.lo or (spec.hi is not None and number > spec.hi):
        if spec.hi is None:
            rule = "a positive integer" if spec.lo == 1 else f"an integer of at least {spec.lo}"
        else:
            rule = f"an integer from {spec.lo} to {spec.hi}"
        if spec.words:
            words = spec.words
            rule += " or " + (f"{words[0]!r}" if len(words) == 1 else "one of " + ", ".join(map(str, words)))
        raise _Bad(f"{spec.label} must be {rule}")
    return number


def _check_number(spec: _Spec, value: object) -> object:
    """A number from ``spec.lo`` (excluded when ``spec.lo_open``) to ``spec.hi`` (no bound: below
    ``NUMBER_LIMIT``), rounded to 4 decimals."""
    number = _as_number(value)
    if number is not None and spec.hi is None and number >= NUMBER_LIMIT:
        raise _Bad(f"{spec.label} is too large: it must be less than {NUMBER_LIMIT:.0f}")
    lo, hi = spec.lo, spec.hi
    if number is None or number < lo or (spec.lo_open and number <= lo) or (hi is not None and number > hi):
        if hi is None:
            rule = "a number greater than 0" if spec.lo_open else f"a number of at least {_format_number(lo)}"
        elif spec.lo_open:
            rule = f"a number greater than {_format_number(lo)} and at most {_format_number(hi)}"
        else:
            rule = f"a number from {_format_number(lo)} to {_format_number(hi)}"
        raise _Bad(f"{spec.label} must be {rule}")
    return number


def _check_choice(spec: _Spec, value: object) -> object:
    """One of ``spec.words``, stored as the choice itself (so 90.0 and a str subclass are stored as 90 and the
    plain text)."""
    if isinstance(value, str):
        by_text = {str(choice): choice for choice in spec.words}
        if value in by_text:
            return by_text[value]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        for choice in spec.words:
            if isinstance(choice, int) and value == choice:
                return choice
    raise _Bad(f"{spec.label} must be one of " + ", ".join(str(choice) for choice in spec.words))


def _check_bool(spec: _Spec, value: object) -> object:
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    raise _Bad(f"{spec.label} must be true or false")


def _check_color(spec: _Spec, value: object) -> object:
    if not isinstance(value, str):
        raise _Bad(f"{spec.label} must be a CSS colour string")
    try:
        return canonical_color(value)
    except ValueError as exc:
        raise _Bad(f"{spec.label} {exc}") from None


def _check_gravity(spec: _Spec, value: object) -> object:
    message = (
        f"{spec.label} must be one of " + ", ".join(GRAVITIES) + ", or XxY coordinates from 0 to 1 such as 0.5x0.33"
    )
    if isinstance(value, str):
        if value in GRAVITIES:
            return value
        match = _GRAVITY_POINT.fullmatch(value)
        if not match:
            raise _Bad(message)
        point: tuple[object, ...] = match.groups()
    elif isinstance(value, tuple | list):
        point = tuple(value)
    else:
        raise _Bad(message)
    if len(point) != 2:
        raise _Bad(message)
    x, y = _as_number(point[0]), _as_number(point[1])
    if x is None or y is None or x > 1 or y > 1:
        raise _Bad(message)
    return (x, y)


def _check_trim(spec: _Spec, value: object) -> object:
    message = f"{spec.label} must be four integers top;right;bottom;left (pixels to cut) or 'border'"
    if value == "border":
        return "border"
    if isinstance(value, str):
        sides: tuple[object, ...] = tuple(value.split(";"))
    elif isinstance(value, tuple | list):
        sides = tuple(value)
    else:
        raise _Bad(message)
    numbers = tuple(_as_int(side) for side in sides)
    if len(numbers) != 4 or any(n is None or n < 0 or n > MAX_INT for n in numbers):
        raise _Bad(message)
    return numbers


def _format_gravity(value: object) -> str:
    if isinstance(value, tuple):
        return f"{_format_number(value[0])}x{_format_number(value[1])}"
    return str(value)


def _format_trim(value: object) -> str:
    if isinstance(value, tuple):
        return ";".join(str(n) for n in value)
    return str(value)


def _format_value(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return _format_number(value)
    return str(value)


def _format_color(value: object) -> str:
    return color_to_url(str(value))


# ---------------------------------------------------------------------------------------------------------------
# The option table: one row per option, in canonical order.


@dataclass(frozen=True, slots=True)
class _Spec:
    """One option's rule, as data: its checker (a module function, looked up by the row, not a closure made at
    import) and the checker's bounds or words."""

    field: str  # Python attribute
    names: tuple[str, ...]  # URL spellings; the first one is the canonical spelling
    check: Callable[[_Spec, object], object]  # the normalised value, or _Bad naming the rule
    lo: float = 0
    hi: float | None = None  # None: no upper bound (below MAX_INT or NUMBER_LIMIT)
    words: tuple[Any, ...] = ()  # the words an integer option also takes, or a choice's choices
    lo_open: bool = False  # a number must be greater than lo
    format: Callable[[object], str] = _format_value
    label: str = ""  # the option's name in messages (default: its last URL spelling)

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.names[-1])


_SPECS: tuple[_Spec, ...] = (
    _Spec("width", ("w", "width"), _check_int, 1, words=("auto",)),
    _Spec("height", ("h", "height"), _check_int, 1),
    _Spec("dpr", ("dpr",), _check_number, 0, 2, lo_open=True),
    _Spec("fit", ("fit",), _check_choice, words=FITS),
    _Spec("gravity", ("g", "gravity"), _check_gravity, format=_format_gravity),
    _Spec("zoom", ("zoom", "face-zoom"), _check_number, 0, 1, label="zoom"),
    _Spec("trim", ("trim",), _check_trim, format=_format_trim),
    _Spec("trim_top", ("trim.top",), _check_int, 0),
    _Spec("trim_left", ("trim.left",), _check_int, 0),
    _Spec("trim_width", ("trim.width",), _check_int, 1),
    _Spec("trim_height", ("trim.height",), _check_int, 1),
    _Spec("trim_border_color", ("trim.border.color",), _check_color, format=_format_color),
    _Spec("trim_border_tolerance", ("trim.border.tolerance",), _check_int, 0, 255),
    _Spec("trim_border_keep", ("trim.border.keep",), _check_int, 0),
    _Spec("rotate", ("rotate",), _check_choice, words=(90, 180, 270)),
    _Spec("flip", ("flip",), _check_choice, words=("h", "v", "hv")),
    _Spec("quality", ("q", "quality"), _check_int, 1, 100, words=QUALITY_LEVELS),
    _Spec("slow_connection_quality", ("scq", "slow-connection-quality"), _check_int, 1, 100, words=QUALITY_LEVELS),
    _Spec("format", ("f", "format"), _check_choice, words=FORMATS),
    _Spec("anim", ("anim",), _check_bool),
    _Spec("background", ("background",), _check_color, format=_format_color),
    _Spec("blur", ("blur",), _check_int, 1, 250),
    _Spec("sharpen", ("sharpen",), _check_number, 0, 10),
    _Spec("brightness", ("brightness",), _check_number, 0),
    _Spec("contrast", ("contrast",), _check_number, 0),
    _Spec("gamma", ("gamma",), _check_number, 0),
    _Spec("saturation", ("saturation",), _check_number, 0),
    _Spec("metadata", ("metadata",), _check_choice, words=METADATA),
    _Spec("compression", ("compression",), _check_choice, words=("fast",)),
    _Spec("segment", ("segment",), _check_choice, words=("foreground",)),
    _Spec("upscale", ("upscale",), _check_choice, words=("interpolate", "generate")),
    _Spec("onerror", ("onerror",), _check_choice, words=("redirect",)),
)

FORM_ONLY: dict[str, Form] = {"onerror": "remote"}
"""Options that exist in one URL form only, by field. ``onerror=redirect``: Cloudflare documents it for
transformations through the URL interface and "not supported for hosted images". No option is documented as
hosted-only (named variants are, but they are not options)."""
_FORM_TEXT: dict[str, str] = {
    "hosted": "images stored in Cloudflare Images (imagedelivery.net delivery URLs)",
    "remote": "Image Transformations (/cdn-cgi/image/ URLs)",
}

_BY_FIELD: dict[str, _Spec] = {spec.field: spec for spec in _SPECS}
_BY_NAME: dict[str, _Spec] = {}
for _spec in _SPECS:
    for _name in (*_spec.names, _spec.field):
        _BY_NAME[_name] = _spec
_BY_NAME["face_zoom"] = _BY_FIELD["zoom"]
_URL_BY_NAME: dict[str, _Spec] = {name: spec for spec in _SPECS for name in spec.names}
_URL_NAMES: tuple[str, ...] = tuple(name for spec in _SPECS for name in spec.names)
_UNSUPPORTED: dict[str, str] = {
    "border": "border is only available from Workers, not as a URL option",
    "draw": "draw (overlays) is only available from Workers, not as a URL option",
}


def option_names() -> tuple[str, ...]:
    """Every URL spelling accepted, canonical spellings first within each option (for docs and tooling)."""
    return _URL_NAMES


def _unknown(name: str) -> str:
    if name in _UNSUPPORTED:
        return _UNSUPPORTED[name]
    guess = difflib.get_close_matches(name, [*_URL_NAMES, *_BY_FIELD], n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    return f"unknown option {name!r}{hint}"


def _keyword_part(name: str, value: object) -> str:
    """``name=<repr>`` for messages, bounded: the repr of a 5,000-digit int raises, and a long one helps no one."""
    return f"{name}={shown(value, 60)}"


def _normalize(items: Mapping[str, object]) -> dict[str, object]:
    """Validate keyword ``name -> value`` pairs (Python or URL spellings) into ``field -> normalised value``; an
    error names the keyword (``part``), there being no string to name."""
    out: dict[str, object] = {}
    parts: dict[str, str] = {}
    for name, value in items.items():
        part = _keyword_part(name, value)
        spec = _BY_NAME.get(name)
        if spec is None:
            raise OptionsError(_unknown(name), part=part)
        if value is None:
            continue
        if spec.field in out:
            raise OptionsError(f"{spec.field} is given twice ({parts[spec.field]} and {part})", part=part)
        try:
            out[spec.field] = spec.check(spec, value)
        except _Bad as exc:
            raise OptionsError(str(exc), part=part) from None
        parts[spec.field] = part
    _check_combinations(out, parts, None)
    return out


def _check_combinations(out: dict[str, object], spelled: dict[str, str], source: str | None) -> None:
    """Rules that involve two options; ``spelled`` maps each field to the part that set it."""
    if "zoom" in out and out.get("gravity") != "face":
        raise OptionsError("zoom only applies with gravity=face (g=face)", part=spelled["zoom"], options=source)
    border_parts = [f for f in ("trim_border_color", "trim_border_tolerance", "trim_border_keep") if f in out]
    if border_parts and out.get("trim") != "border":
        raise OptionsError(
            "trim.border.* options only apply with trim=border", part=spelled[border_parts[0]], options=source
        )
    side_parts = [f for f in ("trim_top", "trim_left", "trim_width", "trim_height") if f in out]
    if side_parts and "trim" in out:
        raise OptionsError(
            "use either trim=top;right;bottom;left (or trim=border) or trim.top/trim.left/trim.width/"
            "trim.height, not both",
            part=spelled[side_parts[0]],
            options=source,
        )


# ---------------------------------------------------------------------------------------------------------------


class Options(BaseModel):
    """Flexible-variant options. Build from keywords (``Options(width=200, fit="cover")``, aliases such as
    ``w=200`` work too) or from a URL string (``Options.parse("w=200,fit=cover")``).

    Immutable and hashable; ``str()`` gives the canonical URL segment.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    width: int | Literal["auto"] | None = None
    height: int | None = None
    dpr: float | None = None
    fit: Fit | None = None
    gravity: GravityName | tuple[float, float] | None = None
    zoom: float | None = None
    trim: tuple[int, int, int, int] | Literal["border"] | None = None
    trim_top: int | None = None
    trim_left: int | None = None
    trim_width: int | None = None
    trim_height: int | None = None
    trim_border_color: str | None = None
    trim_border_tolerance: int | None = None
    trim_border_keep: int | None = None
    rotate: Rotate | None = None
    flip: Flip | None = None
    quality: int | QualityLevel | None = None
    slow_connection_quality: int | QualityLevel | None = None
    format: Format | None = None
    anim: bool | None = None
    background: str | None = None
    blur: int | None = None
    sharpen: float | None = None
    brightness: float | None = None
    contrast: float | None = None
    gamma: float | None = None
    saturation: float | None = None
    metadata: Metadata | None = None
    compression: Literal["fast"] | None = None
    segment: Literal["foreground"] | None = None
    upscale: Upscale | None = None
    onerror: OnError | None = None

    # The canonical text and its hash, read as self.__pydantic_private__[...]: self._canonical misses the normal
    # attribute lookup and goes through BaseModel.__getattr__ (1.5 us, against 0.07 us for str() and hash(), which
    # every Options used as a variant or a memo key costs).
    _canonical: str = PrivateAttr(default="")
    _hash: int = PrivateAttr(default=0)

    def __init__(self, /, **options: Any) -> None:
        # Validated once, by the option parsers (the same ones Options.parse uses); pydantic does not check the
        # normalised values again: they are of the declared types by construction (tests/core/test_options.py holds
        # them to pydantic's own validation of the same fields).
        self._fill(_normalize(options))

    @classmethod
    def _from_fields(cls, fields: dict[str, object]) -> Self:
        """An instance from fields the parsers have already validated and normalised."""
        options = cls.__new__(cls)
        options._fill(fields)
        return options

    def _fill(self, fields: dict[str, object]) -> None:
        values: dict[str, object] = dict.fromkeys(_BY_FIELD)
        values.update(fields)
        set_ = object.__setattr__  # the model is frozen for everyone else
        set_(self, "__dict__", values)
        set_(self, "__pydantic_fields_set__", set(fields))
        set_(self, "__pydantic_extra__", None)
        canonical = _canonical(values)
        set_(self, "__pydantic_private__", {"_canonical": canonical, "_hash": hash(canonical)})

    @model_validator(mode="wrap")
    @classmethod
    def _validate_all(cls, data: Any, handler: Any) -> Any:
        """``model_validate()`` and ``Options`` as a field of another model: the same parsers, once."""
        if isinstance(data, Options):
            return data
        if isinstance(data, Mapping):
            return cls._from_fields(_normalize(data))
        return handler(data)  # pydantic's own error for anything else

    def model_post_init(self, context: Any, /) -> None:  # only for instances pydantic builds (model_construct)
        canonical = _canonical(self.__dict__)
        self._canonical = canonical
        self._hash = hash(canonical)

    # -- constructors -------------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Options:
        """Parse a flexible-variant segment such as ``"w=200,h=100,fit=cover"`` (cached per distinct string).

        Raises ``OptionsError`` naming the bad ``name=value`` part.
        """
        if not isinstance(text, str):
            raise OptionsError(f"options must be a string like 'w=200,fit=cover', not {type(text).__name__}")
        parsed = _parsed.entries.get(text) if type(text) is str else None  # a str subclass: parsed every time
        return parsed if parsed is not None else _parsed.keep(text, _parse(text))

    @classmethod
    def coerce(cls, value: Options | str | Mapping[str, Any]) -> Options:
        """Accept an ``Options``, an option string or a mapping of keywords."""
        if isinstance(value, Options):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Mapping):
            return cls(**value)
        raise OptionsError(f"options must be an Options, a string or a mapping, not {type(value).__name__}")

    # -- derived values -----------------------------------------------------------------------------------------

    def replace(self, **changes: Any) -> Self:
        """A copy with some options changed (``None`` removes an option); validated like the constructor."""
        merged: dict[str, object] = self.to_kwargs()
        for name, value in changes.items():
            spec = _BY_NAME.get(name)
            if spec is None:
                raise OptionsError(_unknown(name), part=_keyword_part(name, value))
            merged[spec.field] = value
        return type(self)(**{k: v for k, v in merged.items() if v is not None})

    def to_kwargs(self) -> dict[str, object]:
        """The options that are set, by Python field name."""
        return {spec.field: getattr(self, spec.field) for spec in _SPECS if getattr(self, spec.field) is not None}

    @property
    def is_empty(self) -> bool:
        return not self.__pydantic_private__["_canonical"]  # type: ignore[index]

    def check_form(self, form: Form) -> Self:
        """``self`` if every option applies to ``form`` (``"hosted"`` or ``"remote"``); else an ``OptionsError``
        naming the option and the form it belongs to (``onerror=redirect`` on a hosted image)."""
        for field, only in FORM_ONLY.items():
            value = getattr(self, field)
            if value is not None and only != form:
                spec = _BY_FIELD[field]
                part = f"{spec.names[0]}={spec.format(value)}"
                raise OptionsError(
                    f"{spec.names[0]} only applies to {_FORM_TEXT[only]}, not to {_FORM_TEXT[form]}",
                    part=part,
                    options=str(self) if str(self) != part else None,
                )
        return self

    def __str__(self) -> str:
        return self.__pydantic_private__["_canonical"]  # type: ignore[index, no-any-return]

    def __repr__(self) -> str:
        return f"Options({str(self)!r})"

    def __hash__(self) -> int:
        return self.__pydantic_private__["_hash"]  # type: ignore[index, no-any-return]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Options):
            return str(self) == str(other)
        return NotImplemented


def _canonical(values: Mapping[str, object]) -> str:
    """The canonical URL segment of normalised field values: fixed order, shortest names."""
    return ",".join(
        f"{spec.names[0]}={spec.format(value)}" for spec in _SPECS if (value := values.get(spec.field)) is not None
    )


def _split_parts(text: str) -> list[str]:
    """Split on commas, except inside parentheses: ``background=rgb(1,2,3)`` is one part (and is emitted
    percent-encoded, as Cloudflare requires)."""
    if "(" not in text:
        return text.split(",")
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


_parsed: Memo[str, Options] = Memo(4096)


def _parse(text: str) -> Options:
    if not text:
        raise OptionsError("no options given; write name=value pairs such as 'w=200,fit=cover'", options=text)
    out: dict[str, object] = {}
    parts: dict[str, str] = {}
    for part in _split_parts(text):
        name, eq, raw = part.partition("=")
        if not eq or not name:
            reason = "empty option (stray comma?)" if not part else "expected name=value"
            raise OptionsError(reason, part=part, options=text)
        spec = _URL_BY_NAME.get(name)
        if spec is None:
            raise OptionsError(_unknown(name), part=part, options=text)
        if spec.field in out:
            raise OptionsError(f"{spec.field} is given twice ({parts[spec.field]} and {part})", part=part, options=text)
        try:
            out[spec.field] = spec.check(spec, unquote(raw, errors="strict"))
        except UnicodeDecodeError:
            raise OptionsError("value is not valid percent-encoded UTF-8", part=part, options=text) from None
        except _Bad as exc:
            raise OptionsError(str(exc), part=part, options=text) from None
        parts[spec.field] = part
    _check_combinations(out, parts, text)
    return Options._from_fields(out)
