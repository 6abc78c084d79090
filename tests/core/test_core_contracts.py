"""Core behaviour that mutation testing showed unguarded: signing against an independent HMAC in the less common
cases, the less common URL forms, and the parts of the public API no other test calls."""

from __future__ import annotations

import hashlib
import hmac
import math
import pickle
import re
import time
from collections.abc import Callable
from urllib.parse import quote

import pytest

from cfvariants import (
    CFVariantsError,
    Delivery,
    ImageIdError,
    Options,
    OptionsError,
    SigningError,
    SigningKey,
    Source,
    URLError,
    parse_url,
    sign_url,
    verify,
)
from cfvariants._signing import expiry, signature_problem
from cfvariants._urls import MAX_EXP

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
EXP = 1767225600


def reference_sig(message: str, key: str | bytes) -> str:
    """Cloudflare's documented procedure, written without any cfvariants code: HMAC-SHA256 over the UTF-8
    message, keyed with the key's UTF-8 text, as lowercase hex."""
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw, message.encode("utf-8"), hashlib.sha256).hexdigest()


def query_of(url: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in url.split("?", 1)[1].split("#", maxsplit=1)[0].split("&"))


# -- signing ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "k" * 64,  # exactly SHA-256's block size: used as it is, neither hashed nor padded
        "k" * 63,
        "k" * 65,  # longer than a block: hashed first
        "é" * 32,  # 32 characters, 64 bytes of UTF-8
        "\u20ac" * 22,  # 22 characters, 66 bytes: longer than a block only in bytes
        b"\x00\xff" * 32,
    ],
)
def test_keys_around_the_block_size_sign_like_the_reference(key: str | bytes) -> None:
    cf = Delivery(HASH, signing_key=key)
    message = f"/{HASH}/{ID}/thumb?exp={EXP}"
    assert (
        cf.signed_url(ID, "thumb", expires_at=EXP)
        == f"https://imagedelivery.net{message}&sig={reference_sig(message, key)}"
    )
    assert sign_url(f"https://imagedelivery.net/{HASH}/{ID}/thumb", key, exp=EXP).endswith(reference_sig(message, key))


def test_an_empty_parameter_and_a_fragment_are_kept_and_the_fragment_is_not_signed() -> None:
    url = f"https://imagedelivery.net/{HASH}/{ID}/public?a=&b=1#top"
    signed = sign_url(url, "key", exp=EXP)
    message = f"/{HASH}/{ID}/public?a=&b=1&exp={EXP}"
    assert signed == f"https://imagedelivery.net{message}&sig={reference_sig(message, 'key')}#top"
    assert verify(signed, "key", now=EXP - 1)


def test_a_duplicate_exp_is_replaced_once_in_place_when_signing_and_refused_when_verifying() -> None:
    url = f"https://imagedelivery.net/{HASH}/{ID}/public?exp=1&v=2&exp=3"
    signed = sign_url(url, "key", exp=EXP)
    message = f"/{HASH}/{ID}/public?exp={EXP}&v=2"  # URLSearchParams.set: the first replaced, the others dropped
    assert signed == f"https://imagedelivery.net{message}&sig={reference_sig(message, 'key')}"
    twice = f"{signed.split('&sig=')[0]}&exp={EXP}&sig={reference_sig(message, 'key')}"
    assert signature_problem(twice, "key", now=EXP - 1) == "the URL has more than one exp or sig parameter"


def test_an_integer_lifetime_under_a_frozen_clock_matches_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    cf = Delivery(HASH, signing_key="key")
    for now in (1_767_225_599.999, 1_767_225_600.0, 1_767_225_600.5):
        monkeypatch.setattr(time, "time", lambda now=now: now)
        for lifetime in (1, 3600, 86_400):
            url = cf.signed_url(ID, "thumb", expires_in=lifetime)
            assert int(query_of(url)["exp"]) == expiry(expires_in=lifetime, now=now) == int(now) + lifetime
            assert url == cf.signed_url(ID, "thumb", expires_at=int(now) + lifetime)
        fractional = cf.signed_url(ID, "thumb", expires_in=0.5)
        assert int(query_of(fractional)["exp"]) == expiry(expires_in=0.5, now=now)


