"""<img> and <picture> markup: attributes, escaping, sizes, placeholders."""

from __future__ import annotations

import html.parser
from typing import Any

import pytest
from jinja2 import Environment
from markupsafe import Markup

from cfvariants import CFVariantsError, Delivery, Source, VariantError

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
BASE = f"https://imagedelivery.net/{HASH}"


class _Tags(html.parser.HTMLParser):
    """Parse markup back into (tag, attrs) the way a browser tokeniser reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(markup)
    return parser.tags


@pytest.fixture
def cf() -> Delivery:
    return Delivery(HASH)


def test_img_has_src_alt_and_lazy_async_defaults(cf: Delivery) -> None:
    markup = cf.img("abc", "avatar", alt="Ada")
    assert isinstance(markup, Markup)
    assert markup == f'<img src="{BASE}/abc/avatar" alt="Ada" loading="lazy" decoding="async">'


def test_img_with_widths_has_srcset_sizes_and_known_size(cf: Delivery) -> None:
    ((tag, attrs),) = tags(cf.img("abc", "w=640,h=360,fit=cover", alt="", widths=(320, 640), sizes="50vw"))
    assert tag == "img"
    assert attrs["src"] == f"{BASE}/abc/w=640,h=360,fit=cover"
    assert attrs["srcset"] == f"{BASE}/abc/w=320,h=180,fit=cover 320w, {BASE}/abc/w=640,h=360,fit=cover 640w"
    assert attrs["sizes"] == "50vw"
    assert (attrs["width"], attrs["height"]) == ("640", "360")


def test_default_sizes_follow_loading(cf: Delivery) -> None:
    assert tags(cf.img("a", "w=10", alt="", widths=[10, 20]))[0][1]["sizes"] == "auto, 100vw"
    eager = tags(cf.img("a", "w=10", alt="", widths=[10, 20], loading="eager"))[0][1]
    assert eager["sizes"] == "100vw" and eager["loading"] == "eager"


def test_size_is_only_claimed_when_the_variant_fixes_it(cf: Delivery) -> None:
    assert "width" not in tags(cf.img("a", "w=640,h=360", alt=""))[0][1]  # scale-down may keep it smaller
    assert "width" not in tags(cf.img("a", "w=640,fit=cover", alt=""))[0][1]
    assert tags(cf.img("a", "w=64,h=64,fit=pad", alt=""))[0][1]["width"] == "64"
    explicit = tags(cf.img("a", "avatar", alt="", width=240, height=240))[0][1]
    assert (explicit["width"], explicit["height"]) == ("240", "240")


def test_density_srcset(cf: Delivery) -> None:
    attrs = tags(cf.img("a", "w=100", alt="", densities=(1, 2)))[0][1]
    assert attrs["srcset"] == f"{BASE}/a/w=100 1x, {BASE}/a/w=100,dpr=2 2x"
    assert "sizes" not in attrs


def test_every_attribute_value_is_escaped(cf: Delivery) -> None:
    evil = '"><script>alert(1)</script>'
    markup = cf.img("a", "avatar", alt=evil, title=evil, data_caption=evil)
    assert "<script>" not in markup
    attrs = tags(markup)[0][1]
    assert attrs["alt"] == attrs["title"] == attrs["data-caption"] == evil


def test_escaping_of_ids_in_urls_and_signed_ampersands() -> None:
    cf = Delivery(HASH, signing_key="k")
    markup = cf.img('a"b', "avatar", alt="")
    assert tags(markup)[0][1]["src"] == f"{BASE}/a%22b/avatar"
    signed = cf.signed_url("a", "avatar", expires_at=2_000_000_000)
    markup2 = Markup(f'<img src="{Markup.escape(signed)}">')  # what a template does with the URL
    assert "&amp;sig=" in markup2 and tags(markup2)[0][1]["src"] == signed


def test_attribute_names_python_style(cf: Delivery) -> None:
    attrs = tags(cf.img("a", "avatar", alt="", class_="round", aria_label="me", fetchpriority="high", hidden=True))[0][
        1
    ]
    assert attrs["class"] == "round" and attrs["aria-label"] == "me" and attrs["fetchpriority"] == "high"
    assert "hidden" in attrs and attrs["hidden"] is None


def test_attributes_can_be_dropped(cf: Delivery) -> None:
    attrs = tags(cf.img("a", "avatar", alt="", loading=None, decoding=False))[0][1]
    assert "loading" not in attrs and "decoding" not in attrs


@pytest.mark.parametrize("name", ["on load", 'x"y', "a>b", "=x"])
def test_bad_attribute_names_are_refused(cf: Delivery, name: str) -> None:
    with pytest.raises(CFVariantsError, match="not a valid HTML attribute name"):
        cf.img("a", "avatar", alt="", **{name: "1"})


def test_alt_is_required_and_must_be_text(cf: Delivery) -> None:
    with pytest.raises(TypeError):
        cf.img("a", "avatar")  # type: ignore[call-arg]
    with pytest.raises(CFVariantsError, match="alt must be a string"):
        cf.img("a", "avatar", alt=None)  # type: ignore[arg-type]


def test_blur_placeholder_uses_a_tiny_blurred_variant_of_the_same_shape(cf: Delivery) -> None:
    attrs = tags(cf.img("a", "w=640,h=320,fit=cover", alt="", placeholder="blur", style="border:0"))[0][1]
    style = attrs["style"] or ""
    assert style.startswith(f'background-image:url("{BASE}/a/w=32,h=16,fit=cover,q=30,blur=5");')
    assert "background-size:cover" in style and style.endswith(";border:0")


def test_blur_placeholder_for_a_named_variant(cf: Delivery) -> None:
    style = tags(cf.img("a", "avatar", alt="", placeholder="blur"))[0][1]["style"] or ""
    assert f'url("{BASE}/a/w=32,q=30,blur=5")' in style


def test_unknown_placeholder(cf: Delivery) -> None:
    with pytest.raises(
        CFVariantsError, match="placeholder must be one of None, 'thumbhash', 'dominant-color', 'blur', not"
    ):
        cf.img("a", "avatar", alt="", placeholder="lqip")


def test_sizes_without_widths_is_an_error(cf: Delivery) -> None:
    with pytest.raises(CFVariantsError, match="sizes only applies with widths"):
        cf.img("a", "w=10", alt="", sizes="50vw")


def test_named_variant_srcset_is_refused_in_img(cf: Delivery) -> None:
    with pytest.raises(VariantError, match="fixed size"):
        cf.img("a", "avatar", alt="", widths=(100, 200))


def test_picture_with_formats_and_art_direction(cf: Delivery) -> None:
    markup = cf.picture(
        "a",
        "w=800,fit=cover",
        alt="Hero",
        formats=("avif", "webp"),
        sources=[Source("w=600,h=600,fit=cover", media="(max-width: 600px)")],
        widths=(400, 800),
        sizes="100vw",
    )
    parsed = tags(markup)
    assert [t for t, _ in parsed] == ["picture", "source", "source", "source", "img"]
    art, avif, webp, img = (attrs for _, attrs in parsed[1:])
    assert art == {"media": "(max-width: 600px)", "srcset": f"{BASE}/a/w=600,h=600,fit=cover"}
    assert avif["type"] == "image/avif" and avif["srcset"] == (
        f"{BASE}/a/w=400,fit=cover,f=avif 400w, {BASE}/a/w=800,fit=cover,f=avif 800w"
    )
    assert webp["type"] == "image/webp" and webp["sizes"] == "100vw"
    assert img["src"] == f"{BASE}/a/w=800,fit=cover" and img["alt"] == "Hero"
    assert markup.endswith("</picture>")


def test_picture_of_a_named_variant_cannot_force_a_format(cf: Delivery) -> None:
    with pytest.raises(VariantError, match="cannot change format"):
        cf.picture("a", "avatar", alt="", formats=("webp",))
    assert cf.picture("a", "avatar", alt="").startswith("<picture><img ")


def test_picture_rejects_unknown_formats_and_sources(cf: Delivery) -> None:
    with pytest.raises(CFVariantsError, match="no MIME type"):
        cf.picture("a", "w=10", alt="", formats=("json",))
    with pytest.raises(CFVariantsError, match="Source objects"):
        cf.picture("a", "w=10", alt="", sources=[{"media": "x"}])  # type: ignore[list-item]


# -- values that claim to be safe HTML are still escaped as attribute text ------------------------------------------

EVIL = 'x" onerror="alert(1)'


def _django_safe(text: str) -> object:
    from django_project import setup

    setup()
    from django.utils.safestring import mark_safe

    return mark_safe(text)


@pytest.mark.parametrize("make", [Markup, _django_safe], ids=["markupsafe.Markup", "django.SafeString"])
def test_safe_strings_cannot_break_out_of_an_attribute(cf: Delivery, make: Any) -> None:
    markup = cf.picture("a", "w=400", alt=make(EVIL), title=make(EVIL), sources=[Source("w=200", media=make(EVIL))])
    assert "onerror" not in [name for _tag, attrs in tags(markup) for name in attrs]
    assert tags(markup)[1][1]["media"] == EVIL and tags(markup)[-1][1]["alt"] == EVIL


def test_jinja_newstyle_gettext_alt_is_escaped_as_attribute_text() -> None:
    import cfvariants.jinja

    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(lambda s: s.replace("Ada", EVIL), lambda s, p, n: s, newstyle=True)  # type: ignore[attr-defined]
    cfvariants.jinja.install(env, delivery=Delivery(HASH))
    out = env.from_string("{{ 'abc' | cf_img('w=200', alt=_('Photo of Ada')) }}").render()
    assert tags(out)[0][1]["alt"] == f"Photo of {EVIL}"


def test_django_translated_alt_in_cf_img_is_escaped() -> None:
    from django_project import setup

    setup()
    from django.template import engines
    from django.utils import translation

    template = engines["django"].from_string(
        "{% load cfvariants i18n %}{% translate 'Photo \" onerror=\"alert(1)' as label %}"
        "{% cf_img i 'w=200' alt=label %}"
    )
    with translation.override("en"):
        out = template.render({"i": "abc"})
    assert tags(out)[0][1]["alt"] == 'Photo " onerror="alert(1)'
