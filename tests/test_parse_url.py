"""parse_url: both URL forms, multi-segment ids, named vs flexible, signatures, and round trips."""

from __future__ import annotations

import pytest

from cfvariants import Delivery, Options, OptionsError, URLError, VariantError, parse_url

HASH = "ZWd9g1K7eljCn_KDTu_MWA"


def test_named_variant_on_imagedelivery() -> None:
    parsed = parse_url(f"https://imagedelivery.net/{HASH}/083eb7b2/avatar")
    assert (parsed.account_hash, parsed.image_id, parsed.variant, parsed.options) == (
        HASH,
        "083eb7b2",
        "avatar",
        None,
    )
    assert parsed.domain is None and not parsed.is_flexible and not parsed.is_signed
    assert parsed.origin == "https://imagedelivery.net"


def test_flexible_options_are_parsed_into_options() -> None:
    parsed = parse_url(f"https://imagedelivery.net/{HASH}/id/fit=cover,w=200")
    assert parsed.options == Options(width=200, fit="cover")
    assert parsed.variant is None and parsed.is_flexible
    assert parsed.variant_segment == "w=200,fit=cover"


def test_custom_domain_and_multi_segment_custom_id() -> None:
    parsed = parse_url(f"https://img.example.com/cdn-cgi/imagedelivery/{HASH}/users/7/me.png/public")
    assert parsed.domain == "img.example.com"
    assert parsed.image_id == "users/7/me.png"
    assert parsed.variant == "public"


def test_percent_escapes_in_ids_are_decoded_to_the_raw_id() -> None:
    parsed = parse_url(f"https://imagedelivery.net/{HASH}/my%20photo%25%3F%C3%A9/public")
    assert parsed.image_id == "my photo%?é"


def test_signature_parameters() -> None:
    parsed = parse_url(f"https://imagedelivery.net/{HASH}/id/public?exp=1767225600&sig=abc")
    assert parsed.exp == 1767225600 and parsed.sig == "abc" and parsed.is_signed


def test_local_emulator_origin_with_port() -> None:
    parsed = parse_url(f"http://127.0.0.1:8787/cdn-cgi/imagedelivery/{HASH}/id/public")
    assert parsed.domain == "127.0.0.1:8787" and parsed.scheme == "http"
    assert parsed.origin == "http://127.0.0.1:8787"


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("https://example.com/a/b/c", URLError, "not a Cloudflare Images delivery URL"),
        (f"https://imagedelivery.net/{HASH}/public", URLError, "does not have the"),
        ("imagedelivery.net/h/id/public", URLError, "not a delivery URL"),
        ("https://imagedelivery.net/bad hash!/id/public", URLError, "account hash"),
        (f"https://imagedelivery.net/{HASH}/id/w=abc", OptionsError, "width must be"),
        (f"https://imagedelivery.net/{HASH}/id/bad-name", VariantError, "neither a named variant"),
        (f"https://imagedelivery.net/{HASH}/id/public?exp=tomorrow", URLError, "not a unix timestamp"),
        (f"https://imagedelivery.net/{HASH}/%ff/public", URLError, "not UTF-8"),
    ],
)
def test_errors(url: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_url(url)


@pytest.mark.parametrize("domain", [None, "images.example.com", "http://localhost:5000"])
@pytest.mark.parametrize(
    ("image_id", "variant"),
    [
        ("083eb7b2-5392-4565-b69e-aff66acddd00", "avatar"),
        ("users/7/avatar.png", "w=200,h=100,fit=cover"),
        ("odd ?#%^ é", "background=rgb(1,2,3),blur=5"),
    ],
)
def test_round_trip_with_the_builder(domain: str | None, image_id: str, variant: str) -> None:
    cf = Delivery(HASH, domain=domain)
    url = cf.url(image_id, variant)
    parsed = parse_url(url)
    assert parsed.image_id == image_id
    assert parsed.account_hash == HASH
    rebuilt_domain = None if parsed.domain is None else (
        parsed.domain if parsed.scheme == "https" else parsed.origin
    )  # fmt: skip
    assert Delivery(parsed.account_hash, domain=rebuilt_domain).url(parsed.image_id, parsed.variant_segment) == url


# -- stored URLs: only a valid host is re-emitted -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        'x" onerror="alert(1)" a="',
        "a b.example",
        "exa<mple.com",
        "-leading.example",
        "a..b",
        "1.2.3",  # numeric last label but not an IPv4 address
        "256.1.1.1",
        "x" * 64 + ".example",
    ],
)
def test_a_stored_url_with_an_invalid_host_is_refused(host: str) -> None:
    url = f"https://{host}/cdn-cgi/imagedelivery/{HASH}/abc/public"
    with pytest.raises(URLError, match="host"):
        parse_url(url)
    with pytest.raises(URLError, match="host"):
        Delivery(HASH).url(url, "w=200")
    with pytest.raises(URLError):
        Delivery(HASH, domain=host)


@pytest.mark.parametrize(
    ("host", "emitted"),
    [
        ("Images.Example.COM", "images.example.com"),
        ("127.0.0.1:8787", "127.0.0.1:8787"),
        ("[::1]:5000", "[::1]:5000"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("user:secret@images.example.com", "images.example.com"),  # userinfo is never re-emitted
    ],
)
def test_valid_hosts_are_emitted_in_normal_form(host: str, emitted: str) -> None:
    url = Delivery(HASH).url(f"https://{host}/cdn-cgi/imagedelivery/{HASH}/abc/public", "w=200")
    assert url == f"https://{emitted}/cdn-cgi/imagedelivery/{HASH}/abc/w=200"


@pytest.mark.parametrize("exp", ["1" * 5000, "١٢٣", "999999999999", "-1", "1e9"])
def test_an_exp_that_is_not_a_timestamp_is_a_url_error(exp: str) -> None:
    with pytest.raises(URLError, match="is not a unix timestamp"):
        parse_url(f"https://imagedelivery.net/{HASH}/id/public?exp={exp}&sig=ab")