def test_a_new_expiry_for_an_image_signed_before_gives_a_new_signature() -> None:
    cf = Delivery(HASH, signing_key="key")
    first = cf.signed_url(ID, "thumb", expires_at=EXP)
    second = cf.signed_url(ID, "thumb", expires_at=EXP + 1)
    assert first != second and query_of(second)["exp"] == str(EXP + 1)
    assert verify(second, "key", now=EXP) and cf.signed_url(ID, "thumb", expires_at=EXP) == first


def test_the_variant_and_the_image_of_a_signature_are_the_ones_asked_for() -> None:
    cf = Delivery(HASH, signing_key="key")
    avatar = cf.signed_url(ID, "avatar", expires_at=EXP)
    public = cf.signed_url(ID, expires_at=EXP)
    other = cf.signed_url("other-image", "avatar", expires_at=EXP)
    assert f"/{ID}/avatar?" in avatar and f"/{ID}/public?" in public and "/other-image/avatar?" in other
    assert all(verify(url, "key", now=EXP - 1) for url in (avatar, public, other))


# -- URL forms ----------------------------------------------------------------------------------------------------


def test_a_root_relative_signed_url_keeps_its_query_through_parsing() -> None:
    cf = Delivery(HASH, signing_key="key", domain="/")
    signed = cf.signed_url(ID, "thumb", expires_at=EXP)
    parsed = parse_url(signed)
    assert (parsed.domain, parsed.image_id, parsed.variant, parsed.exp) == ("/", ID, "thumb", EXP)
    assert (
        parsed.sig
        == query_of(signed)["sig"]
        == reference_sig(f"/cdn-cgi/imagedelivery/{HASH}/{ID}/thumb?exp={EXP}", "key")
    )


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://imagedelivery.net/{HASH}/{ID}/public",
        f"https://imagedelivery.net/{HASH}//public",
        f"/cdn-cgi/imagedelivery/{HASH}//public",
        f"https://imagedelivery.net/{HASH}/{ID}",
    ],
)
def test_urls_that_are_not_delivery_urls_are_refused(url: str) -> None:
    with pytest.raises(URLError):
        parse_url(url)
    with pytest.raises((URLError, ImageIdError)):  # an ftp URL is no delivery URL, so it is taken as an id
        Delivery(HASH).url(url, "avatar")


def test_an_empty_image_id_is_refused_everywhere() -> None:
    cf = Delivery(HASH, signing_key="key")
    for call in (lambda: cf.url(""), lambda: cf.signed_url("", expires_at=EXP), lambda: cf.path(""),
                 lambda: cf.srcset("", widths=(100,))):  # fmt: skip
        with pytest.raises(ImageIdError, match="empty"):
            call()


def test_an_http_custom_domain_survives_pickling() -> None:
    cf = Delivery(HASH, signing_key="key", domain="http://127.0.0.1:5000")
    copy = pickle.loads(pickle.dumps(cf))
    assert copy.domain == cf.domain == "http://127.0.0.1:5000"
    assert (
        copy.url(ID, "avatar")
        == cf.url(ID, "avatar")
        == f"http://127.0.0.1:5000/cdn-cgi/imagedelivery/{HASH}/{ID}/avatar"
    )
    assert copy.signed_url(ID, "thumb", expires_at=EXP) == cf.signed_url(ID, "thumb", expires_at=EXP)


def test_ids_that_need_encoding_are_encoded_on_first_sight_and_after() -> None:
    cf = Delivery(HASH)
    for image, encoded in [("users/7/a b.png", "users/7/a%20b.png"), ("é", "%C3%A9"), ("a_b-C9", "a_b-C9"),
                           ("100%", "100%25"), ("q?x#y", "q%3Fx%23y"), ("x" * 1024, "x" * 1024)]:  # fmt: skip
        assert (
            cf.url(image, "avatar") == cf.url(image, "avatar") == f"https://imagedelivery.net/{HASH}/{encoded}/avatar"
        )
        assert encoded == quote(image, safe="/")
    with pytest.raises(ImageIdError, match="longer than 1024"):
        cf.url("x" * 1025, "avatar")


