"""Django template tags: a real project (tests/django_project), real templates through Django's engine."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django_project import setup

setup()

from django.core.exceptions import ImproperlyConfigured  # noqa: E402 - after settings are configured
from django.core.management import call_command  # noqa: E402
from django.core.management.base import SystemCheckError  # noqa: E402
from django.template import engines  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django_project.gallery.models import Profile  # noqa: E402

from cfvariants import (  # noqa: E402
    Delivery,
    OptionsError,
    TemplateFilterError,
    parse_url,
    verify,
)
from cfvariants.django import _conf as conf  # noqa: E402
from cfvariants.django._checks import check_settings  # noqa: E402

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
KEY = "example-signing-key-123"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
BASE = f"https://imagedelivery.net/{HASH}"
STORED = f"{BASE}/{ID}/public"
CF = {"ACCOUNT_HASH": HASH, "SIGNING_KEY": KEY}
ENV_VARS = ("CF_ACCT_ID", "CF_IMG_TOKEN", "CF_IMG_HASH", "CF_IMG_SIGNING_KEY", "CF_IMG_DOMAIN", "CF_API_BASE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CF_* variables or .env from the machine; the cfvariants caches start fresh."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    conf.reset()
    yield
    conf.reset()


@pytest.fixture
def production() -> Iterator[None]:
    """Outside Django's test environment (as in a deployed site): DEBUG stays as configured (False)."""
    teardown_test_environment()
    try:
        yield
    finally:
        setup_test_environment()


def render(source: str, **context: Any) -> str:
    return engines["django"].from_string("{% load cfvariants %}" + source).render(context)


def profile(image: str = ID, image_url: str = STORED, name: str = "Ada") -> Profile:
    return Profile(name=name, image=image, image_url=image_url)


# -- as the original app used them ----------------------------------------------------------------------------------


def test_the_original_apps_template() -> None:
    out = render_to_string("profile.html", {"profile": profile(), "alt": "Ada's avatar"})
    assert out.strip().split("\n") == [
        f'<img src="{BASE}/{ID}/w=200" alt="Ada&#x27;s avatar">',
        f'<img src="{BASE}/{ID}/avatar" alt="Ada&#x27;s avatar">',
        f'<img src="{BASE}/{ID}/w=200,h=200,fit=cover" srcset="{BASE}/{ID}/w=200 200w, {BASE}/{ID}/w=400 400w" '
        'alt="Ada">',
    ]


def test_image_field_files_are_read_by_their_name() -> None:
    photo = profile(image="users/7/me.png")
    assert render("{{ p.image|variant:'avatar' }}", p=photo) == f"{BASE}/users/7/me.png/avatar"
    assert render("{{ p.image|variant }}", p=photo) == f"{BASE}/users/7/me.png/public"


def test_variant_filter_takes_options_from_the_context() -> None:
    assert render("{{ i|variant:v }}", i=ID, v="fit=cover,width=300") == f"{BASE}/{ID}/w=300,fit=cover"


def test_signed_variant_lifetime_comes_from_settings() -> None:
    before = int(time.time())
    url = unescape(render("{{ i|signed_variant:'avatar' }}", i=ID))
    assert verify(url, KEY)
    exp = parse_url(url).exp
    assert exp is not None
    assert before + 3600 <= exp <= int(time.time()) + 3600
    with override_settings(CFVARIANTS={**CF, "SIGNED_EXPIRES_IN": timedelta(minutes=10)}):
        exp = parse_url(unescape(render("{{ i|signed_variant:'avatar' }}", i=ID))).exp
    assert exp is not None
    assert exp <= int(time.time()) + 600


def test_srcset_filter_forms() -> None:
    assert render("{{ i|srcset:'320,640,960' }}", i=ID) == (
        f"{BASE}/{ID}/w=320 320w, {BASE}/{ID}/w=640 640w, {BASE}/{ID}/w=960 960w"
    )
    assert render("{{ i|srcset:'1x,2x' }}", i=ID) == f"{BASE}/{ID}/dpr=1 1x, {BASE}/{ID}/dpr=2 2x"
    fluid = render("{{ i|srcset:'fit=cover' }}", i=ID).split(", ")
    assert fluid[0] == f"{BASE}/{ID}/w=100,fit=cover 100w"
    assert fluid[-1] == f"{BASE}/{ID}/w=4096,fit=cover 4096w"
    assert render("{{ i|srcset:widths }}", i=ID, widths=[480]) == f"{BASE}/{ID}/w=480 480w"


# -- tags -----------------------------------------------------------------------------------------------------------


