"""Layouts on Django fields: the original's size (and ThumbHash) without ``original=`` and without a request.

A template render reads only what was recorded: the model's ``width_field``/``height_field`` (kept with the row),
or what the storage recorded when it saved the file. Photo-like JPEGs of real sizes, on the local emulator; every
request to it is counted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django_project import create_tables, setup
from imagegen import decode, exif_block, jpeg, photo_jpeg
from test_django_fields import local  # noqa: F401 - the autouse fixture: the local emulator, in DEV mode

setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402 - after settings are configured
from django.template import engines  # noqa: E402
from django_project.gallery.field_models import Avatar, Portrait, Sketch, Snapshot  # noqa: E402

from cfvariants import thumbhash  # noqa: E402
from cfvariants.django.storage import dev_storage  # noqa: E402
from cfvariants.imaging import placeholder_metadata  # noqa: E402

create_tables(Avatar, Portrait, Snapshot, Sketch)

PHOTO = photo_jpeg(400_000, seed=3)
PHOTO_SIZE = decode(PHOTO).size


@pytest.fixture(autouse=True)
def no_rows_left() -> Iterator[None]:
    """The rows a test made go with it (the in-memory database is shared with the other Django tests)."""
    yield
    for model in (Avatar, Portrait, Snapshot, Sketch):
        model.objects.all().delete()


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request any client makes to the local emulator from now on."""
    seen: list[str] = []
    handle = httpx.WSGITransport.handle_request

    def counting(self: httpx.WSGITransport, request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return handle(self, request)

    monkeypatch.setattr(httpx.WSGITransport, "handle_request", counting)
    return seen


def render(source: str, **context: Any) -> str:
    return str(engines["django"].from_string("{% load cfvariants %}" + source).render(context))


def attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'\s([a-z-]+)="([^"]*)"', tag))


def restart() -> None:
    """What a new process knows: nothing the storage remembered in memory."""
    storage = dev_storage()
    storage._originals.clear()
    storage._known.clear()


def test_a_model_with_width_and_height_fields_sizes_its_layout_after_a_restart(requests: list[str]) -> None:
    portrait = Portrait.objects.create(image=SimpleUploadedFile("me.jpg", PHOTO))
    width, height = PHOTO_SIZE
    assert (portrait.image_width, portrait.image_height) == (width, height)  # Django filled them at save
    restart()
    fresh = Portrait.objects.get(pk=portrait.pk)
    del requests[:]
    tag = render('{% cf_img p.image alt="Me" layout="constrained" width=400 %}', p=fresh)
    img = attrs(tag)
    assert (img["width"], img["height"]) == ("400", str(round(400 * height / width)))
    assert f"aspect-ratio:{width}/{height}" in img["style"]
    srcset_widths = [int(w) for w in re.findall(r"w=(\d+)", img["srcset"])]
    assert 800 <= srcset_widths[-1] < width  # 2x the box (snapped to the ladder), below the original
    assert requests == []  # the render read the row only


def test_no_candidate_is_wider_than_a_small_original(requests: list[str]) -> None:
    small = photo_jpeg(40_000, seed=4)
    width, height = decode(small).size
    portrait = Portrait.objects.create(image=SimpleUploadedFile("small.jpg", small))
    restart()
    del requests[:]
    img = attrs(render('{% cf_img p.image alt="" layout="full-width" %}', p=Portrait.objects.get(pk=portrait.pk)))
    assert max(int(w) for w in re.findall(r"w=(\d+)", img["srcset"])) == width < 640  # never upscaled
    assert (img["width"], img["height"]) == (str(width), str(height))
    assert requests == []


def test_the_saving_process_knows_size_and_thumbhash_without_model_fields(requests: list[str]) -> None:
    avatar = Avatar.objects.create(image=SimpleUploadedFile("face.jpg", PHOTO))
    width, height = PHOTO_SIZE
    fresh = Avatar.objects.get(pk=avatar.pk)
    del requests[:]
    tag = render(
        '{% cf_img a.image alt="Face" layout="constrained" width=300 placeholder="thumbhash" %}'
        '{% cf_preload a.image layout="constrained" width=300 %}',
        a=fresh,
    )
    img = attrs(tag.split("<link")[0])
    assert (img["width"], img["height"]) == ("300", str(round(300 * height / width)))
    recorded = dev_storage().recorded_original(fresh.image.name)
    assert recorded is not None and recorded.size == (width, height) and recorded.thumbhash
    assert thumbhash.data_uri(recorded.thumbhash) in img["style"]  # the placeholder painted from the hash
    assert attrs("<link" + tag.split("<link")[1])["imagesrcset"] == img["srcset"]
    assert requests == []


