"""parse_url: both URL forms, multi-segment ids, named vs flexible, signatures, and round trips."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cfvariants import (
    CFVariantsError,
    Delivery,
    ImageIdError,
    Options,
    OptionsError,
    ParsedURL,
    Transformations,
    TransformationURL,
    URLError,
    VariantError,
    encode_image_id,
    parse_url,
)
from cfvariants._urls import (
    check_account_hash,
    check_host,
    check_variant_name,
    is_plain_id,
    is_remote_source,
    is_url,
    normalize_path,
    parse_delivery_url,
    parse_exp,
    parse_transformation_url,
    redact_userinfo,
)

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


# -- what a string is, and how a URL is shown --------------------------------------------------------------------
# The helpers other parts rely on: whether a template's image reference is a remote source (for Image
# Transformations) or a hosted image, and a URL with its password hidden.


@pytest.mark.parametrize(
    "text",
    [
        "/media/cat.jpg",
        "/cdn-cgi/image/w=100/media/cat.jpg",
        "/cdn-cgi/imagedeliveryX/a.jpg",  # only the /cdn-cgi/imagedelivery/ folder is hosted
        "https://cdn.example.com/a.png",
        "http://cdn.example.com/a.png",
        "HTTPS://CDN.EXAMPLE.COM/a.png",
        "https://cdn.example.com",
        "https://imagedelivery.net.evil.example/a.png",
        "https://imagedelivery.net@evil.example/a.png",  # the host is what follows the @
        "https://[::1]:8080/a.png",
        "https://example.com/cdn-cgi/imagedeliveryX/a.png",
        "https://example.com/media/cdn-cgi/imagedelivery/a.png",
    ],
)
def test_paths_and_urls_outside_cloudflare_images_are_remote_sources(text: str) -> None:
    assert is_remote_source(text) is True


@pytest.mark.parametrize(
    "text",
    [
        f"/cdn-cgi/imagedelivery/{HASH}/cat/public",
        f"https://imagedelivery.net/{HASH}/cat/public",
        f"http://imagedelivery.net/{HASH}/cat/public",
        f"https://IMAGEDELIVERY.NET/{HASH}/cat/public",
        f"https://imagedelivery.net:443/{HASH}/cat/public",
        f"https://ada:pw@imagedelivery.net/{HASH}/cat/public",
        "https://imagedelivery.net",
        f"https://images.example.com/cdn-cgi/imagedelivery/{HASH}/cat/public",  # a custom delivery domain
        f"https://images.example.com:8443/cdn-cgi/imagedelivery/{HASH}/cat/public",
        f"https://[::1]/cdn-cgi/imagedelivery/{HASH}/cat/public",
        f"https://imagedelivery.net/{HASH}/cat/public?next=https://cdn.example.com/a.png",  # a URL in its query
        f"HTTPS://imagedelivery.net/{HASH}/cat/public",
        "083eb7b2-5392-4565-b69e-aff66acddd00",  # image ids
        "users/7/avatar.png",
        "ftp://cdn.example.com/a.png",  # not an http(s) URL: not a source at all
        "",
    ],
)
def test_hosted_images_and_ids_are_not_remote_sources(text: str) -> None:
    assert is_remote_source(text) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://x.example/a", True),
        ("http://x.example/a", True),
        (f"/cdn-cgi/imagedelivery/{HASH}/cat/public", True),
        ("/media/cat.jpg", False),
        ("users/7/avatar.png", False),
    ],
)
def test_is_url_tells_delivery_urls_from_image_ids(text: str, expected: bool) -> None:
    assert is_url(text) is expected


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ada:s3cret@example.com/a.png", "https://***@example.com/a.png"),
        ("https://ada@example.com/a.png", "https://***@example.com/a.png"),
        ("https://a@b:c@example.com:8080/a.png?x=1", "https://***@example.com:8080/a.png?x=1"),
        ("ftp://ada:s3cret@example.com/a.png", "ftp://***@example.com/a.png"),  # whatever the scheme
        ("ada:s3cret@example.com/a.png", "***@example.com/a.png"),  # no scheme at all
        ("https://ada:s3cret@[bad/a.png", "https://***@[bad/a.png"),  # does not parse as a URL
        ("https://ada:s3cret@example.com", "https://***@example.com"),
        ("https://ada:s3cret@example.com?x=1", "https://***@example.com?x=1"),
        ("https://ada:s3cret@example.com#top", "https://***@example.com#top"),
        ("https://example.com/a.png", "https://example.com/a.png"),
        ("https://example.com/me@home.png", "https://example.com/me@home.png"),  # an @ in the path is no password
        ("https://example.com?to=me@home", "https://example.com?to=me@home"),
        ("https://example.com#me@home", "https://example.com#me@home"),
        ("https://example.com/a/me@home/b.png", "https://example.com/a/me@home/b.png"),  # nor after a second '/'
        ("https://example.com/a?b=c@d/e", "https://example.com/a?b=c@d/e"),
        ("https://ada:X9pw@example.com/a", "https://***@example.com/a"),  # any character of a password
        ("https://ADA:PW@EXAMPLE.COM/a", "https://***@EXAMPLE.COM/a"),
        ("", ""),
    ],
)
def test_a_password_in_a_url_is_never_shown(url: str, shown: str) -> None:
    assert redact_userinfo(url) == shown


def test_a_shown_url_is_cut_to_its_limit() -> None:
    long = "https://ada:s3cret@example.com/" + "a" * 300
    shown = redact_userinfo(long)
    assert len(shown) == 200 and shown.endswith("a...") and shown.startswith("https://***@example.com/aaa")
    assert "s3cret" not in shown
    assert redact_userinfo("https://example.com/" + "b" * 10, limit=30) == "https://example.com/" + "b" * 10
    exactly = "https://example.com/" + "b" * 10  # 30 characters: kept whole
    assert redact_userinfo(exactly, limit=len(exactly)) == exactly
    assert redact_userinfo(exactly + "c", limit=len(exactly)) == exactly[:27] + "..."


# -- the less common parts of URLs: fragments, ports, IPv6, trailing dots, bounds ---------------------------------


@pytest.mark.parametrize("tail", ["public#top", "public#a#b", "public?exp=2000000000&sig=ab#top"])
def test_a_fragment_is_not_part_of_a_root_relative_urls_variant(tail: str) -> None:
    parsed = parse_url(f"/cdn-cgi/imagedelivery/{HASH}/cat/{tail}")
    assert isinstance(parsed, ParsedURL) and (parsed.image_id, parsed.variant, parsed.domain) == ("cat", "public", "/")


@pytest.mark.parametrize(
    ("tail", "exp", "sig"),
    [
        ("public#x?exp=2000000000&sig=ab", None, None),  # after the '#': a fragment, not a query
        ("public?exp=2000000000#sig=ab", 2000000000, None),
        ("public?exp=2000000000&sig=ab#exp=1", 2000000000, "ab"),
        ("public#", None, None),
    ],
)
def test_a_fragment_holds_no_signature_in_any_form_of_url(tail: str, exp: int | None, sig: str | None) -> None:
    """What a browser sends is the path and query before the first ``#``: the root-relative form reads the same
    signature as the absolute one (and as ``verify``, which splits URLs as browsers do)."""
    for origin in ("", "https://img.example.com", "http://127.0.0.1:8000"):
        parsed = parse_url(f"{origin}/cdn-cgi/imagedelivery/{HASH}/cat/{tail}")
        assert isinstance(parsed, ParsedURL)
        assert (parsed.image_id, parsed.variant, parsed.exp, parsed.sig) == ("cat", "public", exp, sig), origin


def test_a_blank_exp_is_refused_and_a_blank_sig_is_kept() -> None:
    with pytest.raises(URLError, match=r"exp='' in .* is not a unix timestamp"):
        parse_url(f"https://imagedelivery.net/{HASH}/cat/public?exp=&sig=ab")
    parsed = parse_url(f"https://imagedelivery.net/{HASH}/cat/public?sig=&x=")
    assert isinstance(parsed, ParsedURL) and parsed.sig == "" and parsed.exp is None


def test_an_unsigned_url_has_no_exp() -> None:
    parsed = parse_url(f"https://imagedelivery.net/{HASH}/cat/public")
    assert isinstance(parsed, ParsedURL) and parsed.exp is None and parsed.sig is None and not parsed.is_signed


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("000", 0), ("0001767225600", 1767225600), ("7", 7)])
def test_exp_may_have_leading_zeros(text: str, value: int) -> None:
    assert parse_exp(text) == value


@pytest.mark.parametrize(
    ("path", "pathname"),
    [("a/b", "/a/b"), ("", "/"), ("/a/b/..", "/a/"), ("/a/.", "/a/"), ("/a/%2e%2e", "/"), ("/a/b/../c", "/a/c")],
)
def test_paths_are_normalised_like_a_browser_including_a_trailing_dot_segment(path: str, pathname: str) -> None:
    assert normalize_path(path) == pathname


def test_a_host_may_end_in_a_dot_but_not_start_with_one_and_has_at_most_253_characters() -> None:
    assert check_host("Example.COM.") == "example.com."
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters
    assert check_host(longest) == longest
    for bad in (".example.com", longest + "c", "exa mple.com"):
        with pytest.raises(URLError, match="is not a valid host name"):
            check_host(bad)


def test_ids_are_refused_only_past_1024_characters() -> None:
    longest = "a" * 1024
    assert encode_image_id(longest) == longest and is_plain_id(longest)
    assert Delivery(HASH).url(longest).endswith(f"/{longest}/public")
    with pytest.raises(ImageIdError, match="longer than 1024"):
        encode_image_id(longest + "a")


def test_an_encoded_id_keeps_the_characters_a_path_allows() -> None:
    assert encode_image_id("a b@c~d=e;f.png") == "a%20b@c~d=e;f.png"
    assert encode_image_id("users/7 cat.png") == "users/7%20cat.png"


@pytest.mark.parametrize(
    ("domain", "prefix"),
    [
        ("[::1]:8443", "https://[::1]:8443"),
        ("[::1]", "https://[::1]"),
        ("http://[2001:db8::1]:8080", "http://[2001:db8::1]:8080"),
        ("example.com:1", "https://example.com:1"),
        ("example.com:65535", "https://example.com:65535"),
        ("IMAGES.Example.com", "https://images.example.com"),
    ],
)
def test_custom_domains_with_ports_and_ipv6_addresses(domain: str, prefix: str) -> None:
    url = Delivery(HASH, domain=domain).url("cat")
    assert url == f"{prefix}/cdn-cgi/imagedelivery/{HASH}/cat/public"
    parsed = parse_url(url)
    assert isinstance(parsed, ParsedURL) and Delivery(HASH, domain=parsed.delivery_domain).url("cat") == url


@pytest.mark.parametrize("domain", ["example.com:0", "example.com:65536", "example.com:99999"])
def test_ports_outside_1_to_65535_are_refused_naming_the_domain(domain: str) -> None:
    with pytest.raises(URLError) as caught:
        Delivery(HASH, domain=domain)
    assert str(caught.value).startswith(f"domain {domain!r} has port ") and "from 1 to 65535" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        f"https://img.example.com:0/cdn-cgi/imagedelivery/{HASH}/cat/public",
        f"http://127.0.0.1:00/cdn-cgi/imagedelivery/{HASH}/cat/public",
        f"https://imagedelivery.net:0/{HASH}/cat/public",
        f"https://[::1]:0/cdn-cgi/imagedelivery/{HASH}/cat/public",
        "https://example.com:0/cdn-cgi/image/w=1/a.jpg",
    ],
)
def test_a_url_with_port_0_is_refused_as_a_domain_with_port_0_is(url: str) -> None:
    """No request can reach port 0: a stored URL with it is refused, naming it, as Delivery(domain=...) refuses it,
    rather than re-emitted into pages."""
    for call in (parse_url, lambda u: Delivery(HASH).url(u, "avatar")):
        if "/cdn-cgi/image/" in url and call is not parse_url:
            continue
        with pytest.raises(URLError) as caught:
            call(url)
        shown = url if len(url) <= 80 else url[:80] + "..."
        assert str(caught.value) == f"{shown!r} has port 0; a port is from 1 to 65535"


@pytest.mark.parametrize(
    ("url", "zone", "scheme", "source"),
    [
        ("https://[::1]:8080/cdn-cgi/image/w=1/a.jpg", "[::1]:8080", "https", "/a.jpg"),
        ("http://example.com/cdn-cgi/image/w=1/a.jpg", "http://example.com", "http", "/a.jpg"),
        ("https://example.com/cdn-cgi/image/w=1/a.jpg", "example.com", "https", "/a.jpg"),
        ("https://example.com/cdn-cgi/image/w=1/http://x.example/a.jpg", "example.com", "https", "http://x.example/a.jpg"),
        ("/cdn-cgi/image/w=1/a.jpg", "/", "https", "/a.jpg"),
    ],
)  # fmt: skip
def test_transformation_urls_name_their_zone_scheme_and_source(url: str, zone: str, scheme: str, source: str) -> None:
    parsed = parse_url(url)
    assert isinstance(parsed, TransformationURL)
    assert (parsed.zone, parsed.scheme, parsed.source) == (zone, scheme, source)
    assert parsed.source_is_url is source.startswith("http")


@pytest.mark.parametrize(
    ("url", "zone"),
    [
        ("https://a/cdn-cgi/image/w=1/x.jpg", "a"),  # a one-letter host (an intranet name)
        ("https://IMG.Example.com/cdn-cgi/image/w=1/x.jpg", "img.example.com"),
        ("https://b\u00fccher.example/cdn-cgi/image/w=1/x.jpg", "xn--bcher-kva.example"),
        ("https://[0:0::1]/cdn-cgi/image/w=1/x.jpg", "[::1]"),
        ("https://ada:s3cret@example.com/cdn-cgi/image/w=1/x.jpg", "example.com"),  # a password is never kept
    ],
)
def test_a_transformation_urls_zone_is_its_host_in_normal_form(url: str, zone: str) -> None:
    parsed = parse_url(url)
    assert isinstance(parsed, TransformationURL) and (parsed.zone, parsed.source) == (zone, "/x.jpg")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https:///cdn-cgi/image/w=1/x.jpg", "has no host before /cdn-cgi/image/"),
        ("http:///cdn-cgi/image/w=1/x.jpg", "has no host before /cdn-cgi/image/"),
        ("https://a b/cdn-cgi/image/w=1/x.jpg", "host 'a b' is not a valid host name"),
        ('https://a"b/cdn-cgi/image/w=1/x.jpg', "is not a valid host name"),
    ],
)
def test_a_transformation_url_without_a_valid_host_is_refused(url: str, message: str) -> None:
    """As for delivery URLs: a stored URL whose host is empty or holds spaces or quotes is never taken as a zone
    (its zone would be written into URLs and HTML)."""
    with pytest.raises(URLError) as caught:
        parse_url(url)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "url", ["/cdn-cgi/image/w=100/", "/cdn-cgi/image/w=100", "https://x.example/cdn-cgi/image/w=1/"]
)
def test_a_transformation_url_without_a_source_is_refused(url: str) -> None:
    with pytest.raises(URLError, match="has no source image"):
        parse_url(url)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_host(7), "a host name must be a string, not int"),
        (lambda: check_host("::zz"), "host '::zz' is not a valid IPv6 address"),
        (lambda: check_host("xn--a\u00e9.com"), "is not a valid host name"),
        (lambda: check_account_hash(7), "account hash int is not valid"),
        (lambda: check_account_hash("bad hash!"), "account hash 'bad hash!' is not valid"),
        (lambda: normalize_path(7), "a URL path must be a string, not int"),
        (lambda: normalize_path("/a\ud800"), "is not valid text (it holds a lone surrogate)"),
        (lambda: encode_image_id("a b\ud800"), "image id 'a b\\ud800' is not valid text"),
        (lambda: parse_url(7), "a delivery URL must be a string, not int"),
        (lambda: parse_url(f"/cdn-cgi/imagedelivery/{HASH}/public"), "does not have the <account hash>/<image id>"),
        (lambda: parse_url(f"https://imagedelivery.net/{HASH}/cat/%ff"), "has percent-escapes that are not UTF-8"),
        (lambda: parse_url("https://[::1/cdn-cgi/image/w=1/a.jpg"), "is not a valid URL"),
        (lambda: parse_url("https:///ZWd9g1K7eljCn_KDTu_MWA/cat/public"), "is not a delivery URL"),
        (lambda: encode_image_id("a" * 2000), "image id '" + "a" * 80 + "...' is longer than 1024 characters"),
        (lambda: check_variant_name("-" * 80), "variant '" + "-" * 80 + "' is neither"),
    ],
)  # fmt: skip
def test_each_url_refusal_says_what_was_wrong(call: Callable[[], object], message: str) -> None:
    with pytest.raises(CFVariantsError) as caught:
        call()
    assert message in str(caught.value)


SLASHES = "starts or ends with '/', which Cloudflare does not allow"
SEGMENTS = "has a '.' or '..' segment; browsers resolve those away, so the URL would point at a different image"
NOT_A_HOST = (
    "is not a host name (like images.example.com, optionally with a scheme and port such as http://127.0.0.1:5000)"
)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: encode_image_id("/a"), ImageIdError, f"image id '/a' {SLASHES}"),
        (lambda: Delivery(HASH).url("a/"), ImageIdError, f"image id 'a/' {SLASHES}"),
        (lambda: encode_image_id("s3://b/k"), ImageIdError,
         "image id 's3://b/k' looks like a URL; only http(s) delivery URLs can stand in for an image id"),
        (lambda: encode_image_id("a//b"), ImageIdError, "image id 'a//b' has an empty path segment ('//')"),
        (lambda: encode_image_id("a/./b"), ImageIdError, f"image id 'a/./b' {SEGMENTS}"),
        (lambda: Delivery(HASH).url("a/.."), ImageIdError, f"image id 'a/..' {SEGMENTS}"),
        (lambda: Delivery(HASH, domain="a b"), URLError, f"domain 'a b' {NOT_A_HOST}"),
        (lambda: Delivery(HASH, domain=7), URLError, f"domain 7 {NOT_A_HOST}"),  # type: ignore[arg-type]
        (lambda: Transformations("a b"), URLError, f"zone 'a b' {NOT_A_HOST}"),
        (lambda: check_host("1.2.3.999"), URLError, "host '1.2.3.999' is not a valid IPv4 address or host name"),
        (lambda: check_host("example.123"), URLError, "host 'example.123' is not a valid IPv4 address or host name"),
        (lambda: parse_url("https://example.com/x/y/z"), URLError,
         "'https://example.com/x/y/z' is not a Cloudflare Images delivery URL: expected "
         "https://imagedelivery.net/<hash>/<id>/<variant> or https://<your-domain>/cdn-cgi/imagedelivery/<hash>/<id>/"
         "<variant>"),
        (lambda: parse_url("/cdn-cgi/imagedelivery/../x/y/z"), URLError,
         "'/cdn-cgi/imagedelivery/../x/y/z' leaves /cdn-cgi/imagedelivery/ once '..' segments are resolved"),
        (lambda: parse_delivery_url("https://x.com/cdn-cgi/image/w=1/a.jpg"), URLError,
         "'https://x.com/cdn-cgi/image/w=1/a.jpg' is an Image Transformations URL (/cdn-cgi/image/...) of an image "
         "outside Cloudflare Images, not a delivery URL of a hosted image"),
        (lambda: parse_transformation_url("https://x.com/a.jpg"), URLError,
         "'https://x.com/a.jpg' is not an Image Transformations URL (https://<zone>/cdn-cgi/image/...)"),
        (lambda: parse_url("https://x.com/cdn-cgi/image/avatar/a.jpg"), VariantError,
         "'https://x.com/cdn-cgi/image/avatar/a.jpg': 'avatar' is not a list of options; Image Transformations have "
         "no named variants (those exist only for images stored in Cloudflare Images)"),
        (lambda: parse_url("https://x.com:99999/cdn-cgi/image/w=1/a.jpg"), URLError,
         "'https://x.com:99999/cdn-cgi/image/w=1/a.jpg' is not a valid URL: Port out of range 0-65535"),
        (lambda: parse_url("ftp://x.com/a/b/c"), URLError,
         "'ftp://x.com/a/b/c' is not a delivery URL: expected https://imagedelivery.net/<hash>/<id>/<variant>"),
    ],
)  # fmt: skip
def test_each_url_refusal_says_exactly_what_was_wrong(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    assert str(caught.value) == message


def test_a_long_input_is_shown_cut_to_80_characters_in_a_message() -> None:
    exactly = "a" * 79 + "/"  # 80 characters: shown whole
    with pytest.raises(ImageIdError) as caught:
        encode_image_id(exactly)
    assert str(caught.value).startswith(f"image id {exactly!r} starts or ends")
    longer = "a" * 80 + "/"
    with pytest.raises(ImageIdError) as caught:
        encode_image_id(longer)
    assert str(caught.value).startswith(f"image id {'a' * 80 + '...'!r} starts or ends")
    url = "https://example.com/" + "x" * 100
    with pytest.raises(URLError) as refused:
        parse_url(url)
    assert str(refused.value).startswith(f"{url[:80] + '...'!r} is not a Cloudflare Images delivery URL")


def test_a_long_name_in_a_transformation_url_is_shown_cut_to_40_characters() -> None:
    name = "a" * 41
    with pytest.raises(VariantError) as caught:
        parse_url(f"/cdn-cgi/image/{name}/x.jpg")
    assert f": {'a' * 40!r} is not a list of options" in str(caught.value)


def test_a_long_exp_is_shown_cut_to_30_characters() -> None:
    url = f"https://imagedelivery.net/{HASH}/cat/public?exp={'9' * 50}"
    with pytest.raises(URLError) as caught:
        parse_url(url)
    assert str(caught.value) == (f"exp={'9' * 30 + '...'!r} in {url[:80] + '...'!r} is not a unix timestamp in seconds")
