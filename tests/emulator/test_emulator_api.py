"""The emulator's REST API, in-process: every Cloudflare Images endpoint, its rules and its error shapes."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import imagegen
import pytest
from emulator_helpers import API, FakeClock, fails, in_process, ok, schema_errors, snapshot, upload
from servers import free_port

from cfvariants import Delivery, parse_url
from cfvariants.emulator import (
    DEV_ACCOUNT_HASH,
    DEV_API_TOKEN,
    DEV_AUTH_EMAIL,
    DEV_AUTH_KEY,
    DEV_SIGNING_KEY,
    Emulator,
    EmulatorApp,
    create_app,
)

JPEG = imagegen.jpeg(64, 48)
OPS = "/accounts/{account_id}/images"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(tmp_path: Path, clock: FakeClock) -> Iterator[httpx.Client]:
    """An emulator whose time the test controls, and an API client for it."""
    app = create_app(data_dir=tmp_path / "clocked", clock=clock, base_url="http://cfimages.test")
    with in_process(app, token=DEV_API_TOKEN) as client:
        yield client
    app.emulator.close()


def _image(http: httpx.Client, data: bytes = JPEG, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(upload(http, data, **fields))
    return result


# -- upload -----------------------------------------------------------------------------------------------------


def test_upload_returns_a_cloudflare_image_object(cf_http: httpx.Client) -> None:
    response = upload(cf_http, JPEG, filename="cat.jpg", metadata={"owner": 7})
    assert schema_errors(f"{OPS}/v1", "post", response) == []
    image = ok(response)
    uuid.UUID(image["id"])
    assert image["filename"] == "cat.jpg"
    assert image["meta"] == {"owner": 7}
    assert image["requireSignedURLs"] is False
    assert datetime.fromisoformat(image["uploaded"]).tzinfo is not None
    assert image["uploaded"].endswith("Z")
    assert "draft" not in image and "creator" not in image
    # one URL per named variant, in the form the core builds and parses
    assert image["variants"] == [Delivery(DEV_ACCOUNT_HASH, domain="http://cfimages.test").url(image["id"], "public")]
    parsed = parse_url(image["variants"][0])
    assert (parsed.account_hash, parsed.image_id, parsed.variant) == (DEV_ACCOUNT_HASH, image["id"], "public")


@pytest.mark.parametrize(
    "fields",
    [
        {"metadata.owner": "7", "metadata.tags[]": ["a", "b"], "metadata.deep.x": "y"},  # the official SDK
        {"metadata[owner]": "7", "metadata[tags][]": ["a", "b"], "metadata[deep][x]": "y"},  # PHP/Rails style
    ],
)
def test_upload_takes_metadata_as_flattened_form_fields(cf_http: httpx.Client, fields: dict[str, object]) -> None:
    response = cf_http.post(f"{API}/v1", data=fields, files={"file": ("a.jpg", JPEG)})
    assert ok(response)["meta"] == {"owner": "7", "tags": ["a", "b"], "deep": {"x": "y"}}


def test_flattened_metadata_fields_must_be_well_formed(cf_http: httpx.Client) -> None:
    for name in ("metadata[]", "metadata.", "metadata.a[]x", "metadataX"):
        response = cf_http.post(f"{API}/v1", data={name: "1"}, files={"file": ("a.jpg", JPEG)})
        if name == "metadataX":
            assert ok(response)["meta"] == {}  # not a metadata field at all
        else:
            assert name in fails(response, 400, 5400)
    both = cf_http.post(f"{API}/v1", data={"metadata": "{}", "metadata.a": "1"}, files={"file": ("a.jpg", JPEG)})
    assert "not both" in fails(both, 400, 5400)


def test_upload_sets_privacy_and_creator(cf_http: httpx.Client) -> None:
    image = _image(cf_http, requireSignedURLs="true", creator="user-7")
    assert image["requireSignedURLs"] is True
    assert image["creator"] == "user-7"


def test_custom_id_keeps_its_slashes_in_delivery_urls_and_is_reachable_encoded_or_raw(cf_http: httpx.Client) -> None:
    image = _image(cf_http, id="users/7/avatar.jpg")
    assert image["id"] == "users/7/avatar.jpg"
    assert image["variants"] == [
        f"http://cfimages.test/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/users/7/avatar.jpg/public"
    ]
    assert ok(cf_http.get(f"{API}/v1/users%2F7%2Favatar.jpg"))["id"] == "users/7/avatar.jpg"
    assert ok(cf_http.get(f"{API}/v1/users/7/avatar.jpg"))["id"] == "users/7/avatar.jpg"
    assert cf_http.get(f"{API}/v1/users/7/avatar.jpg/blob").content == JPEG


@pytest.mark.parametrize(
    ("custom_id", "words"),
    [
        (str(uuid.uuid4()), "UUID"),
        ("/leading", "start or end"),
        ("trailing/", "start or end"),
        ("a//b", "empty"),
        ("a/./b", "'.'"),
        ("../../etc/passwd", "'..'"),
        ("x" * 1025, "longer than 1024"),
        ("nul\x00byte", "control character"),
        ("https://example.com/a.jpg", "URL"),
        ("keys", "collides"),
    ],
)
def test_custom_ids_breaking_the_rules_are_refused_and_nothing_is_stored(
    cf_http: httpx.Client, cf_emulator: Emulator, custom_id: str, words: str
) -> None:
    before = snapshot(cf_emulator.config.data_dir)
    message = fails(upload(cf_http, JPEG, id=custom_id), 400, 5400)
    assert message.startswith("id:") and words in message
    assert snapshot(cf_emulator.config.data_dir) == before


def test_a_custom_id_cannot_be_private(cf_http: httpx.Client) -> None:
    message = fails(upload(cf_http, JPEG, id="logo.png", requireSignedURLs="true"), 400, 5400)
    assert "custom id" in message and "private" in message


def test_a_taken_custom_id_is_a_conflict_and_the_first_image_stays(cf_http: httpx.Client) -> None:
    _image(cf_http, id="hero.jpg")
    other = imagegen.png(10, 10)
    fails(upload(cf_http, other, id="hero.jpg"), 409, 5409)
    assert cf_http.get(f"{API}/v1/hero.jpg/blob").content == JPEG


def test_file_and_url_are_mutually_exclusive_and_one_is_required(cf_http: httpx.Client) -> None:
    assert "mutually exclusive" in fails(upload(cf_http, JPEG, url="http://127.0.0.1:9/a.jpg"), 400, 5400)
    assert "exactly one of file" in fails(upload(cf_http, None), 400, 5400)


def test_oversized_json_bodies_are_refused(cf_http: httpx.Client) -> None:
    body = b'{"id": "big", "options": "' + b"x" * (12 * 1024 * 1024) + b'"}'
    response = cf_http.post(f"{API}/v1/variants", content=body, headers={"Content-Type": "application/json"})
    fails(response, 413, 5413)


def test_raw_image_bodies_are_refused_as_not_a_form(cf_http: httpx.Client) -> None:
    response = cf_http.post(f"{API}/v1", content=JPEG, headers={"Content-Type": "image/jpeg"})
    assert "multipart/form-data" in fails(response, 415, 5415)


def test_files_over_10_mb_are_refused(cf_http: httpx.Client, cf_emulator: Emulator) -> None:
    before = snapshot(cf_emulator.config.data_dir)
    big = JPEG + b"\0" * (10 * 1024 * 1024)
    fails(upload(cf_http, big), 413, 5413)
    assert snapshot(cf_emulator.config.data_dir) == before


def test_metadata_over_1024_bytes_or_not_an_object_is_refused(cf_http: httpx.Client) -> None:
    assert "1024" in fails(upload(cf_http, JPEG, metadata={"k": "x" * 1020}), 400, 5400)
    assert "JSON object" in fails(upload(cf_http, JPEG, metadata="[1, 2]"), 400, 5400)
    assert "not valid JSON" in fails(upload(cf_http, JPEG, metadata="{oops"), 400, 5400)


@pytest.mark.parametrize(
    ("data", "status", "code", "words"),
    [
        (b"", 400, 5400, "empty"),
        (b"hello, I am text", 400, 5400, "not an image"),
        (JPEG[: len(JPEG) // 2], 400, 5400, "corrupt"),
        (b"II*\x00" + b"\0" * 64, 415, 5455, "TIFF"),
    ],
)
def test_files_that_are_not_valid_images_are_refused_with_nothing_stored(
    cf_http: httpx.Client, cf_emulator: Emulator, data: bytes, status: int, code: int, words: str
) -> None:
    before = snapshot(cf_emulator.config.data_dir)
    assert words in fails(upload(cf_http, data), status, code)
    assert snapshot(cf_emulator.config.data_dir) == before


def test_svg_uploads_are_stored_sanitised(cf_http: httpx.Client) -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
        b'<script>alert(2)</script><rect width="10" height="10"/></svg>'
    )
    image = _image(cf_http, svg, filename="logo.svg")
    stored = cf_http.get(f"{API}/v1/{image['id']}/blob")
    assert stored.headers["content-type"] == "image/svg+xml"
    assert b"<rect" in stored.content
    assert b"script" not in stored.content and b"onload" not in stored.content


# -- url uploads ------------------------------------------------------------------------------------------------


@pytest.fixture
def origin() -> Iterator[str]:
    """A tiny origin server on 127.0.0.1 serving /cat.jpg (404 for anything else)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/images/cat.jpg":
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(JPEG)))
                self.end_headers()
                self.wfile.write(JPEG)
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_url_uploads_fetch_from_a_local_origin(cf_http: httpx.Client, origin: str) -> None:
    image = ok(upload(cf_http, None, url=f"{origin}/images/cat.jpg"))
    assert image["filename"] == "cat.jpg"
    assert cf_http.get(f"{API}/v1/{image['id']}/blob").content == JPEG


