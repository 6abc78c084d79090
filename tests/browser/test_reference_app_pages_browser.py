"""Every page of the reference app in a real browser (Debian's Chromium, headless, through Playwright), at phone
size (390x844) and desktop size (1280x800): no sideways scroll, every image loads, no console errors, and axe-core
(bundled by axe-playwright-python) finds no serious or critical accessibility violation. Screenshots of each page
go to ``test-artifacts/`` for a person to look at.

One app server and one browser serve the whole module; the uploads in every state (ready, private, pending,
failed, blocked) are made once, through the app's own queue.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imagegen
import pytest
from flask import Flask
from huey import MemoryHuey
from reference_app_helpers import make_app, queue_of
from test_reference_app_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from werkzeug.serving import make_server

from cfvariants.imaging import placeholder_metadata
from cfvariants.local import LocalCloudflare
from cfvariants.uploads import UploadQueue

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (python3 dev.py test installs it)"),
]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SERIOUS = {"serious", "critical"}


@dataclass
class Site:
    app: Flask
    base: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("pages")
    app = make_app(tmp, ENV_NAME="dev")
    queue = queue_of(app)
    ids: dict[str, str] = {}

    def submit(name: str, seed: int, **kwargs: Any) -> str:
        data = imagegen.photo_jpeg(300_000, seed=seed)
        title = name.replace("-", " ").title()
        metadata = placeholder_metadata(data)  # as the upload view records it
        record = queue.submit(
            io.BytesIO(data), filename=f"{name}.jpg", context={"title": title}, metadata=metadata, **kwargs
        )
        ids[name] = record.id
        return record.id

    for name, seed in (("harbour", 1), ("forest-path", 2)):
        assert queue.run_once(submit(name, seed)).status == "ready"
    assert queue.run_once(submit("private-note", 3, private=True)).status == "ready"
    failed = submit("unreadable", 4)
    queue.store.claim(failed, lease=60)
    queue.store.mark_failed(failed, "Cloudflare refused the image: HTTP 415: [5400] Unsupported format")
    local = LocalCloudflare.open(app.extensions["app_settings"].emulator_dir)
    revoked = UploadQueue(MemoryHuey("revoked"), queue.store, lambda: local.client(api_token="revoked-token"))
    assert revoked.run_once(submit("waiting-for-credentials", 5)).status == "blocked"
    submit("still-uploading", 6)  # no worker runs in this module: it stays pending

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Site(app, f"http://127.0.0.1:{server.port}", ids)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        local.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


PAGES = {
    "gallery": "/",
    "upload": "/upload",
    "image-ready": "/images/{harbour}",
    "image-private": "/images/{private-note}",
    "image-pending": "/images/{still-uploading}",
    "image-failed": "/images/{unreadable}",
    "image-blocked": "/images/{waiting-for-credentials}",
    "not-found": "/images/" + "0" * 32,
    "tour": "/tour",
    "playground": "/playground",
    "delete": "/images/{forest-path}/delete",
}
EXPECTED_CONSOLE_ERRORS = {
    "not-found": ["Failed to load resource: the server responded with a status of 404 (NOT FOUND)"],
    # the tour asks for a private image without its signature, to show the 403
    "tour": ["Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"],
}


def _path(template: str, ids: dict[str, str]) -> str:
    for name, upload_id in ids.items():
        template = template.replace("{" + name + "}", upload_id)
    return template


def _open(browser: Any, site: Site, path: str, viewport: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site.base + path)
    page.wait_for_load_state("load")
    return context, page, errors


def _all_images_loaded(page: Any) -> list[str]:
    """Bring lazy images in, then the sources of those that did not decode (an empty list when all did)."""
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    broken: list[str] = page.evaluate(
        "() => [...document.images].filter(i => !(i.naturalWidth > 0)).map(i => i.currentSrc || i.src || i.outerHTML)"
    )
    return broken


def _serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_loads_its_images_and_passes_axe(browser: Any, site: Site, name: str, viewport: str) -> None:
    context, page, errors = _open(browser, site, _path(PAGES[name], site.ids), viewport)
    try:
        width = VIEWPORTS[viewport]["width"]
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} scrolls sideways at {width} px: {scroll_width} px wide"
        assert _all_images_loaded(page) == []
        header = page.eval_on_selector("header", "h => h.getBoundingClientRect().height")
        assert header <= 120, f"the header takes {header} px of {name} at {width} px"
        targets = page.evaluate(
            "() => [...document.querySelectorAll('header nav a, button, main input:not([type=hidden]), select')]"
            ".filter(e => e.offsetParent !== null)"
            ".map(e => e.type === 'checkbox' ? e.closest('label') : e)"  # a checkbox is tapped through its label
            ".map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])"
        )
        assert [t for t in targets if t[1] < 40] == [], "touch targets lower than 40 px"
        assert _serious_violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"pages-{name}-{width}.png"), full_page=True)
        if name == "tour":
            page.wait_for_function("() => document.querySelector('#unsigned-status').textContent.startsWith('4')")
            assert page.inner_text("#unsigned-status").startswith("403")
        assert errors == EXPECTED_CONSOLE_ERRORS.get(name, [])
    finally:
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_tour_shows_the_srcset_candidate_the_browser_chose(browser: Any, site: Site, viewport: str) -> None:
    context, page, _ = _open(browser, site, "/tour", viewport)
    try:
        page.eval_on_selector("#srcset-demo", "img => img.scrollIntoView()")
        page.wait_for_function("() => document.querySelector('#chosen').textContent.includes('/cdn-cgi/image/')")
        chosen = page.inner_text("#chosen")
        assert chosen == page.eval_on_selector("#srcset-demo", "img => img.currentSrc")
        shown = int(page.inner_text("#shown-width"))
        candidate = int(chosen.split("/cdn-cgi/image/w=")[1].split(",")[0].split("/")[0])
        assert shown > 100 and candidate >= shown  # a candidate that covers the box it is shown in
    finally:
        context.close()


def test_the_playground_updates_the_url_and_the_image_as_controls_change(browser: Any, site: Site) -> None:
    context, page, errors = _open(browser, site, "/playground", "phone")
    try:
        page.wait_for_function("() => document.querySelector('#pg-result').naturalWidth > 0")
        assert page.eval_on_selector("#pg-result", "img => img.naturalWidth") == 640
        page.fill("#pg-width", "321")
        page.select_option("#pg-fit", "cover")
        page.fill("#pg-height", "123")
        page.wait_for_function(
            "() => document.querySelector('#pg-options').textContent === 'w=321,h=123,fit=cover,q=85'"
        )
        page.wait_for_function(
            "() => { const i = document.querySelector('#pg-result');"
            " return i.complete && i.naturalWidth === 321 && i.naturalHeight === 123; }"
        )
        url = page.inner_text("#pg-url")
        assert url.startswith("/cdn-cgi/image/w=321,h=123,fit=cover,q=85/samples/")
        assert page.eval_on_selector("#pg-result", "img => new URL(img.src).pathname") == url
        assert "width=321" in page.url and "blur=" not in page.url  # the address bar keeps the choice
        page.fill("#pg-blur", "999")
        page.wait_for_selector("#pg-error:not([hidden])")
        assert "blur must be an integer from 1 to 250" in page.inner_text("#pg-error")
        assert page.inner_text("#pg-url") == url  # the last good result stays
        page.screenshot(path=str(ARTIFACTS / "playground-after-changes-390.png"), full_page=True)
        assert [e for e in errors if "400" not in e] == []  # the refused value's 400 is the only error
    finally:
        context.close()


def test_deleting_from_the_gallery_asks_then_removes_the_tile(browser: Any, site: Site) -> None:
    victim = site.app.extensions["uploads"].submit(
        io.BytesIO(imagegen.photo_jpeg(120_000, seed=9)), filename="delete-me.jpg", context={"title": "Delete me"}
    )
    context, page, errors = _open(browser, site, "/", "phone")
    try:
        page.click("a[aria-label='Delete Delete me']")
        page.wait_for_selector("#confirm-delete")
        page.click("#confirm-delete")
        page.wait_for_url(site.base + "/")
        assert "Deleted 'Delete me'" in page.inner_text("main")
        assert page.query_selector("a[aria-label='Delete Delete me']") is None
        assert site.app.extensions["uploads"].store.find(victim.id) is None
        assert errors == []
    finally:
        context.close()


# (device scale, viewport): a desktop, a retina laptop, a phone
SCREENS = [(1, "desktop"), (2, "desktop"), (3, "phone")]
CHOSEN = """() => [...document.querySelectorAll(SELECTOR)].map(i => {
    const r = i.getBoundingClientRect();
    const first = i.closest('.tile') !== null && i.closest('.tile') === document.querySelector('.tile');
    return [i.currentSrc, r.width, r.height, getComputedStyle(i).backgroundImage, i.loading, i.fetchPriority, first];
})"""


def _sharp_boxes(page: Any, selector: str, dpr: int, most: int) -> list[list[Any]]:
    """Each image of ``selector``, loaded: the candidate the browser chose is at least as wide as the image is
    shown times the device scale, up to ``most``, the widest the original gives at the box's aspect ratio."""
    page.evaluate(f"() => document.querySelectorAll({selector!r}).forEach(i => {{ i.loading = 'eager'; }})")
    page.wait_for_function(f"() => [...document.querySelectorAll({selector!r})].every(i => i.complete)")
    shown = page.evaluate(CHOSEN.replace("SELECTOR", repr(selector)))
    assert shown
    for source, width, *_ in shown:
        candidate = int(source.split("/w=")[1].split(",")[0])
        assert candidate >= min(width * dpr, most), f"{source} for {width} CSS px at {dpr}x"
    return shown


