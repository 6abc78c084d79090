"""Retries: which failures are retried, how long the client waits (backoff with jitter, Retry-After in both
forms), when it gives up and what it then says, and uploads that are never stored twice."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
from client_helpers import NOW, UID, Side, envelope, failure, fixture, form_fields, retry_policy

from cfvariants.client import (
    UPLOAD_MARKER_KEY,
    APIError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    TransportError,
)
from cfvariants.client._retry import parse_retry_after

# -- the policy ----------------------------------------------------------------------------------------------


def test_backoff_is_full_jitter_under_an_exponential_ceiling_and_a_cap() -> None:
    asked: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        asked.append((low, high))
        return high / 2

    policy = RetryPolicy(base=0.5, cap=3.0, uniform=uniform)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert asked == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]


def test_real_jitter_stays_within_the_ceiling() -> None:
    policy = RetryPolicy(base=1.0, cap=4.0)
    delays = [policy.backoff(3) for _ in range(200)]
    assert all(0.0 <= delay <= 4.0 for delay in delays)
    assert len(set(delays)) > 100  # random, not a fixed schedule


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("1.5", 1.5),
        (format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True), 90.0),
        ("Thu, 01 Jan 2026 00:02:00 GMT", 120.0),
        ("Wed, 31 Dec 2025 23:00:00 GMT", 0.0),  # in the past: go now
        ("soon", None),
        ("", None),
        (None, None),
        ("inf", None),
    ],
)
def test_retry_after_in_seconds_and_http_date_forms(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_policy_arguments_are_checked() -> None:
    for bad in ({"max_attempts": 0}, {"max_attempts": 1.5}, {"base": -1}, {"cap": "2"}, {"max_retry_after": -0.1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            RetryPolicy(**bad)
    assert RetryPolicy.none().max_attempts == 1


# -- which failures are retried, and how long the client waits -----------------------------------------------


async def test_server_errors_are_retried_with_exponential_backoff(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get(f"/images/v1/{UID}")
    route.side_effect = [
        httpx.Response(503, json=failure(5503, "busy")),
        httpx.Response(500, json=failure(5500, "oops")),
        httpx.Response(200, json=fixture("image")),
    ]
    image = await api.run(api.client.get(UID))
    assert image.id == UID
    assert route.call_count == 3
    assert api.delays == [0.5, 1.0]  # base * 2**(n-1), at the top of the jitter range


async def test_retry_after_seconds_is_honoured(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v1/stats")
    route.side_effect = [
        httpx.Response(429, json=fixture("error_rate_limited"), headers={"Retry-After": "7"}),
        httpx.Response(200, json=fixture("stats")),
    ]
    await api.run(api.client.get_stats())
    assert api.delays == [7.0]


async def test_retry_after_http_date_is_honoured(api: Side, cf: respx.MockRouter) -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 12, UTC), usegmt=True)
    route = cf.get("/images/v1/stats")
    route.side_effect = [
        httpx.Response(503, json=failure(5503, "maintenance"), headers={"Retry-After": when}),
        httpx.Response(200, json=fixture("stats")),
    ]
    await api.run(api.client.get_stats())
    assert api.delays == [12.0]


async def test_a_retry_after_beyond_the_limit_gives_up_at_once(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v1/stats").respond(429, json=fixture("error_rate_limited"), headers={"Retry-After": "300"})
    with pytest.raises(RateLimitError) as info:
        await api.run(api.client.get_stats())
    assert info.value.retry_after == 300.0
    assert info.value.attempts == 1
    assert route.call_count == 1
    assert api.delays == []


async def test_giving_up_says_how_many_attempts_were_made(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get("/images/v1/stats").respond(502, json=failure(5502, "bad gateway"))
    with pytest.raises(APIError) as info:
        await api.run(api.client.get_stats())
    assert route.call_count == 3
    assert info.value.attempts == 3
    assert "gave up after 3 attempts" in str(info.value)
    assert api.delays == [0.5, 1.0]


async def test_connection_failures_are_retried_then_reported_as_transport_errors(
    api: Side, cf: respx.MockRouter
) -> None:
    route = cf.get("/images/v1/stats").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(TransportError) as info:
        await api.run(api.client.get_stats())
    error = info.value
    assert route.call_count == 3
    assert (error.cause, error.attempts, error.maybe_applied) == ("ConnectError", 3, False)
    assert str(error) == "GET /images/v1/stats: ConnectError: [Errno 111] Connection refused (gave up after 3 attempts)"


async def test_a_timeout_then_success(api: Side, cf: respx.MockRouter) -> None:
    route = cf.get(f"/images/v1/{UID}")
    route.side_effect = [httpx.ReadTimeout("read timed out"), httpx.Response(200, json=fixture("image"))]
    assert (await api.run(api.client.get(UID))).id == UID
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_not_retried(api: Side, cf: respx.MockRouter, status: int) -> None:
    route = cf.get(f"/images/v1/{UID}").respond(status, json=failure(5400, "no"))
    with pytest.raises(APIError):
        await api.run(api.client.get(UID))
    assert route.call_count == 1
    assert api.delays == []


async def test_no_retries_with_the_none_policy(api: Side, cf: respx.MockRouter) -> None:
    await api.rebuild(retry=RetryPolicy.none())
    route = cf.get(f"/images/v1/{UID}").respond(503, json=failure(5503, "busy"))
    with pytest.raises(APIError) as info:
        await api.run(api.client.get(UID))
    assert (route.call_count, info.value.attempts) == (1, 1)
    assert "gave up" not in str(info.value)


async def test_retry_statuses_are_configurable(api: Side, cf: respx.MockRouter) -> None:
    await api.rebuild(retry=retry_policy(retry_statuses={503}))
    route = cf.get(f"/images/v1/{UID}").respond(500, json=failure(5500, "oops"))
    with pytest.raises(APIError):
        await api.run(api.client.get(UID))
    assert route.call_count == 1


async def test_retries_are_logged(api: Side, cf: respx.MockRouter, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cfvariants.client")
    cf.get("/images/v1/stats").side_effect = [
        httpx.Response(503, json=failure(5503, "busy")),
        httpx.Response(200, json=fixture("stats")),
    ]
    await api.run(api.client.get_stats())
    assert "GET /images/v1/stats failed (HTTP 503); retrying in 0.50 s (attempt 2 of 3)" in caplog.messages


async def test_a_repeated_delete_that_finds_nothing_succeeded_the_first_time(api: Side, cf: respx.MockRouter) -> None:
    route = cf.delete(f"/images/v1/{UID}")
    route.side_effect = [httpx.Response(502, text="bad gateway"), httpx.Response(404, json=fixture("error_not_found"))]
    await api.run(api.client.delete(UID))  # no NotFoundError: the first attempt had deleted it
    assert route.call_count == 2


async def test_a_first_delete_that_finds_nothing_is_not_found(api: Side, cf: respx.MockRouter) -> None:
    cf.delete(f"/images/v1/{UID}").respond(404, json=fixture("error_not_found"))
    with pytest.raises(NotFoundError):
        await api.run(api.client.delete(UID))


async def test_a_repeated_create_variant_that_conflicts_returns_the_variant_it_made(
    api: Side, cf: respx.MockRouter
) -> None:
    post = cf.post("/images/v1/variants")
    post.side_effect = [httpx.ReadTimeout("timed out"), httpx.Response(409, json=fixture("error_conflict"))]
    cf.get("/images/v1/variants/hero").respond(200, json=fixture("variant"))
    variant = await api.run(api.client.create_variant("hero", fit="scale-down", width=1366, height=768))
    assert variant.id == "hero"
    assert post.call_count == 2


async def test_a_create_variant_conflict_with_another_definition_is_raised(api: Side, cf: respx.MockRouter) -> None:
    post = cf.post("/images/v1/variants")
    post.side_effect = [httpx.ReadTimeout("timed out"), httpx.Response(409, json=fixture("error_conflict"))]
    cf.get("/images/v1/variants/hero").respond(200, json=fixture("variant"))
    with pytest.raises(ConflictError) as info:
        await api.run(api.client.create_variant("hero", fit="cover", width=10, height=10))
    assert info.value.maybe_applied


# -- idempotent uploads --------------------------------------------------------------------------------------


class FakeImages:
    """Cloudflare's image store as far as these tests need: uploads that may be stored before the connection
    drops, lookups by id and by the metadata marker."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.posts: list[httpx.Request] = []
        self.lookups: list[httpx.Request] = []

    def store(self, request: httpx.Request) -> dict[str, Any]:
        fields = form_fields(request)
        image_id = fields.get("id", f"00000000-0000-4000-8000-{len(self.stored):012d}")
        image = {**fixture("image")["result"], "id": image_id, "meta": json.loads(fields.get("metadata", "{}"))}
        self.stored[image_id] = image
        return image

    def marker_of(self, request: httpx.Request) -> str:
        return str(json.loads(form_fields(request)["metadata"])[UPLOAD_MARKER_KEY])

    def by_marker(self, request: httpx.Request) -> httpx.Response:
        self.lookups.append(request)
        token = request.url.params[f"meta.{UPLOAD_MARKER_KEY}[eq:string]"]
        found = [image for image in self.stored.values() if image["meta"].get(UPLOAD_MARKER_KEY) == token]
        return httpx.Response(200, json=envelope({"images": found, "continuation_token": None}))


