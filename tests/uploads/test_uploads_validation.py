"""What an app checks before it accepts a file for upload (``check_image_file``): the type comes from the bytes, a
broken or refused file gets one sentence written for the person who chose it, and the store records the type found
in the bytes."""

from __future__ import annotations

from pathlib import Path

import imagegen
import pytest

from cfvariants.uploads import ACCEPTED_FORMATS, UploadRejected, UploadStore, check_image_file
from cfvariants.uploads._validation import _sentence, check_image_bytes, check_image_content_type

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#c33"/></svg>'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (imagegen.photo_jpeg(400_000, seed=3), ("jpeg", "image/jpeg")),
        (imagegen.photo_png(300_000, seed=4), ("png", "image/png")),
        (imagegen.gif_animated(), ("gif", "image/gif")),
        (imagegen.webp(120, 90), ("webp", "image/webp")),
        (SVG, ("svg", "image/svg+xml")),
    ],
    ids=["jpeg", "png", "gif", "webp", "svg"],
)
def test_an_image_is_accepted_with_the_type_its_bytes_say(
    data: bytes, expected: tuple[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "upload.bin"  # the name says nothing: the bytes do
    path.write_bytes(data)
    assert check_image_file(path) == expected
    assert check_image_file(str(path)) == expected
    assert check_image_content_type(path) == expected[1]
    info = check_image_bytes(data)
    assert (info.format, info.content_type, info.size) == (*expected, len(data))


def test_only_the_formats_asked_for_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "photo.gif"
    path.write_bytes(imagegen.gif_animated())
    with pytest.raises(UploadRejected) as refused:
        check_image_file(path, formats=("jpeg", "png"))
    assert str(refused.value) == "GIF files are not accepted here; use jpeg, png."
    assert check_image_file(path, formats=("gif",)) == ("gif", "image/gif")
    with pytest.raises(UploadRejected, match=r"^SVG files are not accepted here; use jpeg, png, gif, webp, avif\.$"):
        check_image_bytes(SVG, formats=ACCEPTED_FORMATS[:-1])
    assert ACCEPTED_FORMATS == ("jpeg", "png", "gif", "webp", "avif", "svg")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"hello world\n", "The file is not an image: it is plain text."),
        (
            imagegen.photo_jpeg(200_000, seed=1)[:30],
            "The JPEG header cannot be read: the file is corrupt (Truncated File Read).",
        ),
        (b"<svg><g></svg>", "The SVG was refused: the SVG is not well-formed XML (mismatched tag at line 1)."),
    ],
    ids=["empty", "text", "broken-jpeg", "broken-svg"],
)
def test_a_file_that_is_not_a_usable_image_is_refused_in_one_sentence(
    data: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "upload.jpg"
    path.write_bytes(data)
    with pytest.raises(UploadRejected) as refused:
        check_image_file(path)
    assert str(refused.value) == message


def test_an_svg_that_could_run_code_or_load_files_is_refused_naming_the_first_three_causes() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect onload="x()"/>'
        b'<image href="http://example.com/x.png"/><a href="javascript:go()"><text>t</text></a></svg>'
    )
    with pytest.raises(UploadRejected) as refused:
        check_image_bytes(svg)
    assert str(refused.value) == (
        "This SVG contains a <script> element, an event handler (onload=...), an external reference "
        "(http://example.com/x.png). Images may not run code or load other files; remove them and upload again."
    )


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("the file is corrupt", "The file is corrupt."),
        ("  The image is broken.  ", "The image is broken."),
        ("too big...", "Too big."),
        ("x", "X."),
    ],
)
def test_a_reason_from_the_image_checks_becomes_one_sentence(text: str, sentence: str) -> None:
    assert _sentence(text) == sentence


def test_the_store_records_the_type_found_in_the_bytes(sqlite_store: UploadStore) -> None:
    png = imagegen.photo_png(200_000, seed=5)
    record = sqlite_store.stage(png, filename="holiday.jpg", content_type="image/jpeg", check=check_image_content_type)
    assert record.content_type == "image/png"
    with pytest.raises(UploadRejected, match=r"^The file is not an image: it is plain text\.$"):
        sqlite_store.stage(
            b"hello world\n", filename="notes.jpg", content_type="image/jpeg", check=check_image_content_type
        )
    assert sqlite_store.staged_ids() == [record.id]  # nothing of the refused file is kept