# -- API no other test calls --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        (None, f"/{HASH}/{ID}/w=200,fit=cover"),
        ("img.example.com", f"/cdn-cgi/imagedelivery/{HASH}/{ID}/w=200,fit=cover"),
        ("/", f"/cdn-cgi/imagedelivery/{HASH}/{ID}/w=200,fit=cover"),
    ],
)
def test_path_is_the_url_without_its_origin(domain: str | None, expected: str) -> None:
    cf = Delivery(HASH, domain=domain)
    assert cf.path(ID, "fit=cover,w=200") == expected
    assert cf.url(ID, "fit=cover,w=200").endswith(expected)
    assert cf.path(ID) == expected.replace("w=200,fit=cover", "public")
    assert cf.path(f"https://imagedelivery.net/{HASH}/{ID}/public", "avatar") == f"/{HASH}/{ID}/avatar"


def test_picture_passes_sizes_placeholder_attrs_and_densities_on() -> None:
    cf = Delivery(HASH)
    sizes = "(max-width: 600px) 100vw, 50vw"
    widths = cf.picture(ID, "w=640,fit=cover", alt="A cat", formats=("avif",), widths=(320, 640), sizes=sizes,
                        placeholder="blur", class_="hero", data_id="7")  # fmt: skip
    img = re.search(r"<img[^>]*>", widths)
    source = re.search(r"<source[^>]*>", widths)
    assert img is not None and source is not None
    assert (
        'sizes="(max-width: 600px) 100vw, 50vw"' in img.group()
        and 'sizes="(max-width: 600px) 100vw, 50vw"' in source.group()
    )
    assert 'class="hero"' in img.group() and 'data-id="7"' in img.group()
    assert "background-image:url(" in img.group() and "blur=5" in img.group()
    assert f"{HASH}/{ID}/w=320,fit=cover,f=avif 320w" in source.group() and 'type="image/avif"' in source.group()
    dense = cf.picture(ID, "w=300", alt="", densities=(1, 2), sources=[Source("w=600", media="(min-width: 900px)")])
    assert f"/{ID}/w=300,dpr=2 2x" in dense and 'media="(min-width: 900px)"' in dense and f"/{ID}/w=600" in dense
    assert "sizes=" not in dense  # density descriptors take no sizes


def test_options_of_and_img_agree_with_the_variant() -> None:
    cf = Delivery(HASH)
    assert cf.options_of("w=200,fit=cover") == Options(width=200, fit="cover")
    assert cf.options_of("avatar") is None and cf.options_of(None) is None
    with pytest.raises(SigningError, match="flexible options"):
        Delivery(HASH, signing_key="k").signed_url(ID, "w=200", expires_at=EXP)


@pytest.mark.parametrize("key", [b"\x00", b"\x00\x00key", b"key\x00", "keyX", "k" * 64, "k" * 100])
def test_keys_with_nul_bytes_and_long_keys_sign_the_same_after_pickling(key: str | bytes) -> None:
    original = SigningKey(key)
    copy = pickle.loads(pickle.dumps(original))
    message = f"/{HASH}/{ID}/thumb?exp={EXP}"
    assert copy.hexdigest(message) == original.hexdigest(message) == reference_sig(message, key)
    assert copy == original and hash(copy) == hash(original)
    assert {original: "found"}[copy] == "found"
    assert SigningKey(b"other") != original


# -- validation bounds --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("g=0.5x1", "g=0.5x1"), ("g=0x0", "g=0x0"), ("g=1x1", "g=1x1"), ("anim=true", "anim=true"),
     ("anim=false", "anim=false"), ("brightness=0", "brightness=0")],
)  # fmt: skip
def test_inclusive_bounds_and_both_booleans_are_accepted(text: str, canonical: str) -> None:
    assert str(Options.parse(text)) == canonical
    assert Options.parse(canonical) == Options.parse(text)