def test_url_uploads_report_origin_errors_as_4xx(cf_http: httpx.Client, origin: str) -> None:
    assert "404" in fails(upload(cf_http, None, url=f"{origin}/missing.jpg"), 400, 5400)


def test_url_uploads_never_reach_the_internet(cf_http: httpx.Client, cf_emulator: Emulator) -> None:
    before = snapshot(cf_emulator.config.data_dir)
    message = fails(upload(cf_http, None, url="https://example.com/cat.jpg"), 400, 5400)
    assert "does not fetch from the internet" in message and "example.com" in message
    assert "not an absolute http(s) URL" in fails(upload(cf_http, None, url="ftp://127.0.0.1/a.jpg"), 400, 5400)
    assert snapshot(cf_emulator.config.data_dir) == before


def test_url_uploads_never_echo_the_userinfo_of_the_url(cf_http: httpx.Client, origin: str) -> None:
    port = origin.rsplit(":", 1)[1]
    for url in (
        "ftp://ada:s3cret@127.0.0.1/a.jpg",  # not http(s)
        f"http://ada:s3cret@127.0.0.1:{port}/missing.jpg",  # the origin answers 404
        f"http://ada:s3cret@127.0.0.1:{free_port()}/a.jpg",  # nothing listens
        "http://ada:s3cret@[::1/a.jpg",  # does not parse
    ):
        message = fails(upload(cf_http, None, url=url), 400, 5400)
        assert "s3cret" not in message and "ada" not in message and "***@" in message