@pytest.mark.parametrize(("dpr", "viewport"), SCREENS, ids=[f"{d}x-{v}" for d, v in SCREENS])
def test_gallery_tiles_and_the_main_image_are_sharp_and_laid_out_before_they_load(
    browser: Any, site: Site, dpr: int, viewport: str
) -> None:
    queue = site.app.extensions["uploads"]
    original = queue.store.get(site.ids["harbour"]).metadata
    context = browser.new_context(viewport=VIEWPORTS[viewport], device_scale_factor=dpr)
    try:
        page = context.new_page()
        page.goto(site.base + "/", wait_until="domcontentloaded")
        tiles = "main .tile img[srcset]"
        boxes = page.evaluate(CHOSEN.replace("SELECTOR", repr(tiles)))  # before any tile image has arrived
        assert len(boxes) == 2 and all(round(w) == round(h) > 100 for _, w, h, *_ in boxes)  # square from the start
        assert all(box[3].startswith('url("data:image/png;base64,') for box in boxes)  # ThumbHash, inline
        # the grid's first tile (the likely LCP) loads first; here that one is a pending upload's preview
        assert [(box[4], box[5]) for box in boxes] == [("lazy", "auto")] * 2 and not any(box[6] for box in boxes)
        square = min(original["cfv_width"], original["cfv_height"])  # a square crop of a landscape photo
        after = _sharp_boxes(page, tiles, dpr, square)
        assert [(round(w), round(h)) for _, w, h, *_ in after] == [(round(w), round(h)) for _, w, h, *_ in boxes]

        page.goto(site.base + f"/images/{site.ids['harbour']}", wait_until="domcontentloaded")
        hero = page.evaluate(CHOSEN.replace("SELECTOR", "'#responsive'"))[0]
        ratio = original["cfv_height"] / original["cfv_width"]
        assert abs(hero[2] - hero[1] * ratio) <= 1  # its box has the photo's aspect ratio before it loads
        assert (hero[4], hero[5]) == ("eager", "high")  # priority=True
        preload = page.eval_on_selector("link[rel=preload][as=image]", "l => l.imageSrcset")
        assert preload == page.eval_on_selector("#responsive", "i => i.srcset")
        _sharp_boxes(page, "#responsive", dpr, original["cfv_width"])
    finally:
        context.close()
