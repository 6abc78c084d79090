"""The playground: pick an image, change its options with form controls, and see the canonical option string,
the URL, the template lines and the image itself. Everything is computed here with the library (``Options``
for the options, the app's template filters for the URL), for the page as for its script, which only sends the
form and shows the answer; without JavaScript the form's submit gives the same page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_from_directory

from cfvariants import ArgumentError, CFVariantsError, Options
from cfvariants.flask import get_state
from cfvariants.uploads import UploadQueue, UploadRecord, UploadState

from .samples import SAMPLES, URL_PREFIX, ensure_sample

__all__ = ["CONTROLS", "playground"]

playground = Blueprint("playground", __name__)


@dataclass(frozen=True)
class Control:
    """One form control: the ``Options`` keyword it sets, its label, and its choices (a <select>) or bounds."""

    name: str
    label: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float = 1
    help: str = ""


CONTROLS = (
    Control("width", "Width (px)", low=1, high=4000, help="w="),
    Control("height", "Height (px)", low=1, high=4000, help="h="),
    Control(
        "fit", "Fit", ("scale-down", "contain", "cover", "crop", "pad", "squeeze"), help="how width and height apply"
    ),
    Control("gravity", "Gravity", ("auto", "face", "left", "right", "top", "bottom"), help="where to crop from"),
    Control("quality", "Quality", low=1, high=100, help="1-100"),
    Control("format", "Format", ("auto", "avif", "webp", "jpeg", "baseline-jpeg"), help="auto: by the browser"),
    Control("blur", "Blur", low=1, high=250, help="radius 1-250"),
    Control("sharpen", "Sharpen", low=0, high=10, step=0.5, help="0-10"),
    Control("brightness", "Brightness", low=0, high=5, step=0.1, help="1 = unchanged"),
    Control("contrast", "Contrast", low=0, high=5, step=0.1, help="1 = unchanged"),
    Control("saturation", "Saturation", low=0, high=5, step=0.1, help="0 = grey"),
    Control("rotate", "Rotate", ("90", "180", "270")),
    Control("flip", "Flip", ("h", "v", "hv"), help="h, v or both"),
    Control("dpr", "Device pixel ratio", low=1, high=3, step=0.5, help="multiplies width and height"),
)
DEFAULTS = {"width": "640", "fit": "scale-down", "quality": "85"}


@dataclass(frozen=True)
class Source:
    """An image to play with: a sample (outside Cloudflare Images: Image Transformations) or a stored upload."""

    key: str
    label: str
    ref: object
    hosted: bool


def _queue() -> UploadQueue:
    queue: UploadQueue = current_app.extensions["uploads"]
    return queue


def _sources() -> list[Source]:
    found = []
    if get_state().transformations is not None:
        found += [
            Source(f"sample:{s.name}", f"{s.title} (sample, Image Transformations)", s.url, False) for s in SAMPLES
        ]
    ready: list[UploadRecord] = _queue().store.recent(state=UploadState.READY, limit=50)
    found += [Source(f"upload:{r.id}", f"{r.context.get('title') or r.filename} (upload, Cloudflare Images)", r, True)
              for r in ready if not r.private]  # fmt: skip
    return found


def compute(source: Source, form: dict[str, str]) -> dict[str, Any]:
    """The options of ``form`` through the library: their canonical string, the URL and the template lines,
    or the library's error naming the bad value."""
    given = {name: value for name, value in form.items() if value}
    try:
        options = Options(**given)
        if not str(options):
            raise ArgumentError("choose at least one option, e.g. a width")
        url = get_state().filters.variant(source.ref, str(options))
    except CFVariantsError as exc:
        return {"ok": False, "error": str(exc)}
    text = str(options)
    name = "upload" if source.hosted else "'" + str(source.ref) + "'"
    return {
        "ok": True,
        "options": text,
        "url": url,
        "jinja": f"{{{{ {name} | variant('{text}') }}}}",
        "django": f"{{{{ {name}|variant:'{text}' }}}}",
        "jinja_img": f"{{{{ {name} | cf_img('{text}', alt='...') }}}}",
        "builder": ("Delivery" if source.hosted else "Transformations") + f".url(..., '{text}')",
    }


@playground.get("/playground")
def page() -> Any:
    sources = _sources()
    if not sources:
        return render_template("playground.html", sources=[], controls=CONTROLS)
    chosen = next((s for s in sources if s.key == request.args.get("src")), sources[0])
    submitted = "src" in request.args
    form = {
        c.name: request.args.get(c.name, "" if submitted else DEFAULTS.get(c.name, "")).strip()[:40] for c in CONTROLS
    }
    result = compute(chosen, form)
    status = 200 if result["ok"] else 400
    if request.accept_mimetypes.best == "application/json":
        return jsonify(result), status
    return render_template("playground.html", sources=sources, chosen=chosen, form=form, controls=CONTROLS,
                           result=result), status  # fmt: skip


@playground.get(URL_PREFIX + "<name>")
def sample(name: str) -> Response:
    """The sample's original file (what Image Transformations fetch from the site)."""
    sample = next((s for s in SAMPLES if s.name == name), None)
    if sample is None:
        abort(404, description="There is no such sample image.")
    directory: Path = current_app.extensions["samples_dir"]
    ensure_sample(directory, sample)
    return send_from_directory(directory, name, max_age=86400)
