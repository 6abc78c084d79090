"""The reference app end to end: upload form -> staged -> a real huey consumer -> variants on the pages."""

from __future__ import annotations

import io
import re
from pathlib import Path

import imagegen
import pytest
from flask import Flask
from PIL import Image
from reference_app_helpers import csrf, make_app, queue_of, wait_until_settled, worker

from cfvariants.uploads import UploadState


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, ENV_NAME="dev")


def image_sources(html: str) -> dict[str, str]:
    """``id -> src`` of the page's <img> tags that have an id."""
    found = {}
    for tag in re.findall(r"<img\b[^>]*>", html):
        ident = re.search(r'\bid="([^"]+)"', tag)
        src = re.search(r'\bsrc="([^"]+)"', tag)
        if ident and src:
            found[ident.group(1)] = src.group(1).replace("&amp;", "&")
    return found


def fetch_image(client: object, url: str) -> Image.Image:
    response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200, (url, response.status_code, response.data[:200])
    return Image.open(io.BytesIO(response.data))


def upload(client: object, data: bytes, name: str, **fields: str) -> object:
    form = {"csrf_token": csrf(client), "file": (io.BytesIO(data), name), **fields}  # type: ignore[arg-type]
    return client.post("/upload", data=form, content_type="multipart/form-data")  # type: ignore[attr-defined]