def test_a_configured_fetcher_replaces_the_allow_list(tmp_path: Path) -> None:
    seen: list[str] = []

    def fetch(url: str) -> tuple[bytes, str | None]:
        seen.append(url)
        return JPEG, "remote.jpg"

    app = create_app(data_dir=tmp_path / "d", fetcher=fetch)
    with in_process(app, token=DEV_API_TOKEN) as http:
        image = ok(upload(http, None, url="https://images.example.com/remote.jpg"))
    assert seen == ["https://images.example.com/remote.jpg"]
    assert image["filename"] == "remote.jpg"
    app.emulator.close()


# -- get, update, delete, blob, stats ---------------------------------------------------------------------------


def test_get_unknown_image_is_a_404_in_the_failure_envelope(cf_http: httpx.Client) -> None:
    response = cf_http.get(f"{API}/v1/{uuid.uuid4()}")
    assert "Image not found" in fails(response, 404, 5404)
    assert schema_errors(f"{OPS}/v1/{{image_id}}", "get", response) == []


def test_patch_replaces_metadata_and_changes_privacy_and_creator(cf_http: httpx.Client) -> None:
    image = _image(cf_http, metadata={"a": 1, "b": 2})
    path = f"{API}/v1/{image['id']}"
    response = cf_http.patch(path, json={"metadata": {"c": 3}})
    assert schema_errors(f"{OPS}/v1/{{image_id}}", "patch", response) == []
    assert ok(response)["meta"] == {"c": 3}
    updated = ok(cf_http.patch(path, json={"requireSignedURLs": True, "creator": "u1"}))
    assert (updated["requireSignedURLs"], updated["creator"], updated["meta"]) == (True, "u1", {"c": 3})
    assert ok(cf_http.patch(path, json={"creator": None})).get("creator") is None
    assert ok(cf_http.get(path))["requireSignedURLs"] is True


def test_patch_refuses_unknown_fields_and_private_custom_ids(cf_http: httpx.Client) -> None:
    image = _image(cf_http, id="brand/logo.jpg")
    path = f"{API}/v1/brand%2Flogo.jpg"
    assert "require_signed_urls" in fails(cf_http.patch(path, json={"require_signed_urls": True}), 400, 5400)
    assert "custom id" in fails(cf_http.patch(path, json={"requireSignedURLs": True}), 400, 5400)
    assert ok(cf_http.get(path))["requireSignedURLs"] is False
    fails(cf_http.patch(f"{API}/v1/{uuid.uuid4()}", json={"metadata": {}}), 404, 5404)
    assert image["id"] == "brand/logo.jpg"


def test_delete_removes_the_image_its_file_and_its_delivery(cf_http: httpx.Client, cf_emulator: Emulator) -> None:
    image = _image(cf_http)
    delivery_url = str(image["variants"][0])
    assert cf_http.get(delivery_url).status_code == 200
    response = cf_http.delete(f"{API}/v1/{image['id']}")
    assert schema_errors(f"{OPS}/v1/{{image_id}}", "delete", response) == []
    assert ok(response) == {}
    fails(cf_http.get(f"{API}/v1/{image['id']}"), 404, 5404)
    fails(cf_http.get(f"{API}/v1/{image['id']}/blob"), 404, 5404)
    assert cf_http.get(delivery_url).status_code == 404
    fails(cf_http.delete(f"{API}/v1/{image['id']}"), 404, 5404)
    files, counts = snapshot(cf_emulator.config.data_dir)
    assert files == frozenset() and counts["images"] == 0


def test_blob_returns_the_original_bytes_and_type(cf_http: httpx.Client) -> None:
    png = imagegen.png(8, 8)
    image = _image(cf_http, png, filename="p.png")
    blob = cf_http.get(f"{API}/v1/{image['id']}/blob")
    assert (blob.status_code, blob.headers["content-type"], blob.content) == (200, "image/png", png)