@pytest.mark.parametrize(
    "text", ["g=0.5x", "g=x0.5", "g=1.01x0", "g=0x1.5", "g=0.5x0.5x0.5", "anim=yes", "anim=1", "brightness=nan",
             "brightness=inf", "contrast=-1"],
)  # fmt: skip
def test_values_past_the_bounds_are_refused_with_our_error(text: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options.parse(text)
    assert caught.value.part == text


@pytest.mark.parametrize("size", [1.5, -1, True, "8", None])
def test_cache_size_must_be_a_whole_non_negative_number(size: object) -> None:
    with pytest.raises(ValueError, match="cache_size"):
        Delivery(HASH, cache_size=size)  # type: ignore[arg-type]


# -- keyword options that cannot be remembered ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [({"trim": [1, 2, 3, 4]}, "w=100,trim=1;2;3;4"), ({"gravity": [0.5, 0.25]}, "w=100,g=0.5x0.25")],
)
def test_a_list_valued_keyword_is_laid_over_the_variant_like_its_tuple(
    keywords: dict[str, object], expected: str
) -> None:
    """A list cannot be a memo key, so it takes the path that validates every time: the variant's own options must
    still be there, in a fresh Delivery, a warm one, and in srcsets."""
    tupled = {name: tuple(value) for name, value in keywords.items()}  # type: ignore[call-overload]
    for cf in (Delivery(HASH), Delivery(HASH, cache_size=0)):
        for _ in range(2):
            assert cf.url(ID, "w=100", **keywords) == f"https://imagedelivery.net/{HASH}/{ID}/{expected}"
            assert cf.url(ID, "w=100", **keywords) == cf.url(ID, "w=100", **tupled)
    assert f"/{ID}/w=200,{expected[6:]} 200w" in Delivery(HASH).srcset(ID, "w=100", widths=(200,), **keywords)


# -- signing: what each refusal says, and the less common inputs ---------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: SigningKey(12), "the signing key must be text or bytes, not int"),
        (lambda: SigningKey("caf\ud800"), "the signing key is not valid text (it holds a lone surrogate)"),
        (lambda: expiry(expires_in=-5), "expires_in must be a positive number of seconds, not -5"),
        (lambda: expiry(expires_in=math.inf), "expires_in must be a positive number of seconds, not inf"),
        (lambda: expiry(expires_at="tomorrow"), "expires_at must be a datetime or unix seconds, not 'tomorrow'"),
        (lambda: expiry(expires_at=math.inf), "expires_at must be a datetime or unix seconds, not inf"),
        (lambda: expiry(expires_at=0), "expires_at must be a datetime or unix seconds, not 0"),
        (lambda: sign_url(7, "key", exp=EXP), "a URL to sign or verify must be a string, not int"),
        (lambda: sign_url("https://imagedelivery.net/\ud800/x", "key", exp=EXP), "it holds a lone surrogate"),
        (lambda: sign_url("https://[::1/x", "key", exp=EXP), "cannot sign 'https://[::1/x': Invalid IPv6 URL"),
        (lambda: sign_url("imagedelivery.net/h/i/v", "key", exp=EXP), "not an absolute http(s) URL"),
    ],
)  # fmt: skip
def test_each_signing_refusal_says_what_was_wrong(call: Callable[[], object], message: str) -> None:
    with pytest.raises(SigningError) as caught:
        call()
    assert message in str(caught.value)


def test_an_expiry_of_zero_is_refused_when_signing() -> None:
    with pytest.raises(SigningError, match="expires_at must be"):
        sign_url(f"https://imagedelivery.net/{HASH}/{ID}/public", "key", exp=0)


def test_a_lifetime_may_reach_the_last_second_of_year_9999_exactly() -> None:
    assert expiry(expires_in=MAX_EXP, now=0) == MAX_EXP
    with pytest.raises(SigningError, match="after year 9999"):
        expiry(expires_in=MAX_EXP + 1, now=0)


def test_http_urls_sign_and_verify_like_https() -> None:
    url = f"http://img.example.com/cdn-cgi/imagedelivery/{HASH}/{ID}/public"
    signed = sign_url(url, "key", exp=EXP)
    message = f"/cdn-cgi/imagedelivery/{HASH}/{ID}/public?exp={EXP}"
    assert signed == f"http://img.example.com{message}&sig={reference_sig(message, 'key')}"
    assert verify(signed, "key", now=EXP - 1)


