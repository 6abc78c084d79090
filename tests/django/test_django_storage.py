"""CloudflareImagesStorage in a real Django project (tests/django_project) against the emulator: a model's
ImageField saving, opening, sizing, listing, deleting; URLs and templates; the development URLconf; pickling and
migrations; select_storage()."""

from __future__ import annotations

import copy
import io
import pickle
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from django_project import create_tables, setup
from imagegen import decode, jpeg, png

setup()

from django.core.files.base import ContentFile, File  # noqa: E402 - after settings are configured
from django.core.files.storage import storages  # noqa: E402
from django.db.migrations.writer import MigrationWriter  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django_project.gallery.cf_models import Photo, Scan, cloudflare_images  # noqa: E402

from cfvariants import SigningError, TemplateFilterError, parse_url, verify  # noqa: E402
from cfvariants.client import ConflictError  # noqa: E402
from cfvariants.django import _conf as conf  # noqa: E402
from cfvariants.django import _dev as dev  # noqa: E402
from cfvariants.django._checks import check_settings  # noqa: E402
from cfvariants.django.storage import (  # noqa: E402
    CloudflareImagesStorage,
    SelectedStorage,
    dev_storage,
    select_storage,
)
from cfvariants.emulator import (  # noqa: E402
    DEV_ACCOUNT_HASH,
    DEV_ACCOUNT_ID,
    DEV_API_TOKEN,
    DEV_SIGNING_KEY,
    EmulatorServer,
)
from cfvariants.local import LocalCloudflare  # noqa: E402

create_tables(Photo, Scan)

ENV_VARS = (
    "CF_ACCT_ID",
    "CF_IMG_TOKEN",
    "CF_IMG_HASH",
    "CF_IMG_SIGNING_KEY",
    "CF_IMG_DOMAIN",
    "CF_API_BASE",
    "ENV_NAME",
)
DELIVERY = f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}"
SECRET_TOKEN = "s3cret-api-token-for-tests"  # made-up values the tests look for in outputs
SECRET_KEY = "s3cret-signing-key-for-tests"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CF_* variables, ENV_NAME or .env from the machine; the cfvariants caches start fresh."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    conf.reset()
    yield
    conf.reset()


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalCloudflare]:
    """Development mode on an emulator in tmp_path, with the dev URLconf mounted."""
    data_dir = tmp_path / "cfimages"
    with override_settings(CFVARIANTS={"DEV": True, "DATA_DIR": str(data_dir)}, ROOT_URLCONF="django_project.cf_urls"):
        opened = dev.local_cloudflare()
        assert opened.data_dir == data_dir.resolve()
        yield opened
    opened.close()


def photo(title: str, data: bytes, name: str) -> Photo:
    item = Photo(title=title)
    item.image.save(name, ContentFile(data, name=name), save=True)
    return item


# -- the model field -------------------------------------------------------------------------------------------------


def test_saving_a_model_stores_the_image_under_its_name(local: LocalCloudflare) -> None:
    original = jpeg(640, 480)
    item = photo("cat", original, "cat.jpg")
    assert item.image.name == "photos/cat.jpg"
    assert (item.width, item.height) == (640, 480)
    assert local.emulator.image_blob("photos/cat.jpg")[0] == original
    again = Photo.objects.get(pk=item.pk)
    assert again.image.name == "photos/cat.jpg"


def test_the_same_file_name_twice_gets_two_names(local: LocalCloudflare) -> None:
    first = photo("one", png(40, 40), "me.png")
    second = photo("two", png(50, 50), "me.png")
    assert first.image.name == "photos/me.png"
    assert re.fullmatch(r"photos/me_[A-Za-z0-9]{7}\.png", second.image.name)
    assert decode(local.emulator.image_blob(second.image.name)[0]).size == (50, 50)


def test_opening_gives_the_original_bytes(local: LocalCloudflare) -> None:
    original = jpeg(300, 200)
    item = photo("open", original, "open.jpg")
    fresh = Photo.objects.get(pk=item.pk)
    with fresh.image.open("rb") as file:
        assert file.read() == original
    with cloudflare_images.open("photos/open.jpg") as file:
        assert isinstance(file, File)
        assert file.name == "photos/open.jpg"
        assert file.size == len(original)
        assert file.read() == original
    with pytest.raises(ValueError, match="reading only"):
        cloudflare_images.open("photos/open.jpg", "wb")
    with pytest.raises(FileNotFoundError):
        cloudflare_images.open("photos/missing.jpg")


