"""What the shared retry and upload flows tell the caller when they stop: whether a failed call may have taken
effect, how many attempts it made, which request a conflict is about, what the debug log says per attempt, and
that an image found after a lost answer is the client's own (its URLs, its signing key). Both clients, respx at
the wire."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import imagegen
import pytest
import respx
from client_helpers import HASH, SIGNING_KEY, UID, Side, envelope, failure, fixture, form_fields

from cfvariants import Delivery
from cfvariants.client import UPLOAD_MARKER_KEY, APIError, ConflictError, RetryPolicy, TransportError, ValidationError

PHOTO = imagegen.photo_jpeg(180_000, seed=20)  # a camera-like JPEG, 180 KB


def _attempt_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The debug lines the flows log per request sent (not the retry announcements)."""
    return [message for message in caplog.messages if "(attempt" in message and "retrying" not in message]


# -- what a final error says about having been applied ----------------------------------------------------------


async def test_a_read_that_keeps_failing_never_says_it_may_have_been_applied(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get(f"/images/v1/{UID}").respond(502, text="Bad Gateway")
    with pytest.raises(APIError) as info:
        await api.run(api.client.get(UID))
    assert route.call_count == 3
    assert info.value.attempts == 3
    assert str(info.value).endswith("(gave up after 3 attempts)")  # a GET changes nothing: no "may have been applied"


async def test_a_refused_write_was_not_applied_and_does_not_say_it_may_have_been(
    api: Side, cf: respx.MockRouter
) -> None:
    route = cf.patch(f"/images/v1/{UID}").respond(400, json=failure(5400, "metadata must be an object"))
    with pytest.raises(APIError) as info:
        await api.run(api.client.update(UID, metadata={"owner": 8}))
    assert route.call_count == 1
    assert not info.value.maybe_applied
    assert info.value.note is None
    assert str(info.value) == f"PATCH /images/v1/{UID}: HTTP 400: [5400] metadata must be an object"


async def test_a_single_attempt_that_may_have_been_applied_says_so_of_itself(api: Side, cf: respx.MockRouter) -> None:
    await api.rebuild(retry=RetryPolicy.none())
    cf.patch(f"/images/v1/{UID}").respond(502, text="Bad Gateway")
    with pytest.raises(APIError) as info:
        await api.run(api.client.update(UID, metadata={"owner": 8}))
    assert info.value.maybe_applied
    assert info.value.note == "it may have been applied"  # not "an earlier attempt": there was only one
    assert str(info.value).endswith("(it may have been applied)")


async def test_a_write_that_failed_uncertainly_then_for_sure_says_an_earlier_attempt_may_have_been_applied(
    api: Side, cf: respx.MockRouter
) -> None:
    route = cf.patch(f"/images/v1/{UID}")
    route.side_effect = [httpx.ReadTimeout("timed out"), httpx.Response(400, json=failure(5400, "bad metadata"))]
    with pytest.raises(APIError) as info:
        await api.run(api.client.update(UID, metadata={"owner": 8}))
    assert info.value.maybe_applied
    assert str(info.value).endswith("(gave up after 2 attempts; an earlier attempt may have been applied)")


async def test_a_repeated_delete_that_finds_nothing_logs_that_the_first_attempt_did_it(
    api: Side, cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cfvariants.client")
    route = cf.delete(f"/images/v1/{UID}")
    route.side_effect = [httpx.Response(502, text="Bad Gateway"), httpx.Response(404, json=fixture("error_not_found"))]
    await api.run(api.client.delete(UID))
    done = [message for message in caplog.messages if "done by an earlier attempt" in message]
    assert done == [
        f"DELETE /images/v1/{UID}: done by an earlier attempt (DELETE /images/v1/{UID}: HTTP 404: [5404] Image not "
        "found (gave up after 2 attempts))"
    ]


def test_a_flow_driven_with_something_other_than_a_response_says_what_it_got() -> None:
    from cfvariants.client._flow import Send, attempt
    from cfvariants.client._requests import Context, Request

    flow = attempt(Request("GET", f"/images/v1/{UID}"), Context(RetryPolicy.none(), None), 1)
    assert isinstance(next(flow), Send)
    with pytest.raises(TypeError, match=r"^a flow expected a response, got str$"):
        flow.send("not a response")


# -- uploads found after a lost answer ---------------------------------------------------------------------------


async def test_an_image_found_after_a_dropped_upload_builds_and_signs_urls_with_the_clients_delivery(
    api: Side, cf: respx.MockRouter
) -> None:
    delivery = Delivery(HASH, signing_key=SIGNING_KEY, domain="images.example.com")
    await api.rebuild(delivery=delivery)
    stored: list[dict[str, Any]] = []

    def stored_then_dropped(request: httpx.Request) -> httpx.Response:
        meta = json.loads(form_fields(request)["metadata"])
        stored.append({**fixture("image_private")["result"], "meta": meta})
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    cf.post("/images/v1").mock(side_effect=stored_then_dropped)
    cf.get("/images/v2").mock(side_effect=lambda request: httpx.Response(200, json=envelope({"images": stored})))
    image = await api.run(api.client.upload(PHOTO, filename="cat.jpg", require_signed_urls=True))
    assert len(stored) == 1
    assert image.url("public") == delivery.url(image.id, "public")
    assert image.url("public").startswith("https://images.example.com/")
    expires = 1_800_000_000
    assert image.signed_url("public", expires_at=expires) == delivery.signed_url(image.id, "public", expires_at=expires)


async def test_a_custom_id_taken_by_another_image_names_the_upload_request_and_its_attempts(
    api: Side, cf: respx.MockRouter
) -> None:
    post = cf.post("/images/v1").mock(side_effect=httpx.RemoteProtocolError("dropped"))
    someone_else = {**fixture("image_custom_id")["result"], "meta": {UPLOAD_MARKER_KEY: "another-upload"}}
    custom_id = someone_else["id"]
    cf.get(f"/images/v1/{custom_id.replace('/', '%2F')}").respond(200, json=envelope(someone_else))
    with pytest.raises(ConflictError) as info:
        await api.run(api.client.upload(PHOTO, id=custom_id))
    assert post.call_count == 1  # the id is taken: never sent again
    error = info.value
    assert (error.status_code, error.method, error.path, error.attempts) == (409, "POST", "/images/v1", 2)
    assert str(error) == (
        f"POST /images/v1: HTTP 409: image id {custom_id!r} already exists and was not stored by this upload "
        "(gave up after 2 attempts)"
    )


async def test_the_debug_log_numbers_each_attempt_and_each_lookup(
    api: Side, cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cfvariants.client")
    cf.post("/images/v1").side_effect = [
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(200, json=fixture("image")),
    ]
    cf.get("/images/v2").respond(200, json=envelope({"images": [], "continuation_token": None}))
    await api.run(api.client.upload(PHOTO))
    assert _attempt_lines(caplog) == [
        "POST /images/v1 -> 502 (attempt 1)",
        "GET /images/v2 -> 200 (attempt 2)",  # the lookup before the repeat: nothing stored
        "POST /images/v1 -> 200 (attempt 2)",
    ]


async def test_the_debug_log_numbers_a_lookup_by_custom_id_and_a_dropped_connection(
    api: Side, cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cfvariants.client")
    custom = fixture("image_custom_id")["result"]
    path = f"/images/v1/{custom['id'].replace('/', '%2F')}"
    cf.post("/images/v1").side_effect = [httpx.ReadError("reset"), httpx.Response(200, json=fixture("image_custom_id"))]
    cf.get(path).respond(404, json=fixture("error_not_found"))
    image = await api.run(api.client.upload(PHOTO, id=custom["id"]))
    assert image.id == custom["id"]
    assert _attempt_lines(caplog) == [
        "POST /images/v1: ReadError (attempt 1)",
        f"GET {path} -> 404 (attempt 2)",
        "POST /images/v1 -> 200 (attempt 2)",
    ]


async def test_an_upload_whose_lookups_keep_failing_reports_every_attempt(api: Side, cf: respx.MockRouter) -> None:
    cf.post("/images/v1").mock(side_effect=httpx.ReadError("reset"))
    lookup = cf.get("/images/v2").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as info:
        await api.run(api.client.upload(PHOTO))
    assert lookup.call_count == 2  # before the second and the third attempt, neither of which was sent
    assert info.value.attempts == 3
    assert info.value.maybe_applied  # the first POST may have been stored


async def test_a_result_of_the_wrong_shape_is_an_error_naming_the_request_and_what_came(
    api: Side, cf: respx.MockRouter
) -> None:
    cf.get("/images/v1/variants").respond(200, json=envelope("hero"))  # a string where an object belongs
    with pytest.raises(APIError) as info:
        await api.run(api.client.list_variants())
    assert info.value.status_code == 200
    assert str(info.value) == "GET /images/v1/variants: HTTP 200: unexpected result in the response: str"


async def test_an_upload_answered_with_a_result_that_breaks_the_schema_names_the_upload(
    api: Side, cf: respx.MockRouter
) -> None:
    cf.post("/images/v1").respond(200, json=envelope({"filename": "cat.jpg"}))  # no id
    with pytest.raises(APIError) as info:
        await api.run(api.client.upload(PHOTO, filename="cat.jpg"))
    assert str(info.value).startswith("POST /images/v1: HTTP 200: unexpected result in the response: id")


async def test_an_upload_found_after_a_lost_answer_is_logged_as_not_uploaded_again(
    api: Side, cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cfvariants.client")
    stored: list[dict[str, Any]] = []

    def stored_then_dropped(request: httpx.Request) -> httpx.Response:
        stored.append({**fixture("image")["result"], "meta": json.loads(form_fields(request)["metadata"])})
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    cf.post("/images/v1").mock(side_effect=stored_then_dropped)
    cf.get("/images/v2").mock(side_effect=lambda request: httpx.Response(200, json=envelope({"images": stored})))
    await api.run(api.client.upload(PHOTO))
    assert caplog.messages == [
        "POST /images/v1 failed (RemoteProtocolError); retrying in 0.50 s (attempt 2 of 3)",
        f"upload: an earlier attempt stored image {UID!r}; not uploading again",
    ]


async def test_a_custom_id_conflict_after_a_lost_answer_looks_again_and_numbers_every_request(
    api: Side, cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    # the first attempt stored the image but its answer was lost; the lookup is too early to see it; the repeat
    # gets "already exists"; the second lookup finds the image with this upload's marker
    caplog.set_level(logging.DEBUG, logger="cfvariants.client")
    custom = fixture("image_custom_id")["result"]
    path = f"/images/v1/{custom['id'].replace('/', '%2F')}"
    marker: list[str] = []

    def upload(request: httpx.Request) -> httpx.Response:
        if not marker:
            marker.append(json.loads(form_fields(request)["metadata"])[UPLOAD_MARKER_KEY])
            raise httpx.ReadTimeout("timed out")
        return httpx.Response(409, json=fixture("error_conflict"))

    lookups = iter([httpx.Response(404, json=fixture("error_not_found")), None])

    def get(request: httpx.Request) -> httpx.Response:
        answer = next(lookups)
        return answer or httpx.Response(200, json=envelope({**custom, "meta": {UPLOAD_MARKER_KEY: marker[0]}}))

    cf.post("/images/v1").mock(side_effect=upload)
    cf.get(path).mock(side_effect=get)
    image = await api.run(api.client.upload(PHOTO, id=custom["id"]))
    assert image.id == custom["id"]
    assert _attempt_lines(caplog) == [
        "POST /images/v1: ReadTimeout (attempt 1)",
        f"GET {path} -> 404 (attempt 2)",
        "POST /images/v1 -> 409 (attempt 2)",
        f"GET {path} -> 200 (attempt 2)",
    ]


async def test_a_custom_id_conflict_that_no_lookup_explains_is_raised_saying_an_earlier_attempt_may_have_been_applied(
    api: Side, cf: respx.MockRouter
) -> None:
    custom_id = fixture("image_custom_id")["result"]["id"]
    post = cf.post("/images/v1")
    post.side_effect = [httpx.ReadTimeout("timed out"), httpx.Response(409, json=fixture("error_conflict"))]
    lookup = cf.get(f"/images/v1/{custom_id.replace('/', '%2F')}").respond(404, json=fixture("error_not_found"))
    with pytest.raises(ConflictError) as info:
        await api.run(api.client.upload(PHOTO, id=custom_id))
    assert (post.call_count, lookup.call_count) == (2, 2)
    assert info.value.attempts == 2 and info.value.maybe_applied
    assert str(info.value).endswith("(gave up after 2 attempts; an earlier attempt may have been applied)")


async def test_a_conflict_on_a_repeated_upload_without_a_custom_id_is_raised_as_maybe_applied(
    api: Side, cf: respx.MockRouter
) -> None:
    post = cf.post("/images/v1")
    post.side_effect = [httpx.Response(502, text="Bad Gateway"), httpx.Response(409, json=fixture("error_conflict"))]
    cf.get("/images/v2").respond(200, json=envelope({"images": [], "continuation_token": None}))
    with pytest.raises(ConflictError) as info:
        await api.run(api.client.upload(PHOTO))
    assert post.call_count == 2
    assert info.value.maybe_applied  # the 502 may have stored it
    assert str(info.value).endswith("(gave up after 2 attempts; an earlier attempt may have been applied)")


# -- variants ----------------------------------------------------------------------------------------------------


def _variant_with_extra_options() -> dict[str, Any]:
    """The variant fixture with option fields this client does not model (Cloudflare adds fields over time)."""
    body = fixture("variant")
    body["result"]["variant"]["options"].update({"quality": 85, "background": "#ffffff"})
    return body


async def test_a_repeated_create_variant_compares_only_the_options_it_defines(api: Side, cf: respx.MockRouter) -> None:
    post = cf.post("/images/v1/variants")
    post.side_effect = [httpx.ReadTimeout("timed out"), httpx.Response(409, json=fixture("error_conflict"))]
    cf.get("/images/v1/variants/hero").respond(200, json=_variant_with_extra_options())
    variant = await api.run(api.client.create_variant("hero", fit="scale-down", width=1366, height=768))
    assert variant.id == "hero" and variant.options.width == 1366
    assert post.call_count == 2


async def test_update_variant_sends_only_the_four_options_whatever_else_the_current_definition_has(
    api: Side, cf: respx.MockRouter
) -> None:
    cf.get("/images/v1/variants/hero").respond(200, json=_variant_with_extra_options())
    patch = cf.patch("/images/v1/variants/hero").respond(200, json=fixture("variant"))
    await api.run(api.client.update_variant("hero", width=640))
    assert json.loads(patch.calls.last.request.read()) == {
        "options": {"fit": "scale-down", "width": 640, "height": 768, "metadata": "none"}
    }


async def test_update_variant_refuses_a_bad_signed_url_flag_before_reading_the_current_definition(
    api: Side, cf: respx.MockRouter
) -> None:
    with pytest.raises(ValidationError, match="never_require_signed_urls must be True or False, not 'yes'"):
        await api.run(api.client.update_variant("hero", width=640, never_require_signed_urls="yes"))  # type: ignore[arg-type]
    assert len(cf.calls) == 0