def test_stats_count_stored_images_but_not_drafts(cf_http: httpx.Client) -> None:
    _image(cf_http)
    _image(cf_http)
    ok(cf_http.post(f"{API}/v2/direct_upload"))
    response = cf_http.get(f"{API}/v1/stats")
    assert schema_errors(f"{OPS}/v1/stats", "get", response) == []
    assert ok(response) == {"count": {"allowed": 100000, "current": 2}}


# -- lists ------------------------------------------------------------------------------------------------------


def _upload_series(http: httpx.Client, count: int, clock: FakeClock | None = None) -> list[str]:
    ids = []
    for index in range(count):
        ids.append(str(_image(http, metadata={"n": index, "even": index % 2 == 0, "name": f"img{index}"})["id"]))
        if clock is not None:
            clock.advance(1)
    return ids


def test_list_v1_pages_oldest_first(clocked: httpx.Client, clock: FakeClock) -> None:
    ids = _upload_series(clocked, 25, clock)
    first = clocked.get(f"{API}/v1", params={"page": 1, "per_page": 10})
    assert schema_errors(f"{OPS}/v1", "get", first) == []
    body = first.json()
    assert [i["id"] for i in body["result"]["images"]] == ids[:10]
    assert body["result_info"] == {"page": 1, "per_page": 10, "count": 10, "total_count": 25}
    third = ok(clocked.get(f"{API}/v1", params={"page": 3, "per_page": 10}))
    assert [i["id"] for i in third["images"]] == ids[20:]
    assert ok(clocked.get(f"{API}/v1", params={"page": 4, "per_page": 10}))["images"] == []
    assert "per_page" in fails(clocked.get(f"{API}/v1", params={"per_page": 5}), 400, 5400)
    assert "page" in fails(clocked.get(f"{API}/v1", params={"page": "x"}), 400, 5400)


def test_list_v2_follows_continuation_tokens_in_both_orders(clocked: httpx.Client, clock: FakeClock) -> None:
    ids = _upload_series(clocked, 23, clock)
    for order, expected in (("desc", ids[::-1]), ("asc", ids)):
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"per_page": 10, "sort_order": order}
            if token:
                params["continuation_token"] = token
            response = clocked.get(f"{API}/v2", params=params)
            assert schema_errors(f"{OPS}/v2", "get", response) == []
            result = ok(response)
            seen += [image["id"] for image in result["images"]]
            token = result["continuation_token"]
            pages += 1
            if token is None:
                break
        assert seen == expected and pages == 3


def test_list_v2_pages_stay_consistent_when_images_are_added(clocked: httpx.Client, clock: FakeClock) -> None:
    ids = _upload_series(clocked, 12, clock)
    first = ok(clocked.get(f"{API}/v2", params={"per_page": 10, "sort_order": "asc"}))
    _upload_series(clocked, 3, clock)  # newer images go after the cursor
    second = ok(
        clocked.get(f"{API}/v2", params={"continuation_token": first["continuation_token"], "sort_order": "asc"})
    )
    assert [i["id"] for i in first["images"]] + [i["id"] for i in second["images"]][:2] == ids


def test_lists_leave_out_drafts(cf_http: httpx.Client) -> None:
    stored = _image(cf_http)["id"]
    ok(cf_http.post(f"{API}/v2/direct_upload"))
    assert [i["id"] for i in ok(cf_http.get(f"{API}/v2"))["images"]] == [stored]
    assert [i["id"] for i in ok(cf_http.get(f"{API}/v1"))["images"]] == [stored]


def test_lists_filter_by_creator(cf_http: httpx.Client) -> None:
    mine = _image(cf_http, creator="u1")["id"]
    other = _image(cf_http, creator="u2")["id"]
    nobody = _image(cf_http)["id"]
    assert [i["id"] for i in ok(cf_http.get(f"{API}/v2", params={"creator": "u1"}))["images"]] == [mine]
    by_u2 = cf_http.get(f"{API}/v1", params={"creator": "u2"}).json()
    assert [i["id"] for i in by_u2["result"]["images"]] == [other] and by_u2["result_info"]["total_count"] == 1
    assert [i["id"] for i in ok(cf_http.get(f"{API}/v2", params={"creator": ""}))["images"]] == [nobody]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"meta.name[eq]": "img3"}, [3]),
        ({"meta.n[eq]": "3"}, [3]),
        ({"meta.n[eq:number]": "4"}, [4]),
        ({"meta.n[eq:string]": "4"}, []),
        ({"meta.even[eq:boolean]": "true", "meta.n[lt]": "4"}, [0, 2]),
        ({"meta.n[gte:number]": "4"}, [4, 5]),
        ({"meta.n[gt]": "1", "meta.n[lte]": "3"}, [2, 3]),
        ({"meta.name[in]": "img1|img5|nope"}, [1, 5]),
        ({"meta.n[in:number]": "0|2"}, [0, 2]),
        ({"meta.missing[eq]": "x"}, []),
    ],
)
def test_list_v2_metadata_filters(
    clocked: httpx.Client, clock: FakeClock, params: dict[str, str], expected: list[int]
) -> None:
    ids = _upload_series(clocked, 6, clock)
    result = ok(clocked.get(f"{API}/v2", params={**params, "sort_order": "asc"}))
    assert [i["id"] for i in result["images"]] == [ids[n] for n in expected]


