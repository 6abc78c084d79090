"""Property tests: every public core function, given arbitrary input, returns or raises a ``CFVariantsError``;
options built from any keywords parse back from their canonical string.

Hypothesis runs derandomised with no example database (tests/conftest.py), so CI sees the same examples every run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cfvariants import (
    CFVariantsError,
    Delivery,
    Options,
    SigningKey,
    Source,
    Transformations,
    encode_image_id,
    parse_url,
    sign_url,
    verify,
)
from cfvariants._html import fluid_widths
from cfvariants._options import option_names
from cfvariants._signing import expiry, signature_problem
from cfvariants._transformations import encode_source
from cfvariants._urls import check_account_hash, check_host, normalize_path, parse_delivery_url

HASH = "ZWd9g1K7eljCn_KDTu_MWA"

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**8, max_value=10**400),
    st.floats(),
    st.floats(min_value=1e8, max_value=1e12),
    st.decimals(allow_nan=True),
)
texts = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9٠-٩０-９.x;-]{1,14}", fullmatch=True),  # digit-like text, including non-ASCII digits
    st.sampled_from(["auto", "border", "face", "cover", "true", "red", "#fff", "rgb(1,2,3)", "high", "nan", "inf"]),
    st.text(st.characters(codec=None, min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=4),  # lone surrogates
    st.builds(
        lambda host, rest: f"https://{host}/cdn-cgi/imagedelivery/{HASH}/{rest}", st.text(max_size=12), st.text()
    ),
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    texts,
    st.binary(max_size=8),
    st.tuples(numbers, numbers),
    st.lists(st.one_of(st.integers(-5, 10**10), texts), max_size=5),
)
option_fields = st.sampled_from([*Options.model_fields, *option_names()])


@given(st.dictionaries(option_fields, anything, max_size=4))
def test_keyword_options_either_fail_with_our_error_or_parse_back_from_their_string(keywords: dict[str, Any]) -> None:
    try:
        built = Options(**keywords)
    except CFVariantsError:
        return
    if not built.is_empty:
        assert Options.parse(str(built)) == built  # build-time validation is parse-time validation
        assert str(Options.parse(str(built))) == str(built)


@given(st.dictionaries(option_fields, anything, max_size=3))
def test_url_keywords_build_urls_that_parse_back(keywords: dict[str, Any]) -> None:
    cf = Delivery(HASH, cache_size=0)
    try:
        url = cf.url("abc", **keywords)
    except CFVariantsError:
        return
    parsed = parse_url(url)
    assert cf.url(parsed.image_id, parsed.variant_segment) == url


def _calls(draw: Callable[[st.SearchStrategy[Any]], Any]) -> list[Callable[[], object]]:
    a, b, c, d = (draw(anything) for _ in range(4))
    cf = Delivery(HASH, signing_key="k", cache_size=draw(st.sampled_from([0, 8])))
    zone = Transformations("images.example.com")
    return [
        lambda: Delivery(a, domain=b, signing_key=c),
        lambda: Delivery(HASH, domain=a),
        lambda: Delivery(HASH, cache_size=a),
        lambda: cf.url(a, b),
        lambda: cf.url("abc", None, **{str(a): b}),
        lambda: cf.path(a, b),
        lambda: cf.signed_url(a, b, expires_in=c),
        lambda: cf.signed_url("abc", "avatar", expires_in=a, expires_at=b),
        lambda: cf.srcset(a, b, widths=c),
        lambda: cf.srcset("abc", "w=200", widths=a, densities=b),
        lambda: cf.srcset("abc", "fit=cover", min_width=a, max_width=b, tolerance=c),
        lambda: cf.img(a, b, alt=c),
        lambda: cf.img("abc", "w=200", alt="", widths=a, sizes=b, placeholder=c, data_x=d),
        lambda: cf.picture("abc", "w=200", alt="", formats=a if isinstance(a, list) else [a]),
        lambda: cf.img("abc", alt="", layout=a, width=b, height=c, original=d),
        lambda: cf.img("abc", alt="", layout="constrained", width=a, height=b, widths=c, priority=d),
        lambda: cf.picture("abc", alt="", layout="fixed", width=100, height=100, densities=a, sizes=b),
        lambda: cf.preload_link("abc", layout=a, width=b, original=c, densities=d),
        lambda: cf.srcset("abc", layout="full-width", original=a, widths=b),
        lambda: cf.picture("abc", "w=200", alt="", sources=[Source(a, media=b, widths=c, densities=d)]),
        lambda: Options.parse(a),
        lambda: Options.coerce(a),
        lambda: Options(width=200).replace(**{str(a): b}),
        lambda: parse_url(a),
        lambda: encode_image_id(a),
        lambda: sign_url(a, "k", exp=b),
        lambda: sign_url("https://imagedelivery.net/h/i/public", a, exp=b),
        lambda: verify(a, "k", now=None),
        lambda: signature_problem(a, b),
        lambda: SigningKey(a),
        lambda: expiry(expires_in=a, expires_at=b),
        lambda: check_host(a),
        lambda: check_account_hash(a),
        lambda: normalize_path(a),
        lambda: fluid_widths(a, b, c),
        lambda: parse_delivery_url(a),
        lambda: Transformations(a, defaults=b),
        lambda: zone.url(a, b),
        lambda: zone.url("https://example.com/a.jpg", None, **{str(a): b}),
        lambda: zone.srcset(a, b, widths=c),
        lambda: zone.img(a, b, alt=c),
        lambda: encode_source(a),
    ]


@settings(max_examples=300)
@given(st.data())
def test_public_functions_raise_only_our_errors_on_arbitrary_input(data: st.DataObject) -> None:
    for call in _calls(data.draw):
        with contextlib.suppress(CFVariantsError):
            call()
