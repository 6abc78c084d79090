"""Failures: every status and error body maps to the documented error tree; bad input is refused before any
byte is sent; and the API token never shows in a repr, an exception or a log line."""

from __future__ import annotations

import io
import logging
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from client_helpers import TOKEN, UID, Side, failure, fixture

import cfvariants.client
from cfvariants import CFVariantsError
from cfvariants.client import (
    APIError,
    AuthenticationError,
    CloudflareImagesError,
    ConflictError,
    ImagesClient,
    MetaFilter,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    TransportError,
    ValidationError,
)
from cfvariants.client import _errors as errors_module

# -- statuses and bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected", "code", "text"),
    [
        (400, "error_bad_request", APIError, 5400, "metadata must be an object"),
        (401, "error_authentication", AuthenticationError, 10000, "Authentication error"),
        (403, "error_authentication", AuthenticationError, 10000, "Authentication error"),
        (404, "error_not_found", NotFoundError, 5404, "Image not found"),
        (409, "error_conflict", ConflictError, 5409, "Resource already exists"),
        (429, "error_rate_limited", RateLimitError, 971, "throttling"),
        (500, "error_internal", APIError, 5500, "Internal error"),
        (404, "error_no_route", NotFoundError, 7003, "No route for the URI"),
    ],
)
async def test_error_statuses_map_to_the_error_tree(
    api: Side, cf: respx.MockRouter, status: int, body: str, expected: type[APIError], code: int, text: str
) -> None:
    await api.rebuild(retry=RetryPolicy.none())
    cf.get(f"/images/v1/{UID}").respond(status, json=fixture(body), headers={"cf-ray": "8a1b2c3d4e5f-LHR"})
    with pytest.raises(expected) as info:
        await api.run(api.client.get(UID))
    error = info.value
    assert type(error) is expected
    assert error.status_code == status
    assert error.codes == [code]
    assert text in error.errors[0].message
    assert error.messages == []
    assert error.request_id == "8a1b2c3d4e5f-LHR"
    assert error.attempts == 1
    message = str(error)
    assert f"GET /images/v1/{UID}" in message
    assert f"HTTP {status}" in message
    assert f"[{code}]" in message
    assert "8a1b2c3d4e5f-LHR" in message


async def test_rate_limit_error_carries_the_retry_after_it_saw(api: Side, cf: respx.MockRouter) -> None:
    await api.rebuild(retry=RetryPolicy.none())
    cf.get(f"/images/v1/{UID}").respond(429, json=fixture("error_rate_limited"), headers={"retry-after": "42"})
    with pytest.raises(RateLimitError) as info:
        await api.run(api.client.get(UID))
    assert info.value.retry_after == 42.0


async def test_authentication_code_maps_even_with_another_status(api: Side, cf: respx.MockRouter) -> None:
    cf.get("/images/v1/stats").respond(400, json=failure(10000, "Authentication error"))
    with pytest.raises(AuthenticationError):
        await api.run(api.client.get_stats())


async def test_a_duplicate_id_message_is_a_conflict_whatever_the_status(api: Side, cf: respx.MockRouter) -> None:
    cf.post("/images/v1").respond(400, json=failure(5461, "Image with ID users/7/a.png already exists"))
    with pytest.raises(ConflictError, match="already exists"):
        await api.run(api.client.upload(b"data", id="users/7/a.png"))
    assert len(cf.calls) == 1  # a 4xx is never retried


async def test_success_false_in_a_200_is_an_error(api: Side, cf: respx.MockRouter) -> None:
    cf.get(f"/images/v1/{UID}").respond(200, json=failure(5400, "Something is off"))
    with pytest.raises(APIError) as info:
        await api.run(api.client.get(UID))
    assert info.value.status_code == 200
    assert info.value.codes == [5400]
    assert "Something is off" in str(info.value)


async def test_success_false_without_details_still_says_so(api: Side, cf: respx.MockRouter) -> None:
    cf.get(f"/images/v1/{UID}").respond(200, json={"success": False, "errors": [], "messages": [], "result": None})
    with pytest.raises(APIError, match="success is false"):
        await api.run(api.client.get(UID))


