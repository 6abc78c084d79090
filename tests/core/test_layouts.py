"""Responsive layouts: the widths, ``sizes``, box and style each layout writes, for both URL forms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jinja2 import Environment
from test_html import tags

from cfvariants import (
    WIDTH_LADDER,
    ArgumentError,
    CFVariantsError,
    Delivery,
    Options,
    Original,
    TemplateFilterError,
    Transformations,
    VariantError,
    thumbhash,
)
from cfvariants._layouts import plan_layout
from cfvariants._templating import ImageFilters
from cfvariants.client import Image
from cfvariants.jinja import install
from cfvariants.templatecheck import check_source

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
BASE = f"https://imagedelivery.net/{HASH}"


def img(markup: str) -> dict[str, str | None]:
    found = [attrs for tag, attrs in tags(markup) if tag == "img"]
    assert len(found) == 1
    return found[0]


def candidates(srcset: str | None) -> list[tuple[str, str]]:
    """(url, descriptor) pairs, as a browser splits a srcset."""
    assert srcset
    return [tuple(part.strip().rsplit(" ", 1)) for part in srcset.split(", ")]  # type: ignore[misc]


def widths_of(srcset: str | None) -> list[int]:
    return [int(re.search(r"w=(\d+)", url).group(1)) for url, _ in candidates(srcset)]  # type: ignore[union-attr]


@pytest.fixture
def cf() -> Delivery:
    return Delivery(HASH)


# -- fixed ----------------------------------------------------------------------------------------------------------


def test_fixed_gives_1x_and_2x_on_the_ladder_with_the_box_as_given(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="Ada", layout="fixed", width=200, height=200))
    pairs = candidates(attrs["srcset"])
    assert [d for _, d in pairs] == ["1x", "2x"]
    assert widths_of(attrs["srcset"]) == [256, 480]  # 200 and 400, snapped up to the ladder
    assert all(w in WIDTH_LADDER for w in widths_of(attrs["srcset"]))
    assert pairs[0][0] == f"{BASE}/abc/w=256,h=256,fit=cover" == attrs["src"]
    assert (attrs["width"], attrs["height"]) == ("200", "200")
    assert "sizes" not in attrs  # density descriptors need none
    assert attrs["style"] == "object-fit:cover"


def test_fixed_never_asks_for_more_than_the_original(cf: Delivery) -> None:
    capped = img(cf.img("abc", alt="", layout="fixed", width=200, height=200, original=(300, 300)))
    assert candidates(capped["srcset"])[-1] == (f"{BASE}/abc/w=300,h=300,fit=cover", "1.5x")
    tiny = img(cf.img("abc", alt="", layout="fixed", width=200, height=200, original=(120, 90)))
    # a 4:3 original cropped square gives at most 90 px: one candidate, not two identical ones
    assert candidates(tiny["srcset"]) == [(f"{BASE}/abc/w=90,h=90,fit=cover", "1x")]
    assert (tiny["width"], tiny["height"]) == ("200", "200")  # fixed keeps the box it was given


def test_fixed_takes_its_height_from_the_original_and_more_densities(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="fixed", width=96, original=(4000, 3000), densities=(1, 2, 3)))
    assert (attrs["width"], attrs["height"]) == ("96", "72")
    assert widths_of(attrs["srcset"]) == [96, 192, 320]
    assert "h=" not in attrs["srcset"]  # no crop: Cloudflare keeps the aspect ratio
    assert "style" not in attrs


# -- constrained ----------------------------------------------------------------------------------------------------


def test_constrained_lists_ladder_widths_up_to_twice_its_width(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="constrained", width=800, height=600, loading="eager"))
    widths = widths_of(attrs["srcset"])
    assert widths == [w for w in WIDTH_LADDER if 640 <= w <= 1668]
    assert widths[-1] >= 1600 and widths[-2] < 1600  # one candidate covers 2x, no more
    assert attrs["sizes"] == "(min-width: 800px) 800px, 100vw"
    assert (attrs["width"], attrs["height"]) == ("800", "600")
    assert attrs["style"] == "width:100%;max-width:800px;height:auto;aspect-ratio:800/600;object-fit:cover"
    for url, descriptor in candidates(attrs["srcset"]):
        w, h = map(int, re.search(r"w=(\d+),h=(\d+)", url).groups())  # type: ignore[union-attr]
        assert descriptor == f"{w}w" and abs(h - w * 3 / 4) <= 0.5


def test_lazy_images_let_the_browser_use_the_laid_out_width(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="constrained", width=800, height=600))
    assert attrs["sizes"] == "auto, (min-width: 800px) 800px, 100vw"
    assert img(cf.img("abc", alt="", layout="constrained", width=800, height=600, sizes="50vw"))["sizes"] == "50vw"


def test_constrained_widths_stop_at_the_original(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="constrained", width=800, original=(1000, 750)))
    widths = widths_of(attrs["srcset"])
    assert max(widths) == 1000 and widths == sorted(set(widths))
    assert all(w <= 1000 for w in widths)
    assert (attrs["width"], attrs["height"]) == ("800", "600")  # height from the original's aspect ratio


def test_a_crop_caps_at_what_the_original_holds_at_the_box_ratio(cf: Delivery) -> None:
    # 4:3 box from a 2:1 original of 1000x500: the widest 4:3 crop is 666x500
    attrs = img(cf.img("abc", alt="", layout="constrained", width=800, height=600, original=(1000, 500)))
    assert max(widths_of(attrs["srcset"])) == 666


def test_a_tiny_original_is_not_stretched(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="constrained", width=1000, original={"cfv_width": 1, "cfv_height": 1}))
    assert candidates(attrs["srcset"]) == [(f"{BASE}/abc/w=1", "1w")]
    assert (attrs["width"], attrs["height"]) == ("1", "1")
    assert "max-width:1px" in (attrs["style"] or "")


# -- full-width -----------------------------------------------------------------------------------------------------


def test_full_width_covers_wide_screens_at_high_density(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="full-width", width=16, height=9))
    widths = widths_of(attrs["srcset"])
    assert widths[0] == 640 and widths[-1] == 3840  # 1920 CSS px at 2x, 1280 at 3x
    assert widths == [w for w in WIDTH_LADDER if 640 <= w <= 3840]
    assert attrs["sizes"] == "auto, 100vw"
    assert (attrs["width"], attrs["height"]) == ("16", "9")
    assert attrs["style"] == "width:100%;height:auto;aspect-ratio:16/9;object-fit:cover"


def test_full_width_from_the_original_alone(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="full-width", original=(3000, 2000)))
    widths = widths_of(attrs["srcset"])
    assert widths[-1] == 3000 and all(w <= 3000 for w in widths) and len(widths) == len(set(widths))
    assert (attrs["width"], attrs["height"]) == ("3000", "2000")
    assert "aspect-ratio:3000/2000" in (attrs["style"] or "")
    assert "h=" not in attrs["srcset"]  # the original's own ratio: nothing to crop


# -- shared by every form and tag -----------------------------------------------------------------------------------


def test_transformations_get_the_same_layouts() -> None:
    tr = Transformations("www.example.com", defaults={"format": "auto"})
    hosted = img(Delivery(HASH).img("abc", alt="", layout="constrained", width=400, height=300))
    remote = img(tr.img("/media/cat.jpg", alt="", layout="constrained", width=400, height=300))
    assert widths_of(remote["srcset"]) == widths_of(hosted["srcset"])
    assert candidates(remote["srcset"])[0][0] == (
        "https://www.example.com/cdn-cgi/image/w=480,h=360,fit=cover,f=auto/media/cat.jpg"
    )
    assert {k: v for k, v in remote.items() if k not in ("src", "srcset")} == {
        k: v for k, v in hosted.items() if k not in ("src", "srcset")
    }


def test_srcset_methods_take_layouts(cf: Delivery) -> None:
    tr = Transformations("www.example.com")
    plain = cf.srcset("abc", layout="full-width", original=(1200, 800))
    assert widths_of(plain) == [640, 750, 828, 960, 1080, 1200]
    assert widths_of(tr.srcset("/a.jpg", layout="fixed", width=100, height=100)) == [128, 256]
    assert cf.srcset("abc", "quality=80", layout="fixed", width=100, height=50).startswith(
        f"{BASE}/abc/w=128,h=64,fit=cover,q=80 1x"
    )


def test_picture_sources_share_the_layout(cf: Delivery) -> None:
    markup = cf.picture("abc", alt="", formats=("avif", "webp"), layout="constrained", width=600, height=400)
    found = tags(markup)
    sources = [attrs for tag, attrs in found if tag == "source"]
    image = img(markup)
    assert [s["type"] for s in sources] == ["image/avif", "image/webp"]
    for source in sources:
        assert widths_of(source["srcset"]) == widths_of(image["srcset"])
        assert source["sizes"] == image["sizes"]


def test_priority_loads_eagerly_and_preload_matches_the_img(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="full-width", original=(2400, 1600), priority=True))
    assert (attrs["loading"], attrs["fetchpriority"], attrs["decoding"]) == ("eager", "high", "sync")
    assert attrs["sizes"] == "100vw"  # no "auto": it only applies to lazy images
    ((tag, link),) = tags(cf.preload_link("abc", layout="full-width", original=(2400, 1600)))
    assert tag == "link"
    assert (link["rel"], link["as"], link["fetchpriority"]) == ("preload", "image", "high")
    assert link["imagesrcset"] == attrs["srcset"] and link["imagesizes"] == attrs["sizes"]
    assert "href" not in link  # Safari would download href as well as the srcset candidate
    plain = tags(cf.preload_link("abc", "w=200"))[0][1]
    assert plain["href"] == f"{BASE}/abc/w=200" and "imagesrcset" not in plain


def test_preload_takes_the_img_arguments_and_leaves_the_img_only_ones_off_the_link(cf: Delivery) -> None:
    sizing: dict[str, Any] = {"layout": "constrained", "width": 800, "height": 600, "original": (2400, 1800)}
    img_only: dict[str, Any] = {"alt": "A cat", "priority": True, "placeholder": "thumbhash", "loading": "eager"}
    assert cf.preload_link("abc", **sizing, **img_only, decoding="sync") == cf.preload_link("abc", **sizing)
    ((_, link),) = tags(cf.preload_link("abc", **sizing, **img_only, crossorigin="anonymous"))
    assert link["crossorigin"] == "anonymous" and not {"alt", "placeholder", "priority"} & set(link)
    with pytest.raises(ArgumentError, match="placeholder must be one of"):
        cf.preload_link("abc", **sizing, placeholder="thumbnail")
    with pytest.raises(ArgumentError, match="priority must be True or False"):
        cf.preload_link("abc", **sizing, priority="yes")
    _, findings = check_source("{{ p | cf_preload(layout='fixed', width=80, height=80, placeholder='blurry') }}", "x")
    assert [f.message for f in findings if "placeholder must be one of" in f.message], findings


def test_layout_mistakes_name_the_problem(cf: Delivery) -> None:
    with pytest.raises(CFVariantsError, match="layout must be one of"):
        cf.img("abc", alt="", layout="wide", width=100, height=100)
    with pytest.raises(VariantError, match="chooses the size of every candidate"):
        cf.img("abc", "w=300", alt="", layout="constrained", width=300, height=200)
    with pytest.raises(VariantError, match="named variant 'avatar'"):
        cf.img("abc", "avatar", alt="", layout="fixed", width=100, height=100)
    with pytest.raises(CFVariantsError, match="needs width="):
        cf.img("abc", alt="", layout="constrained", original=(100, 100))
    with pytest.raises(CFVariantsError, match="aspect ratio"):
        cf.img("abc", alt="", layout="full-width")
    with pytest.raises(CFVariantsError, match="width must be a positive integer"):
        cf.img("abc", alt="", layout="fixed", width=0, height=10)
    cf.img("abc", alt="", layout="fixed", width=1, height=1)
    with pytest.raises(CFVariantsError, match="width must be a positive integer"):
        cf.img("abc", alt="", layout="fixed", width=True, height=1)  # not the cached plan of width=1
    with pytest.raises(CFVariantsError, match="original must be"):
        cf.img("abc", alt="", layout="full-width", original="4000x3000")


def test_without_a_layout_width_and_height_stay_plain_attributes(cf: Delivery) -> None:
    attrs = img(cf.img("abc", "w=640", alt="", width=640, height=480))
    assert (attrs["width"], attrs["height"]) == ("640", "480")
    assert "srcset" not in attrs and "style" not in attrs


def test_original_reads_upload_metadata() -> None:
    assert Original.of({"cfv_width": "4000", "cfv_height": 3000, "cfv_thumbhash": "abc"}) == Original(4000, 3000, "abc")
    image = Image(id="abc", meta={"cfv_width": 640, "cfv_height": 480})
    assert Original.of(image) == Original(640, 480)
    with pytest.raises(CFVariantsError, match="cfv_width must be a positive integer"):
        Original.of({"cfv_width": -3})


def test_plans_are_cached_and_bounded_by_the_ladder() -> None:
    asked = {w for width in range(100, 1921, 7) for w in _ladder_widths(width)}
    assert asked <= set(WIDTH_LADDER)  # whatever widths templates ask for (up to 1920), these URLs only
    assert plan_layout(None, "constrained", width=800, height=600) is plan_layout(
        None, "constrained", width=800, height=600
    )


def _ladder_widths(width: int) -> list[int]:
    plan = plan_layout(None, "constrained", width=width, height=width)
    return [int(d[:-1]) for _, d in plan.candidates]


# -- templates ------------------------------------------------------------------------------------------------------


def test_jinja_filters_take_the_layout_keywords() -> None:
    env = Environment(autoescape=True)
    install(env, Delivery(HASH))
    photo = Image(id="abc", meta={"cfv_width": 1200, "cfv_height": 800})
    page = env.from_string(
        "{{ photo | cf_preload(layout='full-width') }}"
        "{{ photo | cf_img(alt='A', layout='full-width', priority=True) }}"
        "{{ 'abc' | cf_img(alt='B', layout='constrained', width='400', height='300px') }}"
    ).render(photo=photo)
    found = tags(page)
    assert found[0][0] == "link" and widths_of(found[0][1]["imagesrcset"])[-1] == 1200  # read from photo.meta
    assert found[1][1]["fetchpriority"] == "high" and (found[1][1]["width"], found[1][1]["height"]) == ("1200", "800")
    assert (found[2][1]["width"], found[2][1]["height"]) == ("400", "300")


def test_template_errors_name_the_filter_and_fall_back() -> None:
    filters = ImageFilters(Delivery(HASH))
    with pytest.raises(TemplateFilterError, match=r"cf_img filter .* layout='fixed'.*needs width="):
        filters.img("cf_img filter", "abc", alt="", layout="fixed")
    quiet = ImageFilters(Delivery(HASH), on_error="fallback")
    assert img(quiet.img("cf_img filter", "abc", alt="A", layout="fixed"))["src"] == f"{BASE}/abc/public"
    assert quiet.preload("cf_preload filter", "abc", layout="fixed") == ""


def test_check_validates_layout_keywords() -> None:
    source = (
        "{{ p | cf_img(alt='', layout='wide', width=3) }}\n"
        "{{ p | cf_img(alt='', layout='constrained', width=800, height=600) }}\n"
        "{{ p | cf_img(alt='', layout='full-width', original=p.meta) }}\n"
        "{{ p | cf_preload(layout='fixed') }}\n"
    )
    uses, findings = check_source(source, "page.html")
    assert len(uses) == 4
    messages = [(f.line, f.message) for f in findings]
    assert len(messages) == 2
    assert messages[0][0] == 1 and "layout must be one of" in messages[0][1]
    assert messages[1][0] == 4 and "needs width=" in messages[1][1]


# -- placeholders ---------------------------------------------------------------------------------------------------

PHOTO = Original(4000, 3000, "YrgJJYaVZnlwiIeGiHiJefdl0/mF")  # a landscape photo's ThumbHash, as uploads record it
LOGO = Original(400, 300, "2naGHIxXRnUwl3d4ZwRzuTD3WIeIeIeICA==")  # an image with transparency


def test_thumbhash_placeholder_is_an_inline_png_behind_the_image(cf: Delivery) -> None:
    attrs = img(cf.img("abc", alt="", layout="constrained", width=800, original=PHOTO, placeholder="thumbhash"))
    style = attrs["style"] or ""
    assert style.startswith("width:100%;max-width:800px;height:auto;aspect-ratio:4000/3000;")
    uri = re.search(r"background-image:url\((data:image/png;base64,[A-Za-z0-9+/=]+)\)", style)
    assert uri is not None and uri.group(1) == thumbhash.data_uri(PHOTO.thumbhash or "")
    assert "background-size:cover" in style
    assert "https://" not in style  # nothing for the browser to fetch


def test_dominant_color_and_the_users_style(cf: Delivery) -> None:
    r, g, b, _ = thumbhash.average_rgba(thumbhash.parse(PHOTO.thumbhash or ""))
    attrs = img(cf.img("abc", alt="", layout="fixed", width=64, original=PHOTO, placeholder="dominant-color",
                       style="border-radius:50%"))  # fmt: skip
    color = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
    assert attrs["style"] == f"background-color:{color};border-radius:50%"


def test_no_placeholder_where_it_would_show_or_is_unknown(cf: Delivery) -> None:
    for placeholder in ("thumbhash", "dominant-color"):
        see_through = img(cf.img("abc", alt="", layout="fixed", width=64, original=LOGO, placeholder=placeholder))
        assert "background" not in (see_through.get("style") or "")  # it would show through the transparency
        unrecorded = img(cf.img("abc", alt="", layout="full-width", original=(1200, 800), placeholder=placeholder))
        assert "background" not in (unrecorded.get("style") or "")  # uploaded before hashes were recorded
    blur = img(cf.img("abc", alt="", layout="full-width", original=PHOTO, placeholder="blur"))
    assert 'background-image:url("https://imagedelivery.net/' in (blur["style"] or "")  # the one that costs a request
    with pytest.raises(CFVariantsError, match="placeholder must be one of None, 'thumbhash', 'dominant-color', 'blur'"):
        cf.img("abc", alt="", placeholder="lqip")


def test_placeholders_from_templates_read_the_upload_metadata() -> None:
    env = Environment(autoescape=True)
    install(env, Delivery(HASH))
    photo = Image(id="abc", meta={"cfv_width": 4000, "cfv_height": 3000, "cfv_thumbhash": PHOTO.thumbhash})
    page = env.from_string("{{ photo | cf_img(alt='A', layout='full-width', placeholder='thumbhash') }}").render(
        photo=photo
    )
    assert "data:image/png;base64," in page and 'width="4000" height="3000"' in page
    _, findings = check_source("{{ p | cf_img(alt='', placeholder='lqip') }}", "page.html")
    assert [f.message for f in findings] == [
        "placeholder must be one of None, 'thumbhash', 'dominant-color', 'blur', not 'lqip'"
    ]


@pytest.mark.parametrize(
    "variant", ["fit=contain,q=80", "background=rgb(1,2,3),fit=pad", "g=0.5x0.5,fit=crop", "sharpen=1,f=avif"]
)
def test_every_candidate_is_the_variant_at_its_own_size(variant: str) -> None:
    """The candidates' text is made from the variant's once per layout; it must be what Options itself writes
    for the variant at each candidate's size (commas inside a value included), for every original size."""
    base = Options.parse(variant)
    for layout, size in (("fixed", {"width": 300, "height": 200}), ("constrained", {"width": 800}), ("full-width", {})):
        for original in (Original(6000, 4000), Original(1237, 3001), Original(300, 199)):
            plan = plan_layout(base, layout, original=original, **size)
            for text, descriptor in plan.texts:
                options = Options.parse(text)
                assert text == str(options)
                cover = {"fit": "cover"} if "height" in size and base.fit is None else {}
                assert options.replace(width=None, height=None) == base.replace(**cover)
                if descriptor.endswith("w"):
                    assert options.width == int(descriptor[:-1]) <= original.width  # type: ignore[operator]
                if layout == "fixed":
                    assert options.height == round(options.width * 2 / 3)  # type: ignore[operator]
            assert plan.src_text in {text for text, _ in plan.texts}


