"""The tour: each feature of cfvariants with its template code beside what that code renders. The code shown is
the code run (each snippet is rendered by the app's own Jinja environment), on the sample photos (outside
Cloudflare Images, so through Image Transformations) and on the newest uploads (inside it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template
from markupsafe import Markup

from cfvariants.uploads import UploadQueue, UploadRecord, UploadState

from .samples import SAMPLES, SIZE

__all__ = ["SNIPPETS", "tour"]

tour = Blueprint("tour", __name__)

SNIPPETS = {
    "named": """<img src="{{ upload | variant('avatar') }}"
     alt="{{ title }}" width="240" height="240">""",
    "flexible": """<img src="{{ upload | variant('w=320,h=200,fit=cover') }}"
     alt="{{ title }}" width="320" height="200">""",
    "hosted": """<img src="{{ upload | variant('w=480,h=320,fit=cover') }}"
     alt="{{ title }}" width="480" height="320">""",
    "remote": """<img src="{{ sample | variant('w=480,h=320,fit=cover') }}"
     alt="{{ sample_title }}" width="480" height="320">""",
    "srcset": """{{ sample | cf_img('w=1280', alt=sample_title,
     widths=[320, 640, 960, 1280],
     sizes='(max-width: 760px) 100vw, 50vw',
     class='responsive', id='srcset-demo') }}""",
    "fixed": """{{ sample | cf_img(alt=sample_title, layout='fixed',
     width=96, height=96, original=original) }}""",
    "constrained": """{{ sample | cf_img(alt=sample_title, layout='constrained',
     width=480, height=320, original=original,
     placeholder='blur') }}""",
    "signed": """<img src="{{ private | signed_variant('avatar') }}"
     alt="{{ private_title }}" width="240" height="240">""",
    "unsigned": """<a href="{{ private.image_id | variant('avatar') }}"
   id="unsigned">{{ private.image_id | variant('avatar') }}</a>""",
}


@dataclass(frozen=True)
class Demo:
    code: str
    html: Markup


def _newest(queue: UploadQueue, state: UploadState, *, private: bool | None = None) -> UploadRecord | None:
    found = queue.store.recent(state=state, limit=50)
    return next((r for r in found if private is None or r.private is private), None)


def _title(record: UploadRecord | None) -> str:
    title = record.context.get("title") if record else None
    return title if isinstance(title, str) and title else (record.filename if record else "")


@tour.get("/tour")
def page() -> str:
    queue: UploadQueue = current_app.extensions["uploads"]
    hosted = _newest(queue, UploadState.READY, private=False)
    private = _newest(queue, UploadState.READY, private=True)
    values: dict[str, Any] = {
        "upload": hosted, "title": _title(hosted), "private": private, "private_title": _title(private),
        "sample": SAMPLES[0].url, "sample_title": SAMPLES[0].title, "original": SIZE,
    }  # fmt: skip
    needs = {"named": hosted, "flexible": hosted, "hosted": hosted, "signed": private, "unsigned": private}
    env = current_app.jinja_env
    demos = {
        name: Demo(code, Markup(env.from_string(code).render(values)))  # noqa: S704 - our snippets, autoescaped
        for name, code in SNIPPETS.items()
        if needs.get(name, True) is not None
    }
    examples = {state.value: _newest(queue, state) for state in UploadState}
    return render_template("tour.html", demos=demos, examples=examples, stats=queue.stats(), sample=SAMPLES[0])