@pytest.fixture
def store(cf: respx.MockRouter) -> FakeImages:
    fake = FakeImages()
    cf.get("/images/v2").mock(side_effect=fake.by_marker)
    return fake


async def test_a_dropped_upload_that_was_stored_is_found_not_repeated(
    api: Side, cf: respx.MockRouter, store: FakeImages
) -> None:
    def stored_then_dropped(request: httpx.Request) -> httpx.Response:
        store.posts.append(request)
        store.store(request)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    cf.post("/images/v1").mock(side_effect=stored_then_dropped)
    image = await api.run(api.client.upload(b"\x89PNG-data", metadata={"owner": 7}))
    assert len(store.posts) == 1  # uploaded once...
    assert len(store.stored) == 1  # ...stored once
    assert image.id in store.stored
    assert image.meta["owner"] == 7
    token = store.marker_of(store.posts[0])
    assert [lookup.url.params[f"meta.{UPLOAD_MARKER_KEY}[eq:string]"] for lookup in store.lookups] == [token]
    assert api.delays == [0.5]


async def test_a_502_upload_that_was_not_stored_is_sent_again_with_the_same_marker(
    api: Side, cf: respx.MockRouter, store: FakeImages
) -> None:
    def upload(request: httpx.Request) -> httpx.Response:
        store.posts.append(request)
        if len(store.posts) == 1:
            return httpx.Response(502, text="Bad Gateway")
        return httpx.Response(200, json=envelope(store.store(request)))

    cf.post("/images/v1").mock(side_effect=upload)
    image = await api.run(api.client.upload(b"\x89PNG-data"))
    assert len(store.posts) == 2
    assert len(store.lookups) == 1
    assert store.marker_of(store.posts[0]) == store.marker_of(store.posts[1])
    assert list(store.stored) == [image.id]
    assert store.posts[0].read() != b"" and multipart_file(store.posts[0]) == multipart_file(store.posts[1])