async def test_a_non_json_error_page_is_described(api: Side, cf: respx.MockRouter) -> None:
    await api.rebuild(retry=RetryPolicy.none())
    page = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    cf.get(f"/images/v1/{UID}").respond(502, text=page, headers={"content-type": "text/html"})
    with pytest.raises(APIError) as info:
        await api.run(api.client.get(UID))
    assert info.value.status_code == 502
    assert info.value.errors == []
    assert "Bad Gateway: 502 Bad Gateway" in str(info.value)


async def test_a_2xx_that_is_not_an_envelope_is_an_error(api: Side, cf: respx.MockRouter) -> None:
    cf.get(f"/images/v1/{UID}").respond(200, text="ok", headers={"content-type": "text/plain"})
    with pytest.raises(APIError, match=r"not a Cloudflare API envelope \(text/plain\)"):
        await api.run(api.client.get(UID))


async def test_a_result_that_breaks_the_schema_is_an_error_not_a_crash(api: Side, cf: respx.MockRouter) -> None:
    cf.get(f"/images/v1/{UID}").respond(200, json={"success": True, "errors": [], "messages": [], "result": {}})
    with pytest.raises(APIError, match="unexpected result in the response: id"):
        await api.run(api.client.get(UID))
    cf.get("/images/v1/variants").respond(200, json={"success": True, "errors": [], "messages": [], "result": [1]})
    with pytest.raises(APIError, match="unexpected result"):
        await api.run(api.client.list_variants())


def test_the_error_tree() -> None:
    assert issubclass(CloudflareImagesError, CFVariantsError)  # one tree: except CFVariantsError catches the client too
    assert not issubclass(CloudflareImagesError, ValueError)
    assert issubclass(ValidationError, CloudflareImagesError)
    assert issubclass(ValidationError, ValueError)
    for cls in (AuthenticationError, NotFoundError, ConflictError, RateLimitError):
        assert issubclass(cls, APIError)
    assert issubclass(APIError, CloudflareImagesError)
    assert issubclass(TransportError, CloudflareImagesError)
    assert not issubclass(TransportError, APIError)
    assert set(cfvariants.client.__all__) >= {"APIError", "ValidationError", "TransportError", "RateLimitError"}


