"""Options: every option's type, range and enumeration; canonical form; errors that name the bad part."""

from __future__ import annotations

import pickle

import pytest

from cfvariants import Options, OptionsError
from cfvariants._options import option_names


def test_parse_short_and_long_names_mean_the_same() -> None:
    short = Options.parse("w=200,h=100,q=80,f=webp,g=face,zoom=0.5,scq=low")
    long = Options.parse("width=200,height=100,quality=80,format=webp,gravity=face,face-zoom=0.5,"
                         "slow-connection-quality=low")  # fmt: skip
    assert short == long
    assert str(short) == str(long) == "w=200,h=100,g=face,zoom=0.5,q=80,scq=low,f=webp"


def test_canonical_form_has_fixed_order_whatever_the_input_order() -> None:
    a = Options.parse("fit=cover,sharpen=1,w=200,h=100")
    b = Options.parse("h=100,w=200,sharpen=1.000,fit=cover")
    assert str(a) == str(b) == "w=200,h=100,fit=cover,sharpen=1"
    assert hash(a) == hash(b)


def test_keywords_python_names_and_aliases() -> None:
    assert str(Options(width=200, fit="cover")) == "w=200,fit=cover"
    assert str(Options(w=200, g=(0.5, 0.25))) == "w=200,g=0.5x0.25"
    assert Options(slow_connection_quality="low") == Options.parse("scq=low")
    assert Options(trim_top=5, trim_left=6) == Options.parse("trim.top=5,trim.left=6")
    assert Options(width=None, height=10) == Options(height=10)  # None means "not set"


def test_every_documented_option_round_trips() -> None:
    text = (
        "w=auto,h=400,dpr=2,fit=aspect-crop,g=0.5x0.33,trim=1;2;3;4,rotate=270,flip=hv,q=medium-high,scq=30,"
        "f=baseline-jpeg,anim=false,background=%23ff0000,blur=250,sharpen=10,brightness=1.5,contrast=0.5,"
        "gamma=2,saturation=0,metadata=none,compression=fast,segment=foreground,upscale=generate"
    )
    options = Options.parse(text)
    assert str(options) == text
    assert options.width == "auto" and options.trim == (1, 2, 3, 4) and options.anim is False
    assert options.gravity == (0.5, 0.33) and options.rotate == 270 and options.background == "#ff0000"


def test_trim_border_sub_options() -> None:
    options = Options.parse("trim=border,trim.border.color=%23FFF,trim.border.tolerance=10,trim.border.keep=2")
    assert str(options) == "trim=border,trim.border.color=%23ffffff,trim.border.tolerance=10,trim.border.keep=2"
    assert Options.parse("trim.width=100,trim.height=50,trim.top=3").trim_width == 100


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("background=%23ABC", "background=%23aabbcc"),
        ("background=%2380808080", "background=%2380808080"),
        ("background=Red", "background=red"),
        ("background=rgb%28240%2C40%2C145%29", "background=rgb%28240%2C40%2C145%29"),
        (
            "background=rgb(240,40,145)",
            "background=rgb%28240%2C40%2C145%29",
        ),  # unencoded is accepted, emitted encoded
        ("background=rgba(0,0,0,.50)", "background=rgba%280%2C0%2C0%2C0.5%29"),
        ("background=transparent", "background=transparent"),
    ],
)
def test_colours_have_one_spelling(text: str, canonical: str) -> None:
    assert str(Options.parse(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("w=abc", "\"w=abc\": width must be a positive integer or 'auto'"),
        ("w=0", '"w=0": width must be a positive integer'),
        ("h=-5", '"h=-5": height must be a positive integer'),
        ("h=auto", '"h=auto": height must be a positive integer'),
        ("fit=fill", '"fit=fill": fit must be one of scale-down, contain, cover, crop, pad, squeeze'),
        ("g=middle", '"g=middle": gravity must be one of auto, face, left, right, top, bottom, or XxY'),
        ("g=1.5x0.5", '"g=1.5x0.5": gravity must be'),
        ("g=0.5X0.5", '"g=0.5X0.5": gravity must be'),
        ("q=0", '"q=0": quality must be an integer from 1 to 100 or one of high'),
        ("q=101", '"q=101": quality must be'),
        ("q=best", '"q=best": quality must be'),
        ("scq=200", '"scq=200": slow-connection-quality must be'),
        ("f=png", '"f=png": format must be one of auto, avif, webp, jpeg, baseline-jpeg, json'),
        ("dpr=0", '"dpr=0": dpr must be a number greater than 0 and at most 2'),
        ("dpr=2.5", '"dpr=2.5": dpr must be'),
        ("anim=yes", '"anim=yes": anim must be true or false'),
        ("blur=0", '"blur=0": blur must be an integer from 1 to 250'),
        ("blur=251", '"blur=251": blur must be'),
        ("sharpen=11", '"sharpen=11": sharpen must be a number from 0 to 10'),
        ("brightness=-1", '"brightness=-1": brightness must be a number of at least 0'),
        ("gamma=nan", '"gamma=nan": gamma must be'),
        ("contrast=1e3", '"contrast=1e3": contrast must be'),
        ("rotate=45", '"rotate=45": rotate must be one of 90, 180, 270'),
        ("flip=x", '"flip=x": flip must be one of h, v, hv'),
        ("trim=1;2;3", '"trim=1;2;3": trim must be four integers'),
        ("trim=a;b;c;d", '"trim=a;b;c;d": trim must be four integers'),
        (
            "trim.border.tolerance=256,trim=border",
            '"trim.border.tolerance=256": trim.border.tolerance must be',
        ),
        ("metadata=all", '"metadata=all": metadata must be one of keep, copyright, none'),
        ("compression=slow", '"compression=slow": compression must be one of fast'),
        ("segment=background", '"segment=background": segment must be one of foreground'),
        ("upscale=magic", '"upscale=magic": upscale must be one of interpolate, generate'),
        ("background=%23GGG", '"background=%23GGG": background must be a CSS colour'),
        ("background=rgb(256,0,0)", "colour channel '256'"),
        ("background=notacolour", '"background=notacolour": background must be a CSS colour'),
        ("zoom=0.5", '"zoom=0.5": zoom only applies with gravity=face'),
        ("trim.border.keep=3", '"trim.border.keep=3": trim.border.* options only apply with trim=border'),
        ("trim=1;2;3;4,trim.top=3", "use either trim=top;right;bottom;left"),
    ],
)
def test_bad_values_name_the_part_and_the_rule(text: str, message: str) -> None:
    with pytest.raises(OptionsError) as info:
        Options.parse(text)
    assert message in str(info.value)
    assert info.value.options == text