def multipart_file(request: httpx.Request) -> bytes:
    from client_helpers import multipart

    return multipart(request)["file"].data


async def test_a_custom_id_upload_is_looked_up_by_id(api: Side, cf: respx.MockRouter, store: FakeImages) -> None:
    def stored_then_502(request: httpx.Request) -> httpx.Response:
        store.posts.append(request)
        store.store(request)
        return httpx.Response(502, text="Bad Gateway")

    def get(request: httpx.Request) -> httpx.Response:
        stored = store.stored.get("users/7/a.png")
        return httpx.Response(200, json=envelope(stored)) if stored else httpx.Response(404, json=failure(5404, "no"))

    cf.post("/images/v1").mock(side_effect=stored_then_502)
    lookup = cf.get("/images/v1/users%2F7%2Fa.png").mock(side_effect=get)
    image = await api.run(api.client.upload(b"data", id="users/7/a.png"))
    assert image.id == "users/7/a.png"
    assert len(store.posts) == 1
    assert lookup.call_count == 1
    assert lookup.calls.last.request.url.raw_path.endswith(b"/images/v1/users%2F7%2Fa.png")


async def test_a_custom_id_repeat_that_conflicts_finds_its_own_image(
    api: Side, cf: respx.MockRouter, store: FakeImages
) -> None:
    # first attempt stored the image but the answer was lost; the lookup is too early to see it (eventual
    # consistency); the repeat gets "already exists"; a second lookup finds the image with our marker.
    def upload(request: httpx.Request) -> httpx.Response:
        store.posts.append(request)
        if len(store.posts) == 1:
            store.store(request)
            raise httpx.ReadTimeout("timed out")
        return httpx.Response(409, json=fixture("error_conflict"))

    lookups = iter([httpx.Response(404, json=failure(5404, "no")), None])

    def get(request: httpx.Request) -> httpx.Response:
        answer = next(lookups)
        return answer if answer is not None else httpx.Response(200, json=envelope(store.stored["users/7/a.png"]))

    cf.post("/images/v1").mock(side_effect=upload)
    cf.get("/images/v1/users%2F7%2Fa.png").mock(side_effect=get)
    image = await api.run(api.client.upload(b"data", id="users/7/a.png"))
    assert image.id == "users/7/a.png"
    assert len(store.posts) == 2
    assert len(store.stored) == 1


