"""Real photos through the reference app's upload form: every size up to the limit is accepted byte for byte,
and a refusal says whether the file or the form was too large (and is logged, without secrets)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imagegen
import pytest
from flask import Flask
from flask.testing import FlaskClient
from imagegen import MB, PHOTO_SIZES
from reference_app_helpers import csrf, make_app, queue_of, wait_until_settled, worker

from cfvariants.uploads import UploadState

LIMIT = 10 * MB  # the default MAX_UPLOAD_MB=10
FILE_MESSAGE = "The file is larger than 10 MB."
FORM_MESSAGE = "The form is too large: a text field is over 256 KB"
BUILDERS: dict[str, Callable[..., bytes]] = {"jpeg": imagegen.photo_jpeg, "png": imagegen.photo_png}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, ENV_NAME="dev")


def post(client: FlaskClient, data: bytes, name: str, **fields: Any) -> Any:
    form = {"csrf_token": csrf(client), "title": "Photo", **fields, "file": (io.BytesIO(data), name)}
    return client.post("/upload", data=form, content_type="multipart/form-data")


def alert(html: str) -> str:
    match = re.search(r'role="alert"[^>]*>([^<]*)<', html)
    assert match, "the page shows no error"
    return match.group(1).strip()


def assert_nothing_staged(app: Flask) -> None:
    store = queue_of(app).store
    assert store.recent() == []
    assert list(store.staging.iterdir()) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", PHOTO_SIZES, ids=lambda size: f"{size / MB:g}MB")
@pytest.mark.parametrize("fmt", BUILDERS)
def test_photos_of_every_size_up_to_the_limit_are_accepted_intact(app: Flask, fmt: str, size: int) -> None:
    data = BUILDERS[fmt](size, seed=size)
    assert len(data) == size and imagegen.sniff(data) == fmt
    client = app.test_client()
    response = post(client, data, f"camera.{fmt}")
    assert response.status_code == 303, alert(response.text)
    record = queue_of(app).store.recent()[0]
    assert (record.size, record.content_type) == (size, f"image/{fmt}")
    assert client.get(f"/uploads/{record.id}/preview").data == data  # staged byte for byte


def test_large_photos_reach_cloudflare_and_get_variants(app: Flask) -> None:
    client = app.test_client()
    sizes = {1 * MB: "jpeg", int(9.9 * MB): "jpeg", 5 * MB: "png"}
    for size, fmt in sizes.items():
        assert post(client, BUILDERS[fmt](size, seed=size), f"big.{fmt}").status_code == 303
    with worker(app):
        wait_until_settled(app, timeout=120)
    records = queue_of(app).store.recent()
    assert [r.state for r in records] == [UploadState.READY] * 3, [r.error for r in records]
    stored = {image.id: image for image in app.extensions["cfvariants"].client.iter_images()}
    assert sorted(stored) == sorted(r.image_id for r in records)


def test_a_file_of_exactly_the_limit_is_accepted_and_one_byte_more_is_refused(app: Flask) -> None:
    client = app.test_client()
    assert post(client, imagegen.photo_jpeg(LIMIT, seed=3), "exact.jpg").status_code == 303
    queue_of(app).store.delete(queue_of(app).store.recent()[0].id)

    over = post(client, imagegen.photo_jpeg(LIMIT + 1, seed=3), "over.jpg")
    assert over.status_code == 413
    assert alert(over.text) == FILE_MESSAGE
    assert_nothing_staged(app)


def test_a_request_far_over_the_limit_is_refused_as_a_file_too_large(app: Flask) -> None:
    # Over MAX_CONTENT_LENGTH: refused from its Content-Length, before the body is parsed.
    response = post(app.test_client(), imagegen.photo_png(LIMIT + MB, seed=4), "huge.png")
    assert response.status_code == 413
    assert alert(response.text) == FILE_MESSAGE
    assert_nothing_staged(app)


def test_a_chunked_request_over_the_limit_is_refused_as_a_file_too_large(tmp_path: Path) -> None:
    app = make_app(tmp_path, ENV_NAME="dev", MAX_UPLOAD_MB=1)
    client = app.test_client()
    token = csrf(client)
    boundary = "cfvboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + imagegen.photo_jpeg(2 * MB, seed=5)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/upload",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert alert(response.text) == "The file is larger than 1 MB."
    assert_nothing_staged(app)


def test_a_text_field_too_large_is_the_form_not_the_file(app: Flask) -> None:
    response = post(app.test_client(), imagegen.photo_jpeg(MB, seed=6), "ok.jpg", title="x" * (300 * 1024))
    assert response.status_code == 413
    assert alert(response.text).startswith(FORM_MESSAGE)
    assert_nothing_staged(app)


def test_too_many_fields_is_the_form_not_the_file(app: Flask) -> None:
    client = app.test_client()
    fields = {f"extra{i}": "x" for i in range(60)}
    response = post(client, imagegen.photo_jpeg(int(0.1 * MB), seed=7), "ok.jpg", **fields)
    assert response.status_code == 413
    assert "more than 50 fields" in alert(response.text)
    assert_nothing_staged(app)


def test_refusals_are_logged_with_their_reason_and_no_secrets(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    client = app.test_client()
    token = csrf(client)
    caplog.set_level(logging.INFO)
    post(client, imagegen.photo_jpeg(LIMIT + 1, seed=3), "over.jpg")
    post(client, imagegen.photo_jpeg(MB, seed=6), "ok.jpg", title="y" * (300 * 1024))
    post(client, b"%PDF-1.7 not a photo", "report.jpg")
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("'over.jpg'" in line and FILE_MESSAGE in line for line in refused), refused
    assert any("413" in line and FORM_MESSAGE in line for line in refused), refused
    assert any("'report.jpg'" in line and "not an image" in line for line in refused), refused
    session_cookie = client.get_cookie("session")
    assert session_cookie is not None
    for record in caplog.records:
        text = record.getMessage()
        assert token not in text and session_cookie.value not in text and "yyyy" not in text