def test_errors_survive_pickling() -> None:
    error = RateLimitError(
        429,
        [errors_module.ErrorDetail(971, "slow down")],
        method="GET",
        path="/images/v2",
        request_id="ray",
        attempts=3,
        retry_after=12.0,
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RateLimitError
    assert (copy.status_code, copy.codes, copy.attempts, copy.retry_after, str(copy)) == (
        429, [971], 3, 12.0, str(error),
    )  # fmt: skip
    transport = TransportError("ReadTimeout", "timed out", method="POST", path="/images/v1", attempts=4)
    assert str(pickle.loads(pickle.dumps(transport))) == str(transport)


# -- refused before sending ----------------------------------------------------------------------------------

_REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("upload", {"file": b"x", "metadata": {"note": "x" * 1100}}, "metadata is 1111 bytes"),
    ("upload", {"file": b"x", "metadata": {"when": datetime(2024, 1, 1)}}, "not JSON-serialisable"),
    ("upload", {"file": b"x", "metadata": ["not", "a", "mapping"]}, "must be a mapping"),
    ("upload", {"file": b"x", "id": "083eb7b2-5392-4565-b69e-aff66acddd00"}, "looks like a UUID"),
    ("upload", {"file": b"x", "id": "/users/7.png"}, "starts or ends with '/'"),
    ("upload", {"file": b"x", "id": "users/7/"}, "starts or ends with '/'"),
    ("upload", {"file": b"x", "id": "users//7.png"}, "empty path segment"),
    ("upload", {"file": b"x", "id": "users/../7.png"}, "'.' or '..' segment"),
    ("upload", {"file": b"x", "id": "users/./7.png"}, "'.' or '..' segment"),
    ("upload", {"file": b"x", "id": "a" * 1025}, "longer than 1024"),
    ("upload", {"file": b"x", "id": ""}, "empty"),
    ("upload", {"file": b"x", "id": "users/7.png", "require_signed_urls": True}, "cannot make an image with a custom"),
    ("upload", {"file": b"x", "url": "https://example.com/a.png"}, "not both"),
    ("upload", {}, "not both and not neither"),
    ("upload", {"url": "ftp://example.com/a.png"}, "http(s) URL"),
    ("upload", {"url": "ftp://ada:s3cret@example.com/a.png"}, "not 'ftp://***@example.com/a.png'"),  # no userinfo
    ("upload", {"file": b"x", "content_type": "image/png\r\nX-Injected: 1"}, "is not a media type"),
    ("upload", {"file": b"x", "content_type": "image/png\n"}, "is not a media type"),
    ("upload", {"file": b"x", "content_type": "image/png; name=\x00"}, "is not a media type"),
    ("upload", {"file": b"x", "content_type": "imagé/png"}, "is not a media type"),
    ("upload", {"file": b"x", "content_type": ""}, "is not a media type"),
    ("upload", {"file": "https://example.com/a.png"}, "pass url="),
    ("upload", {"file": io.StringIO("text")}, "binary mode"),
    ("upload", {"file": 12}, "path, bytes or a binary file"),
    ("upload", {"file": b""}, "is empty"),
    ("upload", {"file": b"x", "require_signed_urls": "yes"}, "True or False"),
    ("get", {"image": ""}, "image id is empty"),
    ("get", {"image": 7}, "must be a string"),
    ("update", {"image": UID}, "nothing to update"),
    ("update", {"image": UID, "metadata": {"k": "v" * 1030}}, "Cloudflare stores at most 1024 bytes"),
    ("list_images", {"per_page": 5}, "per_page must be an integer from 10 to 10000"),
    ("list_images", {"per_page": 10001}, "per_page"),
    ("list_images", {"per_page": True}, "per_page"),
    ("list_images", {"sort_order": "newest"}, "sort_order"),
    ("list_images", {"meta": [MetaFilter(f"k{i}", "eq", 1) for i in range(6)]}, "at most 5"),
    ("list_images", {"meta": [MetaFilter("a.b.c.d.e.f", "eq", 1)]}, "nests 6 levels"),
    ("list_images", {"meta": [MetaFilter("size", "gt", "big")]}, "compares numbers only"),
    ("list_images", {"meta": [MetaFilter("tag", "in", list(range(11)))]}, "1 to 10 values"),
    ("list_images", {"meta": [MetaFilter("tag", "in", ["a|b"])]}, "contains '|'"),
    ("list_images", {"meta": [MetaFilter("tag", "like", "a")]}, "operator 'like'"),
    ("list_images", {"meta": [MetaFilter("ta g", "eq", "a")]}, "dotted path"),
    ("list_images", {"meta": {"when": None}}, "not a string, number or boolean"),
    ("list_images_v1", {"page": 0}, "page must be an integer >= 1"),
    ("iter_images", {"per_page": 3}, "per_page"),
    ("create_direct_upload", {"expiry": timedelta(minutes=1)}, "2 minutes to 6 hours"),
    ("create_direct_upload", {"expiry": timedelta(hours=6, minutes=1)}, "2 minutes to 6 hours"),
    ("create_direct_upload", {"expiry": datetime(2030, 1, 1)}, "timezone-aware"),
    ("create_direct_upload", {"expiry": datetime(2020, 1, 1, tzinfo=UTC)}, "2 minutes to 6 hours"),
    ("create_direct_upload", {"expiry": "tomorrow"}, "datetime or a timedelta"),
    ("create_direct_upload", {"id": "u/1.png", "require_signed_urls": True}, "cannot make an image with a custom"),
    ("create_direct_upload", {"metadata": {"k": "v" * 1100}}, "at most 1024 bytes"),
    ("create_variant", {"variant_id": "thumb-1", "fit": "cover", "width": 1, "height": 1}, "letters and digits"),
    ("create_variant", {"variant_id": "thumb", "fit": "squeeze", "width": 1, "height": 1}, "fit must be one of"),
    ("create_variant", {"variant_id": "thumb", "fit": "cover", "width": 0, "height": 1}, "width must be a positive"),
    ("create_variant", {"variant_id": "thumb", "fit": "cover", "width": 1, "height": 1, "metadata": "all"}, "metadata"),
    ("update_variant", {"variant_id": "thumb", "height": -3}, "height must be a positive"),
    ("delete_variant", {"variant_id": "public"}, "cannot be deleted"),
    ("create_signing_key", {"name": "my key"}, "signing key name"),
    ("delete_signing_key", {"name": "a" * 21}, "signing key name"),
    ("update_config", {}, "nothing to update"),
    ("update_config", {"browser_ttl": 60}, "browser_ttl must be whole seconds from 3600"),
    ("update_config", {"flexible_variants": "on"}, "True or False"),
]


