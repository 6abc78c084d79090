"""Image Transformations URLs (``/cdn-cgi/image/<options>/<source>``): forms, per-form option rules, markup,
and the round trip through ``parse_url``."""

from __future__ import annotations

import pickle
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_html import tags

from cfvariants import (
    Delivery,
    Options,
    OptionsError,
    Transformations,
    TransformationURL,
    URLError,
    VariantError,
    parse_url,
)
from cfvariants._urls import normalize_path, parse_delivery_url

ZONE = "www.example.com"
PREFIX = f"https://{ZONE}/cdn-cgi/image"


@pytest.fixture
def tr() -> Transformations:
    return Transformations(ZONE)


def test_a_path_source_is_appended_after_the_canonical_options(tr: Transformations) -> None:
    assert tr.url("/media/cat.jpg", "w=200") == f"{PREFIX}/w=200/media/cat.jpg"
    assert tr.url("/media/cat.jpg", "fit=cover,width=200,height=100") == f"{PREFIX}/w=200,h=100,fit=cover/media/cat.jpg"


def test_an_absolute_source_url_is_appended_as_cloudflare_documents_it(tr: Transformations) -> None:
    url = tr.url("https://uploads.example.net/a/cat.jpg?v=3", width=200)
    assert url == f"{PREFIX}/w=200/https://uploads.example.net/a/cat.jpg?v=3"


def test_keywords_options_objects_and_mappings_give_the_same_url(tr: Transformations) -> None:
    expected = f"{PREFIX}/w=200,fit=cover/media/cat.jpg"
    assert tr.url("/media/cat.jpg", width=200, fit="cover") == expected
    assert tr.url("/media/cat.jpg", Options(w=200, fit="cover")) == expected
    assert tr.url("/media/cat.jpg", {"fit": "cover", "width": 200}) == expected
    assert tr.url("/media/cat.jpg", "w=100", width=200, fit="cover") == expected  # keywords win


def test_zone_root_relative_scheme_and_port() -> None:
    assert Transformations("/").url("/media/cat.jpg", "w=200") == "/cdn-cgi/image/w=200/media/cat.jpg"
    assert (
        Transformations("http://127.0.0.1:8000").url("/m/a.png", "w=1")
        == "http://127.0.0.1:8000/cdn-cgi/image/w=1/m/a.png"
    )
    assert (
        Transformations("https://Example.COM:8443/").url("/a.png", "w=1")
        == "https://example.com:8443/cdn-cgi/image/w=1/a.png"
    )
    with pytest.raises(URLError, match="zone 'not a host' is not a host name"):
        Transformations("not a host")
    with pytest.raises(URLError, match="zone must be"):
        Transformations("")


def test_only_what_a_path_cannot_hold_is_percent_encoded(tr: Transformations) -> None:
    assert tr.url("/media/my cat é.jpg", "w=2") == f"{PREFIX}/w=2/media/my%20cat%20%C3%A9.jpg"
    assert tr.url("/media/my%20cat.jpg", "w=2") == f"{PREFIX}/w=2/media/my%20cat.jpg"  # Django's url() is encoded
    assert tr.url("/media/a\\b.jpg", "w=2") == f"{PREFIX}/w=2/media/a%5Cb.jpg"  # a browser would make it a/b.jpg


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("/media/../settings.py", "'..' segment"),
        ("/media/%2e%2e/secret.jpg", "'..' segment"),
        ("/media/%2E./secret.jpg", "'..' segment"),
        ("/media/./cat.jpg", "'..' segment"),
        ("https://cdn.example.net/a/../b.jpg", "'..' segment"),
        ("media/cat.jpg", "neither a path on the zone"),
        ("ftp://example.net/cat.jpg", "neither a path on the zone"),
        ("//evil.example/cat.jpg", "protocol-relative"),
        ("https://user:pw@example.net/cat.jpg", "credentials"),
        ("/cdn-cgi/image/w=10/cat.jpg", "already transformed"),
        ("https://imagedelivery.net/h/id/public", "use Delivery|resize hosted images with Delivery"),
        ("", "neither a path"),
    ],
)
def test_sources_that_would_point_elsewhere_are_refused(tr: Transformations, source: str, reason: str) -> None:
    with pytest.raises(URLError, match=reason):
        tr.url(source, "w=200")


