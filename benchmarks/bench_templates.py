"""Template adapters against the same page with precomputed URLs, in the same engine, autoescape on.

    python3 dev.py bench templates     (or: .venv/bin/python benchmarks/bench_templates.py [--quick])

Each page shows 1,000 distinct images (a gallery). The floor is the page whose URLs (or whole tags) were computed in
Python beforehand, so the ratio is what the adapter adds to a render. Warm: the server's steady state (the
Delivery's memo answers); cold: a Delivery with ``cache_size=0``, every URL built from scratch. Best of several
repeats, because on a shared machine the minimum is the least disturbed measurement. Every page's output is checked
equal to its floor's before timing.
"""

from __future__ import annotations

import asyncio
import sys
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django
from _results import publish
from django.conf import settings
from django.template import engines
from jinja2 import Environment

import cfvariants.jinja
from cfvariants import Delivery

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
QUICK = "--quick" in sys.argv
REPEAT = 3 if QUICK else 9
NUMBER = 2 if QUICK else 5
IDS = [str(uuid.uuid4()) for _ in range(1000)]


def per_page(render: Callable[[], object]) -> float:
    """Best-of-REPEAT microseconds per page render."""
    render()
    return min(timeit.repeat(render, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


@dataclass
class Row:
    name: str
    us: float
    floor_us: float
    target: float | None

    @property
    def ratio(self) -> float:
        return self.us / self.floor_us


class Photo:
    """A model object that says which image it is (read through ``image_ref``: the filters' slow path)."""

    __slots__ = ("image_id",)

    def __init__(self, image_id: str) -> None:
        self.image_id = image_id


def profiles(delivery: Delivery) -> list[dict[str, Any]]:
    """What a view hands the template: the stored id, a model object, a name, and (for the floors) precomputed
    results."""
    rows = []
    for n, image_id in enumerate(IDS):
        url = delivery.url(image_id, "w=200")
        rows.append({"image_url": image_id, "photo": Photo(image_id), "name": f"user {n}", "url": url})
    return rows


JINJA_PLAIN = '{% for p in profiles %}<img src="{{ p.url }}" alt="{{ p.name }}">{% endfor %}'
JINJA_VARIANT = (
    '{% for p in profiles %}<img src="{{ p.image_url | variant(\'w=200\') }}" alt="{{ p.name }}">{% endfor %}'
)
JINJA_OBJECTS = JINJA_VARIANT.replace("p.image_url", "p.photo")
JINJA_TAG_PLAIN = (
    '{% for p in profiles %}<img src="{{ p.url }}" alt="{{ p.name }}" loading="lazy" decoding="async">{% endfor %}'
)
JINJA_CF_IMG = "{% for p in profiles %}{{ p.image_url | cf_img('w=200', alt=p.name) }}{% endfor %}"

DJANGO_PLAIN = '{% for p in profiles %}<img src="{{ p.url }}" alt="{{ p.name }}">{% endfor %}'
DJANGO_VARIANT = (
    '{% load cfvariants %}{% for p in profiles %}<img src="{{ p.image_url|variant:\'w=200\' }}" alt="{{ p.name }}">'
    "{% endfor %}"
)
DJANGO_TAG_PLAIN = JINJA_TAG_PLAIN
DJANGO_CF_IMG = "{% load cfvariants %}{% for p in profiles %}{% cf_img p.image_url 'w=200' alt=p.name %}{% endfor %}"


def jinja_rows(warm: Delivery, cold: Delivery, context: dict[str, Any]) -> list[Row]:
    def env(delivery: Delivery | None, enable_async: bool = False) -> Environment:
        environment = Environment(autoescape=True, enable_async=enable_async)
        if delivery is not None:
            cfvariants.jinja.install(environment, delivery)
        return environment

    plain = env(None).from_string(JINJA_PLAIN)
    tag_plain = env(None).from_string(JINJA_TAG_PLAIN)
    pages = {
        "warm": env(warm).from_string(JINJA_VARIANT),
        "cold": env(cold).from_string(JINJA_VARIANT),
        "img": env(warm).from_string(JINJA_CF_IMG),
        "objects": env(warm).from_string(JINJA_OBJECTS),
    }
    async_plain = env(None, enable_async=True).from_string(JINJA_PLAIN)
    async_variant = env(warm, enable_async=True).from_string(JINJA_VARIANT)
    expected, expected_tags = plain.render(context), tag_plain.render(context)
    assert pages["warm"].render(context) == expected == pages["cold"].render(context)
    assert pages["img"].render(context) == expected_tags
    assert pages["objects"].render(context) == expected
    assert asyncio.run(async_variant.render_async(context)) == expected

    floor = per_page(lambda: plain.render(context))
    tag_floor = per_page(lambda: tag_plain.render(context))
    async_floor = per_page(lambda: asyncio.run(async_plain.render_async(context)))
    return [
        Row("Jinja variant filter (warm)", per_page(lambda: pages["warm"].render(context)), floor, 1.5),
        Row("Jinja variant filter (cold)", per_page(lambda: pages["cold"].render(context)), floor, None),
        Row(
            "Jinja variant filter, async env",
            per_page(lambda: asyncio.run(async_variant.render_async(context))),
            async_floor,
            None,
        ),
        Row("Jinja variant filter, model objects", per_page(lambda: pages["objects"].render(context)), floor, None),
        Row("Jinja cf_img filter (warm)", per_page(lambda: pages["img"].render(context)), tag_floor, None),
    ]


def django_rows(context: dict[str, Any]) -> list[Row]:
    engine = engines["django"]
    plain = engine.from_string(DJANGO_PLAIN)
    tag_plain = engine.from_string(DJANGO_TAG_PLAIN)
    variant = engine.from_string(DJANGO_VARIANT)
    cf_img = engine.from_string(DJANGO_CF_IMG)
    assert variant.render(context) == plain.render(context)
    assert cf_img.render(context) == tag_plain.render(context)
    floor = per_page(lambda: plain.render(context))
    tag_floor = per_page(lambda: tag_plain.render(context))
    return [
        Row("Django variant filter (warm)", per_page(lambda: variant.render(context)), floor, None),
        Row("Django cf_img tag (warm)", per_page(lambda: cf_img.render(context)), tag_floor, None),
    ]


def main() -> None:
    warm = Delivery(HASH)
    cold = Delivery(HASH, cache_size=0)
    context = {"profiles": profiles(warm)}
    settings.configure(
        INSTALLED_APPS=["cfvariants.django"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        CFVARIANTS={"ACCOUNT_HASH": HASH, "ON_ERROR": "raise"},
    )
    django.setup()
    rows = jinja_rows(warm, cold, context) + django_rows(context)

    print(f"1,000 images per page, best of {REPEAT} x {NUMBER} renders; floor = same page with precomputed URLs/tags")
    print(f"{'case':36s} {'us/page':>10s} {'floor us':>10s} {'ratio':>7s} {'target':>7s}")
    for row in rows:
        target = f"<={row.target:g}" if row.target is not None else ""
        verdict = "" if row.target is None else ("  ok" if row.ratio <= row.target else "  MISSED")
        print(f"{row.name:36s} {row.us:10.0f} {row.floor_us:10.0f} {row.ratio:7.2f} {target:>7s}{verdict}")
    publish(
        "templates",
        ["page of 1,000 images", "µs per page", "floor µs", "ratio to the floor", "target"],
        [
            [r.name, f"{r.us:.0f}", f"{r.floor_us:.0f}", f"{r.ratio:.2f}", f"≤ {r.target:g}" if r.target else ""]
            for r in rows
        ],
        f"Best of {REPEAT} × {NUMBER} renders. The floor is the same page with its URLs (or whole tags) computed "
        "beforehand, in the same engine, autoescape on; cold is a `Delivery(cache_size=0)`.",
    )


if __name__ == "__main__":
    main()