def test_cf_img_tag_with_keyword_arguments() -> None:
    out = render(
        "{% cf_img p.image 'w=640,h=360,fit=cover' alt=title widths='320,640' sizes='50vw' placeholder='blur' "
        "class='hero' data_id=7 %}",
        p=profile(),
        title='Ada "the first" & <co>',
    )
    assert out == (
        f'<img src="{BASE}/{ID}/w=640,h=360,fit=cover" '
        f'srcset="{BASE}/{ID}/w=320,h=180,fit=cover 320w, {BASE}/{ID}/w=640,h=360,fit=cover 640w" sizes="50vw" '
        'width="640" height="360" alt="Ada &#34;the first&#34; &amp; &lt;co&gt;" loading="lazy" decoding="async" '
        f'style="background-image:url(&#34;{BASE}/{ID}/w=32,h=18,fit=cover,q=30,blur=5&#34;);background-size:cover;'
        'background-position:center;background-repeat:no-repeat" class="hero" data-id="7">'
    )


def test_cf_img_and_cf_preload_tags_take_layouts() -> None:
    with override_settings(CFVARIANTS=CF):
        out = render(
            "{% cf_preload p.image layout='constrained' width=800 height=600 %}"
            "{% cf_img p.image alt='A' layout='constrained' width=800 height=600 priority=True %}",
            p=profile(),
        )
    link, image = out.split("><", 1)
    assert link.startswith('<link rel="preload" as="image" imagesrcset="') and 'fetchpriority="high"' in link
    assert f"{BASE}/{ID}/w=1668,h=1251,fit=cover 1668w" in image  # 2x of 800, snapped to the ladder
    assert 'sizes="(min-width: 800px) 800px, 100vw" width="800" height="600"' in image
    assert 'loading="eager" fetchpriority="high" decoding="sync"' in image
    assert unescape(link.split('imagesrcset="')[1].split('"')[0]) in unescape(image)


def test_cf_img_in_a_template_file_loop() -> None:
    out = render_to_string("gallery.html", {"profiles": [profile(name="Ada"), profile(image="b", name="Bob")]})
    items = [line for line in out.split("\n") if line.startswith("<li>")]
    assert len(items) == 2
    assert items[1].startswith(f'<li><img src="{BASE}/b/w=640,h=360,fit=cover" srcset="{BASE}/b/w=320,h=180')
    assert 'alt="Bob" loading="lazy" decoding="async" class="hero"></li>' in items[1]


def test_tags_store_their_result_with_as() -> None:
    out = render(
        "{% cf_srcset i 'fit=cover' widths='320,640' as candidates %}{% cf_img i 'avatar' alt='' as tag %}"
        "[{{ candidates }}]({{ tag }})",
        i=ID,
    )
    assert out == (
        f"[{BASE}/{ID}/w=320,fit=cover 320w, {BASE}/{ID}/w=640,fit=cover 640w]"
        f'(<img src="{BASE}/{ID}/avatar" alt="" loading="lazy" decoding="async">)'
    )


def test_cf_srcset_and_cf_url_tags() -> None:
    assert render("{% cf_srcset i 'w=200' densities='1x,2x' %}", i=ID) == (
        f"{BASE}/{ID}/w=200 1x, {BASE}/{ID}/w=200,dpr=2 2x"
    )
    assert render("{% cf_url i width=200 fit='cover' %}", i=ID) == f"{BASE}/{ID}/w=200,fit=cover"
    signed = unescape(render("{% cf_url p.image_url 'avatar' signed=True expires_in=600 %}", p=profile()))
    assert signed.startswith(f"{BASE}/{ID}/avatar?exp=")
    assert verify(signed, KEY)


def test_cf_picture_tag() -> None:
    assert render("{% cf_picture i 'w=800' alt='' formats='avif' %}", i=ID) == (
        f'<picture><source type="image/avif" srcset="{BASE}/{ID}/w=800,f=avif">'
        f'<img src="{BASE}/{ID}/w=800" alt="" loading="lazy" decoding="async"></picture>'
    )


@pytest.mark.parametrize("autoescape", [True, False])
def test_autoescape_on_and_off(autoescape: bool) -> None:
    source = "<a href=\"{{ i|signed_variant:'avatar' }}\">{% cf_img i 'avatar' alt=t %}</a>"
    if not autoescape:
        source = "{% autoescape off %}" + source + "{% endautoescape %}"
    out = render(source, i=ID, t="Tom & Jerry")
    href = out.split('"')[1]
    assert ("&amp;sig=" in href) is autoescape
    assert verify(unescape(href), KEY)
    assert out.endswith(f'<img src="{BASE}/{ID}/avatar" alt="Tom &amp; Jerry" loading="lazy" decoding="async"></a>')


