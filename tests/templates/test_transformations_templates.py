"""Templates take any image: files of FileSystemStorage and other paths/URLs go through Image Transformations.

Django: a ``FieldFile`` of the default storage through every filter and tag; in development the mounted route
serves the URL, and the image it returns is measured. In production: the zone's URL, or without a zone an error
in debug and tests and the plain URL otherwise. Jinja and Flask likewise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import imagegen
import pytest
from django_project import setup

setup()

from django.core.files.storage import FileSystemStorage  # noqa: E402 - after settings are configured
from django.template import engines  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django_project.gallery.models import LocalProfile, Profile  # noqa: E402
from flask import Flask, render_template_string  # noqa: E402
from jinja2 import Environment  # noqa: E402

from cfvariants import (  # noqa: E402
    Delivery,
    RemoteImage,
    SettingsError,
    TemplateFilterError,
    Transformations,
)
from cfvariants._templating import NoZoneError  # noqa: E402
from cfvariants.django import _conf as conf  # noqa: E402
from cfvariants.flask import CFImages  # noqa: E402
from cfvariants.jinja import install  # noqa: E402

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
PHOTO = imagegen.photo_jpeg(300_000, seed=5)
ENV_VARS = ("CF_ACCT_ID", "CF_IMG_TOKEN", "CF_IMG_HASH", "CF_IMG_SIGNING_KEY", "CF_IMG_DOMAIN", "CF_IMG_ZONE",
            "CF_API_BASE", "ENV_NAME")  # fmt: skip
TAGS = {
    "variant": "{{ p.image|variant:'w=200' }}",
    "srcset": "{{ p.image|srcset:'200,400' }}",
    "cf_url": "{% cf_url p.image width=200 %}",
    "cf_srcset": "{% cf_srcset p.image 'w=200' widths='200,400' %}",
    "cf_img": "{% cf_img p.image 'w=200' alt='Ada' widths='200,400' %}",
    "cf_picture": "{% cf_picture p.image 'w=200' alt='Ada' formats='webp' %}",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    conf.reset()
    yield
    conf.reset()


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    """MEDIA_ROOT with one photo at avatars/ada.jpg, served under /media/."""
    root = tmp_path / "media"
    (root / "avatars").mkdir(parents=True)
    (root / "avatars" / "ada.jpg").write_bytes(PHOTO)
    with override_settings(MEDIA_ROOT=str(root), MEDIA_URL="/media/"):
        yield root


@pytest.fixture
def production() -> Iterator[None]:
    teardown_test_environment()
    try:
        yield
    finally:
        setup_test_environment()


def render(source: str, **context: Any) -> str:
    return engines["django"].from_string("{% load cfvariants %}" + source).render(context)


def local_profile() -> LocalProfile:
    return LocalProfile(name="Ada", image="avatars/ada.jpg")


def urls_in(markup: str) -> list[str]:
    return re.findall(r"(/cdn-cgi/image/[^\s\"']+)", unescape(markup))


# -- Django -----------------------------------------------------------------------------------------------------------


def test_the_storage_decides_not_the_string(media: Path) -> None:
    assert isinstance(local_profile().image.storage, FileSystemStorage)
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH, "ZONE": "www.example.com"}):
        remote = render("{{ p.image|variant:'w=200' }}", p=local_profile())
        hosted = render("{{ p.image|variant:'w=200' }}", p=Profile(name="Ada", image="avatars/ada.jpg"))
    assert remote == "https://www.example.com/cdn-cgi/image/w=200/media/avatars/ada.jpg"
    assert hosted == f"https://imagedelivery.net/{HASH}/avatars/ada.jpg/w=200"  # same name, Cloudflare storage


@pytest.mark.parametrize("tag", sorted(TAGS))
def test_in_development_every_filter_and_tag_renders_a_url_the_site_serves_at_that_width(
    media: Path, tmp_path: Path, tag: str
) -> None:
    settings = {"DEV": True, "DATA_DIR": str(tmp_path / "cfimages")}
    with override_settings(CFVARIANTS=settings, ROOT_URLCONF="django_project.cf_urls"):
        out = render(TAGS[tag], p=local_profile())
        urls = urls_in(out)
        assert urls, out
        client = Client()
        for url in urls:
            assert url.endswith("/media/avatars/ada.jpg")
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.content[:200])
            expected = int(re.search(r"w=(\d+)", url).group(1)) * (2 if "dpr=2" in url else 1)  # type: ignore[union-attr]
            assert imagegen.decode(answer.content).width == expected


def test_the_dev_route_reads_media_only_and_is_off_outside_development(media: Path, tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text("SECRET = 1")
    with override_settings(
        CFVARIANTS={"DEV": True, "DATA_DIR": str(tmp_path / "cfimages")}, ROOT_URLCONF="django_project.cf_urls"
    ):
        client = Client()
        assert client.get("/cdn-cgi/image/w=200/media/../settings.py").status_code == 400
        assert client.get("/cdn-cgi/image/w=200/media/%2e%2e/settings.py").status_code == 400
        assert client.get("/cdn-cgi/image/w=200/static/x.png").status_code == 400
        assert client.get("/cdn-cgi/image/w=200/https://example.net/a.jpg").status_code == 400
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH}, ROOT_URLCONF="django_project.cf_urls"):
        assert Client().get("/cdn-cgi/image/w=200/media/avatars/ada.jpg").status_code == 404


def test_without_a_zone_debug_and_tests_raise_naming_the_setting(media: Path) -> None:
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH}):
        for tag, source in TAGS.items():
            with pytest.raises(TemplateFilterError, match=r"CFVARIANTS\['ZONE'\]") as info:
                render(source, p=local_profile())
            assert isinstance(info.value.__cause__, NoZoneError), tag


def test_without_a_zone_production_renders_the_plain_url_of_the_same_image(
    media: Path, production: None, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH}), caplog.at_level(logging.WARNING):
        assert render(TAGS["variant"], p=local_profile()) == "/media/avatars/ada.jpg"
        assert render(TAGS["cf_url"], p=local_profile()) == "/media/avatars/ada.jpg"
        assert render(TAGS["srcset"], p=local_profile()) == "/media/avatars/ada.jpg"
        img = render(TAGS["cf_img"], p=local_profile())
    assert img == '<img src="/media/avatars/ada.jpg" alt="Ada" loading="lazy" decoding="async">'
    assert "imagedelivery" not in img
    assert "CF_IMG_ZONE" in caplog.text


def test_with_a_zone_in_production_every_tag_uses_it(media: Path, production: None) -> None:
    with override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH, "ZONE": "www.example.com"}):
        out = render(TAGS["cf_img"], p=local_profile())
    prefix = "https://www.example.com/cdn-cgi/image"
    assert f'src="{prefix}/w=200/media/avatars/ada.jpg"' in out
    assert f"{prefix}/w=200/media/avatars/ada.jpg 200w, {prefix}/w=400/media/avatars/ada.jpg 400w" in out


def test_signed_urls_of_remote_images_are_refused(media: Path) -> None:
    with (
        override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH, "ZONE": "www.example.com"}),
        pytest.raises(TemplateFilterError, match="cannot get a signed URL"),
    ):
        render("{{ p.image|signed_variant:'avatar' }}", p=local_profile())


# -- Jinja ------------------------------------------------------------------------------------------------------------


def test_jinja_paths_and_other_urls_use_transformations_and_ids_delivery() -> None:
    env = Environment(autoescape=True)
    install(env, Delivery(HASH), transformations=Transformations("cdn.example.com", defaults={"format": "auto"}))
    source = (
        "{{ a | variant('w=200') }}|{{ b | variant(width=100) }}|{{ c | variant('w=50') }}|{{ d | variant('w=9') }}"
    )
    out = env.from_string(source).render(
        a="/static/cat.jpg",
        b="https://bucket.s3.amazonaws.com/cat.jpg",
        c="083eb7b2",
        d="https://cdn.example.com/cdn-cgi/image/w=200/static/cat.jpg",
    )
    assert out.split("|") == [
        "https://cdn.example.com/cdn-cgi/image/w=200,f=auto/static/cat.jpg",
        "https://cdn.example.com/cdn-cgi/image/w=100,f=auto/https://bucket.s3.amazonaws.com/cat.jpg",
        f"https://imagedelivery.net/{HASH}/083eb7b2/w=50",
        "https://cdn.example.com/cdn-cgi/image/w=9,f=auto/static/cat.jpg",  # a transformation URL: options swapped
    ]


def test_jinja_without_a_zone_raises_or_falls_back_to_the_same_image(caplog: pytest.LogCaptureFixture) -> None:
    strict, lenient = Environment(), Environment()
    install(strict, Delivery(HASH))
    install(lenient, Delivery(HASH), on_error="fallback")
    with pytest.raises(TemplateFilterError, match="CF_IMG_ZONE"):
        strict.from_string("{{ a | variant('w=200') }}").render(a="/static/cat.jpg")
    with caplog.at_level(logging.WARNING):
        out = lenient.from_string("{{ a | variant('w=200') }}|{{ a | cf_img('w=200', alt='') }}").render(
            a=RemoteImage("https://bucket.s3.amazonaws.com/cat.jpg")
        )
    assert out == (
        'https://bucket.s3.amazonaws.com/cat.jpg|<img src="https://bucket.s3.amazonaws.com/cat.jpg" alt="" '
        'loading="lazy" decoding="async">'
    )


# -- Flask ------------------------------------------------------------------------------------------------------------


def test_flask_in_development_serves_static_images_at_the_width_asked_for(tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "img").mkdir(parents=True)
    (static / "img" / "cat.jpg").write_bytes(PHOTO)
    (tmp_path / "secret.jpg").write_bytes(PHOTO)
    app = Flask(__name__, instance_path=str(tmp_path / "instance"), static_folder=str(static))
    app.config.update(CFVARIANTS_DEV=True, TESTING=True)
    CFImages(app)
    with app.test_request_context():
        out = render_template_string(
            "{{ url_for('static', filename='img/cat.jpg') | cf_img('w=240', alt='cat', widths=[240, 480]) }}"
        )
    client = app.test_client()
    urls = urls_in(out)
    assert len(urls) == 3 and urls[0] == "/cdn-cgi/image/w=240/static/img/cat.jpg"
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200
        assert imagegen.decode(answer.data).width == int(re.search(r"w=(\d+)", url).group(1))  # type: ignore[union-attr]
    assert client.get("/cdn-cgi/image/w=240/static/../secret.jpg").status_code == 400
    assert client.get("/cdn-cgi/image/w=240/static/%2e%2e/secret.jpg").status_code == 400


def test_flask_in_production_uses_the_configured_zone(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(CFVARIANTS_ACCOUNT_HASH=HASH, CFVARIANTS_ZONE="www.example.com")
    CFImages(app)
    with app.test_request_context():
        out = render_template_string("{{ '/static/a.png' | variant('w=10') }}|{{ 'abc' | variant('w=10') }}")
    assert out == f"https://www.example.com/cdn-cgi/image/w=10/static/a.png|https://imagedelivery.net/{HASH}/abc/w=10"


def test_a_site_opts_in_to_format_auto_with_transform_defaults(media: Path, tmp_path: Path) -> None:
    with override_settings(
        CFVARIANTS={"ACCOUNT_HASH": HASH, "ZONE": "www.example.com", "TRANSFORM_DEFAULTS": "f=auto"}
    ):
        assert render(TAGS["variant"], p=local_profile()) == (
            "https://www.example.com/cdn-cgi/image/w=200,f=auto/media/avatars/ada.jpg"
        )
    with (
        override_settings(CFVARIANTS={"ACCOUNT_HASH": HASH, "TRANSFORM_DEFAULTS": "avatar"}),
        pytest.raises(conf.ConfigurationError, match=r"TRANSFORM_DEFAULTS.*named variant"),
    ):
        conf.load()
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(CFVARIANTS_ZONE="www.example.com", CFVARIANTS_TRANSFORM_DEFAULTS={"format": "auto"})
    CFImages(app)
    with app.test_request_context():
        out = render_template_string("{{ '/static/a.png' | variant('w=10') }}")
    assert out == "https://www.example.com/cdn-cgi/image/w=10,f=auto/static/a.png"
    bad = Flask(__name__, instance_path=str(tmp_path))
    bad.config.update(CFVARIANTS_TRANSFORM_DEFAULTS="w=abc")
    with pytest.raises(SettingsError, match="width must be"):
        CFImages(bad)
