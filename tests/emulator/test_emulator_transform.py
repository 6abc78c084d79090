"""The emulator's transforms, checked on real pixels: sizes, crop regions, colours, formats, metadata, limits."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imagegen import (
    FRAME_COLORS,
    decode,
    exif_block,
    gif_animated,
    jpeg,
    make,
    png,
    quadrant_at,
    sniff,
    webp,
)
from PIL import Image, ImageStat

from cfvariants import Options
from cfvariants._options import FITS
from cfvariants.emulator import output_format, render
from cfvariants.emulator._delivery._transform import Rendered
from cfvariants.imaging import ImageInfo, ImageRejected, inspect_image

BROWSER = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"


def run(data: bytes, options: str | None, *, accept: str | None = None, fmt: str | None = None) -> Rendered:
    info, stored = inspect_image(data)
    parsed = Options.parse(options) if options else None
    chosen = fmt or output_format(parsed, info, accept)
    return render(stored, info, parsed, output_format=chosen)


def pixels(data: bytes, options: str | None, **kwargs: str) -> Image.Image:
    result = run(data, options, **kwargs)
    image = decode(result.body)
    assert image.size == (result.width, result.height)
    return image


def near(pixel: object, color: tuple[int, ...], tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=False))


# --- fit modes ----------------------------------------------------------------------------------------------------

LARGE = jpeg(800, 400)  # 2:1, larger than every box below
SMALL = jpeg(100, 50)  # 2:1, smaller than every box below

FIT_CASES = [
    # fit, source, box, expected output
    ("scale-down", LARGE, "w=200,h=200", (200, 100)),
    ("scale-down", SMALL, "w=200,h=200", (100, 50)),
    ("contain", LARGE, "w=200,h=200", (200, 100)),
    ("contain", SMALL, "w=400,h=400", (400, 200)),
    ("scale-up", LARGE, "w=200,h=200", (800, 400)),
    ("scale-up", SMALL, "w=400,h=400", (400, 200)),
    ("cover", LARGE, "w=200,h=200", (200, 200)),
    ("cover", SMALL, "w=300,h=300", (300, 300)),
    ("crop", LARGE, "w=200,h=200", (200, 200)),
    ("crop", SMALL, "w=300,h=300", (100, 50)),
    ("crop", SMALL, "w=60,h=300", (60, 50)),
    ("aspect-crop", LARGE, "w=200,h=200", (200, 200)),
    ("aspect-crop", SMALL, "w=300,h=300", (50, 50)),
    ("pad", LARGE, "w=200,h=200", (200, 200)),
    ("pad", SMALL, "w=300,h=300", (300, 300)),
    ("squeeze", LARGE, "w=200,h=200", (200, 200)),
    ("squeeze", SMALL, "w=300,h=120", (300, 120)),
]


@pytest.mark.parametrize(("fit", "source", "box", "expected"), FIT_CASES)
def test_fit_output_size(fit: str, source: bytes, box: str, expected: tuple[int, int]) -> None:
    image = pixels(source, f"{box},fit={fit}", fmt="png")
    assert image.size == expected


def test_every_fit_mode_is_covered() -> None:
    assert {case[0] for case in FIT_CASES} == set(FITS)


def test_aspect_crop_docs_example() -> None:
    # "a 612x613 image requested at 1920x1120 ... is cropped to 612x357"
    assert pixels(jpeg(612, 613), "w=1920,h=1120,fit=aspect-crop", fmt="png").size == (612, 357)


@pytest.mark.parametrize(("box", "expected"), [("w=1,h=38", (1, 30)), ("w=38,h=1", (38, 1)), ("w=3,h=700", (1, 30)),
                                               ("w=700,h=3", (40, 1)), ("w=7,h=3", (7, 3))])  # fmt: skip
@pytest.mark.parametrize("fmt", ["png", "gif"])
def test_aspect_crop_to_a_sliver_of_a_small_image_renders(box: str, expected: tuple[int, int], fmt: str) -> None:
    """A box far thinner than the image (a 40x30 animation at w=1,h=38) crops a sliver, it is not refused."""
    result = run(ANIMATION, f"{box},fit=aspect-crop", fmt=fmt)
    assert (result.width, result.height) == expected
    assert decode(result.body).size == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("w=200", (200, 100)),  # default fit is scale-down: never enlarges
        ("w=2000", (800, 400)),
        ("h=100", (200, 100)),
        ("w=200,fit=contain", (200, 100)),
        ("w=1600,fit=contain", (1600, 800)),
        ("w=200,fit=cover", (200, 100)),  # one dimension: proportional
        ("w=200,fit=pad", (200, 100)),
        ("w=200,fit=squeeze", (200, 400)),  # the missing dimension keeps the source's
        ("w=100,dpr=2", (200, 100)),
        ("w=100,h=100,fit=cover,dpr=1.5", (150, 150)),
        ("rotate=90,w=100", (100, 200)),  # width refers to the rotated axes
    ],
)
def test_sizes(options: str, expected: tuple[int, int]) -> None:
    assert pixels(LARGE, options, fmt="png").size == expected


# --- crops and gravity on a four-colour image ---------------------------------------------------------------------

QUAD = png(400, 200, "quadrants")


def left_and_right(image: Image.Image) -> tuple[str | None, str | None, str | None, str | None]:
    w, h = image.size
    return (
        quadrant_at(image, 2, 2),
        quadrant_at(image, w - 3, 2),
        quadrant_at(image, 2, h - 3),
        quadrant_at(image, w - 3, h - 3),
    )


@pytest.mark.parametrize(
    ("gravity", "corners"),
    [
        ("", ("top-left", "top-right", "bottom-left", "bottom-right")),  # centre: both halves
        ("g=left", ("top-left", "top-left", "bottom-left", "bottom-left")),
        ("g=right", ("top-right", "top-right", "bottom-right", "bottom-right")),
        ("g=0x0.5", ("top-left", "top-left", "bottom-left", "bottom-left")),
        ("g=1x0", ("top-right", "top-right", "bottom-right", "bottom-right")),
    ],
)
def test_cover_keeps_the_side_named_by_gravity(gravity: str, corners: tuple[str, ...]) -> None:
    options = ",".join(filter(None, ["w=100,h=100,fit=cover", gravity]))
    image = pixels(QUAD, options, fmt="png")
    assert image.size == (100, 100)
    assert left_and_right(image) == corners


def test_gravity_point_is_kept_centred_as_far_as_possible() -> None:
    # A 100-px-wide window centred on x=0.25·400=100 spans 50..150: all top-left quadrant.
    image = pixels(QUAD, "w=100,h=200,fit=crop,g=0.25x0.5", fmt="png")
    assert image.size == (100, 200)
    assert quadrant_at(image, 2, 2) == quadrant_at(image, 97, 2) == "top-left"
    assert quadrant_at(image, 50, 197) == "bottom-left"


def test_top_and_bottom_gravity_on_a_tall_crop() -> None:
    tall = png(200, 400, "quadrants")
    top = pixels(tall, "w=200,h=100,fit=cover,g=top", fmt="png")
    bottom = pixels(tall, "w=200,h=100,fit=cover,g=bottom", fmt="png")
    assert left_and_right(top) == ("top-left", "top-right", "top-left", "top-right")
    assert left_and_right(bottom) == ("bottom-left", "bottom-right", "bottom-left", "bottom-right")


def test_gravity_follows_the_image_through_rotation() -> None:
    # Keep the original's left side; after a clockwise quarter turn that side is at the top.
    image = pixels(QUAD, "rotate=90,w=200,h=200,fit=cover,g=left", fmt="png")
    assert image.size == (200, 200)
    assert {quadrant_at(image, 100, 5), quadrant_at(image, 100, 194)} <= {"top-left", "bottom-left"}


def test_gravity_auto_keeps_the_detailed_part() -> None:
    busy = make(300, 100, "checker")
    flat = Image.new("RGB", (300, 100), (120, 160, 200))
    canvas = Image.new("RGB", (600, 100))
    canvas.paste(flat, (0, 0))
    canvas.paste(busy, (300, 0))
    from imagegen import encode

    image = pixels(encode(canvas, "PNG"), "w=100,h=100,fit=cover,g=auto", fmt="png")
    spread = ImageStat.Stat(image.convert("L")).stddev[0]
    assert spread > 60  # the checkerboard, not the flat blue half


def test_gravity_face_falls_back_to_the_centre_and_says_so() -> None:
    result = run(QUAD, "w=100,h=100,fit=cover,g=face,zoom=0.5", fmt="png")
    assert left_and_right(decode(result.body)) == ("top-left", "top-right", "bottom-left", "bottom-right")
    assert set(result.ignored) == {"gravity=face", "zoom"}


# --- pad and background -------------------------------------------------------------------------------------------


def test_pad_fills_with_white_by_default() -> None:
    image = pixels(QUAD, "w=400,h=400,fit=pad", fmt="png")
    assert image.size == (400, 400)
    assert near(image.getpixel((200, 10)), (255, 255, 255))
    assert quadrant_at(image, 10, 110) == "top-left"  # the image sits in the middle band (y 100..300)


def test_pad_with_background_colour() -> None:
    image = pixels(QUAD, "w=400,h=400,fit=pad,background=%23102030", fmt="jpeg").convert("RGB")
    assert near(image.getpixel((200, 10)), (16, 32, 48))
    assert near(image.getpixel((200, 390)), (16, 32, 48))


def test_pad_with_transparent_background_in_webp() -> None:
    image = pixels(QUAD, "w=400,h=400,fit=pad,background=transparent", fmt="webp")
    assert image.mode == "RGBA"
    assert image.getpixel((200, 10))[3] == 0  # type: ignore[index]
    assert image.getpixel((200, 200))[3] == 255  # type: ignore[index]


TRANSPARENT = png(40, 20, (200, 30, 30), alpha=True)  # right half transparent


def test_transparency_becomes_white_in_jpeg() -> None:
    image = pixels(TRANSPARENT, None, fmt="jpeg")
    assert near(image.getpixel((35, 10)), (255, 255, 255))
    assert near(image.getpixel((5, 10)), (200, 30, 30), 20)


def test_background_shows_through_transparency() -> None:
    jpg = pixels(TRANSPARENT, "background=red", fmt="jpeg")
    assert near(jpg.getpixel((35, 10)), (255, 0, 0), 20)
    lossless = pixels(TRANSPARENT, "background=rgba%280%2C0%2C255%2C1%29", fmt="png")
    assert lossless.convert("RGBA").getpixel((35, 10)) == (0, 0, 255, 255)


def test_transparency_is_kept_without_background_where_the_format_allows() -> None:
    image = pixels(TRANSPARENT, None, fmt="png").convert("RGBA")
    assert image.getpixel((35, 10))[3] == 0  # type: ignore[index]


# --- rotate and flip ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "top_left", "top_right"),
    [
        ("rotate=90", "bottom-left", "top-left"),  # clockwise
        ("rotate=180", "bottom-right", "bottom-left"),
        ("rotate=270", "top-right", "bottom-right"),
        ("flip=h", "top-right", "top-left"),
        ("flip=v", "bottom-left", "bottom-right"),
        ("flip=hv", "bottom-right", "bottom-left"),
        ("flip=h,rotate=90", "bottom-right", "top-right"),  # flip first, then rotate
    ],
)
def test_orientation_by_colours(options: str, top_left: str, top_right: str) -> None:
    image = pixels(QUAD, options, fmt="png")
    swapped = "rotate=90" in options or "rotate=270" in options
    assert image.size == ((200, 400) if swapped else (400, 200))
    assert quadrant_at(image, 3, 3) == top_left
    assert quadrant_at(image, image.width - 4, 3) == top_right


def test_exif_orientation_is_applied() -> None:
    source = jpeg(400, 200, "quadrants", exif=exif_block(orientation=6))  # "rotate 90° clockwise to display"
    image = pixels(source, "w=100", fmt="png")
    assert image.size == (100, 200)
    assert quadrant_at(image, 3, 3) == "bottom-left"


# --- effects --------------------------------------------------------------------------------------------------


def local_variance(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L")).var[0]


CHECKER = png(200, 200, "checker")


def test_blur_reduces_detail_and_more_blur_reduces_it_more() -> None:
    sharp = local_variance(pixels(CHECKER, None, fmt="png"))
    light = local_variance(pixels(CHECKER, "blur=2", fmt="png"))
    heavy = local_variance(pixels(CHECKER, "blur=20", fmt="png"))
    assert sharp > light > heavy


def test_sharpen_restores_contrast_lost_to_blur() -> None:
    blurred = local_variance(pixels(CHECKER, "blur=4", fmt="png"))
    mild = local_variance(pixels(CHECKER, "blur=4,sharpen=1", fmt="png"))
    strong = local_variance(pixels(CHECKER, "blur=4,sharpen=10", fmt="png"))
    assert blurred < mild < strong


GREY = png(60, 60, (100, 100, 100))
COLOUR = png(60, 60, (200, 80, 40))


def mean(image: Image.Image) -> list[float]:
    return ImageStat.Stat(image.convert("RGB")).mean


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("brightness=0.5", 50),
        ("brightness=2", 200),
        ("brightness=0", 100),  # 0 is ignored
        ("contrast=2", 72),  # 128 + (100 - 128) * 2
        ("contrast=0", 100),  # 0 is ignored
        ("gamma=0.5", 160),  # 255 * (100/255) ** 0.5: below 1 lightens
        ("gamma=2", 39),  # above 1 darkens
        ("gamma=1", 100),
    ],
)
def test_tone_adjustments(options: str, expected: int) -> None:
    red, green, blue = mean(pixels(GREY, options, fmt="png"))
    assert abs(red - expected) <= 1 and red == green == blue


def test_saturation() -> None:
    grey = mean(pixels(COLOUR, "saturation=0", fmt="png"))
    assert max(grey) - min(grey) < 1.5
    vivid = mean(pixels(COLOUR, "saturation=2", fmt="png"))
    assert vivid[0] - vivid[2] > 200 - 40


# --- trim -----------------------------------------------------------------------------------------------------


def framed(border: int = 10) -> bytes:
    image = Image.new("RGB", (100 + 2 * border, 60 + 2 * border), (255, 255, 255))
    image.paste(make(100, 60, "quadrants"), (border, border))
    from imagegen import encode

    return encode(image, "PNG")


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ("trim=10;20;30;40", (60, 40)),  # from 120×80: width 120-20-40, height 80-10-30
        ("trim=5;5;5;5,dpr=2", (100, 60)),  # trim scaled by dpr: 10 px per side
        ("trim.left=10,trim.top=10,trim.width=50,trim.height=30", (50, 30)),
        ("trim.width=30", (30, 80)),
        ("trim=border", (100, 60)),
        ("trim=border,trim.border.keep=4", (108, 68)),
        ("trim=border,trim.border.color=%23ffffff,trim.border.tolerance=255", (100, 60)),
        ("trim=border,trim.border.color=black", (120, 80)),  # no black border: nothing to trim
        ("trim=10;10;10;10,w=50", (50, 30)),  # trim happens before the resize
    ],
)
def test_trim_sizes(options: str, size: tuple[int, int]) -> None:
    assert pixels(framed(), options, fmt="png").size == size


def test_trim_border_removes_exactly_the_frame() -> None:
    image = pixels(framed(), "trim=border", fmt="png")
    assert quadrant_at(image, 0, 0) == "top-left" and quadrant_at(image, 99, 59) == "bottom-right"


def test_trim_happens_before_rotation() -> None:
    # Cut the left 60 px (the whole left half) first; the rotation then shows only the right half.
    image = pixels(png(120, 60, "quadrants"), "trim=0;0;0;60,rotate=90", fmt="png")
    assert image.size == (60, 60)
    assert {quadrant_at(image, x, y) for x in (3, 56) for y in (3, 56)} == {"top-right", "bottom-right"}


def test_trimming_everything_is_a_zero_size_error() -> None:
    with pytest.raises(ImageRejected) as caught:
        run(framed(), "trim=50;50;50;50", fmt="png")
    assert (caught.value.code, caught.value.status) == (9413, 403)
    assert "size 0" in caught.value.message


# --- metadata -------------------------------------------------------------------------------------------------

EXIF_SOURCE = jpeg(120, 80, exif=exif_block(copyright="(c) ACME", artist="Jo", gps=True))


def exif_of(data: bytes) -> Image.Exif:
    return decode(data).getexif()


def test_metadata_keep_preserves_exif_including_gps() -> None:
    exif = exif_of(run(EXIF_SOURCE, "w=60,metadata=keep", fmt="jpeg").body)
    assert exif.get(0x8298) == "(c) ACME" and exif.get(0x013B) == "Jo"
    assert exif.get_ifd(0x8825).get(1) == "N"


@pytest.mark.parametrize("options", ["w=60,metadata=copyright", "w=60"])  # copyright is the JPEG default
def test_metadata_copyright_keeps_only_the_copyright(options: str) -> None:
    body = run(EXIF_SOURCE, options, fmt="jpeg").body
    exif = exif_of(body)
    assert exif.get(0x8298) == "(c) ACME"
    assert 0x013B not in exif and not exif.get_ifd(0x8825)
    assert b"Jo\x00" not in body


def test_metadata_none_strips_exif() -> None:
    body = run(EXIF_SOURCE, "w=60,metadata=none", fmt="jpeg").body
    assert b"Exif\x00\x00" not in body and b"ACME" not in body


@pytest.mark.parametrize("fmt", ["webp", "png"])
def test_webp_and_png_never_carry_exif(fmt: str) -> None:
    body = run(EXIF_SOURCE, "w=60,metadata=keep", fmt=fmt).body
    assert b"ACME" not in body and b"Exif" not in body


def test_kept_exif_has_no_stale_orientation() -> None:
    source = jpeg(80, 40, exif=exif_block(copyright="c", orientation=6))
    body = run(source, "metadata=keep", fmt="jpeg").body
    image = decode(body)
    assert image.size == (40, 80) and 0x0112 not in image.getexif()


# --- animation ------------------------------------------------------------------------------------------------

ANIMATION = gif_animated(frames=4)


def frame_colours(data: bytes) -> list[tuple[int, int, int]]:
    image = Image.open(__import__("io").BytesIO(data))
    colours = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        pixel = image.convert("RGB").getpixel((5, 5))
        assert isinstance(pixel, tuple)
        colours.append(pixel)
    return colours


@pytest.mark.parametrize("accept", [None, BROWSER])
def test_animation_is_kept(accept: str | None) -> None:
    result = run(ANIMATION, "w=20", accept=accept)
    assert sniff(result.body) == ("webp" if accept else "gif")
    colours = frame_colours(result.body)
    assert len(colours) == 4
    assert all(near(c, expected, 16) for c, expected in zip(colours, FRAME_COLORS, strict=False))
    assert decode(result.body).size == (20, 15)


def test_anim_false_keeps_only_the_first_frame() -> None:
    result = run(ANIMATION, "anim=false", accept=BROWSER)
    assert sniff(result.body) == "avif"  # a still image may be AVIF
    assert len(frame_colours(result.body)) == 1
    assert near(frame_colours(result.body)[0], FRAME_COLORS[0], 16)


def test_animated_webp_input() -> None:
    result = run(webp(30, 20, frames=3), "w=15", accept="image/webp")
    assert sniff(result.body) == "webp" and len(frame_colours(result.body)) == 3


# --- formats --------------------------------------------------------------------------------------------------

PHOTO = jpeg(300, 200)
PHOTO_INFO = inspect_image(PHOTO)[0]
ALPHA_INFO = inspect_image(png(30, 30, alpha=True))[0]
OPAQUE_PNG_INFO = inspect_image(png(30, 30))[0]
GIF_INFO = inspect_image(ANIMATION)[0]


@pytest.mark.parametrize(
    ("info", "options", "accept", "expected"),
    [
        (PHOTO_INFO, None, BROWSER, "avif"),
        (PHOTO_INFO, None, "image/webp,*/*", "webp"),
        (PHOTO_INFO, None, "*/*", "jpeg"),
        (PHOTO_INFO, None, None, "jpeg"),
        (PHOTO_INFO, "f=auto", "image/avif;q=0,image/webp", "webp"),
        (ALPHA_INFO, None, "*/*", "png"),
        (OPAQUE_PNG_INFO, None, "*/*", "jpeg"),
        (GIF_INFO, None, "*/*", "gif"),
        (GIF_INFO, None, BROWSER, "webp"),
        (GIF_INFO, "anim=false", BROWSER, "avif"),
        (PHOTO_INFO, "f=webp", None, "webp"),
        (PHOTO_INFO, "f=jpeg", BROWSER, "jpeg"),
        (PHOTO_INFO, "f=baseline-jpeg", BROWSER, "baseline-jpeg"),
        (PHOTO_INFO, "f=avif", None, "avif"),
        (PHOTO_INFO, "f=json", BROWSER, "json"),
        (PHOTO_INFO, "compression=fast", BROWSER, "jpeg"),
        (PHOTO_INFO, "compression=fast,f=webp", BROWSER, "jpeg"),
        (ALPHA_INFO, "compression=fast", "*/*", "png"),
        (ImageInfo("jpeg", "image/jpeg", 4000, 3000, 1, False, 1), None, BROWSER, "webp"),  # too big for AVIF
        (ImageInfo("jpeg", "image/jpeg", 4000, 3000, 1, False, 1), "w=1200", BROWSER, "avif"),
        (ImageInfo("jpeg", "image/jpeg", 4000, 3000, 1, False, 1), "f=avif", BROWSER, "webp"),
        (ImageInfo("svg", "image/svg+xml", 10, 10, 1, False, 1), "w=100", BROWSER, "svg"),
        (ImageInfo("gif", "image/gif", 2000, 2000, 20, True, 1), "w=10", BROWSER, "gif"),  # 80 MP: untouched
    ],
)
def test_format_negotiation(info: ImageInfo, options: str | None, accept: str | None, expected: str) -> None:
    assert output_format(Options.parse(options) if options else None, info, accept) == expected


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [("jpeg", "jpeg"), ("baseline-jpeg", "jpeg"), ("png", "png"), ("webp", "webp"), ("avif", "avif"), ("gif", "gif")],
)
def test_output_magic_bytes(fmt: str, magic: str) -> None:
    result = run(PHOTO, "w=100", fmt=fmt)
    assert sniff(result.body) == magic
    assert result.content_type == {"baseline-jpeg": "image/jpeg"}.get(fmt, f"image/{fmt}")
    assert decode(result.body).size == (100, 67)


def is_progressive(data: bytes) -> bool:
    assert sniff(data) == "jpeg"
    return b"\xff\xc2" in data[: data.find(b"\xff\xda")]


def test_progressive_and_baseline_jpeg() -> None:
    assert is_progressive(run(PHOTO, "w=200", fmt="jpeg").body)
    assert not is_progressive(run(PHOTO, "w=200", fmt="baseline-jpeg").body)
    assert not is_progressive(run(PHOTO, "w=40", fmt="jpeg").body)  # under 50×50: baseline


def test_format_json() -> None:
    result = run(PHOTO, "w=100,h=100,fit=cover,f=json", accept=BROWSER)
    assert result.content_type == "application/json"
    assert json.loads(result.body) == {
        "width": 100,
        "height": 100,
        "original": {"file_size": len(PHOTO), "width": 300, "height": 200, "format": "image/jpeg"},
    }


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_quality_changes_size_monotonically(fmt: str) -> None:
    source = jpeg(240, 160, "noise")
    sizes = [len(run(source, f"q={q}", fmt=fmt).body) for q in (20, 50, 90)]
    assert sizes[0] < sizes[1] < sizes[2]


def test_named_quality_levels_are_ordered() -> None:
    source = jpeg(240, 160, "noise")
    sizes = [len(run(source, f"q={q}", fmt="jpeg").body) for q in ("low", "medium-low", "medium-high", "high")]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4


def test_explicit_quality_on_png_gives_a_palette_png() -> None:
    assert decode(run(PHOTO, "w=50", fmt="png").body).mode == "RGB"
    assert decode(run(PHOTO, "w=50,q=80", fmt="png").body).mode == "P"


def test_webp_quality_100_is_lossless() -> None:
    source = png(64, 64, "noise")
    body = run(source, "q=100", fmt="webp").body
    assert body[12:16] == b"VP8L"
    assert decode(body).convert("RGB").tobytes() == decode(source).convert("RGB").tobytes()


# --- ignored options, limits, bad data ----------------------------------------------------------------------------


def test_options_that_cannot_be_honoured_are_listed_not_fatal() -> None:
    result = run(PHOTO, "w=auto,segment=foreground,upscale=generate,scq=40", fmt="jpeg")
    assert set(result.ignored) == {"width=auto", "segment", "upscale=generate", "slow-connection-quality"}
    assert decode(result.body).size == (300, 200)
    assert run(PHOTO, "w=100", fmt="jpeg").ignored == ()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("w=100000,fit=contain", "maximum dimension allowed is 5000"),
        ("w=100000,h=100000,fit=pad", "enlarged too much"),
        ("w=6000,h=10,fit=squeeze", "enlarged too much"),
        ("h=60000,fit=cover,w=5", "enlarged too much"),
    ],
)
def test_absurd_enlargements_are_refused_before_decoding(options: str, words: str) -> None:
    info, stored = inspect_image(PHOTO)
    parsed = Options.parse(options)
    tracemalloc.start()
    try:
        with pytest.raises(ImageRejected) as caught:
            render(stored, info, parsed, output_format=output_format(parsed, info, BROWSER))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (caught.value.code, caught.value.status) == (9413, 403)
    assert words in caught.value.message
    assert peak < 2_000_000


def test_huge_width_with_scale_down_is_just_the_original() -> None:
    assert pixels(PHOTO, "w=100000", fmt="jpeg").size == (300, 200)


def test_large_animation_enlargement_is_refused() -> None:
    with pytest.raises(ImageRejected) as caught:
        run(gif_animated(frames=8), "w=4900,fit=contain", fmt="gif")  # 4900×3675 × 8 frames > 100 MP
    assert caught.value.code == 9413 and "animation" in caught.value.message.lower()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
    b'<script>x()</script><rect width="5" height="5"/></svg>'
)


def test_svg_is_returned_sanitised_whatever_the_options() -> None:
    result = run(SVG, "w=5,blur=10,rotate=90", accept=BROWSER)
    assert result.content_type == "image/svg+xml"
    assert b"<rect" in result.body and b"script" not in result.body
    assert set(result.ignored) == {"width", "blur", "rotate"}
    assert (result.width, result.height) == (20, 10)


@pytest.mark.parametrize("fmt", ["webp", "jpeg", "avif"])
def test_svg_to_raster_is_9412(fmt: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        run(SVG, f"f={fmt}")
    assert (caught.value.code, caught.value.status) == (9412, 415)


def test_raster_to_svg_is_9412() -> None:
    with pytest.raises(ImageRejected) as caught:
        run(PHOTO, None, fmt="svg")
    assert caught.value.code == 9412


def test_a_corrupt_stored_original_is_a_decode_error() -> None:
    info, stored = inspect_image(jpeg(300, 200, "noise"))
    with pytest.raises(ImageRejected) as caught:
        render(stored[: len(stored) // 2], info, Options.parse("w=100"), output_format="webp")
    assert (caught.value.code, caught.value.status) == (9516, 422)


def test_named_variant_without_options_reencodes_the_original() -> None:
    info, stored = inspect_image(PHOTO)
    result = render(stored, info, None, output_format="webp")
    assert sniff(result.body) == "webp" and (result.width, result.height) == (300, 200)


# --- properties -----------------------------------------------------------------------------------------------

OPTION_VALUES = {
    "w": st.integers(1, 700),
    "h": st.integers(1, 700),
    "dpr": st.sampled_from(["0.5", "1", "1.5", "2"]),
    "fit": st.sampled_from(FITS),
    "g": st.sampled_from(["auto", "face", "left", "right", "top", "bottom", "0.2x0.8", "1x1"]),
    "rotate": st.sampled_from(["90", "180", "270"]),
    "flip": st.sampled_from(["h", "v", "hv"]),
    "trim": st.sampled_from(["border", "3;4;5;6", "40;40;40;40"]),
    "blur": st.integers(1, 30),
    "sharpen": st.sampled_from(["0.5", "3", "10"]),
    "brightness": st.sampled_from(["0", "0.5", "1.7"]),
    "contrast": st.sampled_from(["0", "0.5", "1.5"]),
    "gamma": st.sampled_from(["0", "0.6", "2.2"]),
    "saturation": st.sampled_from(["0", "0.5", "2"]),
    "background": st.sampled_from(["red", "%23102030", "transparent"]),
    "q": st.sampled_from(["10", "85", "100", "low", "high"]),
    "metadata": st.sampled_from(["keep", "copyright", "none"]),
    "anim": st.sampled_from(["true", "false"]),
    "f": st.sampled_from(["auto", "avif", "webp", "jpeg", "baseline-jpeg", "json"]),
    "compression": st.just("fast"),
    "segment": st.just("foreground"),
    "upscale": st.sampled_from(["interpolate", "generate"]),
}
SOURCES = [
    jpeg(90, 60, exif=exif_block(copyright="x", orientation=3)),
    jpeg(1000, 700, "quadrants", exif=exif_block(orientation=6)),  # large enough for the reduced JPEG decode
    png(50, 70, alpha=True),
    ANIMATION,
]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(SOURCES),
    chosen=st.dictionaries(st.sampled_from(sorted(OPTION_VALUES)), st.none(), max_size=6),
    data=st.data(),
    accept=st.sampled_from([None, "*/*", "image/webp", BROWSER]),
)
def test_any_option_combination_renders_or_is_rejected(
    source: bytes, chosen: dict[str, None], data: st.DataObject, accept: str | None
) -> None:
    options = ",".join(f"{name}={data.draw(OPTION_VALUES[name], label=name)}" for name in chosen)
    info, stored = inspect_image(source)
    parsed = Options.parse(options) if options else None
    fmt = output_format(parsed, info, accept)
    try:
        result = render(stored, info, parsed, output_format=fmt)
    except ImageRejected as exc:
        assert exc.code in (9413,) and exc.message
        return
    if fmt == "json":
        document = json.loads(result.body)
        assert (document["width"], document["height"]) == (result.width, result.height)
        return
    assert sniff(result.body) == {"baseline-jpeg": "jpeg"}.get(fmt, fmt)
    assert decode(result.body).size == (result.width, result.height)


# --- unusual inputs and the reduced-resolution JPEG decode --------------------------------------------------------


def unusual_inputs() -> dict[str, bytes]:
    from imagegen import encode

    sixteen_bit = Image.linear_gradient("L").resize((64, 32)).convert("I").point(lambda v: v * 256).convert("I;16")
    return {
        "16-bit grey png": encode(sixteen_bit, "PNG"),
        "cmyk jpeg": encode(make(64, 32).convert("CMYK"), "JPEG"),
        "grey jpeg": encode(make(64, 32).convert("L"), "JPEG"),
        "palette png with transparency": encode(make(64, 32, alpha=True).convert("P"), "PNG"),
        "grey+alpha png": encode(make(64, 32, alpha=True).convert("LA"), "PNG"),
        "1-bit png": encode(make(64, 32, "checker").convert("1"), "PNG"),
        "animated png": encode(make(64, 32), "PNG", save_all=True, append_images=[make(64, 32, (1, 2, 3))]),
    }


@pytest.mark.parametrize("name", sorted(unusual_inputs()))
@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_unusual_modes_render(name: str, fmt: str) -> None:
    source = unusual_inputs()[name]
    image = pixels(source, "w=32", fmt=fmt)
    assert image.size == (32, 16)
    info = inspect_image(source)[0]
    if info.alpha and fmt != "jpeg":
        assert image.convert("RGBA").getpixel((30, 8))[3] == 0  # type: ignore[index]
    else:
        assert image.mode in ("RGB", "L", "P")


BIG_QUAD = jpeg(1600, 1200, "quadrants")


@pytest.mark.parametrize(
    ("options", "size", "corners"),
    [
        ("w=100", (100, 75), ("top-left", "top-right", "bottom-left", "bottom-right")),
        ("w=100,h=200,fit=cover,g=right", (100, 200), ("top-right", "top-right", "bottom-right", "bottom-right")),
        ("trim=0;0;0;800,w=100", (100, 150), ("top-right", "top-right", "bottom-right", "bottom-right")),
        ("rotate=90,w=60", (60, 80), ("bottom-left", "top-left", "bottom-right", "top-right")),
    ],
)
def test_reduced_jpeg_decode_keeps_geometry(options: str, size: tuple[int, int], corners: tuple[str, ...]) -> None:
    image = pixels(BIG_QUAD, options, fmt="png")
    assert image.size == size
    assert left_and_right(image) == corners
