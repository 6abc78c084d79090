"""Delivery.url / srcset: URL forms, id encoding, stored-URL swapping, immutability and configuration."""

from __future__ import annotations

import itertools
import pickle
import threading

import pytest

from cfvariants import Delivery, ImageIdError, Options, OptionsError, URLError, VariantError

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
BASE = f"https://imagedelivery.net/{HASH}"


@pytest.fixture
def cf() -> Delivery:
    return Delivery(HASH)


def test_named_variant(cf: Delivery) -> None:
    assert cf.url(ID, "avatar") == f"{BASE}/{ID}/avatar"


def test_no_variant_means_public(cf: Delivery) -> None:
    assert cf.url(ID) == f"{BASE}/{ID}/public"


def test_flexible_from_string_is_canonicalised(cf: Delivery) -> None:
    assert cf.url(ID, "w=200,h=100") == f"{BASE}/{ID}/w=200,h=100"
    assert cf.url(ID, "fit=cover,width=200") == f"{BASE}/{ID}/w=200,fit=cover"


def test_flexible_from_keywords_and_options(cf: Delivery) -> None:
    assert cf.url(ID, width=200, fit="cover") == f"{BASE}/{ID}/w=200,fit=cover"
    assert cf.url(ID, Options(width=200, fit="cover")) == f"{BASE}/{ID}/w=200,fit=cover"
    assert cf.url(ID, w=200, fit="cover") == cf.url(ID, fit="cover", width=200)


def test_keywords_are_laid_over_an_option_string(cf: Delivery) -> None:
    assert cf.url(ID, "w=200,fit=cover", width=400, q=70) == f"{BASE}/{ID}/w=400,fit=cover,q=70"


def test_named_variant_cannot_take_keyword_options(cf: Delivery) -> None:
    with pytest.raises(VariantError, match="named variant 'avatar' cannot take options"):
        cf.url(ID, "avatar", width=200)


def test_bad_options_raise_at_build_time(cf: Delivery) -> None:
    with pytest.raises(OptionsError, match='"w=abc": width must be a positive integer'):
        cf.url(ID, "w=abc")
    with pytest.raises(OptionsError, match="did you mean 'width'"):
        cf.url(ID, widht=200)


def test_repeated_keyword_calls_still_validate_each_distinct_value(cf: Delivery) -> None:
    assert cf.url(ID, width=200).endswith("/w=200")
    with pytest.raises(OptionsError):
        cf.url(ID, width="abc")
    assert cf.url(ID, width=300).endswith("/w=300")


@pytest.mark.parametrize(
    "variant",
    ["ava-tar", "ava tar", "", "x" * 100, "av/atar"],
)
def test_bad_variant_names(cf: Delivery, variant: str) -> None:
    with pytest.raises(VariantError, match="is neither a named variant"):
        cf.url(ID, variant)


def test_variant_of_wrong_type(cf: Delivery) -> None:
    with pytest.raises(VariantError, match="not int"):
        cf.url(ID, 200)  # type: ignore[arg-type]
    with pytest.raises(VariantError, match="not list"):
        cf.url(ID, ["w=1"])  # type: ignore[arg-type]
    with pytest.raises(VariantError, match="at least one option"):
        cf.url(ID, Options())


def test_custom_domain_form() -> None:
    cf = Delivery(HASH, domain="images.example.com")
    assert cf.url(ID, "avatar") == f"https://images.example.com/cdn-cgi/imagedelivery/{HASH}/{ID}/avatar"
    assert cf.domain == "images.example.com"


def test_domain_with_scheme_and_port_for_local_development() -> None:
    cf = Delivery(HASH, domain="http://127.0.0.1:5000/")
    assert cf.url(ID, "w=10") == f"http://127.0.0.1:5000/cdn-cgi/imagedelivery/{HASH}/{ID}/w=10"


@pytest.mark.parametrize("domain", ["images.example.com/path", "ftp://x.com", "exa mple.com", "http://"])
def test_bad_domains(domain: str) -> None:
    with pytest.raises(URLError, match="is not a host name"):
        Delivery(HASH, domain=domain)


