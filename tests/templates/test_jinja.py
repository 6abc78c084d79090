"""Jinja filters: real templates rendered (sync and async, autoescape on and off), HTML asserted."""

from __future__ import annotations

import logging
import re
import time
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, StrictUndefined
from jinja2.exceptions import UndefinedError

import cfvariants.jinja
from cfvariants import (
    CFVariantsError,
    Delivery,
    OptionsError,
    SettingsError,
    SigningError,
    TemplateFilterError,
    parse_url,
    verify,
)
from cfvariants._templating import ImageFilters

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
KEY = "example-signing-key-123"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
BASE = f"https://imagedelivery.net/{HASH}"
STORED = f"{BASE}/{ID}/public"  # a delivery URL kept in a database, as the original app's profile.image_url
PLACEHOLDER = "https://example.com/static/no-avatar.png"


def env_with(autoescape: bool = True, enable_async: bool = False, **config: Any) -> Environment:
    env = Environment(autoescape=autoescape, enable_async=enable_async)
    config.setdefault("delivery", Delivery(HASH, signing_key=KEY))
    cfvariants.jinja.install(env, **config)
    return env


def render(source: str, env: Environment | None = None, **context: Any) -> str:
    return (env or env_with()).from_string(source).render(**context)


class Profile:
    def __init__(self, image_url: str | None, name: str = "Ada") -> None:
        self.image_url = image_url
        self.name = name


class Photo:
    """A model of ours: says which image it is through __cf_image__."""

    def __init__(self, image_id: str) -> None:
        self.pk = 1
        self._image_id = image_id

    def __cf_image__(self) -> str:
        return self._image_id


# -- the usage of the issue ---------------------------------------------------------------------------------------


def test_variant_of_a_stored_delivery_url_and_of_an_id() -> None:
    out = render(
        "<img src=\"{{ profile.image_url | variant('w=200') }}\">|{{ image_id | variant('avatar') }}"
        "|{{ image_id | variant(width=200, fit='cover') }}|{{ image_id | variant }}",
        profile=Profile(STORED),
        image_id=ID,
    )
    assert out == (f'<img src="{BASE}/{ID}/w=200">|{BASE}/{ID}/avatar|{BASE}/{ID}/w=200,fit=cover|{BASE}/{ID}/public')


def test_variant_takes_model_objects() -> None:
    assert render("{{ photo | variant('avatar') }}", photo=Photo("users/7/me.png")) == f"{BASE}/users/7/me.png/avatar"


def test_variant_keyword_is_accepted_by_name() -> None:
    assert render("{{ i | variant(variant='avatar') }}", i=ID) == f"{BASE}/{ID}/avatar"


def test_signed_variant_with_an_expiry_and_the_default_hour() -> None:
    env = env_with(autoescape=False)
    before = int(time.time())
    short = render("{{ i | signed_variant('avatar', expires_in=600) }}", env, i=ID)
    default = render("{{ i | signed_variant('avatar') }}", env, i=ID)
    for url, lifetime in ((short, 600), (default, 3600)):
        assert url.startswith(f"{BASE}/{ID}/avatar?exp=")
        assert verify(url, KEY)
        exp = parse_url(url).exp
        assert exp is not None
        assert before + lifetime <= exp <= int(time.time()) + lifetime


def test_signed_variant_default_lifetime_is_configurable() -> None:
    env = env_with(autoescape=False, signed_expires_in=60)
    exp = parse_url(render("{{ i | signed_variant('avatar') }}", env, i=ID)).exp
    assert exp is not None
    assert exp - time.time() <= 61