def test_large_originals_are_spooled_to_disk_not_memory(local: LocalCloudflare) -> None:
    original = jpeg(2400, 1800)  # noisy gradient: larger than the small in-memory limit set below
    item = photo("big", original, "big.jpg")
    assert len(original) > 64 * 1024
    with cloudflare_images.open(item.image.name) as file:
        assert not file.file._rolled  # type: ignore[union-attr]  # in memory under the default 2.5 MB
        assert file.read() == original
    with override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=64 * 1024), cloudflare_images.open(item.image.name) as file:
        assert file.file._rolled  # type: ignore[union-attr]  # SpooledTemporaryFile moved to disk
        assert file.read() == original


def test_size_exists_and_times(local: LocalCloudflare) -> None:
    original = png(120, 80)
    before = datetime.now(UTC) - timedelta(seconds=1)
    item = photo("facts", original, "facts.png")
    name = item.image.name
    assert Photo.objects.get(pk=item.pk).image.size == len(original)
    assert cloudflare_images.size(name) == len(original)
    assert cloudflare_images.exists(name)
    assert not cloudflare_images.exists("photos/nope.png")
    created = cloudflare_images.get_created_time(name)
    assert created.tzinfo is not None and before <= created <= datetime.now(UTC) + timedelta(seconds=1)
    assert cloudflare_images.get_modified_time(name) == created
    with override_settings(USE_TZ=False, TIME_ZONE="Europe/Paris"):
        naive = cloudflare_images.get_created_time(name)
        assert naive.tzinfo is None
        assert abs(naive - created.astimezone(UTC).replace(tzinfo=None)) in (timedelta(hours=1), timedelta(hours=2))
    with pytest.raises(FileNotFoundError):
        cloudflare_images.size("photos/nope.png")
    with pytest.raises(FileNotFoundError):
        cloudflare_images.get_created_time("photos/nope.png")


def test_listdir_and_delete(local: LocalCloudflare) -> None:
    photo("a", png(8, 8), "a.png")
    photo("b", png(8, 8), "b.png")
    local.emulator.upload(png(8, 8), image_id="photos/2024/c.png")
    assert cloudflare_images.listdir("") == (["photos"], [])
    assert cloudflare_images.listdir("photos") == (["2024"], ["a.png", "b.png"])
    item = Photo.objects.filter(title="a").latest("pk")
    item.image.delete(save=True)
    assert item.image.name in ("", None)
    assert cloudflare_images.listdir("photos") == (["2024"], ["b.png"])
    cloudflare_images.delete("photos/never-existed.png")  # a missing name is not an error
    with pytest.raises(ValueError, match="name must be given"):
        cloudflare_images.delete("")


def test_a_name_taken_by_another_upload_after_the_check_is_renamed(local: LocalCloudflare) -> None:
    """Another process stores the same name between get_available_name's check and our upload."""

    class StaleCheck(CloudflareImagesStorage):
        def is_name_available(self, name: str, max_length: int | None = None) -> bool:
            if name == "photos/race.png" and not local.emulator.count_images():
                local.emulator.upload(png(5, 5), image_id="photos/race.png")  # the other writer wins
                return True  # ... after our check said "free"
            return super().is_name_available(name, max_length)

    storage = StaleCheck()
    original = png(30, 20)
    name = storage.save("photos/race.png", ContentFile(original), max_length=20)
    assert re.fullmatch(r"photos/r_[A-Za-z0-9]{7}\.png", name)  # shortened to fit max_length=20
    assert local.emulator.image_blob(name)[0] == original
    with pytest.raises(ConflictError):
        storage._save("photos/race.png", ContentFile(original))  # the raw upload refuses a taken id


# -- URLs and templates ----------------------------------------------------------------------------------------------