# -- missing images ---------------------------------------------------------------------------------------------------


def test_missing_images_render_nothing_never_none() -> None:
    out = render(
        "[{{ p.image|variant:'w=200' }}][{{ missing|variant:'avatar' }}][{{ none|signed_variant:'avatar' }}]"
        "[{{ p.image|srcset:'320' }}][{% cf_img p.image 'w=10' alt='x' %}][{% cf_url none %}]",
        p=profile(image="", image_url=""),
        none=None,
    )
    assert out == "[][][][][][]"


def test_placeholder_from_settings_including_static_paths() -> None:
    with override_settings(CFVARIANTS={**CF, "PLACEHOLDER": "img/no-avatar.png"}):
        out = render("{{ p.image|variant:'w=200' }}|{% cf_img p.image alt='None yet' %}", p=profile(image=""))
    assert out == (
        '/static/img/no-avatar.png|<img src="/static/img/no-avatar.png" alt="None yet" loading="lazy" decoding="async">'
    )


# -- errors: raise in tests and DEBUG, fall back in production -------------------------------------------------------


def test_bad_options_raise_under_tests_naming_value_and_filter() -> None:
    with pytest.raises(TemplateFilterError) as caught:
        render("{{ i|variant:'w=abc' }}", i="abc123")
    assert str(caught.value) == (
        "variant filter on 'abc123' with 'w=abc': \"w=abc\": width must be a positive integer or 'auto'"
    )
    assert isinstance(caught.value.__cause__, OptionsError)


def test_tags_name_themselves_in_errors() -> None:
    with pytest.raises(
        TemplateFilterError, match=r"^cf_img tag on (Cloudflare)?ImageFieldFile 'abc' with 'w=1': .*alt text"
    ):
        render("{% cf_img p.image 'w=1' %}", p=profile(image="abc"))
    with pytest.raises(TemplateFilterError, match=r"^cf_srcset tag on 'abc' with 'avatar', widths='320'"):
        render("{% cf_srcset i 'avatar' widths='320' %}", i="abc")


def test_debug_raises_in_production(production: None) -> None:
    with override_settings(DEBUG=True), pytest.raises(TemplateFilterError, match="w=abc"):
        render("{{ i|variant:'w=abc' }}", i=ID)


def test_production_falls_back_and_warns_once(production: None, caplog: pytest.LogCaptureFixture) -> None:
    source = "{% for p in ps %}{{ p.image_url|variant:'w=abc' }}|{{ p.image|variant:'w=abc' }}|{% endfor %}"
    with caplog.at_level(logging.WARNING, logger="cfvariants.django"):
        for _ in range(3):
            out = render(source, ps=[profile(), profile(image="other")])
    assert out == f"{STORED}|{BASE}/{ID}/public|{STORED}|{BASE}/other/public|"
    assert len(caplog.records) == 1  # one (filter, variant) problem: one warning, whatever the renders and images
    assert caplog.records[0].getMessage().startswith(f"variant filter on {STORED!r} with 'w=abc'")


def test_explicit_on_error_wins_over_the_default(caplog: pytest.LogCaptureFixture) -> None:
    with override_settings(CFVARIANTS={**CF, "ON_ERROR": "fallback"}), caplog.at_level(logging.WARNING):
        assert render("{% cf_img i 'w=abc' alt='A' %}", i=ID) == (
            f'<img src="{BASE}/{ID}/public" alt="A" loading="lazy" decoding="async">'
        )
    assert "cf_img tag on" in caplog.text


# -- configuration ----------------------------------------------------------------------------------------------------


def test_override_settings_rebuilds_the_delivery() -> None:
    assert render("{{ i|variant:'avatar' }}", i=ID) == f"{BASE}/{ID}/avatar"
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": "other", "DOMAIN": "http://127.0.0.1:8000"}):
        assert render("{{ i|variant:'avatar' }}", i=ID) == (
            f"http://127.0.0.1:8000/cdn-cgi/imagedelivery/other/{ID}/avatar"
        )
    assert render("{{ i|variant:'avatar' }}", i=ID) == f"{BASE}/{ID}/avatar"


