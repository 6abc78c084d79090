"""image_ref: what a template value means as an image, in the documented order, and what it refuses."""

from __future__ import annotations

import subprocess
import sys
import types
from dataclasses import dataclass

import pytest
from jinja2 import ChainableUndefined, DebugUndefined, Environment, StrictUndefined, Undefined
from jinja2.exceptions import UndefinedError
from markupsafe import Markup

from cfvariants import CFVariantsError, RemoteImage, image_ref

URL = "https://imagedelivery.net/ZWd9g1K7eljCn_KDTu_MWA/abc/public"


@pytest.mark.parametrize("value", [None, ""])
def test_nothing_means_no_image(value: object) -> None:
    assert image_ref(value) is None


def test_strings_are_ids_or_urls_as_they_are() -> None:
    assert image_ref("083eb7b2-5392-4565-b69e-aff66acddd00") == "083eb7b2-5392-4565-b69e-aff66acddd00"
    assert image_ref(URL) == URL
    ref = image_ref(Markup("abc"))
    assert ref == "abc"
    assert type(ref) is str


@pytest.mark.parametrize("kind", [Undefined, ChainableUndefined, DebugUndefined])
def test_jinja_undefined_means_no_image(kind: type[Undefined]) -> None:
    assert image_ref(kind(name="profile")) is None
    assert image_ref(Environment(undefined=kind).from_string("").new_context().resolve("missing")) is None


def test_strict_undefined_keeps_its_error() -> None:
    with pytest.raises(UndefinedError, match="profile"):
        image_ref(StrictUndefined(name="profile"))


class Photo:
    """One of our own models: it says which image it is."""

    def __init__(self, image_id: str | None) -> None:
        self._image_id = image_id
        self.id = 42  # a database key: must never be used
        self.url = "https://example.com/not-this"

    def __cf_image__(self) -> str | None:
        return self._image_id


@dataclass
class Stored:
    image_id: str | None
    url: str = "https://example.com/not-this"


@dataclass
class Linked:
    url: str | None = None
    image_url: str | None = None


class FakeStorage:
    pass


@dataclass
class FieldFileLike:
    """The duck type of Django's FieldFile: a name and the storage that holds it."""

    name: str | None
    storage: object
    url: str = "/media/not-this"


def test_own_models_answer_first_as_method_or_attribute() -> None:
    assert image_ref(Photo("img-1")) == "img-1"
    assert image_ref(Photo(None)) is None

    class WithAttribute:
        __cf_image__ = URL
        image_id = "not-this"

    assert image_ref(WithAttribute()) == URL


def test_image_id_attribute_before_files_and_urls() -> None:
    assert image_ref(Stored("img-2")) == "img-2"
    assert image_ref(Stored(None)) is None


def test_files_of_other_storages_are_remote_images_by_their_url_never_their_name() -> None:
    ref = image_ref(FieldFileLike("avatars/u7.png", FakeStorage(), url="/media/avatars/u7.png"))
    assert ref == "/media/avatars/u7.png" and type(ref) is RemoteImage
    assert image_ref(FieldFileLike("", FakeStorage())) is None
    assert image_ref(FieldFileLike(None, FakeStorage())) is None


def test_files_of_the_cloudflare_storage_give_their_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class CloudflareImagesStorage:  # stands in for the class of cfvariants.django.storage, matched by isinstance
        pass

    module = types.ModuleType("cfvariants.django.storage")
    module.is_cloudflare_storage = lambda storage: isinstance(storage, CloudflareImagesStorage)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cfvariants.django.storage", module)

    class Subclass(CloudflareImagesStorage):
        pass

    ref = image_ref(FieldFileLike("avatars/u7.png", Subclass()))
    assert ref == "avatars/u7.png" and type(ref) is str
    assert type(image_ref(FieldFileLike("avatars/u7.png", FakeStorage()))) is RemoteImage


def test_url_then_image_url() -> None:
    assert image_ref(Linked(url=URL, image_url="https://imagedelivery.net/h/other/public")) == URL
    assert image_ref(Linked(image_url=URL)) == URL
    assert image_ref(Linked()) is None


def test_url_attributes_of_other_images_are_remote_and_other_text_is_refused() -> None:
    ref = image_ref(Linked(url="/media/x.png"))
    assert ref == "/media/x.png" and type(ref) is RemoteImage
    assert type(image_ref(Linked(url="https://bucket.s3.amazonaws.com/x.png"))) is RemoteImage
    assert type(image_ref(Linked(url=URL))) is str  # a delivery URL stays hosted
    with pytest.raises(CFVariantsError, match=r"Linked\.url is 'x\.png', not a URL"):
        image_ref(Linked(url="x.png"))


def test_wrong_attribute_types_name_the_attribute() -> None:
    with pytest.raises(CFVariantsError, match=r"Stored\.image_id is of type int, not an image id"):
        image_ref(Stored(7))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [42, 3.5, b"abc", ["abc"], {"image_id": "abc"}, object()])
def test_anything_else_is_refused_by_type(value: object) -> None:
    with pytest.raises(CFVariantsError, match=rf"^{type(value).__name__} is not an image"):
        image_ref(value)


def test_database_keys_are_never_used() -> None:
    class Row:
        id = 7
        pk = 7

    with pytest.raises(CFVariantsError, match=r"\.id and \.pk are database keys"):
        image_ref(Row())


def test_the_core_imports_neither_jinja_nor_django_and_jinja_needs_no_django() -> None:
    code = (
        "import sys, cfvariants, cfvariants._refs, cfvariants._templating; "
        "print(sorted(m for m in ('jinja2', 'django') if m in sys.modules)); "
        "import cfvariants.jinja; print(sorted(m for m in ('jinja2', 'django') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split("\n")[:2] == ["[]", "['jinja2']"]


def test_api_client_images_stand_for_their_id() -> None:
    from cfvariants.client import Image

    image = Image.model_validate({"id": "083eb7b2", "variants": ["https://imagedelivery.net/h/083eb7b2/public"]})
    assert image_ref(image) == "083eb7b2"