def test_urls_of_every_kind(local: LocalCloudflare) -> None:
    item = photo("u", png(400, 300), "u.png")
    name = item.image.name
    assert item.image.url == f"{DELIVERY}/photos/u.png/public"
    assert cloudflare_images.url(name, "w=200") == f"{DELIVERY}/photos/u.png/w=200"
    assert cloudflare_images.url(name, width=200, fit="cover") == f"{DELIVERY}/photos/u.png/w=200,fit=cover"
    assert cloudflare_images.url_variant(name, "avatar") == f"{DELIVERY}/photos/u.png/avatar"
    signed = cloudflare_images.url(name, "public", expire=600)
    assert verify("http://testserver" + signed, DEV_SIGNING_KEY)
    assert cloudflare_images.url(name, "public", expire=timedelta(minutes=5)) != signed
    with pytest.raises(SigningError, match="cannot be signed"):
        cloudflare_images.url(name, "w=200", expire=600)
    with pytest.raises(ValueError, match="needs the name"):
        cloudflare_images.url("")
    client = Client()
    answer = client.get(cloudflare_images.url(name, "w=200"))
    assert answer.status_code == 200
    assert decode(answer.content).size == (200, 150)
    assert client.get(signed).status_code == 200


def test_template_tags_render_the_field(local: LocalCloudflare) -> None:
    item = photo("Tom", jpeg(800, 600), "tom.jpg")
    template = engines["django"].from_string(
        '{% load cfvariants %}<img src="{{ profile.image|variant:\'w=200\' }}" alt="{{ profile.title }}">'
        "{% cf_img profile.image 'w=320' alt=profile.title %}"
    )
    html = template.render({"profile": Photo.objects.get(pk=item.pk)})
    src = f"{DELIVERY}/photos/tom.jpg/w=200"
    assert html.startswith(f'<img src="{src}" alt="Tom">')
    assert f'src="{DELIVERY}/photos/tom.jpg/w=320"' in html
    answer = Client().get(src, HTTP_ACCEPT="image/webp")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/webp"
    assert decode(answer.content).size == (200, 150)


def test_dev_urlconf_serves_real_bytes_with_caching_headers(local: LocalCloudflare) -> None:
    local.emulator.upload(jpeg(1000, 500), image_id="banner.jpg")
    client = Client()
    url = f"{DELIVERY}/banner.jpg/w=250"
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/jpeg"
    assert decode(answer.content).size == (250, 125)
    assert answer["Cache-Control"].startswith("public, max-age=")
    assert client.get(url, HTTP_IF_NONE_MATCH=answer["ETag"]).status_code == 304
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    bad = client.get(f"{DELIVERY}/banner.jpg/w=abc")
    assert (bad.status_code, bad["Cf-Resized"]) == (400, "err=9401")
    assert client.get("/").content == b"home"  # the rest of the site is untouched


def test_dev_urlconf_serves_ids_that_need_percent_encoding(local: LocalCloudflare) -> None:
    item = photo("plage", png(64, 48), "plage d'été #1.png")
    name = item.image.name
    assert name == "photos/plage_dété_1.png"  # Django's get_valid_name, kept as the id
    url = cloudflare_images.url(name, "w=32")
    assert "%C3%A9" in url
    answer = Client().get(url)
    assert answer.status_code == 200, answer.get("Cf-Resized")
    assert decode(answer.content).size == (32, 24)


def test_dev_urlconf_serves_nothing_when_development_is_off(local: LocalCloudflare) -> None:
    local.emulator.upload(jpeg(100, 50), image_id="banner.jpg")
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": DEV_ACCOUNT_HASH}, ROOT_URLCONF="django_project.cf_urls"):
        assert Client().get(f"{DELIVERY}/banner.jpg/public").status_code == 404
    with override_settings(ENV_NAME="prod", CFVARIANTS={}, ROOT_URLCONF="django_project.cf_urls"):
        assert Client().get(f"{DELIVERY}/banner.jpg/public").status_code == 404


def test_private_storage_in_development(local: LocalCloudflare) -> None:
    storage = CloudflareImagesStorage(require_signed_urls=True)
    name = storage.save("scans/passport.jpg", ContentFile(jpeg(300, 200)))
    assert re.fullmatch(r"[0-9a-f-]{36}", name)
    assert local.emulator.get_image(name).require_signed_urls
    url = storage.url(name)
    assert "exp=" in url and "sig=" in url
    client = Client()
    assert client.get(url).status_code == 200
    assert client.get(url.split("?")[0]).status_code == 403


def test_system_check_warns_when_dev_routes_are_missing(local: LocalCloudflare) -> None:
    assert check_settings() == []
    with override_settings(ROOT_URLCONF="django_project.plain_urls"):
        assert [message.id for message in check_settings()] == ["cfvariants.W002"]


# -- pickling, copies, migrations, repr --------------------------------------------------------------------------