def test_without_a_record_the_render_asks_nothing_and_says_what_is_missing(requests: list[str]) -> None:
    avatar = Avatar.objects.create(image=SimpleUploadedFile("face.jpg", PHOTO))
    restart()
    fresh = Avatar.objects.get(pk=avatar.pk)
    del requests[:]
    assert dev_storage().recorded_original(fresh.image.name) is None
    assert fresh.image.__cf_original__() is None
    with pytest.raises(Exception, match="needs the image's aspect ratio"):
        render('{% cf_img a.image alt="" layout="constrained" width=300 %}', a=fresh)
    # With the box's size given, the layout needs nothing recorded.
    img = attrs(render('{% cf_img a.image alt="" layout="constrained" width=300 height=200 %}', a=fresh))
    assert (img["width"], img["height"]) == ("300", "200")
    assert requests == []


def test_a_photo_turned_by_its_exif_orientation_gets_the_box_it_is_shown_in(requests: list[str]) -> None:
    """A phone photo stored sideways with orientation 6 is shown (and served by Cloudflare) upright: 480x640."""
    sideways = jpeg(640, 480, "noise", exif=exif_block(orientation=6))
    portrait = Portrait.objects.create(image=SimpleUploadedFile("phone.jpg", sideways))
    assert (portrait.image_width, portrait.image_height) == (480, 640)
    restart()
    img = attrs(
        render('{% cf_img p.image alt="" layout="constrained" width=240 %}', p=Portrait.objects.get(pk=portrait.pk))
    )
    assert (img["width"], img["height"]) == ("240", "320") and "aspect-ratio:480/640" in img["style"]


# -- thumbhash_field: the ThumbHash kept with the row ----------------------------------------------------------------


def test_a_thumbhash_field_paints_the_placeholder_after_a_restart(requests: list[str]) -> None:
    photo = Snapshot.objects.create(image=SimpleUploadedFile("hill.jpg", PHOTO))
    expected = placeholder_metadata(PHOTO)["cfv_thumbhash"]
    assert photo.thumbhash == expected  # filled at assignment, from the file's content
    assert dev_storage().store.get(photo.image.name).meta["cfv_thumbhash"] == expected  # the same hash uploaded
    restart()
    fresh = Snapshot.objects.get(pk=photo.pk)
    del requests[:]
    tag = render(
        '{% cf_img p.image alt="Hill" layout="constrained" width=400 placeholder="thumbhash" %}'
        '{% cf_img p.image alt="Hill" layout="full-width" placeholder="dominant-color" %}',
        p=fresh,
    )
    first, second = (attrs(part) for part in tag.split("><"))
    assert f"background-image:url({thumbhash.data_uri(expected)})" in first["style"]
    assert f"background-color:#{thumbhash.average_hex(thumbhash.parse(expected))}" in second["style"]
    width, height = PHOTO_SIZE
    assert (first["width"], first["height"]) == ("400", str(round(400 * height / width)))
    assert requests == []  # size and hash came from the row


def test_the_thumbhash_field_follows_the_file(requests: list[str]) -> None:
    photo = Snapshot.objects.create(image=SimpleUploadedFile("hill.jpg", PHOTO))
    other = photo_jpeg(200_000, seed=8)
    photo.image = SimpleUploadedFile("sea.jpg", other)  # a new file: a new hash, before the row is saved
    assert photo.thumbhash == placeholder_metadata(other)["cfv_thumbhash"]
    photo.save()
    stored = photo.image.name
    copy = Snapshot.objects.create()
    del requests[:]
    copy.image = stored  # a stored image's name: the hash this process recorded for it, with no request
    assert copy.thumbhash == photo.thumbhash and requests == []
    copy.save()
    restart()
    assert Snapshot.objects.get(pk=copy.pk).thumbhash == photo.thumbhash  # read from the row, not recomputed
    sketch = Sketch.objects.create()
    del requests[:]
    sketch.image = stored  # nothing recorded in this process: left empty rather than downloaded
    assert sketch.thumbhash == "" and requests == []
    copy.image = None
    assert copy.thumbhash == ""