def test_list_v2_metadata_filters_reach_nested_fields(cf_http: httpx.Client) -> None:
    deep = _image(cf_http, metadata={"owner": {"team": {"id": 9}}})["id"]
    _image(cf_http, metadata={"owner": {"team": {"id": 3}}})
    result = ok(cf_http.get(f"{API}/v2", params={"meta.owner.team.id[gt:number]": "5"}))
    assert [i["id"] for i in result["images"]] == [deep]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"meta.n[between]": "1"}, "unknown operator"),
        ({"meta.n": "1"}, "meta.<field>[<operator>]"),
        ({"meta.n[gt]": "abc"}, "not a number"),
        ({"meta.n[gt:string]": "1"}, "unknown operator 'gt:string'"),
        ({"meta.n[in]": "|".join("abcdefghijk")}, "at most 10"),
        ({f"meta.f{i}[eq]": "1" for i in range(6)}, "at most 5"),
        ({"meta.a.b.c.d.e.f[eq]": "1"}, "levels"),
        ({"continuation_token": "not-a-token"}, "continuation_token"),
        ({"sort_order": "up"}, "sort_order"),
        ({"per_page": "100000"}, "per_page"),
    ],
)
def test_list_v2_refuses_bad_queries_by_name(cf_http: httpx.Client, params: dict[str, str], words: str) -> None:
    assert words in fails(cf_http.get(f"{API}/v2", params=params), 400, 5400)


# -- direct uploads ---------------------------------------------------------------------------------------------


def test_direct_upload_creates_a_draft_then_takes_one_file(cf_http: httpx.Client) -> None:
    response = cf_http.post(
        f"{API}/v2/direct_upload", data={"metadata[owner]": "7"}, files={"requireSignedURLs": (None, "true")}
    )
    assert schema_errors(f"{OPS}/v2/direct_upload", "post", response) == []
    result = ok(response)
    image_id, upload_url = result["id"], result["uploadURL"]
    assert upload_url == f"http://cfimages.test/upload/{DEV_ACCOUNT_HASH}/{image_id}"
    draft = ok(cf_http.get(f"{API}/v1/{image_id}"))
    assert draft["draft"] is True and draft["meta"] == {"owner": "7"} and draft["requireSignedURLs"] is True
    anonymous = httpx.Client(transport=cf_http._transport, base_url="http://cfimages.test")
    uploaded = ok(anonymous.post(upload_url, files={"file": ("selfie.jpg", JPEG, "image/jpeg")}))
    assert uploaded["id"] == image_id and uploaded["filename"] == "selfie.jpg" and "draft" not in uploaded
    assert "draft" not in ok(cf_http.get(f"{API}/v1/{image_id}"))
    assert cf_http.get(f"{API}/v1/{image_id}/blob").content == JPEG
    again = anonymous.post(upload_url, files={"file": ("again.jpg", JPEG)})
    assert "already used" in fails(again, 409, 5409)
    assert again.headers["access-control-allow-origin"] == "*"


def test_direct_upload_accepts_a_json_body_and_a_custom_id(cf_http: httpx.Client) -> None:
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    result = ok(
        cf_http.post(f"{API}/v2/direct_upload", json={"id": "forms/a.jpg", "expiry": expiry, "metadata": {"k": 1}})
    )
    assert result["id"] == "forms/a.jpg"
    assert result["uploadURL"].endswith(f"/upload/{DEV_ACCOUNT_HASH}/forms/a.jpg")
    assert ok(cf_http.get(f"{API}/v1/forms%2Fa.jpg"))["meta"] == {"k": 1}
    fails(cf_http.post(f"{API}/v2/direct_upload", json={"id": "forms/a.jpg"}), 409, 5409)


@pytest.mark.parametrize("minutes", [1, 6 * 60 + 5, -10])
def test_direct_upload_expiry_must_be_2_minutes_to_6_hours_ahead(
    clocked: httpx.Client, clock: FakeClock, minutes: int
) -> None:
    expiry = datetime.fromtimestamp(clock.now + minutes * 60, UTC).isoformat()
    message = fails(clocked.post(f"{API}/v2/direct_upload", json={"expiry": expiry}), 400, 5400)
    assert "between 2 minutes and 6 hours" in message


def test_direct_upload_urls_expire(clocked: httpx.Client, clock: FakeClock, tmp_path: Path) -> None:
    default = ok(clocked.post(f"{API}/v2/direct_upload"))
    expiry = datetime.fromtimestamp(clock.now + 180, UTC).isoformat().replace("+00:00", "Z")
    short = ok(clocked.post(f"{API}/v2/direct_upload", files={"expiry": (None, expiry)}))
    clock.advance(10 * 60)
    before = snapshot(tmp_path / "clocked")
    assert "expired" in fails(clocked.post(short["uploadURL"], files={"file": ("a.jpg", JPEG)}), 400, 5400)
    assert snapshot(tmp_path / "clocked") == before
    fails(clocked.get(f"{API}/v1/{short['id']}"), 404, 5404)
    clock.advance(19 * 60)  # 29 minutes in: the default 30-minute URL still works
    ok(clocked.post(default["uploadURL"], files={"file": ("a.jpg", JPEG)}))