def test_pickled_and_copied_storages_work_and_carry_no_client(local: LocalCloudflare) -> None:
    storage = CloudflareImagesStorage(custom_ids=True, timeout=20)
    name = storage.save("pickled.png", ContentFile(png(10, 10)))  # a client now exists
    for clone in (pickle.loads(pickle.dumps(storage)), copy.copy(storage), copy.deepcopy(storage)):
        assert type(clone) is CloudflareImagesStorage
        assert clone._backend_cache is None  # built again on first use
        assert clone.exists(name) and clone.url(name) == storage.url(name)
        assert clone.deconstruct() == storage.deconstruct()
    assert b"ImagesClient" not in pickle.dumps(storage)


def test_a_storage_pickled_by_0_1_0_loads_and_works(local: LocalCloudflare) -> None:
    """Its module path was kept, so a 0.1.0 pickle (tests/fixtures/pickles-0.1.0, made by the release's code)
    loads into today's class, with its options."""
    old = Path(__file__).resolve().parent.parent / "fixtures" / "pickles-0.1.0" / "CloudflareImagesStorage.pickle"
    storage = pickle.loads(old.read_bytes())
    assert type(storage) is CloudflareImagesStorage
    assert storage.deconstruct() == CloudflareImagesStorage(require_signed_urls=True, timeout=20).deconstruct()
    name = storage.save("scan.jpg", ContentFile(jpeg(200, 100)))
    url = storage.url(name)
    assert "&sig=" in url and Client().get(url).status_code == 200  # private, as it was pickled


def test_deconstruct_leaves_secrets_out_of_migrations() -> None:
    storage = CloudflareImagesStorage(api_token=SECRET_TOKEN, signing_key=SECRET_KEY, account_hash="abc", timeout=5)
    path, args, kwargs = storage.deconstruct()
    assert path == "cfvariants.django.storage.CloudflareImagesStorage"
    assert (args, kwargs) == ((), {"account_hash": "abc", "timeout": 5})
    text, imports = MigrationWriter.serialize(storage)
    assert text == "cfvariants.django.storage.CloudflareImagesStorage(account_hash='abc', timeout=5)"
    assert imports == {"import cfvariants.django.storage"}
    field_text, _ = MigrationWriter.serialize(Photo._meta.get_field("image"))
    assert "cfvariants.django.storage.CloudflareImagesStorage()" in field_text
    for shown in (repr(storage), str(storage)):
        assert SECRET_TOKEN not in shown and SECRET_KEY not in shown
    assert "api_token='**********'" in repr(storage)


def test_select_storage_field_records_the_function_in_migrations() -> None:
    from django.db import models

    production = {"BACKEND": "cfvariants.django.storage.CloudflareImagesStorage"}
    with override_settings(STORAGES={**_default_storages(), "cloudflare_images": production}, CFVARIANTS={}):
        field = models.ImageField(storage=select_storage, upload_to="avatars")
        assert field.storage.target is storages["cloudflare_images"]  # type: ignore[attr-defined]
    text, _ = MigrationWriter.serialize(field)
    assert "storage=cfvariants.django.storage.select_storage" in text


# -- configuration -------------------------------------------------------------------------------------------------


def test_options_beat_settings_which_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_IMG_HASH", "fromEnvironment")
    with override_settings(CFVARIANTS={}):
        assert CloudflareImagesStorage().url("a.png") == "https://imagedelivery.net/fromEnvironment/a.png/public"
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": "fromSettings"}):
        storage = CloudflareImagesStorage()
        assert storage.url("a.png") == "https://imagedelivery.net/fromSettings/a.png/public"
        options = CloudflareImagesStorage(account_hash="fromOptions", domain="img.example.com")
        assert options.url("a.png") == "https://img.example.com/cdn-cgi/imagedelivery/fromOptions/a.png/public"
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": "changedLater"}):
        assert storage.url("a.png") == "https://imagedelivery.net/changedLater/a.png/public"  # same instance


def test_construction_reads_nothing_and_missing_credentials_are_named_on_first_use() -> None:
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": "abc"}):
        storage = CloudflareImagesStorage(api_base="http://127.0.0.1:9/client/v4")  # nothing listens there
        assert storage.url("x.png").endswith("/abc/x.png/public")  # URLs need no API credentials
        with pytest.raises(conf.ConfigurationError, match=r"CF_ACCT_ID is not set.*CFVARIANTS"):
            storage.exists("x.png")


