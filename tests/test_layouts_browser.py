"""Layouts in a real browser (Debian's Chromium, headless, through Playwright) at 1x, 2x and 3x device scale.

A page of ``cf.img`` markup is served on 127.0.0.1 next to the emulator's delivery route, so every candidate is a
real resized image. The browser must pick a candidate at least as wide as the image is shown times the device
scale (up to the original's width), and every image box must have its final height before any image arrives:
image responses are held back until the boxes are measured.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imagegen
import pytest
from test_reference_app_browser import CHROMIUM, CHROMIUM_ARGS
from werkzeug.serving import make_server

from cfvariants import Delivery
from cfvariants.emulator import DEV_ACCOUNT_HASH, create_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (python3 dev.py test installs it)"),
]

# (device scale, viewport): a desktop, a laptop with a retina screen, a phone
SCREENS = [(1, 1280, 900), (2, 1440, 900), (3, 390, 844)]
LARGE = (2000, 1333)
SMALL = (500, 400)


@dataclass
class Site:
    """The page, the emulator's delivery behind it, a log of every request and a gate that holds images."""

    base: str
    requests: list[str] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)


def page_markup(cf: Delivery, large: str, small: str) -> str:
    images = [
        cf.img(large, alt="avatar", layout="fixed", width=120, height=120, id="fixed"),
        cf.img(large, alt="content", layout="constrained", width=600, original=LARGE, id="constrained"),
        cf.img(large, alt="hero", layout="full-width", original=LARGE, priority=True, id="full"),
        cf.img(small, alt="small original", layout="constrained", width=900, original=SMALL, id="small"),
    ]
    body = "".join(f"<div class='slot'>{tag}</div>" for tag in images)
    return (
        "<!doctype html><html><head><meta name='viewport' content='width=device-width'>"
        "<style>body{margin:0} .slot{margin:0 0 24px}</style>"
        "<script>window.shifts = 0; new PerformanceObserver(list => { for (const e of list.getEntries())"
        " window.shifts += e.value; }).observe({type: 'layout-shift', buffered: true});</script>"
        f"</head><body>{body}</body></html>"
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    emulator_app = create_app(data_dir=tmp_path / "cf", base_url="http://127.0.0.1")
    emulator = emulator_app.emulator
    large = emulator.upload(imagegen.encode(imagegen.photo(*LARGE, seed=3), "JPEG", quality=85), filename="l.jpg")
    small = emulator.upload(imagegen.encode(imagegen.photo(*SMALL, seed=4), "JPEG", quality=85), filename="s.jpg")
    html = page_markup(Delivery(DEV_ACCOUNT_HASH, domain="/"), large.id, small.id).encode()
    holder: dict[str, Site] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        holder["site"].requests.append(path)
        if path.startswith("/cdn-cgi/imagedelivery/"):
            holder["site"].gate.wait(timeout=30)
            environ["PATH_INFO"] = path.removeprefix("/cdn-cgi/imagedelivery")
            environ["SCRIPT_NAME"] = "/cdn-cgi/imagedelivery"
            return emulator_app(environ, start_response)  # type: ignore[no-any-return]
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
            return [html]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    holder["site"] = Site(f"http://127.0.0.1:{server.port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield holder["site"]
    finally:
        holder["site"].gate.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        emulator.close()


BOXES = (
    "() => [...document.images].map(i => { const r = i.getBoundingClientRect(); return [i.id, r.width, r.height]; })"
)


@pytest.mark.parametrize(("dpr", "width", "height"), SCREENS, ids=[f"{s[0]}x" for s in SCREENS])
def test_layouts_pick_sharp_candidates_and_never_shift(site: Site, dpr: int, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    originals = {"fixed": LARGE[0], "constrained": LARGE[0], "full": LARGE[0], "small": SMALL[0]}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=dpr)
            page = context.new_page()
            site.gate.clear()
            page.goto(site.base + "/", wait_until="domcontentloaded")
            before = {name: (w, h) for name, w, h in page.evaluate(BOXES)}
            assert not any(img for img in page.evaluate("() => [...document.images].map(i => i.complete)"))
            site.gate.set()
            for name in originals:
                page.eval_on_selector(f"#{name}", "img => img.scrollIntoView()")
                loaded = (
                    f"() => {{ const i = document.getElementById('{name}'); return i.complete && i.naturalWidth; }}"
                )
                page.wait_for_function(loaded, timeout=60_000)
            after = {name: (w, h) for name, w, h in page.evaluate(BOXES)}
            shifts = page.evaluate("() => window.shifts")
            downloads = [path for path in site.requests if path.startswith("/cdn-cgi/")]
            chosen = {name: page.eval_on_selector(f"#{name}", "i => i.currentSrc") for name in originals}
            pixels = {  # the candidate's real width (naturalWidth of a srcset image is corrected for density)
                name: page.evaluate("async url => { const i = new Image(); i.src = url; await i.decode();"
                                    " return i.naturalWidth; }", url)
                for name, url in chosen.items()
            }  # fmt: skip
        finally:
            browser.close()

    for name, (box_w, box_h) in after.items():
        assert box_h > 0 and abs(before[name][1] - box_h) < 0.5, f"{name}: {before[name]} before load, {after[name]}"
        assert abs(before[name][0] - box_w) < 0.5
    assert shifts == 0
    assert after["full"][0] == width  # full-width fills the viewport
    assert after["small"][0] == min(SMALL[0], width)  # never stretched past the original
    for name, url in chosen.items():
        served = int(re.search(r"/w=(\d+)", url).group(1))  # type: ignore[union-attr]
        assert pixels[name] == served  # the emulator really resized it
        density = min(dpr, 2) if name == "fixed" else dpr  # fixed is 1x/2x, as in Next.js, Astro and unpic
        needed = min(after[name][0] * density, originals[name])
        assert served >= needed - 1, f"{name} at {dpr}x shows {after[name][0]} CSS px from a {served}-px candidate"
    wanted = {url.removeprefix(site.base) for url in chosen.values()}  # two images may share a candidate
    assert sorted(downloads) == sorted(wanted)  # one download per image, nothing else