def test_direct_upload_refuses_bad_files_and_keeps_the_draft_usable(cf_http: httpx.Client) -> None:
    result = ok(cf_http.post(f"{API}/v2/direct_upload"))
    fails(cf_http.post(result["uploadURL"], files={"file": ("a.txt", b"plain text")}), 400, 5400)
    assert ok(cf_http.get(f"{API}/v1/{result['id']}"))["draft"] is True
    assert "file" in fails(cf_http.post(result["uploadURL"], data={"x": "1"}, files={"_": ("", b"")}), 400, 5400)
    ok(cf_http.post(result["uploadURL"], files={"file": ("a.jpg", JPEG)}))


def test_upload_urls_for_unknown_images_or_other_accounts_fail(cf_http: httpx.Client) -> None:
    fails(cf_http.post(f"/upload/{DEV_ACCOUNT_HASH}/{uuid.uuid4()}", files={"file": ("a.jpg", JPEG)}), 404, 5404)
    result = ok(cf_http.post(f"{API}/v2/direct_upload"))
    fails(cf_http.post(f"/upload/otherhash/{result['id']}", files={"file": ("a.jpg", JPEG)}), 403, 5403)


# -- variants ---------------------------------------------------------------------------------------------------

THUMB = {"fit": "cover", "width": 100, "height": 80, "metadata": "none"}


def test_variants_crud(cf_http: httpx.Client) -> None:
    listed = cf_http.get(f"{API}/v1/variants")
    assert schema_errors(f"{OPS}/v1/variants", "get", listed) == []
    assert list(ok(listed)["variants"]) == ["public"]
    created = cf_http.post(f"{API}/v1/variants", json={"id": "thumb", "options": THUMB, "neverRequireSignedURLs": True})
    assert schema_errors(f"{OPS}/v1/variants", "post", created) == []
    assert ok(created) == {"variant": {"id": "thumb", "options": THUMB, "neverRequireSignedURLs": True}}
    got = cf_http.get(f"{API}/v1/variants/thumb")
    assert schema_errors(f"{OPS}/v1/variants/{{variant_id}}", "get", got) == []
    assert ok(got)["variant"]["options"] == THUMB
    patched = cf_http.patch(f"{API}/v1/variants/thumb", json={"options": {**THUMB, "width": 50}})
    assert schema_errors(f"{OPS}/v1/variants/{{variant_id}}", "patch", patched) == []
    assert ok(patched)["variant"] == {"id": "thumb", "options": {**THUMB, "width": 50}, "neverRequireSignedURLs": True}
    assert list(ok(cf_http.get(f"{API}/v1/variants"))["variants"]) == ["public", "thumb"]
    deleted = cf_http.delete(f"{API}/v1/variants/thumb")
    assert schema_errors(f"{OPS}/v1/variants/{{variant_id}}", "delete", deleted) == []
    assert ok(deleted) == {}
    fails(cf_http.get(f"{API}/v1/variants/thumb"), 404, 5401)


def test_image_objects_list_every_named_variant(cf_http: httpx.Client) -> None:
    ok(cf_http.post(f"{API}/v1/variants", json={"id": "thumb", "options": THUMB}))
    image = _image(cf_http)
    assert [url.rsplit("/", 1)[1] for url in image["variants"]] == ["public", "thumb"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"id": "my-thumb", "options": THUMB}, "letters or digits"),
        ({"id": "x" * 100, "options": THUMB}, "letters or digits"),
        ({"id": "t", "options": {**THUMB, "fit": "squeeze"}}, "options.fit"),
        ({"id": "t", "options": {**THUMB, "width": 0}}, "options.width"),
        ({"id": "t", "options": {**THUMB, "height": 10.5}}, "options.height"),
        ({"id": "t", "options": {"fit": "cover", "width": 10, "height": 10}}, "metadata"),
        ({"id": "t", "options": {**THUMB, "blur": 3}}, "unknown field"),
        ({"options": THUMB}, "id"),
        ({"id": "t", "options": THUMB, "extra": 1}, "extra"),
    ],
)
def test_variant_definitions_are_checked(cf_http: httpx.Client, body: dict[str, object], words: str) -> None:
    assert words in fails(cf_http.post(f"{API}/v1/variants", json=body), 400, 5400)


def test_variant_ids_are_unique_and_public_cannot_be_deleted(cf_http: httpx.Client) -> None:
    ok(cf_http.post(f"{API}/v1/variants", json={"id": "thumb", "options": THUMB}))
    fails(cf_http.post(f"{API}/v1/variants", json={"id": "thumb", "options": THUMB}), 409, 5409)
    assert "public" in fails(cf_http.delete(f"{API}/v1/variants/public"), 400, 5400)
    fails(cf_http.patch(f"{API}/v1/variants/nope", json={"options": THUMB}), 404, 5401)


