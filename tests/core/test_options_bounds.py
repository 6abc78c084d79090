"""Each option's bounds, from both sides, and what a refusal says: the smallest and the largest value an option
takes are accepted (from a URL and as a keyword), the next one out is refused with the rule in words, the same
words whichever way the value was given. Bounds as Cloudflare documents them; the messages are what a user reads.
"""

from __future__ import annotations

import pytest

from cfvariants import Delivery, Options, OptionsError
from cfvariants._options import _check_int, _check_number, _Spec

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"

QUALITY_RULE = "an integer from 1 to 100 or one of high, medium-high, medium-low, low"
GRAVITY_RULE = "must be one of auto, face, left, right, top, bottom, or XxY coordinates from 0 to 1 such as 0.5x0.33"
TRIM_RULE = "trim must be four integers top;right;bottom;left (pixels to cut) or 'border'"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("w=1", "w=1"), ("w=999999999", "w=999999999"), ("w=auto", "w=auto"), ("h=1", "h=1"),
        ("dpr=0.0001", "dpr=0.0001"), ("dpr=2", "dpr=2"), ("dpr=2.00001", "dpr=2"),  # kept to 4 decimals
        ("g=face,zoom=0", "g=face,zoom=0"), ("g=face,zoom=1", "g=face,zoom=1"),
        ("trim.top=0", "trim.top=0"), ("trim.left=999999999", "trim.left=999999999"), ("trim.width=1", "trim.width=1"),
        ("trim=border,trim.border.tolerance=0", "trim=border,trim.border.tolerance=0"),
        ("trim=border,trim.border.tolerance=255", "trim=border,trim.border.tolerance=255"),
        ("trim=0;0;0;999999999", "trim=0;0;0;999999999"),
        ("q=1", "q=1"), ("q=100", "q=100"), ("scq=100", "scq=100"), ("q=medium-low", "q=medium-low"),
        ("blur=1", "blur=1"), ("blur=250", "blur=250"), ("sharpen=0", "sharpen=0"), ("sharpen=10", "sharpen=10"),
        ("brightness=999999999.9999", "brightness=999999999.9999"), ("gamma=0", "gamma=0"),
        ("g=0x1", "g=0x1"), ("g=1x0", "g=1x0"), ("g=.5x.25", "g=0.5x0.25"),
    ],
)  # fmt: skip
def test_the_bounds_of_each_option_are_accepted(text: str, canonical: str) -> None:
    options = Options.parse(text)
    assert str(options) == canonical
    assert Options(**options.to_kwargs()) == options == Options.parse(canonical)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("w=0", "width must be a positive integer or 'auto'"),
        ("h=0", "height must be a positive integer"),
        ("w=1000000000", "width is too large: at most 999999999"),
        ("trim.top=1000000000", "trim.top is too large: at most 999999999"),
        ("dpr=0", "dpr must be a number greater than 0 and at most 2"),
        ("dpr=2.0001", "dpr must be a number greater than 0 and at most 2"),
        ("g=face,zoom=1.0001", "zoom must be a number from 0 to 1"),
        ("trim.top=-1", "trim.top must be an integer of at least 0"),
        ("trim.width=0", "trim.width must be a positive integer"),
        ("trim=border,trim.border.tolerance=256", "trim.border.tolerance must be an integer from 0 to 255"),
        ("q=0", f"quality must be {QUALITY_RULE}"),
        ("q=101", f"quality must be {QUALITY_RULE}"),
        ("scq=101", f"slow-connection-quality must be {QUALITY_RULE}"),
        ("blur=0", "blur must be an integer from 1 to 250"),
        ("blur=251", "blur must be an integer from 1 to 250"),
        ("sharpen=10.0001", "sharpen must be a number from 0 to 10"),
        ("brightness=-1", "brightness must be a number of at least 0"),
        ("brightness=1000000000", "brightness is too large: it must be less than 1000000000"),
        ("brightness=1" + "0" * 400, "brightness is too large: it must be less than 1000000000"),  # no float has it
        ("rotate=45", "rotate must be one of 90, 180, 270"),
        ("anim=1", "anim must be true or false"),
        ("f=gif", "format must be one of auto, avif, webp, jpeg, baseline-jpeg, json"),
        ("g=1.0001x0", f"gravity {GRAVITY_RULE}"),
        ("g=0x1.0001", f"gravity {GRAVITY_RULE}"),
        ("g=middle", f"gravity {GRAVITY_RULE}"),
        ("g=0.5x0.5x1", f"gravity {GRAVITY_RULE}"),
        ("trim=1;2;3", TRIM_RULE),
        ("trim=1;2;3;4;5", TRIM_RULE),
        ("trim=1;2;3;1000000000", TRIM_RULE),
        ("trim=1;-2;3;4", TRIM_RULE),
    ],
)
def test_the_next_value_out_is_refused_with_the_rule(text: str, reason: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options.parse(text)
    bad = text.rpartition(",")[2] if text.startswith(("g=face,", "trim=border,")) else text
    assert (caught.value.reason, caught.value.part) == (reason, bad)


@pytest.mark.parametrize(
    ("keywords", "reason"),
    [
        ({"background": 7}, "background must be a CSS colour string"),
        ({"background": None, "trim_border_color": b"red"}, "trim.border.color must be a CSS colour string"),
        ({"gravity": (0.5,)}, f"gravity {GRAVITY_RULE}"),
        ({"gravity": (0.5, 0.5, 0.5)}, f"gravity {GRAVITY_RULE}"),
        ({"gravity": 5}, f"gravity {GRAVITY_RULE}"),
        ({"gravity": (0.5, "a")}, f"gravity {GRAVITY_RULE}"),
        ({"trim": 5}, TRIM_RULE),
        ({"trim": (1, 2, 3, 10**9)}, TRIM_RULE),
        ({"trim": (1, 2, 3)}, TRIM_RULE),
        ({"rotate": 45.0}, "rotate must be one of 90, 180, 270"),
        ({"rotate": True}, "rotate must be one of 90, 180, 270"),
        ({"dpr": True}, "dpr must be a number greater than 0 and at most 2"),
        ({"anim": "yes"}, "anim must be true or false"),
        ({"anim": 0}, "anim must be true or false"),
        ({"height": 10**400}, "height is too large: at most 999999999"),
        ({"contrast": 10**400}, "contrast is too large: it must be less than 1000000000"),
        ({"contrast": float("nan")}, "contrast must be a number of at least 0"),
    ],
)
def test_a_bad_keyword_is_refused_with_the_rule_and_named(keywords: dict[str, object], reason: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options(**keywords)
    name = next(name for name, value in keywords.items() if value is not None)
    assert caught.value.reason == reason
    assert caught.value.part is not None and caught.value.part.startswith(f"{name}=")
    assert str(caught.value) == f'"{caught.value.part}": {reason}'


@pytest.mark.parametrize(
    ("keywords", "canonical"),
    [
        ({"trim": (0, 0, 0, 999_999_999)}, "trim=0;0;0;999999999"),
        ({"trim": ["1", "2", "3", "4"]}, "trim=1;2;3;4"),
        ({"gravity": ("0.5", 1)}, "g=0.5x1"),
        ({"rotate": 270.0}, "rotate=270"),
        ({"rotate": "180"}, "rotate=180"),
        ({"anim": "false"}, "anim=false"),
        ({"dpr": 2}, "dpr=2"),
        ({"quality": "low", "slow_connection_quality": 1}, "q=low,scq=1"),
    ],
)
def test_keywords_take_the_same_values_a_url_does(keywords: dict[str, object], canonical: str) -> None:
    assert str(Options(**keywords)) == canonical
    assert Options.parse(canonical) == Options(**keywords)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("background=rgb((1,2),3),w=5", "background=rgb((1,2),3)"),  # nested: one part until its parentheses close
        ("w=5,background=rgb(1,2,3))),h=x", "background=rgb(1,2,3)))"),  # an extra ')' does not hide the next ','
        ("background=rgb(1,(2,3)),blur=0", "background=rgb(1,(2,3))"),
        ("background=rgb(1,2,3),blur=0", "blur=0"),
    ],
)
def test_commas_inside_parentheses_belong_to_their_part(text: str, part: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options.parse(text)
    assert caught.value.part == part and caught.value.options == text


def test_an_unknown_name_without_a_close_match_is_only_named() -> None:
    with pytest.raises(OptionsError) as caught:
        Options.parse("w=5,zzzzzz=1")
    assert caught.value.reason == "unknown option 'zzzzzz'"
    with pytest.raises(OptionsError) as caught:
        Options(width=5).replace(zzzzzz=1)
    assert (caught.value.reason, caught.value.part) == ("unknown option 'zzzzzz'", "zzzzzz=1")


def test_replace_names_an_unknown_option_and_its_value() -> None:
    with pytest.raises(OptionsError) as caught:
        Options(width=5).replace(widht=200)
    assert caught.value.reason == "unknown option 'widht'; did you mean 'width'?"
    assert caught.value.part == "widht=200" and str(caught.value) == f'"widht=200": {caught.value.reason}'
    assert Options(width=5, height=3).replace(height=None, fit="cover") == Options.parse("w=5,fit=cover")


@pytest.mark.parametrize(("value", "kind"), [(5, "int"), (None, "NoneType"), (["w=5"], "list"), (b"w=5", "bytes")])
def test_coerce_and_parse_name_the_type_they_cannot_take(value: object, kind: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options.coerce(value)  # type: ignore[arg-type]
    assert str(caught.value) == f"options must be an Options, a string or a mapping, not {kind}"
    with pytest.raises(OptionsError) as caught:
        Options.parse(value)  # type: ignore[arg-type]
    assert str(caught.value) == f"options must be a string like 'w=200,fit=cover', not {kind}"


FORM_REASON = (
    "onerror only applies to Image Transformations (/cdn-cgi/image/ URLs), not to images stored in Cloudflare Images "
    "(imagedelivery.net delivery URLs)"
)


@pytest.mark.parametrize(
    ("variant", "options"), [("w=10,onerror=redirect", "w=10,onerror=redirect"), ("onerror=redirect", None)]
)
def test_an_option_of_the_other_url_form_is_refused_naming_it_and_its_string(variant: str, options: str | None) -> None:
    """The whole string is named when there is more to it than the refused option."""
    for call in (lambda: Options.parse(variant).check_form("hosted"), lambda: Delivery(HASH).url(ID, variant)):
        with pytest.raises(OptionsError) as caught:
            call()
        error = caught.value
        assert (error.reason, error.part, error.options) == (FORM_REASON, "onerror=redirect", options)
        shown = f'"onerror=redirect": {FORM_REASON}'
        assert str(error) == (shown if options is None else f"invalid flexible-variant options {options!r}: {shown}")
    assert str(Options.parse(variant).check_form("remote")) == variant


@pytest.mark.parametrize(
    ("keywords", "part", "reason"),
    [
        ({"widht": 3}, "widht=3", "unknown option 'widht'; did you mean 'width'?"),
        ({"w": 1, "width": 2}, "width=2", "width is given twice (w=1 and width=2)"),
        ({"q": 50, "quality": "low"}, "quality='low'", "quality is given twice (q=50 and quality='low')"),
        ({"zoom": 0.5}, "zoom=0.5", "zoom only applies with gravity=face (g=face)"),
        ({"face_zoom": 0.5, "gravity": "left"}, "face_zoom=0.5", "zoom only applies with gravity=face (g=face)"),
        ({"trim_border_tolerance": 3}, "trim_border_tolerance=3", "trim.border.* options only apply with trim=border"),
        ({"trim": (1, 2, 3, 4), "trim_top": 2}, "trim_top=2", "use either trim=top;right;bottom;left (or trim=border) "
         "or trim.top/trim.left/trim.width/trim.height, not both"),
        ({"width": "x" * 100}, "width='" + "x" * 56 + "...", "width must be a positive integer or 'auto'"),
    ],
)  # fmt: skip
def test_a_keyword_refusal_names_the_keyword_as_it_was_written(
    keywords: dict[str, object], part: str, reason: str
) -> None:
    """Keywords have no option string: the error names the keyword (its value cut to 60 characters), nothing else."""
    with pytest.raises(OptionsError) as caught:
        Options(**keywords)
    error = caught.value
    assert (error.part, error.reason, error.options) == (part, reason, None)
    assert str(error) == f'"{part}": {reason}'


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("brightness=0000000000.5", "brightness=0.5"), ("h=0000000000007", "h=7"), ("dpr=000.50", "dpr=0.5"),
     ("contrast=1000000000.0", None), ("w=0001000000000", None)],
)  # fmt: skip
def test_leading_zeros_do_not_count_towards_a_numbers_digits(text: str, canonical: str | None) -> None:
    if canonical is None:
        with pytest.raises(OptionsError, match="too large"):
            Options.parse(text)
    else:
        assert str(Options.parse(text)) == canonical


