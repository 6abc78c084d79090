"""Every Images endpoint at the wire level (method, path, headers, body, query) and the parsed result, run
against both clients (the ``api`` fixture is parametrised sync/async)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from client_helpers import (
    HASH,
    TOKEN,
    Side,
    account_path,
    envelope,
    fixture,
    form_fields,
    json_body,
    multipart,
)

from cfvariants.client import (
    UPLOAD_MARKER_KEY,
    AccountConfig,
    AccountSigningKey,
    BatchToken,
    DirectUpload,
    Image,
    MetaFilter,
    Stats,
    Variant,
)

UID = "083eb7b2-5392-4565-b69e-aff66acddd00"


def assert_authorised(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["user-agent"].startswith("cfvariants/")


# -- upload --------------------------------------------------------------------------------------------------


async def test_upload_bytes_sends_multipart_fields_and_returns_an_image(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1").respond(200, json=fixture("image.json"))
    image = await api.run(
        api.client.upload(
            b"\x89PNG\r\n\x1a\n-pixels-",
            filename="cat.png",
            metadata={"owner": 7, "album": "pets"},
            require_signed_urls=False,
            creator="user-7",
        )
    )
    request = route.calls.last.request
    assert request.method == "POST"
    assert account_path(request) == "/images/v1"
    assert_authorised(request)
    parts = multipart(request)
    assert parts["file"].filename == "cat.png"
    assert parts["file"].content_type == "image/png"
    assert parts["file"].data == b"\x89PNG\r\n\x1a\n-pixels-"
    fields = form_fields(request)
    metadata = json.loads(fields.pop("metadata"))
    assert metadata.pop(UPLOAD_MARKER_KEY)  # the idempotency marker rides along (see test_client_retry)
    assert metadata == {"owner": 7, "album": "pets"}
    assert fields == {"requireSignedURLs": "false", "creator": "user-7"}
    assert isinstance(image, Image)
    assert image.id == UID
    assert image.filename == "cat.png"
    assert image.meta == {"owner": 7}
    assert image.creator == "user-7"
    assert image.uploaded == datetime(2024, 8, 6, 12, 0, 0, 123000, tzinfo=UTC)
    assert image.url("w=200") == f"https://imagedelivery.net/{HASH}/{UID}/w=200"


async def test_upload_without_idempotency_sends_exactly_the_callers_metadata(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1").respond(200, json=fixture("image.json"))
    await api.run(api.client.upload(b"data", metadata={"owner": 7}, idempotent=False))
    assert json.loads(form_fields(route.calls.last.request)["metadata"]) == {"owner": 7}


async def test_upload_with_custom_id(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1").respond(200, json=fixture("image_custom_id.json"))
    image = await api.run(api.client.upload(b"data", id="users/7/avatar.png", idempotent=False))
    fields = form_fields(route.calls.last.request)
    assert fields == {"id": "users/7/avatar.png"}
    assert image.id == "users/7/avatar.png"
    assert image.url("avatar") == f"https://imagedelivery.net/{HASH}/users/7/avatar.png/avatar"


async def test_upload_from_url_sends_no_file_part(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1").respond(200, json=fixture("image.json"))
    await api.run(api.client.upload(url="https://example.com/cat.png", require_signed_urls=True, idempotent=False))
    parts = multipart(route.calls.last.request)
    assert "file" not in parts
    assert {name: part.text for name, part in parts.items()} == {
        "url": "https://example.com/cat.png",
        "requireSignedURLs": "true",
    }


# -- get / update / delete -----------------------------------------------------------------------------------


async def test_get_percent_encodes_the_whole_custom_id(api: Side, cf: respx.MockRouter) -> None:
    route = cf.route(method="GET").respond(200, json=fixture("image_custom_id.json"))
    image = await api.run(api.client.get("users/7/my photo é?.png"))
    request = route.calls.last.request
    assert account_path(request) == "/images/v1/users%2F7%2Fmy%20photo%20%C3%A9%3F.png"
    assert_authorised(request)
    assert image.id == "users/7/avatar.png"


async def test_get_accepts_an_image_and_reads_a_draft(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get(f"/images/v1/{UID}").respond(200, json=fixture("image_draft.json"))
    draft = await api.run(api.client.get(Image(id=UID)))
    assert route.called
    assert draft.draft is True
    assert draft.meta == {}


async def test_response_metadata_key_is_read_like_meta(api: Side, cf: respx.MockRouter) -> None:
    cf.get(f"/images/v1/{UID}").respond(200, json=fixture("image_metadata_key.json"))
    image = await api.run(api.client.get(UID))
    assert image.meta == {"owner": 7}


async def test_update_patches_only_the_given_fields(api: Side, cf: respx.MockRouter) -> None:
    route = cf.patch(f"/images/v1/{UID}").respond(200, json=fixture("image_private.json"))
    image = await api.run(api.client.update(UID, metadata={"owner": 8}, require_signed_urls=True, creator="u9"))
    request = route.calls.last.request
    assert request.method == "PATCH"
    assert_authorised(request)
    assert json_body(request) == {"metadata": {"owner": 8}, "requireSignedURLs": True, "creator": "u9"}
    assert image.require_signed_urls is True

    await api.run(api.client.update(UID, creator=""))
    assert json_body(route.calls.last.request) == {"creator": ""}


async def test_delete(api: Side, cf: respx.MockRouter) -> None:
    route = cf.delete("/images/v1/users%2F7%2Favatar.png").respond(200, json=fixture("deleted.json"))
    await api.run(api.client.delete("users/7/avatar.png"))
    request = route.calls.last.request
    assert account_path(request) == "/images/v1/users%2F7%2Favatar.png"
    assert request.content == b""
    assert_authorised(request)


# -- listing -------------------------------------------------------------------------------------------------


async def test_list_images_v2_sends_paging_sorting_creator_and_metadata_filters(
    api: Side, cf: respx.MockRouter
) -> None:
    route = cf.get("/images/v2").respond(200, json=fixture("images_v2_first.json"))
    page = await api.run(
        api.client.list_images(
            continuation_token="abc",
            per_page=50,
            sort_order="asc",
            creator="user-7",
            meta=[MetaFilter("status", "eq", "live"), MetaFilter("stars", "gte:number", 4)],
        )
    )
    request = route.calls.last.request
    assert_authorised(request)
    assert list(request.url.params.multi_items()) == [
        ("continuation_token", "abc"),
        ("per_page", "50"),
        ("sort_order", "asc"),
        ("creator", "user-7"),
        ("meta.status[eq]", "live"),
        ("meta.stars[gte:number]", "4"),
    ]
    assert [image.id for image in page.images] == [UID]
    assert page.continuation_token == "iD0bxlWFSVUWsDHbzIqvDkgBW4otifAAuGXLz1n8BQA"
    assert page.images[0].url() == f"https://imagedelivery.net/{HASH}/{UID}/public"


async def test_metadata_filters_from_a_mapping_are_typed_equalities(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v2").respond(200, json=fixture("images_v2_last.json"))
    await api.run(api.client.list_images(meta={"status": "live", "stars": 5, "public": True, "tag": ["a", "b"]}))
    assert list(route.calls.last.request.url.params.multi_items()) == [
        ("meta.status[eq:string]", "live"),
        ("meta.stars[eq:number]", "5"),
        ("meta.public[eq:boolean]", "true"),
        ("meta.tag[in:string]", "a|b"),
    ]


async def test_iter_images_follows_continuation_tokens(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v2")
    route.side_effect = [
        httpx.Response(200, json=fixture("images_v2_first.json")),
        httpx.Response(200, json=fixture("images_v2_last.json")),
    ]
    images = await api.collect(api.client.iter_images(per_page=10, creator="user-7"))
    assert [image.id for image in images] == [UID, "107b9558-dd06-4bbd-5fef-9c2c16bb7900"]
    first, second = (call.request.url.params for call in route.calls)
    assert "continuation_token" not in first
    assert second["continuation_token"] == "iD0bxlWFSVUWsDHbzIqvDkgBW4otifAAuGXLz1n8BQA"
    assert first["per_page"] == second["per_page"] == "10"
    assert first["creator"] == second["creator"] == "user-7"


async def test_iter_images_stops_on_a_repeated_continuation_token(api: Side, cf: respx.MockRouter) -> None:
    from cfvariants.client import APIError

    cf.get("/images/v2").respond(200, json=fixture("images_v2_first.json"))
    with pytest.raises(APIError, match="repeated"):
        await api.collect(api.client.iter_images())


async def test_list_images_v1_pages(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v1").respond(200, json=fixture("images_v1.json"))
    page = await api.run(api.client.list_images_v1(page=2, per_page=100, creator=""))
    assert dict(route.calls.last.request.url.params) == {"page": "2", "per_page": "100", "creator": ""}
    assert len(page.images) == 2
    assert (page.page, page.per_page, page.continuation_token) == (2, 100, None)


# -- direct upload, stats ------------------------------------------------------------------------------------


async def test_create_direct_upload_sends_a_multipart_form(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v2/direct_upload").respond(200, json=fixture("direct_upload.json"))
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)  # must lie 2 min - 6 h ahead
    upload = await api.run(
        api.client.create_direct_upload(
            expiry=expiry, id="users/7/next.png", metadata={"owner": 7}, require_signed_urls=False, creator="user-7"
        )
    )
    request = route.calls.last.request
    assert_authorised(request)
    assert form_fields(request) == {
        "requireSignedURLs": "false",
        "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "id": "users/7/next.png",
        "metadata": '{"owner":7}',
        "creator": "user-7",
    }
    assert isinstance(upload, DirectUpload)
    assert upload.id == "e22e9e6b-c02b-42fd-c405-6c32af5fe600"
    assert upload.upload_url.startswith("https://upload.imagedelivery.net/")


async def test_direct_upload_expiry_as_a_timedelta_counts_from_now(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v2/direct_upload").respond(200, json=fixture("direct_upload.json"))
    before = datetime.now(UTC).replace(microsecond=0)
    await api.run(api.client.create_direct_upload(expiry=timedelta(minutes=45)))
    sent = datetime.strptime(form_fields(route.calls.last.request)["expiry"], "%Y-%m-%dT%H:%M:%SZ")
    ahead = sent.replace(tzinfo=UTC) - before
    assert timedelta(minutes=45) <= ahead <= timedelta(minutes=46)  # a minute's slack for a slow machine


async def test_stats(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v1/stats").respond(200, json=fixture("stats.json"))
    stats = await api.run(api.client.get_stats())
    assert_authorised(route.calls.last.request)
    assert isinstance(stats, Stats)
    assert (stats.current, stats.allowed) == (1000, 100000)


# -- variants ------------------------------------------------------------------------------------------------


async def test_list_and_get_variants(api: Side, cf: respx.MockRouter) -> None:
    cf.get("/images/v1/variants").respond(200, json=fixture("variants.json"))
    cf.get("/images/v1/variants/hero").respond(200, json=fixture("variant.json"))
    variants = await api.run(api.client.list_variants())
    assert sorted(variants) == ["hero", "public"]
    hero = variants["hero"]
    assert isinstance(hero, Variant)
    assert (hero.options.fit, hero.options.width, hero.options.height, hero.options.metadata) == (
        "scale-down", 1366, 768, "none",
    )  # fmt: skip
    assert hero.never_require_signed_urls is True
    assert await api.run(api.client.get_variant("hero")) == hero


async def test_create_variant_posts_the_definition(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1/variants").respond(200, json=fixture("variant.json"))
    variant = await api.run(
        api.client.create_variant("hero", fit="scale-down", width=1366, height=768, never_require_signed_urls=True)
    )
    request = route.calls.last.request
    assert_authorised(request)
    assert json_body(request) == {
        "id": "hero",
        "options": {"fit": "scale-down", "width": 1366, "height": 768, "metadata": "none"},
        "neverRequireSignedURLs": True,
    }
    assert variant.id == "hero"


async def test_update_variant_with_every_option_is_one_patch(api: Side, cf: respx.MockRouter) -> None:
    route = cf.patch("/images/v1/variants/hero").respond(200, json=fixture("variant.json"))
    await api.run(api.client.update_variant("hero", fit="cover", width=10, height=20, metadata="keep"))
    assert len(cf.calls) == 1
    assert json_body(route.calls.last.request) == {
        "options": {"fit": "cover", "width": 10, "height": 20, "metadata": "keep"}
    }


async def test_update_variant_fills_missing_options_from_the_current_definition(
    api: Side, cf: respx.MockRouter
) -> None:
    cf.get("/images/v1/variants/hero").respond(200, json=fixture("variant.json"))
    patch = cf.patch("/images/v1/variants/hero").respond(200, json=fixture("variant.json"))
    await api.run(api.client.update_variant("hero", width=640, never_require_signed_urls=False))
    assert json_body(patch.calls.last.request) == {
        "options": {"fit": "scale-down", "width": 640, "height": 768, "metadata": "none"},
        "neverRequireSignedURLs": False,
    }


async def test_delete_variant(api: Side, cf: respx.MockRouter) -> None:
    route = cf.delete("/images/v1/variants/hero").respond(200, json=fixture("deleted.json"))
    await api.run(api.client.delete_variant("hero"))
    assert_authorised(route.calls.last.request)


# -- signing keys --------------------------------------------------------------------------------------------


async def test_signing_keys(api: Side, cf: respx.MockRouter) -> None:
    cf.get("/images/v1/keys").respond(200, json=fixture("keys.json"))
    put = cf.put("/images/v1/keys/rotated").respond(200, json=fixture("keys.json"))
    delete = cf.delete("/images/v1/keys/rotated").respond(
        200, json=envelope({"keys": fixture("keys.json")["result"]["keys"][:1]})
    )

    keys = await api.run(api.client.list_signing_keys())
    assert [key.name for key in keys] == ["default", "rotated"]
    assert all(isinstance(key, AccountSigningKey) for key in keys)
    assert keys[0].value.get_secret_value() == "Oix0bbNaT8Rge9PuyxUBrjI6zrgnsyJ5="

    created = await api.run(api.client.create_signing_key("rotated"))
    assert put.calls.last.request.content == b""
    assert_authorised(put.calls.last.request)
    assert created.name == "rotated"

    remaining = await api.run(api.client.delete_signing_key("rotated"))
    assert delete.called
    assert [key.name for key in remaining] == ["default"]


# -- account config, batch token -----------------------------------------------------------------------------


async def test_account_config(api: Side, cf: respx.MockRouter) -> None:
    cf.get("/images/v1/config").respond(200, json=fixture("config.json"))
    patch = cf.patch("/images/v1/config").respond(200, json=envelope(None))
    config = await api.run(api.client.get_config())
    assert config == AccountConfig(flexible_variants=True, browser_ttl=14400, preserve_content_credentials=False)

    updated = await api.run(api.client.update_config(flexible_variants=True, browser_ttl=7200))
    request = patch.calls.last.request
    assert_authorised(request)
    assert json_body(request) == {"flexible_variants": True, "browser_ttl": 7200}
    # the PATCH response body is undocumented; with none, the result reflects what was set
    assert (updated.flexible_variants, updated.browser_ttl, updated.preserve_content_credentials) == (True, 7200, None)


async def test_batch_token(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v1/batch_token").respond(200, json=fixture("batch_token.json"))
    token = await api.run(api.client.get_batch_token())
    assert_authorised(route.calls.last.request)
    assert isinstance(token, BatchToken)
    assert token.token.get_secret_value() == "bt-0f3c9e7a-batch-token-value"
    assert token.expires_at == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    assert "bt-0f3c9e7a" not in repr(token)


# -- the batch host ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_batch_host_paths_have_no_account_and_use_the_batch_token(kind: str) -> None:
    from cfvariants.client import BATCH_API_BASE, ValidationError

    side = Side(kind, account_id=None, api_token="bt-batch-token", base_url=BATCH_API_BASE)
    try:
        assert side.client.is_batch
        with respx.mock(base_url=BATCH_API_BASE, assert_all_called=False) as batch:
            route = batch.get(f"/images/v1/{UID}").respond(200, json=fixture("image.json"))
            await side.run(side.client.get(UID))
            assert route.calls.last.request.headers["authorization"] == "Bearer bt-batch-token"
            with pytest.raises(ValidationError, match="not served by the batch host"):
                await side.run(side.client.list_variants())
            assert len(batch.calls) == 1
    finally:
        await side.close()


async def test_a_variant_read_from_one_account_can_define_it_on_another(api: Side, cf: respx.MockRouter) -> None:
    post = cf.post("/images/v1/variants").respond(200, json=fixture("variant.json"))
    patch = cf.patch("/images/v1/variants/hero").respond(200, json=fixture("variant.json"))
    hero = Variant.model_validate(fixture("variant.json")["result"]["variant"])
    await api.run(api.client.create_variant(hero))
    assert json_body(post.calls.last.request) == {
        "id": "hero",
        "options": {"fit": "scale-down", "width": 1366, "height": 768, "metadata": "none"},
        "neverRequireSignedURLs": True,
    }
    await api.run(api.client.update_variant(hero, width=800))  # complete: no read first
    assert len(cf.calls) == 2
    assert json_body(patch.calls.last.request) == {
        "options": {"fit": "scale-down", "width": 800, "height": 768, "metadata": "none"},
        "neverRequireSignedURLs": True,
    }