def test_an_account_has_at_most_100_variants(cf_emulator: Emulator, cf_http: httpx.Client) -> None:
    for index in range(99):
        cf_emulator.create_variant(f"v{index}", THUMB)
    message = fails(cf_http.post(f"{API}/v1/variants", json={"id": "onemore", "options": THUMB}), 400, 5453)
    assert "100" in message
    assert len(ok(cf_http.get(f"{API}/v1/variants"))["variants"]) == 100


# -- signing keys -----------------------------------------------------------------------------------------------


def test_signing_keys_start_with_default_and_can_be_added_rotated_and_deleted(cf_http: httpx.Client) -> None:
    listed = cf_http.get(f"{API}/v1/keys")
    assert schema_errors(f"{OPS}/v1/keys", "get", listed) == []
    assert ok(listed) == {"keys": [{"name": "default", "value": DEV_SIGNING_KEY}]}
    added = cf_http.put(f"{API}/v1/keys/second")
    assert schema_errors(f"{OPS}/v1/keys/{{signing_key_name}}", "put", added) == []
    keys = {k["name"]: k["value"] for k in ok(added)["keys"]}
    assert set(keys) == {"default", "second"} and len(keys["second"]) >= 32
    rotated = {k["name"]: k["value"] for k in ok(cf_http.put(f"{API}/v1/keys/second"))["keys"]}
    assert rotated["second"] != keys["second"] and rotated["default"] == DEV_SIGNING_KEY
    after = cf_http.delete(f"{API}/v1/keys/default")
    assert schema_errors(f"{OPS}/v1/keys/{{signing_key_name}}", "delete", after) == []
    assert [k["name"] for k in ok(after)["keys"]] == ["second"]


def test_deleting_the_last_key_generates_a_new_default(cf_http: httpx.Client) -> None:
    remaining = ok(cf_http.delete(f"{API}/v1/keys/default"))["keys"]
    assert [k["name"] for k in remaining] == ["default"]
    assert remaining[0]["value"] != DEV_SIGNING_KEY


def test_key_names_are_checked_and_unknown_keys_are_404(cf_http: httpx.Client) -> None:
    assert "letters or digits" in fails(cf_http.put(f"{API}/v1/keys/bad-name"), 400, 5400)
    assert "letters or digits" in fails(cf_http.put(f"{API}/v1/keys/{'k' * 21}"), 400, 5400)
    fails(cf_http.delete(f"{API}/v1/keys/nope"), 404, 5404)


# -- account config and batch tokens ----------------------------------------------------------------------------


def test_config_reads_and_updates_account_settings(cf_http: httpx.Client) -> None:
    assert ok(cf_http.get(f"{API}/v1/config")) == {
        "flexible_variants": True,
        "browser_ttl": 172800,
        "preserve_content_credentials": False,
    }
    updated = ok(cf_http.patch(f"{API}/v1/config", json={"flexible_variants": False, "browser_ttl": 3600}))
    assert updated == {"flexible_variants": False, "browser_ttl": 3600, "preserve_content_credentials": False}
    assert "browser_ttl" in fails(cf_http.patch(f"{API}/v1/config", json={"browser_ttl": 60}), 400, 5400)
    assert "flexible" in fails(cf_http.patch(f"{API}/v1/config", json={"flexible": True}), 400, 5400)
    assert "true or false" in fails(cf_http.patch(f"{API}/v1/config", json={"flexible_variants": "yes"}), 400, 5400)


def test_flexible_variants_start_off_outside_dev_mode(tmp_path: Path) -> None:
    app = create_app(data_dir=tmp_path / "prodlike", dev_mode=False)
    with in_process(app, token=DEV_API_TOKEN) as http:
        assert ok(http.get(f"{API}/v1/config"))["flexible_variants"] is False
    app.emulator.close()


def test_batch_tokens_work_on_the_batch_host_routes(clocked: httpx.Client, clock: FakeClock) -> None:
    token = ok(clocked.get(f"{API}/v1/batch_token"))
    expires = datetime.fromisoformat(token["expiresAt"])
    assert expires.timestamp() > clock.now
    batch = httpx.Client(transport=clocked._transport, base_url="http://cfimages.test")
    batch.headers["Authorization"] = f"Bearer {token['token']}"
    image = ok(batch.post("/images/v1", files={"file": ("a.jpg", JPEG)}))
    assert ok(batch.get(f"/images/v1/{image['id']}"))["id"] == image["id"]
    assert ok(batch.patch(f"/images/v1/{image['id']}", json={"metadata": {"x": 1}}))["meta"] == {"x": 1}
    assert [i["id"] for i in ok(batch.get("/images/v2"))["images"]] == [image["id"]]
    assert ok(batch.post("/images/v2/direct_upload"))["uploadURL"].startswith("http://cfimages.test/upload/")
    assert ok(batch.delete(f"/images/v1/{image['id']}")) == {}
    fails(batch.get("/images/v1/keys"), 404, 7000)  # not a batch route
    api_token = httpx.Client(transport=clocked._transport, base_url="http://cfimages.test", headers=clocked.headers)
    fails(api_token.get("/images/v2"), 401, 10000)
    clock.advance(2 * 3600)
    fails(batch.get("/images/v2"), 401, 10000)