async def test_a_custom_id_taken_by_another_image_is_a_conflict(api: Side, cf: respx.MockRouter) -> None:
    cf.post("/images/v1").mock(side_effect=httpx.RemoteProtocolError("dropped"))
    someone_else = {**fixture("image_custom_id")["result"], "meta": {UPLOAD_MARKER_KEY: "another-upload"}}
    cf.get("/images/v1/users%2F7%2Favatar.png").respond(200, json=envelope(someone_else))
    with pytest.raises(ConflictError, match="already exists and was not stored by this upload"):
        await api.run(api.client.upload(b"data", id="users/7/avatar.png"))


async def test_without_a_marker_or_custom_id_an_uncertain_upload_is_not_repeated(
    api: Side, cf: respx.MockRouter
) -> None:
    route = cf.post("/images/v1").respond(502, text="Bad Gateway")
    with pytest.raises(APIError) as info:
        await api.run(api.client.upload(b"data", idempotent=False))
    assert route.call_count == 1
    assert info.value.maybe_applied
    assert "not retried: the upload may have been stored" in str(info.value)


async def test_metadata_with_no_room_for_the_marker_goes_without_it(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1").respond(502, text="Bad Gateway")
    metadata = {"note": "x" * 1000}  # 1,013 bytes: fits, but not with the marker
    with pytest.raises(APIError, match="not retried"):
        await api.run(api.client.upload(b"data", metadata=metadata))
    assert json.loads(form_fields(route.calls.last.request)["metadata"]) == metadata


async def test_failures_before_sending_are_retried_without_a_lookup(
    api: Side, cf: respx.MockRouter, store: FakeImages
) -> None:
    post = cf.post("/images/v1")
    post.side_effect = [
        httpx.ConnectError("refused"),
        httpx.Response(429, json=fixture("error_rate_limited"), headers={"Retry-After": "2"}),
        httpx.Response(200, json=fixture("image")),
    ]
    await api.run(api.client.upload(b"data"))
    assert post.call_count == 3
    assert store.lookups == []
    assert api.delays == [0.5, 2.0]


async def test_no_marker_is_added_when_nothing_will_be_retried(api: Side, cf: respx.MockRouter) -> None:
    await api.rebuild(retry=RetryPolicy.none())
    route = cf.post("/images/v1").respond(200, json=fixture("image"))
    await api.run(api.client.upload(b"data", metadata={"owner": 7}))
    assert json.loads(form_fields(route.calls.last.request)["metadata"]) == {"owner": 7}


async def test_an_upload_that_keeps_failing_gives_up_saying_it_may_be_stored(
    api: Side, cf: respx.MockRouter, store: FakeImages
) -> None:
    cf.post("/images/v1").respond(503, json=failure(5503, "busy"))
    with pytest.raises(APIError) as info:
        await api.run(api.client.upload(b"data"))
    assert info.value.attempts == 3
    assert len(store.lookups) == 2  # before each repeat
    assert "gave up after 3 attempts; an earlier attempt may have been applied" in str(info.value)