@pytest.mark.parametrize("account_hash", ["", "has space", "a/b", "x" * 65])
def test_bad_account_hash(account_hash: str) -> None:
    with pytest.raises(URLError, match="account hash"):
        Delivery(account_hash)


def test_stored_delivery_url_has_its_variant_replaced(cf: Delivery) -> None:
    assert cf.url("https://imagedelivery.net/h/id/public", "w=200") == "https://imagedelivery.net/h/id/w=200"


def test_stored_url_keeps_its_own_host_hash_and_multisegment_id(cf: Delivery) -> None:
    stored = "https://img.example.com/cdn-cgi/imagedelivery/OTHER/users/7/avatar.png/public?exp=1&sig=00#x"
    assert cf.url(stored, "thumb") == "https://img.example.com/cdn-cgi/imagedelivery/OTHER/users/7/avatar.png/thumb"


def test_stored_url_is_normalised_like_a_browser(cf: Delivery) -> None:
    # a raw space and non-ASCII in a stored URL are encoded, existing escapes are kept
    assert cf.url("https://imagedelivery.net/h/a b/é%2Fx/public", "avatar") == (
        "https://imagedelivery.net/h/a%20b/%C3%A9%2Fx/avatar"
    )


@pytest.mark.parametrize(
    "stored",
    [
        "https://example.com/h/id/public",  # not imagedelivery.net and no /cdn-cgi/imagedelivery
        "https://imagedelivery.net/h/public",  # no id
        "https://imagedelivery.net/h//public",
        "ftp://imagedelivery.net/h/id/public",
        "https://[::1/h/id/public",
    ],
)
def test_not_a_delivery_url(cf: Delivery, stored: str) -> None:
    with pytest.raises((URLError, ImageIdError), match="URL"):
        cf.url(stored, "avatar")


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("users/7/avatar.png", "users/7/avatar.png"),  # slashes of custom ids stay
        ("my photo.jpg", "my%20photo.jpg"),
        ("café/ü", "caf%C3%A9/%C3%BC"),  # UTF-8, uppercase hex
        ("100%", "100%25"),  # a literal percent
        ("what?", "what%3F"),
        ("a#b", "a%23b"),
        ("a^b", "a%5Eb"),  # in the WHATWG path percent-encode set since 2025
        ('q"<>`{}', "q%22%3C%3E%60%7B%7D"),
        ("back\\slash", "back%5Cslash"),  # a parser would turn a raw backslash into '/'
        ("keep!$&'()*+,;=:@|~[]", "keep!$&'()*+,;=:@|~[]"),
        ("..x/.y", "..x/.y"),  # dots inside a segment are fine
    ],
)
def test_image_ids_are_encoded_as_browsers_and_cloudflare_expect(cf: Delivery, raw: str, encoded: str) -> None:
    assert cf.url(raw, "public") == f"{BASE}/{encoded}/public"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("/leading", "starts or ends with '/'"),
        ("trailing/", "starts or ends with '/'"),
        ("a//b", "empty path segment"),
        ("a/../b", "'.' or '..' segment"),
        ("./b", "'.' or '..' segment"),
        ("..", "'.' or '..' segment"),
        ("x" * 1025, "longer than 1024"),
    ],
)
def test_ids_a_browser_would_rewrite_are_rejected(cf: Delivery, raw: str, reason: str) -> None:
    with pytest.raises(ImageIdError, match=reason):
        cf.url(raw, "public")


def test_non_string_ids(cf: Delivery) -> None:
    with pytest.raises(ImageIdError, match="must be a string, not int"):
        cf.url(42, "public")  # type: ignore[arg-type]
    with pytest.raises(ImageIdError, match="must be a string, not list"):
        cf.url(["a"], "public")  # type: ignore[arg-type]
    with pytest.raises(ImageIdError, match="must be a string, not list"):
        cf.url(["a"], width=5)  # type: ignore[arg-type]


def test_delivery_is_immutable(cf: Delivery) -> None:
    with pytest.raises(AttributeError, match="immutable"):
        cf.account_hash = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        cf._prefix = "x"