def test_srcset_forms() -> None:
    out = render(
        "{{ i | srcset([320, 640]) }}\n{{ i | srcset([320, 640], 'fit=cover') }}\n"
        "{{ i | srcset(widths=[320], variant='fit=cover') }}\n{{ i | srcset('1x,2x', 'w=100') }}\n"
        "{{ i | srcset('w=100', densities=[1, 1.5]) }}\n{{ i | srcset('320,640') }}",
        i=ID,
    )
    assert out.split("\n") == [
        f"{BASE}/{ID}/w=320 320w, {BASE}/{ID}/w=640 640w",
        f"{BASE}/{ID}/w=320,fit=cover 320w, {BASE}/{ID}/w=640,fit=cover 640w",
        f"{BASE}/{ID}/w=320,fit=cover 320w",
        f"{BASE}/{ID}/w=100 1x, {BASE}/{ID}/w=100,dpr=2 2x",
        f"{BASE}/{ID}/w=100 1x, {BASE}/{ID}/w=100,dpr=1.5 1.5x",
        f"{BASE}/{ID}/w=320 320w, {BASE}/{ID}/w=640 640w",
    ]


def test_cf_img_markup_with_everything_passed_through() -> None:
    out = render(
        "{{ p.image_url | cf_img('w=640,h=360,fit=cover', alt=p.name, widths=[320, 640], sizes='50vw', "
        "placeholder='blur', class='hero', data_id=7) }}",
        p=Profile(STORED, name='Ada "Countess" <Lovelace>'),
    )
    assert out == (
        f'<img src="{BASE}/{ID}/w=640,h=360,fit=cover" '
        f'srcset="{BASE}/{ID}/w=320,h=180,fit=cover 320w, {BASE}/{ID}/w=640,h=360,fit=cover 640w" sizes="50vw" '
        'width="640" height="360" alt="Ada &#34;Countess&#34; &lt;Lovelace&gt;" loading="lazy" decoding="async" '
        f'style="background-image:url(&#34;{BASE}/{ID}/w=32,h=18,fit=cover,q=30,blur=5&#34;);background-size:cover;'
        'background-position:center;background-repeat:no-repeat" class="hero" data-id="7">'
    )


def test_cf_picture() -> None:
    out = render("{{ i | cf_picture('w=800', alt='', formats='avif,webp') }}", i=ID)
    assert out == (
        f'<picture><source type="image/avif" srcset="{BASE}/{ID}/w=800,f=avif">'
        f'<source type="image/webp" srcset="{BASE}/{ID}/w=800,f=webp">'
        f'<img src="{BASE}/{ID}/w=800" alt="" loading="lazy" decoding="async"></picture>'
    )


# -- escaping and async --------------------------------------------------------------------------------------------

PAGE = "<a href=\"{{ i | signed_variant('avatar', expires_at=1767225600) }}\">{{ i | cf_img('avatar', alt=title) }}</a>"


@pytest.mark.parametrize("autoescape", [True, False])
def test_autoescape_on_and_off(autoescape: bool) -> None:
    out = render(PAGE, env_with(autoescape=autoescape), i=ID, title="Tom & Jerry")
    href = out.split('"')[1]
    if autoescape:
        assert "&amp;sig=" in href
        assert 'alt="Tom &amp; Jerry"' in out  # escaped once (cf_img is Markup: not escaped twice)
    else:
        assert "&sig=" in href
        assert "&amp;" not in href
        assert 'alt="Tom &amp; Jerry"' in out  # cf_img escapes its own attributes either way
    assert verify(unescape(href), KEY, now=1767225000)
    assert out.endswith(f'<img src="{BASE}/{ID}/avatar" alt="Tom &amp; Jerry" loading="lazy" decoding="async"></a>')


@pytest.mark.parametrize("autoescape", [True, False])
async def test_async_environment_renders_the_same(autoescape: bool) -> None:
    context = {"i": ID, "title": "Tom & Jerry"}
    sync = render(PAGE, env_with(autoescape=autoescape), **context)
    env = env_with(autoescape=autoescape, enable_async=True)
    assert await env.from_string(PAGE).render_async(**context) == sync
    source = "{% for p in ps %}{{ p.image_url | variant('w=200') }};{{ p | variant }};{% endfor %}"
    assert await env.from_string(source).render_async(ps=[Profile(STORED), Profile(None)]) == (
        f"{BASE}/{ID}/w=200;{STORED};;;"  # a Profile is read through its image_url; without one: nothing
    )