@pytest.mark.parametrize(
    "text",
    ["trim.border.color=red", "trim.border.tolerance=5", "trim.border.keep=2", "trim=1;2;3;4,trim.border.keep=2"],
)
def test_every_trim_border_option_needs_trim_border(text: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options.parse(text)
    assert caught.value.reason == "trim.border.* options only apply with trim=border"
    assert caught.value.part == text.rpartition(",")[2]
    assert str(Options.parse(f"trim=border,{text.rpartition(',')[2]}")).startswith("trim=border,trim.border.")


def test_options_tell_pydantic_which_fields_are_set() -> None:
    """``model_fields_set`` and ``model_dump(exclude_unset=True)`` work on parsed and keyword Options alike."""
    for options in (
        Options.parse("w=5,fit=cover"),
        Options(fit="cover", width=5),
        Options.coerce({"w": 5, "fit": "cover"}),
    ):
        assert options.model_fields_set == {"width", "fit"}
        assert options.model_dump(exclude_unset=True) == {"width": 5, "fit": "cover"}
        assert options.model_dump(exclude_none=True) == {"width": 5, "fit": "cover"}


@pytest.mark.parametrize("side", ["trim.top=1", "trim.left=1", "trim.width=10", "trim.height=10"])
@pytest.mark.parametrize("trim", ["trim=1;2;3;4", "trim=border"])
def test_no_trim_side_goes_with_a_whole_trim(side: str, trim: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options.parse(f"{trim},{side}")
    assert caught.value.part == side and caught.value.reason.startswith("use either trim=top;right;bottom;left")
    assert str(Options.parse(side)) == side


def test_an_option_is_named_in_messages_by_its_last_url_spelling_unless_it_has_a_label() -> None:
    """The rule behind every message's option name (the table is built at import, so this builds rows the same
    way): ``face-zoom`` is ``zoom`` in messages, ``q`` is ``quality``."""
    assert _Spec("quality", ("q", "quality"), _check_int, 1, 100).label == "quality"
    assert _Spec("zoom", ("zoom", "face-zoom"), _check_number, 0, 1, label="zoom").label == "zoom"
    with pytest.raises(OptionsError) as caught:
        Options.parse("face-zoom=2")
    assert str(caught.value).endswith("zoom must be a number from 0 to 1")


def test_an_integral_float_keyword_is_its_integer_up_to_the_largest() -> None:
    assert str(Options(width=999_999_999.0)) == "w=999999999" and str(Options(height=1.0)) == "h=1"
    with pytest.raises(OptionsError) as caught:
        Options(width=1_000_000_000.0)
    assert str(caught.value).endswith("width is too large: at most 999999999")
