"""Direct uploads in Django (tests/django_project, development mode on the local emulator): the widget in a
form, the issue view, the browser's POST to the development upload URL, the field claiming the ticket once,
forged and foreign tickets refused, and the webhook view's secret and replays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imagegen
import pytest
from django_project import setup

setup()

from django.test import Client, override_settings  # noqa: E402

from cfvariants.django.direct_upload import get_uploads  # noqa: E402

PHOTO = imagegen.photo_jpeg(250_000, seed=3)
SECRET = "django-webhook-secret"


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ENV_NAME", "dev")
    with override_settings(
        CFVARIANTS={"DEV": True, "DATA_DIR": str(tmp_path / "cfimages")},
        CFVARIANTS_DIRECT_UPLOADS={"WEBHOOK_SECRET": SECRET, "STORE": str(tmp_path / "direct.sqlite3")},
        ROOT_URLCONF="django_project.direct_urls",
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    ):  # fmt: skip
        yield


def upload_through_the_page(client: Client) -> dict[str, Any]:
    """What the browser does: ask for a ticket, POST the file to the upload URL it names."""
    issued = client.post("/cfvariants/direct-uploads").json()
    answer = client.post(issued["uploadURL"], {"file": _file()})
    assert answer.status_code == 200, answer.content
    return issued


def _file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", PHOTO, content_type="image/jpeg")


def test_the_widget_uploads_and_the_field_claims_once(dev: None) -> None:
    client = Client()
    page = client.get("/avatar")
    assert b"data-cfv-direct-upload" in page.content and b'name="avatar"' in page.content
    assert client.get("/cfvariants/direct-upload.js").status_code == 200

    issued = upload_through_the_page(client)
    assert issued["uploadURL"].startswith("/cfvariants/upload/")  # served by the site in development

    first = client.post("/avatar", {"avatar": issued["token"]})
    second = client.post("/avatar", {"avatar": issued["token"]})

    assert first.status_code == 200 and first.json() == {"saved": issued["id"]}
    assert second.status_code == 400 and "already used" in json.dumps(second.json())


def test_forged_foreign_and_bare_tickets_are_refused(dev: None) -> None:
    owner, stranger = Client(), Client()
    issued = upload_through_the_page(owner)
    stranger.get("/avatar")  # a session of its own

    for client, value, reason in (
        (owner, issued["id"], "not issued by this site"),  # a bare image id
        (owner, issued["token"][:-4] + "0000", "not issued by this site"),
        (stranger, issued["token"], "issued to another user"),
    ):
        answer = client.post("/avatar", {"avatar": value})
        assert answer.status_code == 400 and reason in json.dumps(answer.json()), (value, answer.content)

    assert owner.post("/avatar", {"avatar": issued["token"]}).status_code == 200


def test_the_webhook_view_checks_the_secret_and_is_idempotent(dev: None) -> None:
    client = Client()
    issued = upload_through_the_page(client)
    body = json.dumps({"name": "images", "text": "done", "data": {"id": issued["id"]}, "ts": 1})

    wrong = client.post("/cfvariants/webhooks/images", body, content_type="application/json",
                        headers={"cf-webhook-auth": "nope"})  # fmt: skip
    first = client.post("/cfvariants/webhooks/images", body, content_type="application/json",
                        headers={"cf-webhook-auth": SECRET})  # fmt: skip
    replay = client.post("/cfvariants/webhooks/images", body, content_type="application/json",
                         headers={"cf-webhook-auth": SECRET})  # fmt: skip

    assert wrong.status_code == 401
    assert (first.status_code, first.json()["state"]) == (200, "uploaded")
    assert (replay.status_code, replay.json()["state"]) == (200, "uploaded")
    assert get_uploads().store.get(issued["id"]).state == "uploaded"  # type: ignore[union-attr]