# -- missing images -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on_error", ["raise", "fallback"])
def test_none_and_undefined_render_empty_never_none(on_error: str) -> None:
    env = env_with(on_error=on_error)
    source = (
        "[{{ p.image_url | variant('w=200') }}][{{ missing | variant('avatar') }}][{{ '' | srcset([320]) }}]"
        "[{{ none | signed_variant('avatar') }}][{{ missing | cf_img('w=10', alt='x') }}]"
    )
    assert render(source, env, p=Profile(None), none=None) == "[][][][][]"


def test_missing_images_render_the_placeholder() -> None:
    env = env_with(placeholder=PLACEHOLDER)
    source = "{{ p.image_url | variant('w=200') }}|{{ missing | cf_img('w=10', alt='No photo', class='round') }}"
    assert render(source, env, p=Profile(None)) == (
        f'{PLACEHOLDER}|<img src="{PLACEHOLDER}" alt="No photo" loading="lazy" decoding="async" class="round">'
    )


def test_strict_undefined_stays_strict() -> None:
    env = Environment(undefined=StrictUndefined)
    cfvariants.jinja.install(env, Delivery(HASH))
    with pytest.raises(UndefinedError, match="'missing' is undefined"):
        env.from_string("{{ missing | variant('w=200') }}").render()


# -- errors: raise (default) --------------------------------------------------------------------------------------


def test_bad_options_raise_naming_the_value_and_the_filter() -> None:
    with pytest.raises(TemplateFilterError) as caught:
        render("{{ i | variant('w=abc') }}", i="abc123")
    assert str(caught.value) == (
        "variant filter on 'abc123' with 'w=abc': \"w=abc\": width must be a positive integer or 'auto'"
    )
    assert isinstance(caught.value.__cause__, OptionsError)
    assert isinstance(caught.value, CFVariantsError)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ i | variant(width=0, fit='cover') }}", "variant filter on 'abc' with width=0, fit='cover': "),
        ("{{ i | variant('widht=200') }}", "did you mean 'width'?"),
        ("{{ p | variant('w=200') }}", "variant filter on Photo 'a/../b' with 'w=200': image id 'a/../b' has a"),
        ("{{ 42 | variant('avatar') }}", "variant filter on int with 'avatar': int is not an image"),
        ("{{ i | srcset([320, 'x']) }}", "srcset filter on 'abc' with widths=[320, 'x']: srcset width 'x' is not"),
        ("{{ i | srcset([320], 'avatar') }}", "named variant 'avatar' has a fixed size"),
        ("{{ i | cf_img('w=10') }}", "cf_img filter on 'abc' with 'w=10': cf_img filter needs alt text"),
        ("{{ i | signed_variant('w=200') }}", "flexible options 'w=200' cannot be signed"),
    ],
)
def test_each_filter_names_itself_and_the_problem(source: str, message: str) -> None:
    with pytest.raises(TemplateFilterError, match=re.escape(message)):
        render(source, i="abc", p=Photo("a/../b"))


def test_signing_without_a_key_raises_with_the_policy() -> None:
    env = env_with(delivery=Delivery(HASH))
    with pytest.raises(TemplateFilterError, match=r"signed_variant filter on 'abc' with 'avatar'.*no signing key"):
        render("{{ i | signed_variant('avatar') }}", env, i="abc")


# -- errors: fallback ---------------------------------------------------------------------------------------------


def test_fallback_keeps_the_page_rendering_with_unmodified_urls(caplog: pytest.LogCaptureFixture) -> None:
    env = env_with(on_error="fallback")
    template = env.from_string(
        "{{ p.image_url | variant('w=abc') }}|{{ i | variant('w=abc') }}|{{ bad | variant('w=200') }}"
        "|{{ i | srcset([320], 'avatar') }}|{{ i | cf_img('w=abc', alt='A', class='hero') }}"
    )
    with caplog.at_level(logging.WARNING, logger="cfvariants.jinja"):
        out = template.render(p=Profile(STORED), i=ID, bad="a/../b")
    assert out.split("|") == [
        STORED,  # the stored URL, as it is
        f"{BASE}/{ID}/public",  # an id: its public URL
        "",  # no usable URL and no placeholder
        f"{BASE}/{ID}/public",
        f'<img src="{BASE}/{ID}/public" alt="A" loading="lazy" decoding="async" class="hero">',
    ]