def test_delivery_pickles_with_its_key_and_hides_it_in_repr() -> None:
    cf = Delivery(HASH, signing_key="super-secret-key", domain="img.example.com")
    assert "super-secret" not in repr(cf)
    assert repr(cf) == f"Delivery('{HASH}', domain='img.example.com', signing_key='**********')"
    copy = pickle.loads(pickle.dumps(cf))
    assert copy == cf
    assert copy.signed_url(ID, "public", expires_at=2_000_000_000) == cf.signed_url(
        ID, "public", expires_at=2_000_000_000
    )


def test_memo_tables_stay_bounded() -> None:
    cf = Delivery(HASH, cache_size=10)
    urls = [cf.url(f"id{i}", "public") for i in range(100)]
    assert urls[57] == f"{BASE}/id57/public"
    assert all(len(row) <= 10 for row in cf._urls.values())
    for i in range(30):
        for n in range(30):
            cf.url(f"id{n}", width=i + 1)
    assert all(len(row) <= 10 for row in cf._keyword_urls.values())


def test_cache_can_be_disabled_and_gives_the_same_urls() -> None:
    cold = Delivery(HASH, cache_size=0)
    warm = Delivery(HASH)
    for variant in ("avatar", "w=200,fit=cover", None):
        assert cold.url(ID, variant) == warm.url(ID, variant) == warm.url(ID, variant)
    assert [len(row) for row in cold._urls.values()] == [0, 0, 0]  # remembers no URL
    with pytest.raises(ValueError, match="cache_size"):
        Delivery(HASH, cache_size=-1)