def test_named_variants_do_not_exist_for_transformations(tr: Transformations) -> None:
    with pytest.raises(VariantError, match="'avatar' is a named variant, and Image Transformations have none"):
        tr.url("/media/cat.jpg", "avatar")
    with pytest.raises(VariantError, match="named variant"):
        tr.img("/media/cat.jpg", "avatar", alt="")
    with pytest.raises(VariantError, match="named variant"):
        tr.picture("/media/cat.jpg", "avatar", alt="", formats=("webp",))


def test_at_least_one_option_is_required(tr: Transformations) -> None:
    with pytest.raises(OptionsError, match="needs at least one"):
        tr.url("/media/cat.jpg")
    with pytest.raises(OptionsError, match="needs at least one"):
        tr.url("/media/cat.jpg", "")


def test_format_is_not_implied_and_defaults_opt_in() -> None:
    assert "f=" not in Transformations(ZONE).url("/a.jpg", "w=200")
    auto = Transformations(ZONE, defaults={"format": "auto"})
    assert auto.url("/a.jpg", "w=200") == f"{PREFIX}/w=200,f=auto/a.jpg"
    assert auto.url("/a.jpg") == f"{PREFIX}/f=auto/a.jpg"  # the defaults are an option
    assert auto.url("/a.jpg", "w=200,f=webp") == f"{PREFIX}/w=200,f=webp/a.jpg"  # given options win


def test_options_of_one_form_are_refused_in_the_other_naming_option_and_form() -> None:
    tr, cf = Transformations(ZONE), Delivery("ZWd9g1K7eljCn_KDTu_MWA")
    assert tr.url("/a.jpg", "w=200,onerror=redirect") == f"{PREFIX}/w=200,onerror=redirect/a.jpg"
    for build in (
        lambda: cf.url("abc", "w=200,onerror=redirect"),
        lambda: cf.url("abc", width=200, onerror="redirect"),
        lambda: cf.srcset("abc", onerror="redirect", widths=(100, 200)),
    ):
        with pytest.raises(OptionsError) as info:
            build()
        assert info.value.part == "onerror=redirect"
        assert "only applies to Image Transformations" in str(info.value)
        assert "not to images stored in Cloudflare Images" in str(info.value)


def test_srcset_img_and_picture_share_the_hosted_builder(tr: Transformations) -> None:
    srcset = tr.srcset("/m/cat.jpg", "w=640,h=360,fit=cover", widths=(320, 640))
    assert srcset == f"{PREFIX}/w=320,h=180,fit=cover/m/cat.jpg 320w, {PREFIX}/w=640,h=360,fit=cover/m/cat.jpg 640w"
    assert tr.srcset("/m/cat.jpg", "w=300") == f"{PREFIX}/w=300/m/cat.jpg 1x, {PREFIX}/w=300,dpr=2/m/cat.jpg 2x"
    ((tag, attrs),) = tags(tr.img("/m/cat.jpg", "w=640,h=360,fit=cover", alt='a "cat" <b>', widths=(320, 640)))
    assert tag == "img" and attrs["src"] == f"{PREFIX}/w=640,h=360,fit=cover/m/cat.jpg"
    assert attrs["srcset"] == srcset and attrs["alt"] == 'a "cat" <b>'
    assert (attrs["width"], attrs["height"]) == ("640", "360")
    picture = tags(tr.picture("/m/cat.jpg", "w=640", alt="", formats=("avif", "webp")))
    assert [(t, a.get("type"), a.get("srcset")) for t, a in picture[:3]] == [
        ("picture", None, None),
        ("source", "image/avif", f"{PREFIX}/w=640,f=avif/m/cat.jpg"),
        ("source", "image/webp", f"{PREFIX}/w=640,f=webp/m/cat.jpg"),
    ]
    blur = tags(tr.img("/m/cat.jpg", "w=640", alt="", placeholder="blur"))[0][1]["style"]
    assert blur is not None and f"{PREFIX}/w=32,q=30,blur=5/m/cat.jpg" in blur


def test_delivery_and_transformations_markup_differ_only_in_urls() -> None:
    cf, tr = Delivery("ZWd9g1K7eljCn_KDTu_MWA"), Transformations(ZONE)
    hosted = str(cf.img("abc", "w=640,fit=cover", alt="x", widths=(320, 640), class_="hero"))
    remote = str(tr.img("/m/c.jpg", "w=640,fit=cover", alt="x", widths=(320, 640), class_="hero"))
    assert remote.replace(f"{PREFIX}/", "@").replace("/m/c.jpg", "") == hosted.replace(
        "https://imagedelivery.net/ZWd9g1K7eljCn_KDTu_MWA/abc/", "@"
    )


