"""Private images through the Jinja filters (and so Flask's, which are the same): an API ``Image`` or an upload
record that requires signed URLs gets signed URLs from ``variant`` too, which the emulator's delivery serves."""

from __future__ import annotations

import time
from html import unescape

import httpx
import pytest
from imagegen import decode, photo_jpeg
from jinja2 import Environment

import cfvariants.jinja
from cfvariants import Delivery, PrivateImage, TemplateFilterError, image_ref, parse_url
from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadRecord, UploadState

MB = 1024 * 1024


def jinja(delivery: Delivery, **config: object) -> Environment:
    env = Environment(autoescape=True)
    cfvariants.jinja.install(env, delivery=delivery, **config)  # type: ignore[arg-type]
    return env


def ready_record(image_id: str, *, private: bool) -> UploadRecord:
    now = time.time()
    return UploadRecord(
        id="0" * 32, state=UploadState.READY, filename="scan.jpg", content_type="image/jpeg", size=1, private=private,
        custom_id=None, metadata={}, context={}, image_id=image_id, error=None, attempts=1, lease_until=None,
        enqueued_at=now, created_at=now, updated_at=now,
    )  # fmt: skip


def test_a_private_image_through_variant_is_signed_and_served(
    cf_client: ImagesClient, cf_delivery: Delivery, cf_http: httpx.Client
) -> None:
    original = photo_jpeg(300 * 1024, seed=7)
    image = cf_client.upload(original, require_signed_urls=True)
    assert image.require_signed_urls and image_ref(image).__class__ is PrivateImage
    env = jinja(cf_delivery)
    for value in (image, ready_record(image.id, private=True), PrivateImage(image.id)):
        url = unescape(env.from_string("{{ i | variant }}").render(i=value))
        assert "?exp=" in url and "&sig=" in url, value
        answer = cf_http.get(url)
        assert answer.status_code == 200 and decode(answer.content).size == decode(original).size
        assert cf_http.get(url.split("?")[0]).status_code == 403  # the unsigned URL the filter used to give
        exp = parse_url(url).exp
        assert exp is not None and abs(exp - (time.time() + 3600)) < 60
    markup = env.from_string("{{ i | cf_img('public', alt='Scan') }}").render(i=image)
    assert "&amp;sig=" in markup
    public = cf_client.upload(photo_jpeg(200 * 1024, seed=8))
    assert env.from_string("{{ i | variant }}").render(i=public) == cf_delivery.url(public.id)  # public: unsigned
    assert env.from_string("{{ r | variant }}").render(r=ready_record(public.id, private=False)) == cf_delivery.url(
        public.id
    )  # fmt: skip


def test_a_private_image_without_a_signing_key(cf_client: ImagesClient, cf_delivery: Delivery) -> None:
    image = cf_client.upload(photo_jpeg(150 * 1024, seed=9), require_signed_urls=True)
    unsigned = Delivery(cf_delivery.account_hash, domain=cf_delivery.domain)
    with pytest.raises(TemplateFilterError, match=r"no signing key is configured.*CFVARIANTS_SIGNING_KEY"):
        jinja(unsigned).from_string("{{ i | variant('public') }}").render(i=image)
    production = jinja(unsigned, on_error="fallback", placeholder="/static/none.png")
    assert production.from_string("{{ i | variant }}").render(i=image) == "/static/none.png"
    assert jinja(unsigned, on_error="fallback").from_string("{{ i | variant }}").render(i=image) == ""