def test_the_whole_flow_with_a_real_worker(app: Flask) -> None:
    client = app.test_client()
    response = upload(client, imagegen.jpeg(1200, 900), "harbour.jpg", title="Harbour", avatar="1")
    assert response.status_code == 303
    page_url = response.headers["Location"]

    # At once: the page shows the image as "processing", from the staged file, before any worker ran.
    pending = client.get(page_url).text
    assert 'id="status">processing<' in pending
    preview = image_sources(pending)["preview"]
    assert preview.startswith("/uploads/") and fetch_image(client, preview).size == (1200, 900)
    upload_id = page_url.rsplit("/", 1)[1]
    assert client.get(f"/uploads/{upload_id}/status").json["state"] == "pending"

    with worker(app):
        wait_until_settled(app)

    ready = client.get(page_url).text
    assert 'id="status">ready<' in ready
    sources = image_sources(ready)
    assert fetch_image(client, sources["named-avatar"]).size == (240, 240)  # the named variant, declared in code
    assert fetch_image(client, sources["flexible-w200"]).size[0] == 200  # a flexible variant
    responsive = re.search(r'<img\b[^>]*id="responsive"[^>]*>', ready)
    assert responsive is not None
    tag = responsive.group(0)
    # The main image: laid out from the size recorded at staging, loaded first, preloaded, ThumbHash behind it.
    assert 'sizes="(min-width: 1000px) 1000px, 100vw" width="1000" height="750"' in tag
    assert 'loading="eager" fetchpriority="high"' in tag and "background-image:url(data:image/png;base64," in tag
    srcset = re.search(r'srcset="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
    widths = []
    for candidate in srcset.split(", "):
        url, descriptor = candidate.rsplit(" ", 1)
        widths.append(int(descriptor[:-1]))
        assert fetch_image(client, url).size[0] == int(descriptor[:-1])
    assert widths[0] == 640 and widths[-1] == 1200  # up to 2x the box, but never past the 1200 px original
    preload = re.search(r'<link rel="preload" as="image" imagesrcset="([^"]+)" imagesizes="([^"]+)"', ready)
    assert preload is not None and preload.groups() == (srcset, "(min-width: 1000px) 1000px, 100vw")
    assert fetch_image(client, sources["responsive"]).size[0] == 1080  # src: the first candidate as wide as the box

    home = client.get("/").text
    avatar = re.search(r'<img class="avatar" src="([^"]+)"', home)
    assert avatar and avatar.group(1).endswith("/avatar")
    assert not queue_of(app).store.staged_path(upload_id).exists()
    assert client.get(f"/uploads/{upload_id}/preview").status_code == 404


def test_a_private_image_is_served_only_through_signed_urls(app: Flask) -> None:
    client = app.test_client()
    response = upload(client, imagegen.png(500, 400), "secret.png", title="Secret", private="1")
    page_url = response.headers["Location"]  # type: ignore[attr-defined]
    with worker(app):
        wait_until_settled(app)
    page = client.get(page_url).text
    sources = image_sources(page)
    signed = sources["signed-avatar"]
    assert "?exp=" in signed and "&sig=" in signed
    assert fetch_image(client, signed).size == (240, 240)
    unsigned = signed.split("?")[0]
    assert client.get(unsigned).status_code == 403
    assert client.get(unsigned.rsplit("/", 1)[0] + "/w=200").status_code == 403
    assert 'class="badge private"' in client.get("/").text


def test_private_avatar_is_refused(app: Flask) -> None:
    response = upload(app.test_client(), imagegen.png(10, 10), "a.png", private="1", avatar="1")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "cannot be private" in response.text  # type: ignore[attr-defined]


BAD_UPLOADS = {
    "empty": (b"", "empty.jpg", "The file is empty."),
    "not an image": (b"%PDF-1.7 this is a document", "report.jpg", "The file is not an image: it is a PDF document."),
    "truncated": (imagegen.jpeg(600, 400)[:3000], "cut.jpg", "truncated"),
    "svg with script": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
        "evil.svg",
        "This SVG contains a &lt;script&gt; element",
    ),
    "over the limit": (imagegen.photo_jpeg(imagegen.MB + 10), "huge.jpg", "The file is larger than 1 MB."),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_every_bad_upload_gets_a_clear_message_and_leaves_nothing(tmp_path: Path, case: str) -> None:
    app = make_app(tmp_path, ENV_NAME="dev", MAX_UPLOAD_MB=1)
    data, name, message = BAD_UPLOADS[case]
    response = upload(app.test_client(), data, name, title="x")
    assert response.status_code in (400, 413)  # type: ignore[attr-defined]
    assert message in response.text, response.text  # type: ignore[attr-defined]
    assert 'role="alert"' in response.text  # type: ignore[attr-defined]
    assert_nothing_kept(app)


def test_missing_csrf_token_is_refused_and_leaves_nothing(app: Flask) -> None:
    client = app.test_client()
    client.get("/upload")
    response = client.post("/upload", data={"file": (io.BytesIO(imagegen.jpeg(10, 10)), "a.jpg")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400
    assert "missing CSRF token" in response.text
    forged = client.post("/upload", data={"csrf_token": "guess", "file": (io.BytesIO(imagegen.jpeg(10, 10)), "a.jpg")},
                         content_type="multipart/form-data")  # fmt: skip
    assert forged.status_code == 400
    assert_nothing_kept(app)


@pytest.mark.parametrize("token", ["é" * 43, "\u2603", "日本語"])
def test_a_non_ascii_csrf_token_is_a_400_not_a_500(app: Flask, token: str) -> None:
    client = app.test_client()
    client.get("/upload")
    form = {"csrf_token": token, "file": (io.BytesIO(imagegen.jpeg(10, 10)), "a.jpg")}
    response = client.post("/upload", data=form, content_type="multipart/form-data")
    assert response.status_code == 400 and "CSRF token" in response.text
    header = client.post("/profile", data={"name": "x"}, headers={"X-CSRF-Token": token.encode().decode("latin-1")})
    assert header.status_code == 400
    assert_nothing_kept(app)


def assert_nothing_kept(app: Flask) -> None:
    queue = queue_of(app)
    assert list(queue.store.staging.iterdir()) == []
    assert queue.store.recent() == []
    with worker(app):
        wait_until_settled(app)
    state = app.extensions["cfvariants"]
    assert list(state.client.iter_images()) == []


def test_the_file_type_comes_from_the_bytes_not_the_name(app: Flask) -> None:
    response = upload(app.test_client(), imagegen.png(30, 20), "holiday.jpg")
    assert response.status_code == 303  # type: ignore[attr-defined]
    record = queue_of(app).store.recent()[0]
    assert record.content_type == "image/png"
    preview = app.test_client().get(f"/uploads/{record.id}/preview")
    assert preview.content_type == "image/png" and preview.headers["X-Content-Type-Options"] == "nosniff"


def test_a_failed_upload_is_shown_with_its_reason_and_a_retry_button(app: Flask) -> None:
    client = app.test_client()
    photo = imagegen.photo_jpeg(180_000)
    response = upload(client, photo, "a.jpg", title="Doomed")
    record = queue_of(app).store.recent()[0]
    queue_of(app).store.claim(record.id, lease=60)
    queue_of(app).store.mark_failed(record.id, "Cloudflare refused the image: HTTP 415: [5400] Unsupported format")
    page = client.get(response.headers["Location"]).text  # type: ignore[attr-defined]
    assert "could not be stored: Cloudflare refused the image: HTTP 415" in page and 'id="retry"' in page
    assert queue_of(app).store.get(record.id).state is UploadState.FAILED
    index = client.get("/").text
    assert 'class="badge failed"' in index and "1 upload(s) failed" in index
    assert client.get(f"/uploads/{record.id}/preview").data == photo  # the file is kept

    retried = client.post(f"/images/{record.id}/retry", data={"csrf_token": csrf(client)})
    assert retried.status_code == 303 and "Sending 1 upload(s)" in client.get(retried.headers["Location"]).text
    with worker(app):
        wait_until_settled(app)
    assert queue_of(app).store.get(record.id).state is UploadState.READY


def test_a_full_disk_is_a_503_that_names_no_path_and_keeps_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    token = csrf(client)

    def disk_full(fd: int) -> None:  # the kernel reports the full disk when the data is flushed
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cfvariants.uploads._records.os.fsync", disk_full)
    form = {"csrf_token": token, "file": (io.BytesIO(imagegen.photo_jpeg(200_000)), "a.jpg")}
    response = client.post("/upload", data=form, content_type="multipart/form-data")
    assert response.status_code == 503
    assert "storage is full" in response.text and "/var/" not in response.text and "staging" not in response.text
    assert "no space left on the disk holding" in caplog.text  # the operator learns where
    monkeypatch.undo()
    assert queue_of(app).store.recent() == [] and queue_of(app).store.staged_ids() == []
    assert list((app.extensions["app_settings"].uploads_dir / "staging").iterdir()) == []  # no .part either


def test_uploads_blocked_by_refused_credentials_are_shown_and_resume_on_retry(app: Flask) -> None:
    from huey import MemoryHuey

    from cfvariants.local import LocalCloudflare
    from cfvariants.uploads import UploadQueue

    client = app.test_client()
    responses = [upload(client, imagegen.photo_jpeg(150_000, seed=i), f"p{i}.jpg") for i in range(2)]
    store = queue_of(app).store
    # A worker started with a revoked token, on the same store.
    local = LocalCloudflare.open(app.extensions["app_settings"].emulator_dir)
    misconfigured = UploadQueue(MemoryHuey("bad"), store, lambda: local.client(api_token="revoked-token"))
    for record in store.recent():
        assert misconfigured.run_once(record.id).status == "blocked"
    page = client.get(responses[0].headers["Location"]).text  # type: ignore[attr-defined]
    assert "Uploads are paused until Cloudflare accepts" in page and "refused the credentials" in page
    assert 'id="retry"' in page and "revoked-token" not in page
    index = client.get("/").text
    assert "Uploads are paused: Cloudflare refused the credentials" in index and "2 waiting" in index

    record_id = responses[0].headers["Location"].rsplit("/", 1)[-1]  # type: ignore[attr-defined]
    retried = client.post(f"/images/{record_id}/retry", data={"csrf_token": csrf(client)})
    assert "Sending 2 upload(s)" in client.get(retried.headers["Location"]).text
    with worker(app):  # the app's own worker, with the right credentials
        wait_until_settled(app)
    assert store.counts()[UploadState.READY] == 2 and local.emulator.count_images() == 2
    local.close()


def test_pages_render_with_no_images_and_unknown_ids_are_404(app: Flask) -> None:
    client = app.test_client()
    assert "No images yet" in client.get("/").text
    missing = client.get("/images/" + "0" * 32)
    assert missing.status_code == 404 and "There is no such image." in missing.text
    assert client.get("/uploads/not-an-id/status").status_code == 404


def test_renaming_the_profile(app: Flask) -> None:
    client = app.test_client()
    token = csrf(client)
    client.post("/profile", data={"csrf_token": token, "name": "  Grace   Hopper "})
    assert "<h1>Grace Hopper</h1>" in client.get("/").text
    client.post("/profile", data={"csrf_token": token, "name": "<script>x</script>"})
    assert "&lt;script&gt;x&lt;/script&gt;" in client.get("/").text


def test_with_redis_the_queue_and_the_staged_uploads_live_in_redis(tmp_path: Path, redis_url: str) -> None:
    app = make_app(tmp_path, ENV_NAME="dev", HUEY_URL=redis_url)
    queue = queue_of(app)
    assert type(queue.huey).__name__ == "RedisHuey" and type(queue.store).__name__ == "RedisUploadStore"
    client = app.test_client()
    response = upload(client, imagegen.jpeg(400, 300), "pier.jpg", title="Pier")
    page_url = response.headers["Location"]  # type: ignore[attr-defined]
    assert fetch_image(client, image_sources(client.get(page_url).text)["preview"]).size == (400, 300)
    assert not (tmp_path / "var" / "uploads").exists()  # nothing staged on this machine's disk
    with worker(app):
        wait_until_settled(app)
    assert fetch_image(client, image_sources(client.get(page_url).text)["flexible-w200"]).size[0] == 200