# Ids name the method and the expected message (pytest numbers repeats): never the arguments, whose reprs can hold
# memory addresses (a StringIO) and so differ from run to run, which a run cannot select again (mutmut does).
@pytest.mark.parametrize(
    ("method", "arguments", "message"), _REFUSED, ids=[f"{method}-{message}" for method, _, message in _REFUSED]
)
async def test_bad_input_is_refused_before_anything_is_sent(
    api: Side, cf: respx.MockRouter, method: str, arguments: dict[str, Any], message: str
) -> None:
    catch_all = cf.route().respond(200, json=fixture("image"))
    arguments = dict(arguments)
    positional = [arguments.pop(name) for name in ("image", "variant_id", "name") if name in arguments]
    with pytest.raises(ValidationError) as info:
        result = getattr(api.client, method)(*positional, **arguments)
        if method == "iter_images":
            await api.collect(result)
        else:
            await api.run(result)
    assert message in str(info.value)
    assert not catch_all.called


async def test_a_file_over_10_mb_is_refused_without_reading_it(api: Side, cf: respx.MockRouter, tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024 + 1)  # sparse: no 10 MB written or read
    route = cf.post("/images/v1").respond(200, json=fixture("image"))
    with pytest.raises(ValidationError) as info:
        await api.run(api.client.upload(big))
    assert "huge.png" in str(info.value)
    assert "10,485,761 bytes" in str(info.value)
    assert not route.called


async def test_an_unreadable_path_is_an_os_error_naming_it(api: Side, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        await api.run(api.client.upload(tmp_path / "missing.png"))


def test_client_arguments_are_checked() -> None:
    with pytest.raises(ValidationError, match="api_token is required"):
        ImagesClient("acct", "")
    with pytest.raises(ValidationError, match="account_id is required"):
        ImagesClient(None, "token")
    with pytest.raises(ValidationError, match="base_url"):
        ImagesClient("acct", "token", base_url="api.cloudflare.com")
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


# -- secrets -------------------------------------------------------------------------------------------------


async def test_the_token_never_shows_in_reprs_errors_or_debug_logs(
    api: Side, cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cf.get(f"/images/v1/{UID}").respond(401, json=fixture("error_authentication"))
    cf.get("/images/v1/stats").mock(side_effect=httpx.ConnectError("connection refused"))
    cf.get("/images/v2").respond(200, json=fixture("images_v2_last"))
    seen: list[str] = [repr(api.client), str(api.client)]
    client = api.client
    for call in (lambda: client.get(UID), client.get_stats, client.list_images):
        try:
            await api.run(call())
        except CloudflareImagesError as error:
            seen += [str(error), repr(error), repr(error.__dict__)]
    assert any("HTTP 401" in text for text in seen)
    assert any("ConnectError" in text for text in seen)
    logs = [record.getMessage() for record in caplog.records]
    assert any("/images/v2" in line for line in logs)  # requests were logged...
    for text in seen + logs:
        assert TOKEN not in text  # ...without the token
    assert cf.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"  # though it was sent
    assert TOKEN not in repr(cf.calls.last.request.headers)