def test_environment_answers_what_settings_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_IMG_HASH", "fromenv")
    monkeypatch.setenv("CF_IMG_DOMAIN", "img.example.com")
    with override_settings(CFVARIANTS={"SIGNED_EXPIRES_IN": 60}):
        assert render("{{ i|variant }}", i="x") == "https://img.example.com/cdn-cgi/imagedelivery/fromenv/x/public"
    with override_settings(CFVARIANTS={"DOMAIN": ""}):  # an empty string switches the environment's value off
        assert render("{{ i|variant }}", i="x") == "https://imagedelivery.net/fromenv/x/public"


def test_precedence_options_then_settings_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_ACCT_ID", "env-account")
    monkeypatch.setenv("CF_IMG_TOKEN", "env-token")
    monkeypatch.setenv("CF_API_BASE", "http://127.0.0.1:9/client/v4")
    with override_settings(CFVARIANTS={**CF, "API_TOKEN": "settings-token", "ACCOUNT_ID": None}):
        config = conf.load(api_token="options-token", api_base=None)
        assert config.settings.account_id == "env-account"  # None in settings: the environment answers
        assert config.settings.require("api_token") == "options-token"
        assert config.settings.api_base == "http://127.0.0.1:9/client/v4"
        assert config.settings.account_hash == HASH
        assert "settings-token" not in repr(config) and "options-token" not in repr(config)
        assert KEY not in repr(config)
        assert conf.load().settings.require("api_token") == "settings-token"
        assert conf.get_delivery() == Delivery(HASH, signing_key=KEY)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"ACOUNT_HASH": "x"}, "unknown key 'ACOUNT_HASH' (did you mean 'ACCOUNT_HASH'?)"),
        ({"ON_ERROR": "ignore"}, "ON_ERROR'] must be 'raise' or 'fallback'"),
        ({"SIGNED_EXPIRES_IN": "1h"}, "SIGNED_EXPIRES_IN'] must be positive seconds or a timedelta, not '1h'"),
        ({"SIGNED_EXPIRES_IN": timedelta(0)}, "SIGNED_EXPIRES_IN'] must be positive seconds"),
        ({"API_BASE": "ftp://x"}, "CFVARIANTS['API_BASE'] must be an http(s) URL"),
        ("ZWd9g1K7eljCn_KDTu_MWA", "settings.CFVARIANTS must be a dict"),
    ],
)
def test_bad_settings_are_reported_by_key_and_by_the_system_check(value: object, message: str) -> None:
    with override_settings(CFVARIANTS=value):
        with pytest.raises(ImproperlyConfigured) as caught:
            render("{{ i|variant }}", i=ID)
        assert message in str(caught.value)
        problems = check_settings()
    assert [problem.id for problem in problems] == ["cfvariants.E001"]
    assert message in problems[0].msg


def test_unknown_storage_options_are_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"OPTIONS has an unknown key 'acount_id' \(did you mean 'account"):
        conf.load(acount_id="x")


def test_a_missing_account_hash_is_a_warning_then_a_clear_error() -> None:
    with override_settings(CFVARIANTS={"ON_ERROR": "fallback"}):
        assert [problem.id for problem in check_settings()] == ["cfvariants.W001"]
        with pytest.raises(ImproperlyConfigured, match=r"CF_IMG_HASH is not set.*CFVARIANTS\['ACCOUNT_HASH'\]"):
            render("{{ i|variant }}", i=ID)  # a configuration error raises even with ON_ERROR fallback


def test_a_good_configuration_passes_the_system_check() -> None:
    assert check_settings() == []


@pytest.mark.parametrize(
    ("config", "check_id", "message"),
    [
        ({"TRANSFORM_DEFAULTS": "f=auto"}, "cfvariants.E007", "TRANSFORM_DEFAULTS'] is set, but no zone"),
        ({"ZONE": "not a host"}, "cfvariants.E008", "zone 'not a host' is not a host name"),
        ({"ZONE": "https://www.example.com/media"}, "cfvariants.E008", "ZONE']"),
    ],
)
def test_a_setting_that_needs_a_zone_is_a_system_check_error(
    config: dict[str, str], check_id: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CF_IMG_ZONE", raising=False)
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH, **config}):
        problems = check_settings()
    assert [problem.id for problem in problems] == [check_id]
    assert message in problems[0].msg
    good = {"ACCOUNT_HASH": HASH, "TRANSFORM_DEFAULTS": "f=auto", "ZONE": "www.example.com"}
    with override_settings(CFVARIANTS=good):
        assert check_settings() == []


def test_manage_py_check_runs_the_check() -> None:
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": "not a hash!"}), pytest.raises(SystemCheckError) as caught:
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    assert "(cfvariants.E002) account hash 'not a hash!' is not valid" in str(caught.value)
