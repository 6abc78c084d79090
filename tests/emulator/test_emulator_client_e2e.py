"""Our API client end to end against the emulator (in-process): every call a user makes, with real images."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import httpx
import imagegen
import pytest

from cfvariants import Delivery
from cfvariants.client import ConflictError, ImagesClient, NotFoundError
from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_SIGNING_KEY, Emulator, EmulatorApp

JPEG = imagegen.jpeg(160, 120)


def test_upload_from_bytes_path_and_file_object(cf_client: ImagesClient, tmp_path: Path) -> None:
    path = tmp_path / "from-disk.jpg"
    path.write_bytes(JPEG)
    from_bytes = cf_client.upload(JPEG, filename="bytes.jpg", metadata={"source": "bytes"})
    from_path = cf_client.upload(path)
    from_file = cf_client.upload(io.BytesIO(JPEG), filename="stream.jpg", creator="user-1")
    assert from_bytes.filename == "bytes.jpg" and from_bytes.meta["source"] == "bytes"
    assert from_path.filename == "from-disk.jpg"
    assert from_file.creator == "user-1"
    assert len({from_bytes.id, from_path.id, from_file.id}) == 3
    assert cf_client.get_stats().count.current == 3


def test_custom_ids_get_update_and_delete(cf_client: ImagesClient) -> None:
    image = cf_client.upload(JPEG, id="users/7/avatar.jpg", metadata={"v": 1})
    assert cf_client.get("users/7/avatar.jpg").id == image.id
    updated = cf_client.update(image, metadata={"v": 2}, creator="u7")
    assert updated.meta["v"] == 2 and updated.creator == "u7"
    with pytest.raises(ConflictError):
        cf_client.upload(JPEG, id="users/7/avatar.jpg", idempotent=False)
    cf_client.delete(image)
    with pytest.raises(NotFoundError):
        cf_client.get(image.id)


def test_download_returns_the_original(cf_client: ImagesClient, tmp_path: Path) -> None:
    image = cf_client.upload(JPEG)
    target = tmp_path / "copy.jpg"
    assert cf_client.download(image, target) == len(JPEG)
    assert target.read_bytes() == JPEG
    assert b"".join(cf_client.iter_download(image.id)) == JPEG


def test_list_v2_pages_and_iteration_and_filters(cf_client: ImagesClient) -> None:
    ids = [cf_client.upload(JPEG, metadata={"n": n, "status": "live" if n % 3 == 0 else "draft"}).id for n in range(23)]
    first = cf_client.list_images(per_page=10, sort_order="asc")
    assert [i.id for i in first.images] == ids[:10] and first.continuation_token
    assert [i.id for i in cf_client.iter_images(per_page=10, sort_order="asc")] == ids
    assert [i.id for i in cf_client.iter_images(per_page=10)] == ids[::-1]
    live = [i.id for i in cf_client.iter_images(sort_order="asc", meta={"status": "live"})]
    assert live == ids[::3]


def test_list_v1_pages(cf_client: ImagesClient) -> None:
    ids = [cf_client.upload(JPEG).id for _ in range(12)]
    assert [i.id for i in cf_client.list_images_v1(page=1, per_page=10).images] == ids[:10]
    assert [i.id for i in cf_client.list_images_v1(page=2, per_page=10).images] == ids[10:]


def test_direct_upload_then_post_the_file(cf_client: ImagesClient, cf_app: EmulatorApp) -> None:
    direct = cf_client.create_direct_upload(expiry=timedelta(minutes=10), metadata={"form": "signup"})
    assert cf_client.get(direct.id).draft is True
    browser = httpx.Client(transport=httpx.WSGITransport(app=cf_app))
    posted = browser.post(direct.upload_url, files={"file": ("me.jpg", JPEG, "image/jpeg")})
    assert posted.status_code == 200
    done = cf_client.get(direct.id)
    assert done.draft is False and done.filename == "me.jpg" and done.meta == {"form": "signup"}
    assert browser.post(direct.upload_url, files={"file": ("me.jpg", JPEG)}).status_code == 409


def test_variants_and_delivery_through_them(cf_client: ImagesClient, cf_http: httpx.Client) -> None:
    created = cf_client.create_variant("thumb", fit="cover", width=40, height=40)
    assert created.options.width == 40
    assert set(cf_client.list_variants()) == {"public", "thumb"}
    image = cf_client.upload(JPEG)
    assert imagegen.decode(cf_http.get(image.url("thumb")).content).size == (40, 40)
    cf_client.update_variant("thumb", width=20)
    assert cf_client.get_variant("thumb").options.width == 20
    assert imagegen.decode(cf_http.get(image.url("thumb")).content).size == (20, 40)
    cf_client.delete_variant("thumb")
    assert set(cf_client.list_variants()) == {"public"}


def test_signing_keys_and_signed_delivery_of_a_private_image(
    cf_client: ImagesClient, cf_http: httpx.Client, cf_emulator: Emulator
) -> None:
    keys = cf_client.list_signing_keys()
    assert [(k.name, k.value.get_secret_value()) for k in keys] == [("default", DEV_SIGNING_KEY)]
    second = cf_client.create_signing_key("second")
    image = cf_client.upload(JPEG, require_signed_urls=True)
    assert cf_http.get(image.url("public")).status_code == 403
    signer = Delivery(DEV_ACCOUNT_HASH, domain=cf_emulator.config.base_url, signing_key=second.value)
    signed = cf_http.get(signer.signed_url(image.id, "public", expires_in=300))
    assert signed.status_code == 200 and imagegen.sniff(signed.content) == "jpeg"
    remaining = cf_client.delete_signing_key("second")
    assert [k.name for k in remaining] == ["default"]
    assert cf_http.get(signer.signed_url(image.id, "public", expires_in=300)).status_code == 403


def test_account_config_and_flexible_variants(cf_client: ImagesClient, cf_http: httpx.Client) -> None:
    image = cf_client.upload(JPEG)
    assert cf_http.get(image.url(width=80)).status_code == 200
    config = cf_client.update_config(flexible_variants=False, browser_ttl=7200)
    assert (config.flexible_variants, config.browser_ttl) == (False, 7200)
    assert cf_client.get_config().flexible_variants is False
    refused = cf_http.get(image.url(width=81))
    assert refused.status_code == 403 and refused.headers["cf-resized"] == "err=9429"


def test_batch_token_drives_a_batch_client(cf_client: ImagesClient, cf_app: EmulatorApp) -> None:
    token = cf_client.get_batch_token()
    batch = ImagesClient(
        api_token=token.token, base_url="http://cfimages.test", batch=True, transport=httpx.WSGITransport(app=cf_app)
    )
    image = batch.upload(JPEG, filename="batch.jpg")
    assert batch.get(image.id).filename == "batch.jpg"
    assert [i.id for i in batch.iter_images()] == [image.id]
    batch.close()