def test_a_star_in_a_query_parameter_is_signed_unescaped_like_urlsearchparams() -> None:
    """URLSearchParams leaves ``*`` as it is in names and values (and escapes ``~``)."""
    signed = sign_url(f"https://imagedelivery.net/{HASH}/{ID}/public?a*b=c*d~", "key", exp=EXP)
    message = f"/{HASH}/{ID}/public?a*b=c*d%7E&exp={EXP}"
    assert signed == f"https://imagedelivery.net{message}&sig={reference_sig(message, 'key')}"


@pytest.mark.parametrize("key", ["k" * 63 + " ", "k" * 63 + "\n", "k" * 62 + "\t\n"])
def test_a_block_sized_key_ending_in_whitespace_signs_the_same_after_pickling(key: str) -> None:
    """A key read from a file keeps its newline; pickled (to a worker) it must sign exactly as before."""
    copy = pickle.loads(pickle.dumps(SigningKey(key)))
    message = f"/{HASH}/{ID}/public?exp={EXP}"
    assert copy.hexdigest(message) == reference_sig(message, key) == SigningKey(key).hexdigest(message)


# -- Delivery: its repr, and signed URLs refused for what is wrong with them ---------------------------------------


def test_a_deliverys_repr_shows_its_domain_and_hides_its_key() -> None:
    assert repr(Delivery(HASH)) == f"Delivery({HASH!r})"
    assert repr(Delivery(HASH, signing_key="s3cret")) == f"Delivery({HASH!r}, signing_key='**********')"
    assert (
        repr(Delivery(HASH, signing_key="s3cret", domain="img.example.com"))
        == f"Delivery({HASH!r}, domain='img.example.com', signing_key='**********')"
    )


@pytest.mark.parametrize(
    ("image", "variant", "expires_at", "error", "message"),
    [
        (ID, ["avatar"], EXP, "VariantError", "variant must be a name, an option string or Options, not list"),
        ("a\ud800", "avatar", EXP, "ImageIdError", "image id 'a\\ud800' is not valid text"),
        (7, "avatar", EXP, "ImageIdError", "image id must be a string, not int"),
        (ID, "avatar", 0, "SigningError", "expires_at must be a datetime or unix seconds, not 0"),
        (ID, "w=100", EXP, "SigningError", "flexible options 'w=100' cannot be signed"),
    ],
)
def test_a_signed_url_is_refused_for_what_is_wrong_with_it(
    image: object, variant: object, expires_at: int, error: str, message: str
) -> None:
    cf = Delivery(HASH, signing_key="key")
    for _ in range(2):  # the second time after a good signature through the same variant
        with pytest.raises(CFVariantsError) as caught:
            cf.signed_url(image, variant, expires_at=expires_at)  # type: ignore[arg-type]
        assert type(caught.value).__name__ == error and message in str(caught.value)
        cf.signed_url(ID, "avatar", expires_at=EXP)


# -- an option string's error names the whole string, the bad part and why ------------------------------------------


@pytest.mark.parametrize(
    ("text", "part", "reason"),
    [
        ("", None, "no options given; write name=value pairs such as 'w=200,fit=cover'"),
        ("w=100,,h=5", "", "empty option (stray comma?)"),
        ("w=100,h", "h", "expected name=value"),
        ("=5", "=5", "expected name=value"),
        ("w=100,zoomx=1", "zoomx=1", "unknown option 'zoomx'; did you mean 'zoom'?"),
        ("w=100,width=5", "width=5", "width is given twice (w=100 and width=5)"),
        ("w=100,h=%ff", "h=%ff", "value is not valid percent-encoded UTF-8"),
        ("w=100,h=abc", "h=abc", "height must be a positive integer"),
        ("w=a=b", "w=a=b", "width must be a positive integer or 'auto'"),
        (
            "w=100,background=7",
            "background=7",
            "background must be a CSS colour: #rgb, #rrggbb, #rrggbbaa, a colour name, rgb(r,g,b) or rgba(r,g,b,a)",
        ),
    ],
)
def test_a_bad_option_string_names_itself_its_bad_part_and_why(text: str, part: str | None, reason: str) -> None:
    with pytest.raises(OptionsError) as caught:
        Options.parse(text)
    error = caught.value
    assert (error.part, error.options) == (part, text)
    assert reason in str(error)
    assert error.reason == reason
    assert part is None or f'"{part}": ' in str(error)