def test_unknown_or_bad_options_are_refused() -> None:
    with pytest.raises(conf.ConfigurationError, match=r"unknown option 'requre_signed_urls'.*did you mean"):
        CloudflareImagesStorage(requre_signed_urls=True)
    with pytest.raises(conf.ConfigurationError, match="custom id private"):
        CloudflareImagesStorage(require_signed_urls=True, custom_ids=True)
    with pytest.raises(conf.ConfigurationError, match="timeout must be a positive"):
        CloudflareImagesStorage(timeout=0)
    with (
        override_settings(CFVARIANTS={"DEV": "yes"}),
        pytest.raises(conf.ConfigurationError, match=r"\['DEV'\] must be"),
    ):
        conf.load()


def test_configured_through_storages_against_a_real_server(tmp_path: Path) -> None:
    """Production mode: the API over a socket (an emulator on 127.0.0.1), settings from STORAGES OPTIONS."""
    from cfvariants.emulator import create_app

    app = create_app(data_dir=tmp_path / "server")
    with EmulatorServer(app, host="127.0.0.1", port=0) as server:
        options = {
            "account_id": DEV_ACCOUNT_ID,
            "api_token": DEV_API_TOKEN,
            "api_base": f"{server.url}/client/v4",
            "account_hash": DEV_ACCOUNT_HASH,
            "domain": server.url,
            "signing_key": DEV_SIGNING_KEY,
        }
        backend = {"BACKEND": "cfvariants.django.storage.CloudflareImagesStorage", "OPTIONS": options}
        with override_settings(STORAGES={**_default_storages(), "cloudflare_images": backend}, CFVARIANTS={}):
            storage = storages["cloudflare_images"]
            assert isinstance(storage, CloudflareImagesStorage) and not storage.dev
            original = jpeg(400, 300)
            name = storage.save("prod/cat.jpg", ContentFile(original))
            assert name == "prod/cat.jpg"
            assert storage.open(name).read() == original
            assert storage.size(name) == len(original)
            url = storage.url(name, "w=100")
            assert url == f"{server.url}/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/prod/cat.jpg/w=100"
            assert decode(httpx.get(url, timeout=30).content).size == (100, 75)
            assert httpx.get(storage.url(name, "public", expire=60), timeout=30).status_code == 200
            assert storage.listdir("prod") == ([], ["cat.jpg"])
            storage.delete(name)
            assert not storage.exists(name)
    app.emulator.close()


def _default_storages() -> dict[str, Any]:
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# -- select_storage ------------------------------------------------------------------------------------------------


def test_select_storage_in_development_keeps_images_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "devimages"
    with override_settings(ENV_NAME="dev", CFVARIANTS={"DATA_DIR": str(data_dir)}):
        storage = select_storage()
        assert isinstance(storage, SelectedStorage) and storage.dev
        assert storage.target is dev_storage()
        name = storage.save("avatars/me.png", ContentFile(png(64, 64)))
        assert storage.url(name, "w=32") == f"{DELIVERY}/avatars/me.png/w=32"
        assert (data_dir / "emulator.sqlite3").exists()  # on this machine, in the configured directory
    dev.local_cloudflare(conf.load(data_dir=str(data_dir))).close()
    monkeypatch.setenv("ENV_NAME", "dev")
    with override_settings(CFVARIANTS={"DATA_DIR": str(data_dir)}, MEDIA_ROOT=str(tmp_path)):
        conf.reset()
        assert select_storage().dev  # the environment variable works as well as settings.ENV_NAME
        dev.local_cloudflare().close()
    with override_settings(CFVARIANTS={}, MEDIA_ROOT=str(tmp_path / "media")):
        assert dev.data_dir() == tmp_path / "media" / "cfimages"  # the default: under MEDIA_ROOT


