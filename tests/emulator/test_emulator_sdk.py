"""Cloudflare's official Python SDK (``cloudflare``) against the emulator on a real 127.0.0.1 socket.

The SDK is pointed at the emulator with ``base_url`` and used unchanged; these tests pin that the emulator
speaks the API the SDK was generated from (paths, percent-encoding, multipart and JSON bodies, the envelope).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import cloudflare
import httpx
import imagegen
import pytest
from cloudflare import Cloudflare
from cloudflare.types.images.v1 import variant_create_params, variant_edit_params

from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_ACCOUNT_ID, DEV_API_TOKEN, DEV_SIGNING_KEY, EmulatorServer

ACCOUNT = DEV_ACCOUNT_ID
JPEG = imagegen.jpeg(120, 90)
OPTIONS: variant_create_params.Options = {"fit": "cover", "width": 60, "height": 60, "metadata": "none"}


@pytest.fixture
def sdk(cf_emulator_server: EmulatorServer) -> Iterator[Cloudflare]:
    client = Cloudflare(api_token=DEV_API_TOKEN, base_url=f"{cf_emulator_server.url}/client/v4", max_retries=0)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _no_deprecation_noise() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # list v1 is marked deprecated in the SDK
        yield


def test_upload_get_update_delete(sdk: Cloudflare, cf_emulator_server: EmulatorServer) -> None:
    image = sdk.images.v1.create(
        account_id=ACCOUNT, file=("cat.jpg", io.BytesIO(JPEG), "image/jpeg"), metadata={"owner": "7"}, creator="u1"
    )
    assert image.id and image.filename == "cat.jpg" and image.meta == {"owner": "7"} and image.creator == "u1"
    assert image.variants == [f"{cf_emulator_server.url}/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/{image.id}/public"]
    assert isinstance(image.uploaded, datetime)
    fetched = sdk.images.v1.get(image.id, account_id=ACCOUNT)
    assert fetched.id == image.id and fetched.require_signed_urls is False
    edited = sdk.images.v1.edit(image.id, account_id=ACCOUNT, metadata={"owner": "8"}, require_signed_urls=True)
    assert edited.meta == {"owner": "8"} and edited.require_signed_urls is True
    assert httpx.get(image.variants[0]).status_code == 403  # now private
    sdk.images.v1.delete(image.id, account_id=ACCOUNT)
    with pytest.raises(cloudflare.NotFoundError):
        sdk.images.v1.get(image.id, account_id=ACCOUNT)


def test_custom_ids_with_slashes_round_trip(sdk: Cloudflare) -> None:
    image = sdk.images.v1.create(account_id=ACCOUNT, file=("a.jpg", JPEG), id="users/7/avatar.jpg")
    assert image.id == "users/7/avatar.jpg"
    assert sdk.images.v1.get("users/7/avatar.jpg", account_id=ACCOUNT).id == "users/7/avatar.jpg"
    assert sdk.images.v1.blobs.get("users/7/avatar.jpg", account_id=ACCOUNT).read() == JPEG
    sdk.images.v1.delete("users/7/avatar.jpg", account_id=ACCOUNT)


def test_list_v1_and_v2(sdk: Cloudflare) -> None:
    ids = [sdk.images.v1.create(account_id=ACCOUNT, file=(f"{n}.jpg", JPEG)).id for n in range(12)]
    page = sdk.images.v1.list(account_id=ACCOUNT, page=1, per_page=10)
    assert page.result is not None
    assert [image["id"] for image in page.result.images] == ids[:10]  # type: ignore[attr-defined]
    second = sdk.images.v1.list(account_id=ACCOUNT, page=2, per_page=10)
    assert second.result is not None
    assert [image["id"] for image in second.result.images] == ids[10:]  # type: ignore[attr-defined]

    first = sdk.images.v2.list(account_id=ACCOUNT, per_page=10, sort_order="asc")
    assert [image.id for image in first.images or []] == ids[:10]
    assert first.continuation_token
    rest = sdk.images.v2.list(account_id=ACCOUNT, continuation_token=first.continuation_token, sort_order="asc")
    assert [image.id for image in rest.images or []] == ids[10:] and rest.continuation_token is None
    newest = sdk.images.v2.list(account_id=ACCOUNT, per_page=10)
    assert (newest.images or [])[0].id == ids[-1]


def test_list_v2_metadata_filter_through_extra_query(sdk: Cloudflare) -> None:
    wanted = sdk.images.v1.create(account_id=ACCOUNT, file=("a.jpg", JPEG), metadata='{"status": "live"}')
    sdk.images.v1.create(account_id=ACCOUNT, file=("b.jpg", JPEG), metadata='{"status": "draft"}')
    found = sdk.images.v2.list(account_id=ACCOUNT, extra_query={"meta.status[eq]": "live"})
    assert [image.id for image in found.images or []] == [wanted.id]


def test_variants_crud(sdk: Cloudflare) -> None:
    created = sdk.images.v1.variants.create(
        account_id=ACCOUNT,
        id="square",
        options=OPTIONS,
        never_require_signed_urls=True,
    )
    assert created.variant is not None
    listed = sdk.images.v1.variants.list(account_id=ACCOUNT)
    assert listed.variants is not None
    assert set((listed.variants.model_extra or {}).keys()) | {"hero"} >= {"public", "square"}
    got = sdk.images.v1.variants.get("square", account_id=ACCOUNT)
    assert got.variant is not None and got.variant.options.width == 60 and got.variant.never_require_signed_urls
    narrower: variant_edit_params.Options = {"fit": "cover", "width": 30, "height": 60, "metadata": "none"}
    edited = sdk.images.v1.variants.edit("square", account_id=ACCOUNT, options=narrower)
    assert edited.variant is not None and edited.variant.options.width == 30
    sdk.images.v1.variants.delete("square", account_id=ACCOUNT)
    with pytest.raises(cloudflare.NotFoundError):
        sdk.images.v1.variants.get("square", account_id=ACCOUNT)
    with pytest.raises(cloudflare.BadRequestError):
        sdk.images.v1.variants.delete("public", account_id=ACCOUNT)


def test_direct_upload_then_post_the_file(sdk: Cloudflare) -> None:
    expiry = datetime.now(UTC) + timedelta(minutes=10)
    draft = sdk.images.v2.direct_uploads.create(
        account_id=ACCOUNT, expiry=expiry, metadata={"form": "signup"}, require_signed_urls=True
    )
    assert draft.id and draft.upload_url
    pending = sdk.images.v1.get(draft.id, account_id=ACCOUNT)
    assert (pending.model_extra or {}).get("draft") is True and pending.meta == {"form": "signup"}
    posted = httpx.post(draft.upload_url, files={"file": ("me.jpg", JPEG, "image/jpeg")})
    assert posted.status_code == 200 and posted.json()["result"]["id"] == draft.id
    done = sdk.images.v1.get(draft.id, account_id=ACCOUNT)
    assert "draft" not in (done.model_extra or {}) and done.filename == "me.jpg" and done.require_signed_urls
    assert httpx.post(draft.upload_url, files={"file": ("me.jpg", JPEG)}).status_code == 409


def test_keys_and_stats(sdk: Cloudflare) -> None:
    keys = sdk.images.v1.keys.list(account_id=ACCOUNT)
    assert [(k.name, k.value) for k in keys.keys or []] == [("default", DEV_SIGNING_KEY)]
    added = sdk.images.v1.keys.update("second", account_id=ACCOUNT)
    assert sorted(k.name or "" for k in added.keys or []) == ["default", "second"]
    remaining = sdk.images.v1.keys.delete("default", account_id=ACCOUNT)
    assert [k.name for k in remaining.keys or []] == ["second"]
    sdk.images.v1.create(account_id=ACCOUNT, file=("a.jpg", JPEG))
    stats = sdk.images.v1.stats.get(account_id=ACCOUNT)
    assert stats.count is not None and (stats.count.current, stats.count.allowed) == (1, 100000)


def test_sdk_errors_map_to_its_exception_types(cf_emulator_server: EmulatorServer, sdk: Cloudflare) -> None:
    with pytest.raises(cloudflare.BadRequestError) as bad:
        sdk.images.v1.create(account_id=ACCOUNT, file=("a.txt", b"not an image"))
    assert bad.value.status_code == 400 and "not an image" in str(bad.value)
    with pytest.raises(cloudflare.ConflictError):
        for _ in range(2):
            sdk.images.v1.create(account_id=ACCOUNT, file=("a.jpg", JPEG), id="twice.jpg")
    intruder = Cloudflare(api_token="wrong", base_url=f"{cf_emulator_server.url}/client/v4", max_retries=0)
    with pytest.raises(cloudflare.AuthenticationError):
        intruder.images.v1.stats.get(account_id=ACCOUNT)
    with pytest.raises(cloudflare.PermissionDeniedError):
        sdk.images.v1.stats.get(account_id="0" * 32)
    intruder.close()