def test_fallback_warns_once_per_filter_and_variant_not_per_render(caplog: pytest.LogCaptureFixture) -> None:
    env = env_with(on_error="fallback", delivery=Delivery(HASH, signing_key=KEY))
    template = env.from_string(
        "{% for i in ids %}{{ i | variant('w=abc') }}{{ i | variant('h=-1') }}{{ i | signed_variant('w=1') }}"
        "{% endfor %}"
    )
    with caplog.at_level(logging.WARNING, logger="cfvariants.jinja"):
        for _ in range(3):
            template.render(ids=[f"id{n}" for n in range(50)])
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3
    assert messages[0].startswith("variant filter on 'id0' with 'w=abc': \"w=abc\": width must be")
    assert messages[1].startswith("variant filter on 'id0' with 'h=-1'")
    assert messages[2].startswith("signed_variant filter on 'id0' with 'w=1'")
    assert all(KEY not in message for message in messages)


def test_the_already_warned_set_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    env = env_with(on_error="fallback")
    images = env.cfvariants  # type: ignore[attr-defined]
    assert isinstance(images, ImageFilters)
    template = env.from_string("{% for n in range(3000) %}{{ 'abc' | variant('w=' ~ n ~ 'x') }}{% endfor %}")
    with caplog.at_level(logging.WARNING, logger="cfvariants.jinja"):
        template.render()
    assert len(caplog.records) == 3000  # each is a distinct problem: each is reported
    assert len(images._warned) <= 1024  # ... but the memory of them stays bounded


def test_fallback_renders_the_placeholder_when_nothing_else_is_usable() -> None:
    env = env_with(on_error="fallback", placeholder=PLACEHOLDER)
    assert render("{{ bad | variant('w=200') }}|{{ 7 | variant }}", env, bad="a/../b") == f"{PLACEHOLDER}|{PLACEHOLDER}"


def test_signing_without_a_key_falls_back_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    env = env_with(on_error="fallback", delivery=Delivery(HASH))
    with caplog.at_level(logging.WARNING, logger="cfvariants.jinja"):
        out = render("{{ i | signed_variant('avatar') }}", env, i=ID)
    assert out == f"{BASE}/{ID}/public"
    assert "no signing key" in caplog.text


def test_failed_signing_prefers_the_placeholder(caplog: pytest.LogCaptureFixture) -> None:
    env = env_with(on_error="fallback", delivery=Delivery(HASH), placeholder=PLACEHOLDER)
    with caplog.at_level(logging.WARNING, logger="cfvariants.jinja"):
        assert render("{{ i | signed_variant('avatar') }}", env, i=ID) == PLACEHOLDER
    assert len(caplog.records) == 1


def test_a_custom_logger_receives_the_warnings(caplog: pytest.LogCaptureFixture) -> None:
    env = env_with(on_error="fallback", logger=logging.getLogger("myapp.images"))
    with caplog.at_level(logging.WARNING, logger="myapp.images"):
        render("{{ 'x' | variant('w=abc') }}", env)
    assert [record.name for record in caplog.records] == ["myapp.images"]


# -- configuration --------------------------------------------------------------------------------------------------


def test_listed_extension_configured_on_the_environment() -> None:
    env = Environment(loader=DictLoader({"page.html": "{{ i | variant('avatar') }}"}),
                      extensions=["cfvariants.jinja.CFVariantsExtension"])  # fmt: skip
    cfvariants.jinja.configure(env, Delivery(HASH, domain="images.example.com"))
    assert env.get_template("page.html").render(i=ID) == (
        f"https://images.example.com/cdn-cgi/imagedelivery/{HASH}/{ID}/avatar"
    )


