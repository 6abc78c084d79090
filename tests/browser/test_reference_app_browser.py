"""A real browser (Debian's Chromium, driven headless by Playwright) uploads through the page and sees the
flexible ``w=200`` variant load at its true width. A screenshot is kept in ``test-artifacts/``."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import imagegen
import pytest
from flask import Flask
from reference_app_helpers import make_app, worker
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (python3 dev.py test installs it)"),
]
# Chromium in a closed network: no background fetches, no sandbox as root, a fresh profile (see env notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    app = make_app(tmp_path, ENV_NAME="dev")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_upload_in_a_browser_and_see_the_w200_variant(served_app: tuple[Flask, str], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    app, base = served_app
    photo = tmp_path / "lake.jpg"
    photo.write_bytes(imagegen.jpeg(1600, 1000, pattern="quadrants"))
    ARTIFACTS.mkdir(exist_ok=True)
    with worker(app), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.goto(f"{base}/upload")
            page.fill("#title", "Lake at dawn")
            page.set_input_files("#file", str(photo))
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/images/*")
            # The page polls the upload's status and reloads when the worker is done.
            page.wait_for_selector("#flexible-w200", timeout=60_000)
            page.wait_for_function(
                "() => { const img = document.querySelector('#flexible-w200');"
                " return img && img.complete && img.naturalWidth > 0; }",
                timeout=30_000,
            )
            assert page.eval_on_selector("#flexible-w200", "img => img.naturalWidth") == 200
            assert page.eval_on_selector("#named-avatar", "img => [img.naturalWidth, img.naturalHeight]") == [240, 240]
            page.eval_on_selector("#responsive", "img => img.scrollIntoView()")
            page.wait_for_function("() => document.querySelector('#responsive').naturalWidth > 0", timeout=30_000)
            assert page.eval_on_selector("#responsive", "img => img.currentSrc").split("/")[-1].startswith("w=")
            page.screenshot(path=str(ARTIFACTS / "reference-app-image-page.png"), full_page=True)
            page.goto(base)
            page.wait_for_function("() => document.querySelector('.avatar') !== null")
            page.screenshot(path=str(ARTIFACTS / "reference-app-gallery.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "reference-app-image-page.png").stat().st_size > 10_000


def test_a_browser_uploads_real_photo_sizes_and_sees_why_one_is_too_large(
    served_app: tuple[Flask, str], tmp_path: Path
) -> None:
    """The form as a person uses it: camera-like JPEGs and PNGs of 0.1 to 9.9 MB are accepted; one byte over
    the limit, and far over it, the page says the file is too large."""
    from playwright.sync_api import sync_playwright

    app, base = served_app
    photos = []
    for size in imagegen.PHOTO_SIZES:
        for fmt, build in (("jpg", imagegen.photo_jpeg), ("png", imagegen.photo_png)):
            path = tmp_path / f"photo-{size}.{fmt}"
            path.write_bytes(build(size, seed=size))
            photos.append(path)
    over = tmp_path / "one-byte-too-many.jpg"
    over.write_bytes(imagegen.photo_jpeg(10 * imagegen.MB + 1, seed=9))
    far_over = tmp_path / "far-too-large.png"
    far_over.write_bytes(imagegen.photo_png(11 * imagegen.MB, seed=9))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for photo in photos:
                page.goto(f"{base}/upload")
                page.set_input_files("#file", str(photo))
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/images/*")
            for refused in (over, far_over):
                page.goto(f"{base}/upload")
                page.set_input_files("#file", str(refused))
                page.click("button[type=submit]")
                page.wait_for_selector("#upload-error")
                assert page.inner_text("#upload-error") == "The file is larger than 10 MB.", refused.name
        finally:
            browser.close()
    records = app.extensions["uploads"].store.recent(limit=100)
    assert sorted(r.size for r in records) == sorted(p.stat().st_size for p in photos)