def test_whole_string_is_quoted_when_it_has_several_parts() -> None:
    with pytest.raises(OptionsError) as info:
        Options.parse("fit=cover,w=abc")
    assert str(info.value) == (
        "invalid flexible-variant options 'fit=cover,w=abc': \"w=abc\": width must be a positive integer or 'auto'"
    )
    assert info.value.part == "w=abc"


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("widht=200", "'width'"),
        ("qualty=80", "'quality'"),
        ("sharp=1", "'sharpen'"),
        ("gravty=face", "'gravity'"),
    ],
)
def test_unknown_names_suggest_the_closest_one(text: str, suggestion: str) -> None:
    with pytest.raises(OptionsError, match=f"unknown option .*; did you mean {suggestion}"):
        Options.parse(text)


def test_unknown_name_without_a_close_match_has_no_suggestion() -> None:
    with pytest.raises(OptionsError) as info:
        Options.parse("zzzzzz=1")
    assert "unknown option 'zzzzzz'" in str(info.value) and "did you mean" not in str(info.value)


def test_remote_only_options_are_refused_for_hosted_images_naming_option_and_form() -> None:
    options = Options.parse("w=10,onerror=redirect")
    assert options.check_form("remote") is options
    with pytest.raises(OptionsError) as info:
        options.check_form("hosted")
    assert info.value.part == "onerror=redirect"
    assert "Image Transformations" in str(info.value) and "images stored in Cloudflare Images" in str(info.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no options given"),
        ("w=200,", "empty option (stray comma?)"),
        (",w=200", "empty option"),
        ("w200", "expected name=value"),
        ("=200", "expected name=value"),
        ("w=1,width=2", "width is given twice (w=1 and width=2)"),
        ("w=%ff", "not valid percent-encoded UTF-8"),
    ],
)
def test_malformed_strings(text: str, reason: str) -> None:
    with pytest.raises(OptionsError, match=reason.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        Options.parse(text)


def test_python_field_names_are_not_url_names() -> None:
    with pytest.raises(OptionsError, match="unknown option 'slow_connection_quality'"):
        Options.parse("slow_connection_quality=low")


def test_keyword_errors_name_the_keyword() -> None:
    with pytest.raises(OptionsError, match=r"\"width='abc'\": width must be a positive integer"):
        Options(width="abc")
    with pytest.raises(OptionsError, match="unknown option 'widht'; did you mean 'width'"):
        Options(widht=3)
    with pytest.raises(OptionsError, match="width must be"):
        Options(width=True)  # a bool is not a number
    with pytest.raises(OptionsError, match="given twice"):
        Options(w=1, width=2)


def test_python_values_are_accepted_in_their_natural_types() -> None:
    assert str(Options(width=200.0, dpr=1.5, anim=False, rotate=90, trim=[1, 2, 3, 4], gravity=[0.1, 0.9])) == (
        "w=200,dpr=1.5,g=0.1x0.9,trim=1;2;3;4,rotate=90,anim=false"
    )
    assert Options(width="200") == Options(width=200)


def test_numbers_are_canonical_to_four_decimals() -> None:
    assert str(Options.parse("sharpen=1.50000,gamma=0.123456")) == "sharpen=1.5,gamma=0.1235"
    assert Options.parse("sharpen=.5") == Options.parse("sharpen=0.5")


def test_replace_and_to_kwargs() -> None:
    base = Options.parse("w=200,fit=cover")
    assert str(base.replace(w=300, quality=70)) == "w=300,fit=cover,q=70"
    assert str(base.replace(fit=None)) == "w=200"
    assert base.to_kwargs() == {"width": 200, "fit": "cover"}
    with pytest.raises(OptionsError, match="width must be"):
        base.replace(width=-1)
    with pytest.raises(OptionsError, match="did you mean 'width'"):
        base.replace(widht=1)


def test_coerce_and_model_validate_apply_the_same_rules() -> None:
    assert Options.coerce("w=5") == Options.coerce({"width": 5}) == Options.coerce(Options(width=5))
    with pytest.raises(ValueError, match="width must be"):
        Options.model_validate({"width": 0})
    with pytest.raises(OptionsError):
        Options.coerce(42)  # type: ignore[arg-type]


def test_parse_rejects_non_strings_with_our_error() -> None:
    with pytest.raises(OptionsError, match="options must be a string"):
        Options.parse(None)  # type: ignore[arg-type]


def test_options_are_immutable_hashable_and_picklable() -> None:
    options = Options.parse("w=200,fit=cover")
    with pytest.raises(ValueError, match="frozen"):
        options.width = 300  # type: ignore[misc]
    assert {options: 1}[Options(width=200, fit="cover")] == 1
    assert pickle.loads(pickle.dumps(options)) == options
    assert repr(options) == "Options('w=200,fit=cover')"


def test_errors_survive_pickling_for_task_queues() -> None:
    with pytest.raises(OptionsError) as info:
        Options.parse("w=abc")
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value) and copy.part == "w=abc"


