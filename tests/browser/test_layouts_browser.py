"""Layouts and placeholders in a real browser (Debian's Chromium, headless, Playwright) at 1x, 2x and 3x.

A page of ``cf.img`` markup is served on 127.0.0.1 next to the emulator's delivery route, so every candidate is a
real resized image. The browser must pick a candidate at least as wide as the image is shown times the device
scale (up to the original's width), and every image box must have its final height before any image arrives:
image responses are held back until the boxes are measured. Meanwhile the ThumbHash placeholder (recorded at
upload, painted inline) must be on screen, and the page must make no request beyond one per image.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imagegen
import pytest
from PIL import Image, ImageStat
from test_reference_app_browser import CHROMIUM, CHROMIUM_ARGS
from werkzeug.serving import make_server

from cfvariants import Delivery, Original, thumbhash
from cfvariants.emulator import DEV_ACCOUNT_HASH, create_app
from cfvariants.imaging import placeholder_metadata

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
    large: Original | None = None
    requests: list[str] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)


def page_markup(cf: Delivery, large: str, small: str, large_meta: Original, small_meta: Original) -> str:
    lazy = {"placeholder": "thumbhash"}
    images = [
        cf.img(large, alt="avatar", layout="fixed", width=120, height=120, original=large_meta, id="fixed", **lazy),
        cf.img(large, alt="content", layout="constrained", width=600, original=large_meta, id="constrained", **lazy),
        cf.img(large, alt="hero", layout="full-width", original=large_meta, priority=True, id="full", **lazy),
        cf.img(small, alt="small original", layout="constrained", width=900, original=small_meta, id="small", **lazy),
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
    stored, metas = [], []
    for size, seed in ((LARGE, 3), (SMALL, 4)):
        data = imagegen.encode(imagegen.photo(*size, seed=seed), "JPEG", quality=85)
        image = emulator.upload(data, filename=f"{seed}.jpg", metadata=placeholder_metadata(data))
        meta = Original.of(emulator.get_image(image.id).meta)  # as recorded at upload
        assert meta is not None and meta.thumbhash and meta.size == size
        stored.append(image.id)
        metas.append(meta)
    html = page_markup(Delivery(DEV_ACCOUNT_HASH, domain="/"), stored[0], stored[1], metas[0], metas[1]).encode()
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
    holder["site"] = Site(f"http://127.0.0.1:{server.port}", large=metas[0])
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
            backgrounds = page.evaluate("() => [...document.images].map(i => getComputedStyle(i).backgroundImage)")
            assert all(b.startswith('url("data:image/png;base64,') for b in backgrounds)  # painted inline
            shot = Image.open(io.BytesIO(page.locator("#fixed").screenshot())).convert("RGB")
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

    # The placeholder was on screen while nothing had arrived: the photo's colours, not an empty white box.
    assert site.large is not None and site.large.thumbhash
    average = [round(c * 255) for c in thumbhash.average_rgba(thumbhash.parse(site.large.thumbhash))[:3]]
    shown = ImageStat.Stat(shot)
    assert all(abs(m - a) < 30 for m, a in zip(shown.mean, average, strict=True)), (shown.mean, average)
    assert shot.size == (120 * dpr, 120 * dpr)
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
    assert sorted(downloads) == sorted(wanted)  # one download per image, nothing else: placeholders are inline
