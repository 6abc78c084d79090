"""Property tests: round trips of options and URLs, and robustness against arbitrary text."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cfvariants import CFVariantsError, Delivery, Options, parse_url, verify
from cfvariants._options import FITS, FORMATS, GRAVITIES, METADATA, QUALITY_LEVELS

numbers = st.decimals(min_value=0, max_value=10, places=4, allow_nan=False).map(float)
unit = st.decimals(min_value=0, max_value=1, places=4).map(float)
colours = st.one_of(
    st.sampled_from(["red", "white", "transparent", "rebeccapurple"]),
    st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True),
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(lambda c: "rgb({},{},{})".format(*c)),
)
quality = st.one_of(st.integers(1, 100), st.sampled_from(QUALITY_LEVELS))


@st.composite
def options(draw: st.DrawFn) -> Options:
    values: dict[str, Any] = {}

    def maybe(name: str, strategy: st.SearchStrategy[Any]) -> None:
        if draw(st.booleans()):
            values[name] = draw(strategy)

    maybe("width", st.one_of(st.integers(1, 5000), st.just("auto")))
    maybe("height", st.integers(1, 5000))
    maybe("dpr", st.decimals(min_value="0.01", max_value=2, places=2).map(float))
    maybe("fit", st.sampled_from(FITS))
    maybe("gravity", st.one_of(st.sampled_from(GRAVITIES), st.tuples(unit, unit)))
    if values.get("gravity") == "face":
        maybe("zoom", unit)
    trim_form = draw(st.sampled_from(["none", "sides", "border", "parts"]))
    if trim_form == "sides":
        values["trim"] = draw(st.tuples(*(st.integers(0, 500),) * 4))
    elif trim_form == "border":
        values["trim"] = "border"
        maybe("trim_border_color", colours)
        maybe("trim_border_tolerance", st.integers(0, 255))
        maybe("trim_border_keep", st.integers(0, 50))
    elif trim_form == "parts":
        maybe("trim_top", st.integers(0, 100))
        maybe("trim_width", st.integers(1, 100))
    maybe("rotate", st.sampled_from([90, 180, 270]))
    maybe("flip", st.sampled_from(["h", "v", "hv"]))
    maybe("quality", quality)
    maybe("slow_connection_quality", quality)
    maybe("format", st.sampled_from(FORMATS))
    maybe("anim", st.booleans())
    maybe("background", colours)
    maybe("blur", st.integers(1, 250))
    maybe("sharpen", numbers)
    for name in ("brightness", "contrast", "gamma", "saturation"):
        maybe(name, numbers)
    maybe("metadata", st.sampled_from(METADATA))
    maybe("compression", st.just("fast"))
    maybe("segment", st.just("foreground"))
    maybe("upscale", st.sampled_from(["interpolate", "generate"]))
    if not values:
        values["width"] = draw(st.integers(1, 5000))
    return Options(**values)


@given(options())
def test_options_round_trip_through_their_canonical_string(opts: Options) -> None:
    text = str(opts)
    assert Options.parse(text) == opts
    assert str(Options.parse(text)) == text


@given(options())
def test_canonical_string_has_no_characters_that_break_a_url(opts: Options) -> None:
    assert not set(str(opts)) & set(' #?"<>`{}^\\/()')


# Ids: any text except what the rules forbid (checked separately), including slashes, %, ?, #, unicode.
segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=20
).filter(lambda s: s not in (".", ".."))
image_ids = st.lists(segment, min_size=1, max_size=4).map("/".join).filter(lambda s: "://" not in s)
hashes = st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True)
domains = st.one_of(st.none(), st.sampled_from(["images.example.com", "http://127.0.0.1:8787", "cdn.example.org"]))
named = st.from_regex(r"[A-Za-z0-9]{1,20}", fullmatch=True)


@given(hashes, image_ids, st.one_of(named, options()), domains)
def test_parse_url_round_trips_with_the_builder(
    account_hash: str, image_id: str, variant: str | Options, domain: str | None
) -> None:
    cf = Delivery(account_hash, domain=domain, cache_size=0)
    url = cf.url(image_id, variant)
    parsed = parse_url(url)
    assert parsed.account_hash == account_hash
    assert parsed.image_id == image_id
    if isinstance(variant, Options):
        assert parsed.options == variant and parsed.variant is None
    else:
        assert parsed.variant == variant and parsed.options is None
    assert cf.url(parsed.image_id, parsed.variant_segment) == url


@given(hashes, image_ids, named, st.integers(1, 4_000_000_000), st.text(min_size=1, max_size=40))
def test_signed_urls_verify_and_match_the_generic_signer(
    account_hash: str, image_id: str, variant: str, exp: int, key: str
) -> None:
    from cfvariants import sign_url

    cf = Delivery(account_hash, signing_key=key, cache_size=0)
    signed = cf.signed_url(image_id, variant, expires_at=exp)
    assert signed == sign_url(cf.url(image_id, variant), key, exp=exp)
    assert verify(signed, key, now=exp - 1)
    assert parse_url(signed).exp == exp


@given(st.text(max_size=200))
def test_parsing_arbitrary_options_text_fails_only_with_our_error(text: str) -> None:
    with contextlib.suppress(CFVariantsError):
        Options.parse(text)


@given(st.from_regex(r"(w|h|q|f|g|fit|dpr|blur|trim|background|rotate)=[^,]{0,12}(,[a-z.]{1,8}=[^,]{0,8}){0,3}"))
def test_parsing_option_like_text_fails_only_with_our_error(text: str) -> None:
    with contextlib.suppress(CFVariantsError):
        Options.parse(text)


@given(st.one_of(st.text(max_size=200), st.builds(lambda p: "https://imagedelivery.net/" + p, st.text(max_size=80))))
def test_parsing_arbitrary_urls_fails_only_with_our_error(text: str) -> None:
    with contextlib.suppress(CFVariantsError):
        parse_url(text)


@given(st.text(max_size=100), st.one_of(st.none(), st.text(max_size=30)))
def test_building_from_arbitrary_input_fails_only_with_our_error(image: str, variant: str | None) -> None:
    with contextlib.suppress(CFVariantsError):
        Delivery("h", cache_size=0).url(image, variant)
