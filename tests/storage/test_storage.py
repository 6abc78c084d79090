"""cfvariants.storage.ImageStore against the emulator (in process): names as ids, unique names, sizes without
downloads, originals back byte for byte, listing as directories, URLs signed when private."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from imagegen import decode, jpeg, png

from cfvariants import Delivery, SettingsError, SigningError, verify
from cfvariants.client import ConflictError, ImagesClient, NotFoundError, ValidationError
from cfvariants.emulator import Emulator, EmulatorApp
from cfvariants.storage import SIZE_KEY, ImageStore, alternative_id

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)


class Recording(httpx.BaseTransport):
    """The in-process transport, noting every request (method, path) and optionally acting before one is sent."""

    def __init__(self, app: EmulatorApp, before: Callable[[httpx.Request], None] | None = None) -> None:
        self._inner = httpx.WSGITransport(app=app)
        self.before = before
        self.requests: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if self.before is not None:
            self.before(request)
        return self._inner.handle_request(request)

    def downloads(self) -> int:
        return sum(path.endswith("/blob") for _, path in self.requests)


@pytest.fixture
def wire(cf_app: EmulatorApp) -> Recording:
    return Recording(cf_app)


@pytest.fixture
def make_store(
    cf_app: EmulatorApp, cf_delivery: Delivery, cf_base_url: str, wire: Recording
) -> Iterator[Callable[..., ImageStore]]:
    stores: list[ImageStore] = []

    def make(**options: object) -> ImageStore:
        def client() -> ImagesClient:
            config = cf_app.emulator.config
            return ImagesClient(
                config.account_id,
                config.api_token,
                base_url=f"{cf_base_url}/client/v4",
                transport=wire,
                delivery=cf_delivery,
            )

        store = ImageStore(client, **options)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def test_save_uses_the_name_as_custom_id_and_gives_the_original_back(
    make_store: Callable[..., ImageStore], cf_emulator: Emulator
) -> None:
    store = make_store()
    original = jpeg(640, 480)
    image = store.save(original, "avatars/cat.jpg", metadata={"owner": 7})
    assert image.id == "avatars/cat.jpg"
    assert image.filename == "cat.jpg"
    assert image.meta["owner"] == 7 and image.meta[SIZE_KEY] == len(original)
    assert (image.meta["cfv_width"], image.meta["cfv_height"]) == (640, 480) and image.meta["cfv_thumbhash"]
    with store.open("avatars/cat.jpg") as file:
        assert file.read() == original
    assert b"".join(store.iter_bytes("avatars/cat.jpg")) == original
    assert cf_emulator.image_blob("avatars/cat.jpg")[0] == original


def test_prefix_goes_before_every_name(make_store: Callable[..., ImageStore]) -> None:
    store = make_store(prefix="site-a/")
    assert store.save(png(10, 10), "logo.png").id == "site-a/logo.png"
    assert store.exists("site-a/logo.png") and not store.exists("logo.png")


def test_a_taken_name_gets_a_suffix_and_unique_false_refuses(make_store: Callable[..., ImageStore]) -> None:
    store = make_store()
    first = store.save(png(10, 10), "avatars/me.png")
    second = store.save(png(12, 12), "avatars/me.png")
    assert first.id == "avatars/me.png"
    assert re.fullmatch(r"avatars/me_[A-Za-z0-9]{7}\.png", second.id)
    with pytest.raises(ConflictError):
        store.save(png(10, 10), "avatars/me.png", unique=False)
    assert decode(b"".join(store.iter_bytes(second.id))).size == (12, 12)


def test_a_uuid_shaped_name_is_never_used_as_a_custom_id(make_store: Callable[..., ImageStore]) -> None:
    image = make_store().save(png(10, 10), "083eb7b2-5392-4565-b69e-aff66acddd00")
    assert re.fullmatch(r"083eb7b2-5392-4565-b69e-aff66acddd00_[A-Za-z0-9]{7}", image.id)


def test_a_name_taken_between_check_and_upload_is_renamed(
    cf_app: EmulatorApp, cf_emulator: Emulator, make_store: Callable[..., ImageStore], wire: Recording
) -> None:
    """Another writer stores the same name after our availability check and before our upload (409)."""
    raced: list[bool] = []

    def other_writer(request: httpx.Request) -> None:
        if request.method == "POST" and not raced:
            raced.append(True)
            cf_emulator.upload(png(5, 5), image_id="race/photo.png")

    wire.before = other_writer
    original = png(30, 20)
    image = make_store().save(original, "race/photo.png")
    assert raced
    assert re.fullmatch(r"race/photo_[A-Za-z0-9]{7}\.png", image.id)
    assert cf_emulator.image_blob(image.id)[0] == original  # the whole file went again, from its start
    assert decode(cf_emulator.image_blob("race/photo.png")[0]).size == (5, 5)  # the other writer's image is intact


def test_size_comes_from_the_details_without_downloading(
    make_store: Callable[..., ImageStore], wire: Recording
) -> None:
    store = make_store()
    original = jpeg(300, 200)
    store.save(original, "sized.jpg")
    assert store.size("sized.jpg") == len(original)
    assert wire.downloads() == 0


def test_size_of_an_image_stored_elsewhere_is_counted_while_streaming(
    make_store: Callable[..., ImageStore], cf_emulator: Emulator, wire: Recording
) -> None:
    original = png(50, 40)
    cf_emulator.upload(original, image_id="by/someone/else.png")
    assert make_store().size("by/someone/else.png") == len(original)
    assert wire.downloads() == 1


def test_an_svg_is_sized_as_stored_not_as_sent(make_store: Callable[..., ImageStore], cf_emulator: Emulator) -> None:
    store = make_store()
    image = store.save(SVG, "icons/x.svg")
    stored = cf_emulator.image_blob("icons/x.svg")[0]
    assert SIZE_KEY not in image.meta
    assert b"script" not in stored  # sanitised, so the upload's size would be wrong
    assert store.size("icons/x.svg") == len(stored)


@pytest.mark.parametrize("kind", ["path", "seekable", "stream"])
def test_save_from_paths_and_file_objects(make_store: Callable[..., ImageStore], tmp_path: Path, kind: str) -> None:
    original = jpeg(120, 90)
    store = make_store()
    if kind == "path":
        path = tmp_path / "photo.jpg"
        path.write_bytes(original)
        image = store.save(path)
        assert image.id == "photo.jpg"
    elif kind == "seekable":
        file = io.BytesIO(b"JUNK" + original)
        file.seek(4)  # read from the current position, as the client does
        image = store.save(file, "from/position.jpg")
    else:
        image = store.save(_Unseekable(original), "from/stream.jpg")
    assert image.meta[SIZE_KEY] == len(original)
    assert store.size(image.id) == len(original)
    assert b"".join(store.iter_bytes(image.id)) == original


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def test_save_without_a_name_for_a_custom_id_is_refused(make_store: Callable[..., ImageStore]) -> None:
    with pytest.raises(ValidationError, match="a name is needed"):
        make_store().save(png(4, 4))


def test_exists_delete_and_missing_images(make_store: Callable[..., ImageStore]) -> None:
    store = make_store()
    store.save(png(4, 4), "gone/soon.png")
    assert store.exists("gone/soon.png")
    assert store.delete("gone/soon.png") is True
    assert not store.exists("gone/soon.png")
    assert store.delete("gone/soon.png") is False
    with pytest.raises(NotFoundError):
        store.open("gone/soon.png")
    with pytest.raises(NotFoundError):
        store.size("gone/soon.png")


def test_listdir_reads_slashes_as_directories(make_store: Callable[..., ImageStore]) -> None:
    store = make_store()
    for name in ("a/b/c.png", "a/d.png", "a/b/e.png", "f.png", "ab/g.png"):
        store.save(png(4, 4), name)
    assert store.listdir("") == (["a", "ab"], ["f.png"])
    assert store.listdir("a") == (["b"], ["d.png"])
    assert store.listdir("/a/") == (["b"], ["d.png"])
    assert store.listdir("a/b") == ([], ["c.png", "e.png"])
    assert store.listdir("nothing/here") == ([], [])


def test_uploaded_is_an_aware_time(make_store: Callable[..., ImageStore]) -> None:
    store = make_store()
    before = datetime.now(UTC) - timedelta(seconds=1)
    store.save(png(4, 4), "timed.png")
    uploaded = store.uploaded("timed.png")
    assert uploaded.tzinfo is not None
    assert before <= uploaded <= datetime.now(UTC) + timedelta(seconds=1)


def test_urls_are_built_without_network(
    make_store: Callable[..., ImageStore], cf_delivery: Delivery, wire: Recording
) -> None:
    store = make_store(delivery=cf_delivery)
    assert store.url("a/b.png") == cf_delivery.url("a/b.png")
    assert store.url("a/b.png", "w=200") == cf_delivery.url("a/b.png", "w=200")
    assert store.url("a/b.png", width=200, fit="cover") == cf_delivery.url("a/b.png", "fit=cover,w=200")
    signed = store.url("a/b.png", "public", expires_in=600)
    assert verify(signed, cf_delivery._key)  # type: ignore[arg-type]
    with pytest.raises(SigningError, match="cannot be signed"):
        store.url("a/b.png", "w=200", expires_in=600)
    assert wire.requests == []


def test_a_private_store_gets_generated_ids_and_signs_every_url(
    make_store: Callable[..., ImageStore], cf_http: httpx.Client
) -> None:
    store = make_store(require_signed_urls=True, signed_expires_in=120)
    image = store.save(jpeg(200, 100), "private/scan.jpg")
    assert re.fullmatch(r"[0-9a-f-]{36}", image.id)
    assert image.filename == "scan.jpg" and image.require_signed_urls
    url = store.url(image.id)
    assert "exp=" in url and "sig=" in url
    exp = int(re.search(r"exp=(\d+)", url).group(1))  # type: ignore[union-attr]
    assert 0 < exp - datetime.now(UTC).timestamp() <= 121
    assert cf_http.get(url).status_code == 200
    assert cf_http.get(store.url(image.id).split("?")[0]).headers["cf-resized"] == "err=9425"


def test_private_store_without_a_signing_key_says_so(make_store: Callable[..., ImageStore]) -> None:
    store = make_store(require_signed_urls=True, delivery=Delivery("cfvariants-local-dev01"))
    with pytest.raises(SigningError, match="no signing key"):
        store.url("083eb7b2-5392-4565-b69e-aff66acddd00")


def test_configurations_that_cannot_work_are_refused_up_front(make_store: Callable[..., ImageStore]) -> None:
    with pytest.raises(SettingsError, match="custom id private"):
        make_store(require_signed_urls=True, custom_ids=True)
    with pytest.raises(SettingsError, match="needs custom ids"):
        make_store(require_signed_urls=True, prefix="x/")
    with pytest.raises(SettingsError, match="relative name"):
        make_store(prefix="/abs/")


def test_the_client_is_made_on_first_use_and_closed_with_the_store(cf_client: ImagesClient) -> None:
    made: list[ImagesClient] = []

    def factory() -> ImagesClient:
        made.append(cf_client)
        return cf_client

    store = ImageStore(factory)
    assert made == []
    store.exists("x.png")
    store.exists("y.png")
    assert made == [cf_client]
    store.close()
    assert cf_client.is_closed

    given = ImageStore(cf_client)
    given.close()  # a client passed in belongs to the caller


def test_alternative_ids_keep_directory_and_extension() -> None:
    assert re.fullmatch(r"a/b/c_[A-Za-z0-9]{7}\.tar", alternative_id("a/b/c.tar"))
    assert re.fullmatch(r"plain_[A-Za-z0-9]{7}", alternative_id("plain"))