def test_select_storage_elsewhere_returns_the_configured_alias() -> None:
    production = {"BACKEND": "cfvariants.django.storage.CloudflareImagesStorage", "OPTIONS": {"account_hash": "abc"}}
    other = {"BACKEND": "cfvariants.django.storage.CloudflareImagesStorage", "OPTIONS": {"account_hash": "xyz"}}
    stores = {**_default_storages(), "cloudflare_images": production, "images2": other}
    with override_settings(ENV_NAME="production", STORAGES=stores, CFVARIANTS={}):
        selected = select_storage()
        assert isinstance(selected, SelectedStorage) and selected.target is storages["cloudflare_images"]
        assert not selected.dev
        assert selected.url("a.png") == "https://imagedelivery.net/abc/a.png/public"
        with override_settings(CFVARIANTS={"STORAGE": "images2"}):
            assert selected.target is storages["images2"]  # followed on the next use, the field unchanged
            assert selected.url("a.png") == "https://imagedelivery.net/xyz/a.png/public"
    with override_settings(STORAGES=_default_storages(), CFVARIANTS={}):
        selected = select_storage()  # a missing alias does not break the model import...
        with pytest.raises(conf.ConfigurationError, match="STORAGES has no 'cloudflare_images'"):
            selected.url("a.png")  # ...it is named on first use (and by manage.py check)


def test_uploads_from_a_file_on_disk_stream(local: LocalCloudflare, tmp_path: Path) -> None:
    original = jpeg(500, 400)
    path = tmp_path / "upload.jpg"
    path.write_bytes(original)
    with path.open("rb") as handle:
        name = cloudflare_images.save("photos/from-disk.jpg", File(handle))
    assert cloudflare_images.size(name) == len(original)
    assert local.emulator.image_blob(name)[0] == original


def test_a_file_read_before_saving_is_uploaded_whole(local: LocalCloudflare) -> None:
    original = png(20, 20)
    content = ContentFile(original, name="read.png")
    content.read(10)  # e.g. a form validated it first
    name = cloudflare_images.save("photos/read.png", content)
    assert local.emulator.image_blob(name)[0] == original
    assert io.BytesIO(original).getvalue() == cloudflare_images.open(name).read()


# -- private files through the template filters --------------------------------------------------------------------


def scan(data: bytes) -> Scan:
    item = Scan(title="passport")
    item.image.save("passport.jpg", ContentFile(data, name="passport.jpg"), save=True)
    return Scan.objects.get(pk=item.pk)


def render_tags(source: str, **context: Any) -> str:
    return engines["django"].from_string("{% load cfvariants %}" + source).render(context)