# -- authentication and routing ---------------------------------------------------------------------------------


def test_requests_without_valid_credentials_are_refused(cf_app: EmulatorApp) -> None:
    with in_process(cf_app) as anonymous:
        assert "Authorization" in fails(anonymous.get(f"{API}/v1/stats"), 401, 10000)
        fails(anonymous.get(f"{API}/v1/stats", headers={"Authorization": "Bearer wrong"}), 401, 10000)
        fails(anonymous.get(f"{API}/v1/stats", headers={"Authorization": "Token abc"}), 400, 6003)
        legacy = {"X-Auth-Email": DEV_AUTH_EMAIL, "X-Auth-Key": DEV_AUTH_KEY}
        assert "accepts only API tokens" in fails(anonymous.get(f"{API}/v1/stats", headers=legacy), 401, 10000)
        fails(anonymous.get(f"{API}/v1/stats", headers={"X-Auth-Email": DEV_AUTH_EMAIL}), 400, 6003)


def test_the_legacy_key_pair_works_only_when_configured(tmp_path: Path) -> None:
    app = create_app(data_dir=tmp_path / "d", auth_email=DEV_AUTH_EMAIL, auth_key=DEV_AUTH_KEY)
    with in_process(app) as anonymous:
        legacy = {"X-Auth-Email": DEV_AUTH_EMAIL, "X-Auth-Key": DEV_AUTH_KEY}
        ok(anonymous.get(f"{API}/v1/stats", headers=legacy))
        fails(anonymous.get(f"{API}/v1/stats", headers={**legacy, "X-Auth-Key": "nope"}), 401, 10000)
    app.emulator.close()


def test_a_configured_token_is_the_only_credential(tmp_path: Path) -> None:
    app = create_app(data_dir=tmp_path / "d", api_token="T-only-this-one")
    with in_process(app, token="T-only-this-one") as right, in_process(app, token=DEV_API_TOKEN) as dev:
        ok(right.get(f"{API}/v1/stats"))
        fails(dev.get(f"{API}/v1/stats"), 401, 10000)  # not even the published dev token
    with in_process(app) as anonymous:
        legacy = {"X-Auth-Email": DEV_AUTH_EMAIL, "X-Auth-Key": DEV_AUTH_KEY}
        fails(anonymous.get(f"{API}/v1/stats", headers=legacy), 401, 10000)
    app.emulator.close()


def test_error_messages_never_echo_the_token(cf_app: EmulatorApp) -> None:
    with in_process(cf_app, token="secret-looking-token-123") as http:
        response = http.get(f"{API}/v1/stats")
    assert "secret-looking-token-123" not in response.text


def test_other_accounts_and_unknown_routes_get_cloudflare_errors(cf_http: httpx.Client) -> None:
    other = "0" * 32
    assert other in fails(cf_http.get(f"/client/v4/accounts/{other}/images/v1/stats"), 403, 10000)
    assert "object identifier" in fails(cf_http.get("/client/v4/accounts/not%20valid!/images/v1"), 400, 7003)
    fails(cf_http.get(f"{API}/v3"), 404, 7000)
    fails(cf_http.get("/client/v4/zones"), 404, 7000)
    assert "use GET, POST" in fails(cf_http.put(f"{API}/v1"), 405, 7001)


def test_every_failure_validates_against_the_failure_schema(cf_http: httpx.Client) -> None:
    for response, path, method in [
        (cf_http.get(f"{API}/v1/nope"), "/v1/{image_id}", "get"),
        (upload(cf_http, b"junk"), "/v1", "post"),
        (cf_http.post(f"{API}/v1/variants", json={}), "/v1/variants", "post"),
        (cf_http.delete(f"{API}/v1/keys/nope"), "/v1/keys/{signing_key_name}", "delete"),
        (cf_http.get(f"{API}/v2", params={"per_page": 1}), "/v2", "get"),
    ]:
        assert response.status_code >= 400
        assert schema_errors(f"{OPS}{path}", method, response) == []


def test_blob_and_list_v1_responses_validate(cf_http: httpx.Client) -> None:
    image = _image(cf_http)
    assert schema_errors(f"{OPS}/v1/{{image_id}}", "get", cf_http.get(f"{API}/v1/{image['id']}")) == []
    assert schema_errors(f"{OPS}/v1", "get", cf_http.get(f"{API}/v1")) == []


def test_the_emulator_object_answers_without_http(cf_emulator: Emulator) -> None:
    record = cf_emulator.upload(JPEG, filename="direct.jpg", metadata={"k": "v"})
    assert cf_emulator.get_image(record.id).meta == {"k": "v"}
    assert cf_emulator.image_object(record)["variants"][0].startswith("http://cfimages.test/cdn-cgi/imagedelivery/")
    assert json.loads(json.dumps(cf_emulator.image_object(record)))["filename"] == "direct.jpg"