def test_a_thumbhash_field_declared_before_the_image_is_saved_with_the_row(requests: list[str]) -> None:
    sketch = Sketch.objects.create(image=SimpleUploadedFile("hill.jpg", PHOTO))
    restart()
    fresh = Sketch.objects.get(pk=sketch.pk)
    assert fresh.thumbhash == placeholder_metadata(PHOTO)["cfv_thumbhash"]
    # No size in the row: a box of a given size still gets its placeholder.
    del requests[:]
    img = attrs(
        render('{% cf_img s.image alt="" layout="fixed" width=200 height=150 placeholder="dominant-color" %}', s=fresh)
    )
    assert img["style"].startswith("object-fit:cover;background-color:#") and requests == []


def test_thumbhash_field_mistakes_are_system_check_errors() -> None:
    from django.db import models
    from django.test.utils import isolate_apps

    from cfvariants.django.fields import CloudflareImageField

    with isolate_apps("django_project.gallery"):

        class Missing(models.Model):
            image = CloudflareImageField(thumbhash_field="hash")

            class Meta:
                app_label = "gallery"

        class Short(models.Model):
            image = CloudflareImageField(thumbhash_field="hash")
            hash = models.CharField(max_length=20)

            class Meta:
                app_label = "gallery"

        class Number(models.Model):
            image = CloudflareImageField(thumbhash_field="hash")
            hash = models.IntegerField()

            class Meta:
                app_label = "gallery"

        class Right(models.Model):
            image = CloudflareImageField(thumbhash_field="hash")
            hash = models.CharField(max_length=36)

            class Meta:
                app_label = "gallery"

    found = {model.__name__: model._meta.get_field("image").check() for model in (Missing, Short, Number, Right)}
    assert [(e.id, e.msg) for e in found["Missing"]] == [
        ("cfvariants.E030", "thumbhash_field='hash' names no field of gallery.Missing")
    ]
    assert [e.id for e in found["Short"]] == ["cfvariants.E031"] and "max_length 20" in found["Short"][0].msg
    assert [e.id for e in found["Number"]] == ["cfvariants.E031"] and "IntegerField" in found["Number"][0].msg
    assert found["Right"] == []
    _name, _path, _args, kwargs = Right._meta.get_field("image").deconstruct()
    assert kwargs["thumbhash_field"] == "hash"  # migrations keep it


def test_a_background_upload_records_size_and_thumbhash_for_any_process(
    requests: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A background upload's record (SQLite, beside the staged files) carries the ThumbHash from the moment the
    file is staged, and the worker uploads that hash: after a restart the storage answers from the record."""
    from django.conf import settings
    from django.test import override_settings

    from cfvariants.django import _uploads
    from cfvariants.django.storage import CloudflareImagesStorage

    config = {**settings.CFVARIANTS, "UPLOADS_DIR": str(tmp_path / "uploads")}
    monkeypatch.setattr(_uploads, "_built", None)
    with override_settings(CFVARIANTS=config, HUEY={"huey_class": "huey.MemoryHuey", "immediate": True}):
        storage = CloudflareImagesStorage(dev=True, background=True)
        name = storage.save("photos/hill.jpg", SimpleUploadedFile("hill.jpg", PHOTO))  # uploaded at once (immediate)
        expected = placeholder_metadata(PHOTO)["cfv_thumbhash"]
        record = storage.upload_record(name)
        assert record is not None and record.state.value == "ready"
        assert record.metadata["cfv_thumbhash"] == expected
        assert dev_storage().store.get(record.image_id).meta["cfv_thumbhash"] == expected  # what the worker sent
        restarted = CloudflareImagesStorage(dev=True, background=True)  # a new process: nothing in memory
        del requests[:]
        original = restarted.recorded_original(name)
        assert original is not None and original.thumbhash == expected and original.size == PHOTO_SIZE
        assert requests == []