@pytest.mark.parametrize(
    ("zone", "source", "options"),
    [
        (ZONE, "/media/cat.jpg", "w=200"),
        ("/", "/media/a b.jpg", "w=200,h=100,fit=cover,g=face,zoom=0.5"),
        ("http://127.0.0.1:8000", "/static/x.png", "q=high,scq=low,onerror=redirect"),
        ("images.example.com:8443", "https://uploads.example.net/x.jpg?sig=1", "flip=hv,rotate=90,segment=foreground"),
        (ZONE, "/m/c.jpg", "fit=squeeze,w=10,h=10,dpr=2,upscale=generate"),
    ],
)
def test_round_trip_through_parse_url(zone: str, source: str, options: str) -> None:
    tr = Transformations(zone)
    url = tr.url(source, options)
    parsed = parse_url(url)
    assert isinstance(parsed, TransformationURL)
    assert parsed.options == Options.parse(options)
    assert Transformations(parsed.zone).url(parsed.source, parsed.options) == url
    assert parsed.source_is_url == source.startswith("https://")


def test_parse_url_refuses_what_a_transformation_url_cannot_hold() -> None:
    with pytest.raises(VariantError, match="no named variants"):
        parse_url(f"{PREFIX}/avatar/media/cat.jpg")
    with pytest.raises(URLError, match="no source image"):
        parse_url(f"{PREFIX}/w=200")
    with pytest.raises(URLError, match="is an Image Transformations URL"):
        parse_delivery_url(f"{PREFIX}/w=200/a.jpg")
    with pytest.raises(OptionsError, match="width must be"):
        parse_url(f"{PREFIX}/w=abc/a.jpg")


def test_the_newer_options_and_their_bounds_apply_in_this_form(tr: Transformations) -> None:
    assert tr.url("/a.jpg", "flip=h,fit=scale-up,w=10") == f"{PREFIX}/w=10,fit=scale-up,flip=h/a.jpg"
    assert tr.url("/a.jpg", "g=face,zoom=0.3,w=10") == f"{PREFIX}/w=10,g=face,zoom=0.3/a.jpg"
    with pytest.raises(OptionsError, match="dpr must be"):
        tr.url("/a.jpg", "w=10,dpr=3")
    with pytest.raises(OptionsError, match="zoom only applies with gravity=face"):
        tr.url("/a.jpg", "w=10,zoom=0.5")


def test_immutable_picklable_and_equal_by_value() -> None:
    tr = Transformations(ZONE, defaults="f=auto")
    assert pickle.loads(pickle.dumps(tr)) == tr
    assert hash(Transformations(ZONE, defaults="f=auto")) == hash(tr)
    assert tr != Transformations(ZONE)
    assert repr(tr) == "Transformations('www.example.com', defaults='f=auto')"
    with pytest.raises(AttributeError, match="immutable"):
        tr._zone = "x"  # type: ignore[misc]


def test_from_settings_reads_cf_img_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    from cfvariants import SettingsError

    monkeypatch.delenv("CF_IMG_ZONE", raising=False)
    with pytest.raises(SettingsError, match="CF_IMG_ZONE is not set"):
        Transformations.from_settings()
    monkeypatch.setenv("CF_IMG_ZONE", "shop.example.com")
    assert Transformations.from_settings().url("/a.jpg", "w=1") == "https://shop.example.com/cdn-cgi/image/w=1/a.jpg"


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="?#/\x00"), min_size=1, max_size=12), min_size=1, max_size=4
    )
)
def test_a_built_url_is_never_rewritten_by_a_browser_and_names_its_source(segments: list[str]) -> None:
    """Whatever the file names, a transformation URL either is refused or points at exactly that file: a
    browser leaves its path as it is (no dot segment, backslash or unencoded character to rewrite), and its
    source decodes back to the name it was built from."""
    source = "/media/" + "/".join(segments)
    try:
        url = Transformations("/").url(source, "w=200")
    except URLError:
        assert any(s.replace("%2e", ".").replace("%2E", ".") in (".", "..") or "\\" in s for s in segments) or any(
            unquote(s) in (".", "..") for s in segments
        )
        return
    assert normalize_path(url) == url
    parsed = parse_url(url)
    assert isinstance(parsed, TransformationURL)
    assert unquote(parsed.source) == unquote(source)
