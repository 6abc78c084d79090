"""Direct creator uploads: tickets issued by the app, files sent by the browser straight to the emulator,
claims that refuse forged, foreign, expired and reused tickets; the webhook receiver (secret, idempotent
replays) and the emulator calling it; the whole flow in headless Chromium through a Flask page."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import imagegen
import pytest
from flask import Flask, render_template_string, request
from werkzeug.serving import make_server

from cfvariants.client import ImagesClient
from cfvariants.direct_uploads import DirectUploadError, DirectUploads, DirectUploadStore
from cfvariants.emulator import (
    DEV_ACCOUNT_HASH,
    DEV_ACCOUNT_ID,
    DEV_API_TOKEN,
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    create_app,
)
from cfvariants.flask import CFImages
from cfvariants.flask_direct import claim_direct_upload

SECRET = "webhook-secret-for-tests"
PHOTO = imagegen.photo_jpeg(300_000, seed=7)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def uploads(cf_client: ImagesClient, tmp_path: Path, clock: Clock) -> DirectUploads:
    return DirectUploads(
        cf_client, secret="app-secret", store=DirectUploadStore(tmp_path / "direct.sqlite3"), webhook_secret=SECRET,
        clock=clock,
    )  # fmt: skip


def browser_upload(http: httpx.Client, upload_url: str, data: bytes = PHOTO) -> httpx.Response:
    """What the page's script does: one multipart POST of the file to the upload URL, no credentials."""
    return http.post(upload_url, files={"file": ("photo.jpg", data, "image/jpeg")}, headers={"Authorization": ""})


def test_an_issued_and_uploaded_image_is_claimed_once(
    uploads: DirectUploads, cf_http: httpx.Client, cf_emulator: Emulator
) -> None:
    ticket = uploads.issue("user-7")
    assert cf_emulator.get_image(ticket.image_id).draft
    assert browser_upload(cf_http, ticket.upload_url).status_code == 200

    image = uploads.claim(ticket.token, "user-7")

    assert image.id == ticket.image_id and image.creator == "user-7"
    assert cf_emulator.image_blob(image.id)[0] == PHOTO
    assert uploads.store.get(image.id).state == "claimed"  # type: ignore[union-attr]
    with pytest.raises(DirectUploadError, match="already used"):
        uploads.claim(ticket.token, "user-7")


def test_forged_foreign_and_bare_ids_are_refused(
    uploads: DirectUploads, cf_http: httpx.Client, cf_emulator: Emulator
) -> None:
    ticket = uploads.issue("user-7")
    browser_upload(cf_http, ticket.upload_url)
    someone_elses = cf_emulator.upload(PHOTO, metadata={"owner": "user-9"})
    payload, mac = ticket.token.split(".")
    forged_payload = payload.replace(payload[:8], "eyJ2IjoiMSIsImkiOiJ4In0"[:8])  # tampered body, same MAC
    bad = [
        (someone_elses.id, "malformed ticket"),  # a client-supplied image id is not a ticket
        (f"{payload}.{'0' * 64}", "bad signature"),
        (f"{forged_payload}x.{mac}", "bad signature"),
        (DirectUploads(uploads.client, secret="other-app", store=uploads.store).issue("user-7").token, "bad signature"),
    ]
    for token, reason in bad:
        with pytest.raises(DirectUploadError, match=reason) as refused:
            uploads.claim(token, "user-7")
        assert refused.value.status == 403
    with pytest.raises(DirectUploadError, match="issued to another user"):
        uploads.claim(ticket.token, "user-9")

    assert uploads.claim(ticket.token, "user-7").id == ticket.image_id  # the real one still works


def test_a_ticket_before_its_upload_and_after_its_expiry(
    uploads: DirectUploads, cf_http: httpx.Client, clock: Clock
) -> None:
    ticket = uploads.issue(7)
    with pytest.raises(DirectUploadError, match="not been uploaded yet"):
        uploads.claim(ticket.token, 7)
    browser_upload(cf_http, ticket.upload_url)
    clock.now += 7 * 3600  # 30 min upload URL + 6 h to submit the form

    with pytest.raises(DirectUploadError, match="expired"):
        uploads.claim(ticket.token, 7)