def test_private_file_through_variant_is_signed_and_loads(local: LocalCloudflare) -> None:
    local.emulator.create_variant("thumb", {"width": 120, "height": 90, "fit": "cover", "metadata": "none"})
    item = scan(jpeg(800, 600))
    assert local.emulator.get_image(item.image.name).require_signed_urls
    client = Client()
    for source, size in (
        ("{{ s.image|variant }}", (800, 600)),
        ("{{ s.image|variant:'thumb' }}", (120, 90)),
        ("{% cf_url s.image 'thumb' %}", (120, 90)),
        ("{{ s.image|signed_variant:'thumb' }}", (120, 90)),
    ):
        url = unescape(render_tags(source, s=item))
        assert f"/{item.image.name}/" in url and "?exp=" in url and "&sig=" in url, source
        answer = client.get(url)
        assert answer.status_code == 200, source
        assert decode(answer.content).size == size, source
        assert client.get(url.split("?")[0]).status_code == 403  # what the filter gave before: refused
        exp = parse_url(url).exp
        assert exp is not None and abs(exp - (time.time() + 3600)) < 60  # SIGNED_EXPIRES_IN's default, an hour
    html = render_tags("{% cf_img s.image 'thumb' alt=s.title %}", s=item)
    src = unescape(re.search(r'src="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert "&sig=" in src and client.get(src).status_code == 200
    html = render_tags("{% cf_picture s.image 'thumb' alt=s.title %}{% cf_preload s.image 'thumb' %}", s=item)
    assert html.count("&amp;sig=") == 2


def test_private_file_with_what_cannot_be_signed_names_the_file_and_the_fix(local: LocalCloudflare) -> None:
    item = scan(jpeg(640, 480))
    name = item.image.name
    cases = (
        ("{{ s.image|variant:'w=200' }}", "flexible options 'w=200' cannot be signed"),
        ("{% cf_url s.image width=200 %}", "flexible options 'w=200' cannot be signed"),
        ("{{ s.image|srcset:'320,640' }}", "has no srcset or layout"),
        ("{% cf_img s.image 'fit=cover' alt='' widths='320,640' %}", "flexible options 'fit=cover' cannot be signed"),
        ("{% cf_img s.image alt='' layout='constrained' width=400 %}", "has no srcset or layout"),
    )
    for source, reason in cases:
        with pytest.raises(TemplateFilterError) as raised:
            render_tags(source, s=item)
        message = str(raised.value)
        assert f"PrivateImage({name!r})" in message and "private image" in message and reason in message, message


def test_private_file_in_production_falls_back_to_its_signed_public_url(
    local: LocalCloudflare, caplog: pytest.LogCaptureFixture
) -> None:
    item = scan(jpeg(640, 480))
    with override_settings(CFVARIANTS={**settings_of_dev(local), "ON_ERROR": "fallback"}):
        with caplog.at_level("WARNING", logger="cfvariants.django"):
            pages = [render_tags("{{ s.image|variant:'w=200' }}", s=item) for _ in range(3)]
        url = unescape(pages[0])
        assert pages == [pages[0]] * 3 and f"/{item.image.name}/public?exp=" in url
        answer = Client().get(url)
        assert answer.status_code == 200 and decode(answer.content).size == (640, 480)
        warnings = [r.getMessage() for r in caplog.records if "is a private image" in r.getMessage()]
        assert len(warnings) == 1 and "flexible options 'w=200' cannot be signed" in warnings[0]


def settings_of_dev(local: LocalCloudflare) -> dict[str, Any]:
    return {"DEV": True, "DATA_DIR": str(local.data_dir)}


def test_private_file_without_a_signing_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Production, no signing key: a clear error while developing, the placeholder (never an unsigned URL that
    Cloudflare refuses) on a live site, and a system check that says so before the first page."""
    from cfvariants.emulator import create_app

    app = create_app(data_dir=tmp_path / "server")
    with EmulatorServer(app, host="127.0.0.1", port=0) as server:
        options = {
            "account_id": DEV_ACCOUNT_ID, "api_token": DEV_API_TOKEN, "api_base": f"{server.url}/client/v4",
            "account_hash": DEV_ACCOUNT_HASH, "domain": server.url, "require_signed_urls": True,
        }  # fmt: skip
        backend = {"BACKEND": "cfvariants.django.storage.CloudflareImagesStorage", "OPTIONS": options}
        account = {"ACCOUNT_HASH": DEV_ACCOUNT_HASH, "DOMAIN": server.url}
        with override_settings(STORAGES={**_default_storages(), "cloudflare_images": backend}, CFVARIANTS=account):
            problems = [problem for problem in check_settings() if problem.id == "cfvariants.E009"]
            assert len(problems) == 1 and "CF_IMG_SIGNING_KEY" in problems[0].msg + (problems[0].hint or "")
            storage = storages["cloudflare_images"]
            name = storage.save("scan.jpg", ContentFile(jpeg(300, 200)))
            file = File(io.BytesIO(), name=name)
            file.storage = storage  # type: ignore[attr-defined]  # what a FieldFile of this storage carries
            with pytest.raises(TemplateFilterError) as raised:
                render_tags("{{ f|variant:'public' }}", f=file)
            message = str(raised.value)
            assert f"{name!r} is a private image" in message
            assert "no signing key is configured" in message and "CFVARIANTS['SIGNING_KEY']" in message
            fallback = {**account, "ON_ERROR": "fallback", "PLACEHOLDER": "/static/missing.png"}
            with override_settings(CFVARIANTS=fallback), caplog.at_level("WARNING", logger="cfvariants.django"):
                assert render_tags("{{ f|variant:'public' }}", f=file) == "/static/missing.png"
                assert render_tags("{% cf_img f 'public' alt='Scan' %}", f=file) == (
                    '<img src="/static/missing.png" alt="Scan" loading="lazy" decoding="async">'
                )
            assert any("no signing key is configured" in r.getMessage() for r in caplog.records)
        with override_settings(
            STORAGES={**_default_storages(), "cloudflare_images": backend},
            CFVARIANTS={**account, "SIGNING_KEY": DEV_SIGNING_KEY},
        ):
            assert [p for p in check_settings() if p.id == "cfvariants.E009"] == []
            url = unescape(render_tags("{{ f|variant }}", f=file))
            assert url.startswith(f"{server.url}/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/{name}/public?exp=")
            assert httpx.get(url, timeout=30).status_code == 200  # the emulator's delivery serves it
            assert httpx.get(url.split("?")[0], timeout=30).status_code == 403
    app.emulator.close()