def test_concurrent_use_from_threads_gives_correct_urls() -> None:
    cf = Delivery(HASH, cache_size=50)
    errors: list[str] = []

    def work(offset: int) -> None:
        for i in range(2000):
            n = (i * 7 + offset) % 300
            if cf.url(f"img{n}", width=n + 1) != f"{BASE}/img{n}/w={n + 1}":
                errors.append(f"keyword {n}")
            if cf.url(f"img{n}", "avatar") != f"{BASE}/img{n}/avatar":
                errors.append(f"named {n}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_srcset_width_descriptors(cf: Delivery) -> None:
    assert cf.srcset(ID, widths=(640, 320), fit="cover") == (
        f"{BASE}/{ID}/w=320,fit=cover 320w, {BASE}/{ID}/w=640,fit=cover 640w"
    )


def test_srcset_keeps_the_aspect_ratio_when_height_is_set(cf: Delivery) -> None:
    assert cf.srcset(ID, "w=800,h=400,fit=cover", widths=[200, 401]) == (
        f"{BASE}/{ID}/w=200,h=100,fit=cover 200w, {BASE}/{ID}/w=401,h=200,fit=cover 401w"
    )


def test_srcset_density_descriptors(cf: Delivery) -> None:
    assert cf.srcset(ID, "w=200", densities=(1, 1.5, 2)) == (
        f"{BASE}/{ID}/w=200 1x, {BASE}/{ID}/w=200,dpr=1.5 1.5x, {BASE}/{ID}/w=200,dpr=2 2x"
    )


def test_srcset_of_a_fixed_width_defaults_to_1x_2x(cf: Delivery) -> None:
    assert cf.srcset(ID, width=300) == f"{BASE}/{ID}/w=300 1x, {BASE}/{ID}/w=300,dpr=2 2x"


def test_srcset_density_without_other_options_still_has_a_segment(cf: Delivery) -> None:
    assert cf.srcset(ID, densities=(1, 2)) == f"{BASE}/{ID}/dpr=1 1x, {BASE}/{ID}/dpr=2 2x"


def test_fluid_srcset_range_with_tolerance(cf: Delivery) -> None:
    srcset = cf.srcset(ID, min_width=300, max_width=1200, tolerance=0.2)
    widths = [int(part.rsplit(" ", 1)[1][:-1]) for part in srcset.split(", ")]
    assert widths == [300, 420, 588, 824, 1152, 1200]
    assert all(b / a <= 1.41 for a, b in itertools.pairwise(widths))


def test_default_fluid_srcset(cf: Delivery) -> None:
    widths = [int(p.rsplit(" ", 1)[1][:-1]) for p in cf.srcset(ID, fit="scale-down").split(", ")]
    assert widths[0] == 100 and widths[-1] == 4096
    assert all(b / a <= 1.17 for a, b in itertools.pairwise(widths))


def test_named_variant_cannot_make_a_srcset(cf: Delivery) -> None:
    with pytest.raises(VariantError, match="named variant 'avatar' has a fixed size"):
        cf.srcset(ID, "avatar", widths=(100, 200))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"widths": (100,), "densities": (1,)}, "not both"),
        ({"widths": (0, 100)}, "positive integers"),
        ({"widths": ()}, "is empty"),
        ({"densities": (0,)}, "positive numbers"),
        ({"densities": (3,)}, "dpr must be"),
        ({"min_width": 500, "max_width": 100}, "max_width must be"),
        ({"tolerance": 0.001}, "tolerance must be"),
        ({"widths": (100,), "min_width": 50}, "do not also pass"),
        ({"widths": (100,), "dpr": 2}, "dpr cannot be combined with width descriptors"),
        ({"widths": (100,), "height": 50}, "height without width"),
        ({"widths": (100,), "width": "auto"}, "width=auto cannot be combined"),
    ],
)
def test_srcset_errors(cf: Delivery, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(VariantError if "dpr must" not in message else OptionsError, match=message):
        cf.srcset(ID, **kwargs)  # type: ignore[arg-type]


def test_srcset_from_a_stored_url(cf: Delivery) -> None:
    assert (
        cf.srcset("https://imagedelivery.net/h/id/public", widths=[100]) == "https://imagedelivery.net/h/id/w=100 100w"
    )


def test_from_settings_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    monkeypatch.setenv("CF_IMG_HASH", HASH)
    monkeypatch.setenv("CF_IMG_DOMAIN", "images.example.com")
    monkeypatch.setenv("CF_IMG_SIGNING_KEY", "k")
    cf = Delivery.from_settings()
    assert cf.url(ID) == f"https://images.example.com/cdn-cgi/imagedelivery/{HASH}/{ID}/public"
    assert cf.can_sign


def test_from_settings_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    monkeypatch.delenv("CF_IMG_HASH", raising=False)
    from cfvariants import SettingsError

    with pytest.raises(SettingsError, match="CF_IMG_HASH is not set"):
        Delivery.from_settings()


def test_same_site_domain_gives_root_relative_urls() -> None:
    cf = Delivery(HASH, domain="/", signing_key="k")
    assert cf.url(ID, "w=200") == f"/cdn-cgi/imagedelivery/{HASH}/{ID}/w=200"
    assert cf.domain == "/"
    signed = cf.signed_url(ID, "avatar", expires_at=2_000_000_000)
    assert signed.startswith(f"/cdn-cgi/imagedelivery/{HASH}/{ID}/avatar?exp=2000000000&sig=")
    # a root-relative stored URL works in place of an id, like an absolute one
    assert cf.url(f"/cdn-cgi/imagedelivery/{HASH}/users/7/a.png/public", "thumb") == (
        f"/cdn-cgi/imagedelivery/{HASH}/users/7/a.png/thumb"
    )
    assert (
        Delivery(HASH).url(f"/cdn-cgi/imagedelivery/{HASH}/x/public", "w=5") == f"/cdn-cgi/imagedelivery/{HASH}/x/w=5"
    )


def test_root_relative_urls_parse_and_round_trip() -> None:
    from cfvariants import parse_url

    url = Delivery(HASH, domain="/").url("a b/c", "w=200,fit=cover")
    parsed = parse_url(url)
    assert (parsed.domain, parsed.origin, parsed.image_id) == ("/", "", "a b/c")
    assert Delivery(parsed.account_hash, domain=parsed.delivery_domain).url(parsed.image_id, parsed.options) == url
    with pytest.raises(URLError, match="leaves /cdn-cgi/imagedelivery/"):
        parse_url(f"/cdn-cgi/imagedelivery/../../{HASH}/x/public")