def test_an_image_over_the_size_limit_is_refused_and_deleted(
    cf_client: ImagesClient, cf_http: httpx.Client, cf_emulator: Emulator, tmp_path: Path
) -> None:
    small = DirectUploads(cf_client, secret="s", store=DirectUploadStore(tmp_path / "d.sqlite3"), max_bytes=100_000)
    ticket = small.issue("u")
    browser_upload(cf_http, ticket.upload_url)

    with pytest.raises(DirectUploadError, match="larger than the 100,000 bytes"):
        small.claim(ticket.token, "u")

    assert cf_emulator.count_images() == 0
    assert small.store.get(ticket.image_id).state == "failed"  # type: ignore[union-attr]


def notification(image_id: str) -> bytes:
    return json.dumps({"name": "images", "text": "uploaded", "data": {"id": image_id}, "ts": 1}).encode()


def test_the_webhook_needs_the_secret_and_replays_change_nothing(uploads: DirectUploads, cf_http: httpx.Client) -> None:
    ticket = uploads.issue("u")
    browser_upload(cf_http, ticket.upload_url)

    for headers in ({}, {"cf-webhook-auth": "wrong"}, {"cf-webhook-auth": SECRET[:-1]}):
        assert uploads.receive_webhook(headers, notification(ticket.image_id)).status == 401
    assert uploads.store.get(ticket.image_id).state == "issued"  # type: ignore[union-attr]

    first = uploads.receive_webhook({"CF-Webhook-Auth": SECRET}, notification(ticket.image_id))
    replay = uploads.receive_webhook({"cf-webhook-auth": SECRET}, notification(ticket.image_id))

    assert (first.status, first.state) == (200, "uploaded")
    assert (replay.status, replay.state) == (200, "uploaded")
    uploads.claim(ticket.token, "u")
    late = uploads.receive_webhook({"cf-webhook-auth": SECRET}, notification(ticket.image_id))
    assert late.state == "claimed"  # a replay after the claim does not reopen it
    assert uploads.receive_webhook({"cf-webhook-auth": SECRET}, b"not json").status == 400
    assert uploads.receive_webhook({"cf-webhook-auth": SECRET}, notification("not-ours")).status == 200


# -- a Flask site, the emulator calling its webhook, and a real browser ----------------------------------------


@dataclass
class Site:
    app: Flask
    url: str
    emulator: Emulator
    emulator_url: str