def test_a_box_of_its_own_size_lays_out_the_same_for_every_original_that_fills_it(cf: Delivery) -> None:
    """With width and height given, the original matters only where it caps a candidate: originals larger than
    every candidate give the markup of no original at all, smaller ones are still capped."""
    for layout, size in (("fixed", {"width": 300, "height": 200}), ("constrained", {"width": 800, "height": 600})):
        alone = cf.img("abc", alt="", layout=layout, **size)
        for original in ((6000, 4000), (1677, 3001), (3840, 2160)):
            assert cf.img("abc", alt="", layout=layout, original=original, **size) == alone
        small = img(cf.img("abc", alt="", layout=layout, original=(500, 400), **size))
        assert max(widths_of(small["srcset"])) == 500  # 400 px high at 3:2 or 4:3 holds 500 px of width
        assert "h=" in (small["srcset"] or "")  # still the box's crop


def test_layout_urls_with_characters_html_escapes_are_escaped() -> None:
    tr = Transformations("www.example.com")
    source = "/media/cat.jpg?size=large&v=2"
    attrs = img(tr.img(source, alt="", layout="constrained", width=400, height=300))  # tags() unescapes
    assert all(url.endswith("/media/cat.jpg?size=large&v=2") for url, _ in candidates(attrs["srcset"]))
    assert attrs["src"] == tr.url(source, "w=480,h=360,fit=cover")
    raw = str(tr.img(source, alt="", layout="constrained", width=400, height=300))
    assert "&v=2" not in raw and raw.count("&amp;v=2") == 1 + len(candidates(attrs["srcset"]))
    url = "https://imagedelivery.net/ZWd9g1K7eljCn_KDTu_MWA/a'b/public"  # a quote in a delivery URL's id
    hosted = str(Delivery(HASH).img(url, alt="", layout="fixed", width=100, height=100))
    assert "'" not in hosted.replace("alt=''", "")


@pytest.mark.parametrize("placeholder", ["thumbhash", "dominant-color", "blur", None])
def test_the_users_style_comes_after_the_layouts_and_the_placeholders(cf: Delivery, placeholder: str | None) -> None:
    kwargs: dict[str, Any] = {
        "alt": "",
        "layout": "constrained",
        "width": 800,
        "original": PHOTO,
        "placeholder": placeholder,
    }
    alone = img(cf.img("abc", **kwargs))["style"]
    assert alone and alone.startswith("width:100%;max-width:800px;")
    for _ in range(2):  # the tag's first render, then the one remembered
        assert img(cf.img("abc", **kwargs, style="border:0"))["style"] == f"{alone};border:0"