def test_option_names_lists_every_url_spelling() -> None:
    names = option_names()
    assert {"w", "width", "g", "gravity", "face-zoom", "scq", "trim.border.keep", "upscale"} <= set(names)
    assert len(names) == len(set(names))


# -- keywords are held to the parser's rules, so whatever builds also parses back ---------------------------------


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"width": 10**9}, "width is too large: at most 999999999"),
        ({"width": 1e300}, "width is too large"),
        ({"trim_left": 10**400}, "trim.left is too large"),
        ({"contrast": 1e300}, "contrast is too large: it must be less than 1000000000"),
        ({"gamma": 10**400}, "gamma is too large"),  # float(10**400) raises OverflowError
        ({"sharpen": 10**400}, "sharpen must be a number from 0 to 10"),
        ({"brightness": -(10**400)}, "brightness must be a number of at least 0"),
        ({"saturation": float("nan")}, "saturation must be a number"),
        ({"contrast": float("inf")}, "contrast must be a number"),
        ({"width": float("inf")}, "width must be a positive integer"),
        ({"trim": (10**10, 0, 0, 0)}, "trim must be four integers"),
        ({"gravity": (float("nan"), 0.5)}, "gravity must be one of"),
    ],
)
def test_out_of_range_keywords_raise_options_error(keywords: dict[str, object], message: str) -> None:
    with pytest.raises(OptionsError, match=message) as caught:
        Options(**keywords)
    assert len(str(caught.value)) < 300  # a 400-digit value is not repeated in full


@pytest.mark.parametrize(
    "text", ["w=1000000000", "w=" + "9" * 5000, "contrast=" + "1" * 5000, "trim=1;2;3;" + "4" * 5000]
)
def test_numbers_beyond_the_bound_are_refused_without_converting_them(text: str) -> None:
    with pytest.raises(OptionsError, match=r"too large|trim must be") as caught:
        Options.parse(text)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize(
    "text", ["w=١٢٣", "h=１２", "q=٥٠", "sharpen=٣", "g=٠.٥x0.5", "trim=1;2;3;٤", "background=rgb(٢,3,4)", "blur=²"]
)
def test_only_ascii_digits_are_numbers(text: str) -> None:
    with pytest.raises(OptionsError):
        Options.parse(text)


def test_largest_values_build_and_parse_back() -> None:
    big = Options(width=999_999_999, contrast=999_999_999.9999, trim_left=999_999_999)
    assert Options.parse(str(big)) == big
    assert Options.parse("w=0000000012") == Options(width=12)  # leading zeros are not extra digits


def test_negative_zero_is_written_as_zero() -> None:
    assert str(Options(brightness=-0.0)) == "brightness=0"
    assert Options.parse(str(Options(brightness=-0.0))) == Options(brightness=0)