def serve(app: object) -> tuple[object, threading.Thread, int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread, server.port


def make_site(tmp_path: Path, api_base: str) -> Flask:
    app = Flask("direct_site", instance_path=str(tmp_path / "instance"))
    app.secret_key = "tests-only-secret-key"
    app.config.update(
        CFVARIANTS_DEV=False, CFVARIANTS_ACCOUNT_ID=DEV_ACCOUNT_ID, CFVARIANTS_API_TOKEN=DEV_API_TOKEN,
        CFVARIANTS_ACCOUNT_HASH=DEV_ACCOUNT_HASH, CFVARIANTS_API_BASE=api_base,
        CFVARIANTS_DIRECT_UPLOADS={"WEBHOOK_SECRET": SECRET, "MAX_BYTES": 5_000_000},
    )  # fmt: skip
    CFImages(app)

    @app.route("/", methods=["GET", "POST"])
    def profile() -> str | tuple[str, int]:
        if request.method == "POST":
            from cfvariants.direct_uploads import DirectUploadError as Refused

            try:
                image = claim_direct_upload(request.form.get("photo", ""))
            except Refused as exc:
                return f"refused: {exc.reason}", exc.status
            return f"<p id=saved>stored {image.id}</p>"
        return render_template_string('<form method=post>{{ cf_direct_upload("photo") }}<button>Save</button></form>')

    return app


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The emulator on one port (calling the site's webhook), the site on another (talking to the emulator)."""
    site_server, site_thread, site_port = None, None, 0
    holder: dict[str, Flask] = {}

    def dispatch(environ: dict[str, object], start_response: object) -> object:
        return holder["app"](environ, start_response)  # type: ignore[operator]

    site_server, site_thread, site_port = serve(dispatch)
    emulator = Emulator(EmulatorConfig(
        data_dir=tmp_path / "cf", webhook_url=f"http://127.0.0.1:{site_port}/cfvariants/webhooks/images",
        webhook_secret=SECRET,
    ))  # fmt: skip
    emulator_server = EmulatorServer(create_app(emulator)).start()
    holder["app"] = make_site(tmp_path, f"{emulator_server.url}/client/v4")
    try:
        yield Site(holder["app"], f"http://127.0.0.1:{site_port}", emulator, emulator_server.url)
    finally:
        emulator_server.stop()
        site_server.shutdown()  # type: ignore[attr-defined]
        site_server.server_close()  # type: ignore[attr-defined]
        site_thread.join(timeout=10)  # type: ignore[union-attr]
        emulator.close()


def test_the_emulator_calls_the_webhook_and_the_site_records_it(site: Site) -> None:
    with httpx.Client(base_url=site.url) as browser:
        page = browser.get("/")
        assert "data-cfv-direct-upload" in page.text
        issued = browser.post("/cfvariants/direct-uploads").json()
        assert browser.post(issued["uploadURL"], files={"file": ("p.jpg", PHOTO, "image/jpeg")}).status_code == 200
        site.emulator.webhooks.wait()

        uploads = site.app.extensions["cfvariants"].direct_uploads
        assert site.emulator.webhooks.sent == 1
        assert uploads.store.get(issued["id"]).state == "uploaded"
        wrong = browser.post("/cfvariants/webhooks/images", content=notification(issued["id"]),
                             headers={"cf-webhook-auth": "guess"})  # fmt: skip
        assert wrong.status_code == 401

        saved = browser.post("/", data={"photo": issued["token"]})
        again = browser.post("/", data={"photo": issued["token"]})
        bare = browser.post("/", data={"photo": issued["id"]})

    assert saved.status_code == 200 and f"stored {issued['id']}" in saved.text
    assert again.status_code == 400 and "already used" in again.text
    assert bare.status_code == 403


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_a_browser_uploads_straight_to_the_emulator_with_a_progress_bar(site: Site, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    photo = tmp_path / "lake.jpg"
    photo.write_bytes(PHOTO)
    seen: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: seen.append(f"{r.method} {r.url}"))
            page.goto(site.url + "/")
            page.set_input_files("input[type=file]", str(photo))
            page.wait_for_selector("[data-cfv-direct-upload][data-state=done]", timeout=30_000)
            progress = page.eval_on_selector("progress", "bar => bar.value")
            page.click("button")
            page.wait_for_selector("#saved", timeout=30_000)
            saved = page.inner_text("#saved")
        finally:
            browser.close()

    image_id = saved.removeprefix("stored ")
    assert progress == 1
    assert hashlib.sha256(site.emulator.image_blob(image_id)[0]).digest() == hashlib.sha256(PHOTO).digest()
    uploads = [line for line in seen if line.startswith("POST") and "/upload/" in line]
    assert uploads == [f"POST {site.emulator_url}/upload/{DEV_ACCOUNT_HASH}/{image_id}"]  # not through the site
    form_posts = [line for line in seen if line == f"POST {site.url}/"]
    assert len(form_posts) == 1


def test_the_emulator_command_takes_a_webhook_on_this_machine_only(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cfvariants.cli import main

    far = CliRunner().invoke(
        main, ["emulator", "--data", str(tmp_path), "--dry-run", "--webhook-url", "http://example.com/h"]
    )
    near = CliRunner().invoke(
        main, ["emulator", "--data", str(tmp_path), "--dry-run", "--webhook-url", "http://127.0.0.1:8000/h"],
        env={"CFVARIANTS_EMULATOR_WEBHOOK_SECRET": SECRET},
    )  # fmt: skip

    assert far.exit_code == 2 and "calls only 127.0.0.1" in far.output
    assert near.exit_code == 0, near.output
    assert SECRET not in near.output
