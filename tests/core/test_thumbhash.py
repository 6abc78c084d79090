"""ThumbHash: the reference implementation's vectors, the placeholders painted from it, and what uploads record."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import imagegen
import pytest
from PIL import Image
from thumbhash_images import CASES, rgba_image

from cfvariants import thumbhash
from cfvariants.imaging import placeholder_metadata, with_placeholder_metadata

VECTORS = json.loads((Path(__file__).parent.parent / "fixtures" / "thumbhash_vectors.json").read_text())["vectors"]
# Images whose AC terms are zero in exact arithmetic (a solid colour; a disc, symmetric about the centre): there the
# reference's own rounding noise (V8's cos differs from the C library's in the last bit) picks the nibble.
DEGENERATE = {"solid", "alpha-disc"}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_encode_matches_the_reference(vector: dict[str, object]) -> None:
    width, height, kind, seed = CASES[str(vector["name"])]
    mine = thumbhash.encode(width, height, rgba_image(width, height, kind, seed))
    reference = base64.b64decode(str(vector["thumbhash"]))
    if vector["name"] not in DEGENERATE:
        assert mine == reference
        return
    # Same length and header; the placeholders differ by at most 2/255 per channel.
    assert len(mine) == len(reference) and mine[:5] == reference[:5]
    _w, _h, ours = thumbhash.decode(mine)
    _w, _h, theirs = thumbhash.decode(reference)
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) <= 2


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_decode_matches_the_reference(vector: dict[str, object]) -> None:
    raw = thumbhash.parse(str(vector["thumbhash"]))
    decoded = vector["decoded"]
    assert isinstance(decoded, dict)
    assert thumbhash.decode(raw) == (decoded["width"], decoded["height"], base64.b64decode(decoded["rgba"]))
    assert thumbhash.average_rgba(raw) == pytest.approx(tuple(vector["average_rgba"]), abs=1e-12)  # type: ignore[arg-type]
    assert thumbhash.aspect_ratio(raw) == vector["aspect_ratio"]


def test_the_hash_keeps_the_picture() -> None:
    # A sunny landscape: the placeholder keeps the blue sky above the darker ground, and the aspect ratio.
    raw = thumbhash.encode(100, 75, rgba_image(100, 75, "photo", 1))
    assert 20 <= len(raw) <= 30
    width, height, rgba = thumbhash.decode(raw)
    assert (width, height) == (32, 23)  # 7:5 terms, the nearest the hash keeps to 4:3
    top = rgba[(2 * width + 16) * 4 : (2 * width + 16) * 4 + 3]
    bottom = rgba[((height - 2) * width + 16) * 4 : ((height - 2) * width + 16) * 4 + 3]
    assert top[2] > top[0] and top[2] > 180  # blue sky
    assert sum(bottom) < sum(top) and bottom[1] > bottom[2]  # greener, darker ground


def test_data_uri_is_a_small_png_of_the_placeholder() -> None:
    text = base64.b64encode(thumbhash.encode(100, 75, rgba_image(100, 75, "photo", 1))).decode()
    uri = thumbhash.data_uri(text)
    assert uri.startswith("data:image/png;base64,") and len(uri) < 900
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    image.load()
    assert image.size == (16, 11) and image.mode == "RGB"
    _, _, rgba = thumbhash.decode(thumbhash.parse(text), 16)
    assert image.tobytes() == bytes(b for i, b in enumerate(rgba) if i % 4 != 3)
    alpha = base64.b64encode(thumbhash.encode(80, 80, rgba_image(80, 80, "alpha", 4))).decode()
    assert Image.open(io.BytesIO(base64.b64decode(thumbhash.data_uri(alpha).split(",", 1)[1]))).mode == "RGBA"


def test_bad_hashes_and_images_are_refused_by_name() -> None:
    with pytest.raises(thumbhash.ThumbHashError, match="not a base64 ThumbHash"):
        thumbhash.parse("not base64!")
    with pytest.raises(thumbhash.ThumbHashError, match="at least 5 bytes"):
        thumbhash.parse("AAA=")
    with pytest.raises(thumbhash.ThumbHashError, match="truncated"):
        thumbhash.decode(thumbhash.parse(base64.b64encode(thumbhash.encode(8, 8, bytes(256))[:7]).decode()))
    with pytest.raises(thumbhash.ThumbHashError, match="does not fit in 100x100"):
        thumbhash.encode(101, 10, bytes(101 * 10 * 4))
    assert thumbhash.MAX_ENCODE_SIDE == 100
    with pytest.raises(thumbhash.ThumbHashError, match="has 64 bytes, not 3"):
        thumbhash.encode(4, 4, b"abc")


def test_upload_metadata_from_a_photo() -> None:
    data = imagegen.encode(imagegen.photo(1600, 1200, seed=5), "JPEG", quality=90)
    meta = placeholder_metadata(data)
    assert (meta["cfv_width"], meta["cfv_height"]) == (1600, 1200)
    raw = thumbhash.parse(meta["cfv_thumbhash"])
    assert abs(thumbhash.aspect_ratio(raw) - 4 / 3) < 0.2 and not thumbhash.has_alpha(raw)
    stream = io.BytesIO(b"xx" + data)
    stream.seek(2)
    assert placeholder_metadata(stream) == meta and stream.tell() == 2  # read from there, left there


def test_upload_metadata_follows_exif_orientation() -> None:
    image = imagegen.photo(400, 300, seed=6)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated by 90 degrees
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    meta = placeholder_metadata(buffer.getvalue())
    assert (meta["cfv_width"], meta["cfv_height"]) == (300, 400)
    assert thumbhash.aspect_ratio(thumbhash.parse(meta["cfv_thumbhash"])) < 1


def test_upload_metadata_is_never_in_the_way() -> None:
    assert placeholder_metadata(b"<svg xmlns='http://www.w3.org/2000/svg'/>") == {}
    assert placeholder_metadata(b"not an image") == {}
    png = imagegen.png(64, 48)
    assert with_placeholder_metadata({"owner": 7}, png)["owner"] == 7
    mine = {"cfv_width": 1, "cfv_height": 1, "cfv_thumbhash": "x"}
    assert with_placeholder_metadata(mine, png) == mine  # the caller's keys win
    full = {"note": "x" * 990}
    assert with_placeholder_metadata(full, png) == full  # Cloudflare's 1,024 bytes: ours are left out


def test_average_hex_is_the_average_colour_rounded_exactly() -> None:
    """``average_hex`` (the dominant-colour placeholder) reads tables; for every header the hash can hold it must
    be ``average_rgba``'s red, green and blue, each the nearest of 0..255 (within half a step of the floats)."""
    for header in range(0, 1 << 18, 7):  # every 7th of the 262,144 (L, P, Q) fields: all three vary
        raw = bytes((header & 255, (header >> 8) & 255, header >> 16, 0, 0))
        text = thumbhash.average_hex(raw)
        assert len(text) == 6 and text == text.lower()
        for channel, value in zip(thumbhash.average_rgba(raw)[:3], bytes.fromhex(text), strict=True):
            assert abs(value - channel * 255) <= 0.5 + 1e-9
    assert thumbhash.average_hex(thumbhash.parse("YrgJJYaVZnlwiIeGiHiJefdl0/mF")) == "7ba082"