def test_reconfiguring_applies_to_templates_compiled_before() -> None:
    env = env_with()
    template = env.from_string("{{ i | variant('avatar') }}")
    assert template.render(i=ID) == f"{BASE}/{ID}/avatar"
    cfvariants.jinja.configure(env, Delivery(HASH, domain="http://127.0.0.1:5000"))
    assert template.render(i=ID) == f"http://127.0.0.1:5000/cdn-cgi/imagedelivery/{HASH}/{ID}/avatar"


def test_install_twice_keeps_one_configuration() -> None:
    env = env_with()
    first = env.cfvariants  # type: ignore[attr-defined]
    again = cfvariants.jinja.install(env, Delivery("other"))
    assert again is first
    assert render("{{ 'x' | variant }}", env) == "https://imagedelivery.net/other/x/public"


def test_unconfigured_extension_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    monkeypatch.setenv("CF_IMG_HASH", "fromtheenv")
    monkeypatch.delenv("CF_IMG_DOMAIN", raising=False)
    env = Environment(extensions=[cfvariants.jinja.CFVariantsExtension])
    assert render("{{ 'x' | variant('w=1') }}", env) == "https://imagedelivery.net/fromtheenv/x/w=1"


def test_missing_configuration_raises_even_in_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CF_IMG_HASH", raising=False)
    env = Environment()
    cfvariants.jinja.install(env, on_error="fallback")
    with pytest.raises(SettingsError, match="CF_IMG_HASH is not set"):
        render("{{ 'x' | variant('w=1') }}", env)


def test_configure_needs_the_extension() -> None:
    with pytest.raises(SettingsError, match=r"add it \(extensions=\[\.\.\.\]\) or call cfvariants.jinja.install"):
        cfvariants.jinja.configure(Environment(), Delivery(HASH))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"on_error": "ignore"}, "on_error must be 'raise' or 'fallback'"),
        ({"placeholder": 5}, "placeholder must be an image URL"),
        ({"signed_expires_in": 0}, "signed_expires_in must be positive"),
        ({"delivery": "ZWd9g1K7eljCn_KDTu_MWA"}, "delivery must be a cfvariants.Delivery"),
    ],
)
def test_bad_configuration_is_refused_and_changes_nothing(config: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        env_with(**config)
    env = env_with(on_error="fallback")
    with pytest.raises(SettingsError, match=message):
        cfvariants.jinja.configure(env, **{"delivery": Delivery("other"), **config})
    assert render("{{ 'x' | variant('w=abc') }}", env) == f"{BASE}/x/public"  # still the first configuration


def test_errors_never_show_the_signing_key(caplog: pytest.LogCaptureFixture) -> None:
    env = env_with(delivery=Delivery(HASH, signing_key=KEY))
    with pytest.raises(SigningError) as caught, caplog.at_level(logging.DEBUG):
        env.cfvariants.delivery.signed_url(ID, "w=1", expires_in=5)  # type: ignore[attr-defined]
    with pytest.raises(TemplateFilterError) as wrapped:
        render("{{ i | signed_variant('w=1') }}", env, i=ID)
    assert KEY not in str(caught.value) + str(wrapped.value) + repr(env.cfvariants.delivery)  # type: ignore[attr-defined]


def test_local_images_render_unchanged_whatever_the_filter() -> None:
    from cfvariants import LocalImage

    class Pending:
        def __cf_image__(self) -> LocalImage:
            return LocalImage("/uploads/42/preview?x=1&y=2")

    env = Environment(autoescape=True)
    cfvariants.jinja.install(env, Delivery("ZWd9g1K7eljCn_KDTu_MWA"))
    page = env.from_string(
        "{{ p | variant('w=200') }}|{{ p | signed_variant('avatar') }}|{{ p | srcset([100, 200]) }}|"
        "{{ p | cf_img('w=640', alt='Ada', class='hero', widths=[320, 640]) }}"
    ).render(p=Pending())
    assert page == (
        "/uploads/42/preview?x=1&amp;y=2|/uploads/42/preview?x=1&amp;y=2|/uploads/42/preview?x=1&amp;y=2|"
        '<img src="/uploads/42/preview?x=1&amp;y=2" alt="Ada" loading="lazy" decoding="async" class="hero">'
    )
