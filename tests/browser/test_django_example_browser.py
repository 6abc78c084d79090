"""Headless Chromium (Debian's, through Playwright) on the example Django project in development mode: upload
through the ModelForm page, see the staged file while run_huey works, then the profile page's ``w=200`` image at
its true width and ``avatar`` at the size variants.toml declares. A screenshot is kept in ``test-artifacts/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_example import example_env, manage, server, worker
from imagegen import encode, make
from test_reference_app_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (python3 dev.py test installs it)"),
]


def test_profile_page_in_development_shows_w200_at_200_px(tmp_path: Path) -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    env = example_env(tmp_path / "site", ENV_NAME="dev", CF_IMG_TOKEN="op://dev/cf-img/token")
    assert manage(env, "migrate", "--noinput").returncode == 0
    photo = tmp_path / "ada.jpg"
    photo.write_bytes(encode(Image.blend(make(1200, 900), make(1200, 900, "noise"), 0.3), "JPEG", quality=90))
    ARTIFACTS.mkdir(exist_ok=True)
    with server(env, tmp_path / "web.log") as base, worker(env, tmp_path / "huey.log"), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.goto(f"{base}/new/")
            page.fill("#id_name", "Ada")
            page.set_input_files("#id_image", str(photo))
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/profiles/*/")
            for _ in range(300):  # the page is plain HTML: reload until the worker has stored the image
                if page.get_attribute("#state", "data-state") == "ready":
                    break
                page.wait_for_timeout(200)
                page.reload()
            assert page.get_attribute("#state", "data-state") == "ready"
            assert "/cdn-cgi/imagedelivery/" in (page.get_attribute("#w200", "src") or "")
            page.wait_for_function(
                "() => ['#w200', '#avatar'].every(s => { const i = document.querySelector(s);"
                " return i && i.complete && i.naturalWidth > 0; })",
                timeout=30_000,
            )
            assert page.eval_on_selector("#w200", "img => img.naturalWidth") == 200
            assert page.eval_on_selector("#avatar", "img => [img.naturalWidth, img.naturalHeight]") == [240, 240]
            page.screenshot(path=str(ARTIFACTS / "django-example-profile.png"), full_page=True)
        finally:
            browser.close()
