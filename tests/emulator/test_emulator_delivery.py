"""Delivery: both URL forms, named and flexible variants on real pixels, negotiation, caching headers, signed
URLs for private images, SVG, and Cloudflare's 9xxx error codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import imagegen
import pytest
from emulator_helpers import API, FakeClock, in_process, ok, upload
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from cfvariants import Delivery, SigningKey
from cfvariants.emulator import (
    DEV_ACCOUNT_HASH,
    DEV_API_TOKEN,
    DEV_SIGNING_KEY,
    Emulator,
    EmulatorApp,
    EmulatorServer,
    create_app,
)

ACCEPT_ALL = {"Accept": "image/avif,image/webp,*/*"}


def _upload(http: httpx.Client, data: bytes, **fields: Any) -> str:
    image_id: str = ok(upload(http, data, **fields))["id"]
    return image_id


@pytest.fixture
def photo(cf_http: httpx.Client) -> str:
    return _upload(cf_http, imagegen.jpeg(800, 600, pattern="quadrants"))


def _size(response: httpx.Response) -> tuple[int, int]:
    assert response.status_code == 200, response.text
    width, height = imagegen.decode(response.content).size
    return width, height


def _resized_err(response: httpx.Response) -> str | None:
    value: str | None = response.headers.get("cf-resized")
    return value


# -- URL forms --------------------------------------------------------------------------------------------------


def test_both_url_forms_serve_the_same_image(cf_http: httpx.Client, photo: str) -> None:
    custom = cf_http.get(f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/{photo}/public")
    shared = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/public")
    assert custom.status_code == shared.status_code == 200
    assert custom.content == shared.content
    assert custom.headers["content-type"] == "image/jpeg" and imagegen.sniff(custom.content) == "jpeg"
    assert custom.headers["access-control-allow-origin"] == "*"


def test_urls_built_by_the_core_are_served(cf_http: httpx.Client, cf_delivery: Delivery, photo: str) -> None:
    image = ok(cf_http.get(f"{API}/v1/{photo}"))
    assert image["variants"] == [cf_delivery.url(photo, "public")]
    assert _size(cf_http.get(cf_delivery.url(photo, width=200))) == (200, 150)


def test_custom_ids_with_slashes_spaces_and_unicode_are_delivered(cf_http: httpx.Client, cf_delivery: Delivery) -> None:
    image_id = _upload(cf_http, imagegen.png(20, 10), id="users/7/my photo é.png")
    url = cf_delivery.url(image_id, "public")
    assert "/users/7/my%20photo%20%C3%A9.png/public" in url
    assert ok(cf_http.get(f"{API}/v1/{image_id.replace('/', '%2F')}"))["variants"] == [url]
    assert _size(cf_http.get(url)) == (20, 10)


# -- named variants ---------------------------------------------------------------------------------------------


def test_the_public_variant_scales_down_to_1366x768(cf_http: httpx.Client) -> None:
    big = _upload(cf_http, imagegen.jpeg(2000, 1500))
    small = _upload(cf_http, imagegen.jpeg(300, 200))
    assert _size(cf_http.get(f"/{DEV_ACCOUNT_HASH}/{big}/public")) == (1024, 768)
    assert _size(cf_http.get(f"/{DEV_ACCOUNT_HASH}/{small}/public")) == (300, 200)


def test_named_variants_apply_their_stored_options(cf_http: httpx.Client, photo: str) -> None:
    options = {"fit": "cover", "width": 100, "height": 100, "metadata": "none"}
    ok(cf_http.post(f"{API}/v1/variants", json={"id": "square", "options": options}))
    response = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/square")
    assert _size(response) == (100, 100)


def test_updating_a_variant_changes_what_it_delivers(cf_http: httpx.Client, photo: str) -> None:
    options = {"fit": "scale-down", "width": 200, "height": 200, "metadata": "none"}
    ok(cf_http.post(f"{API}/v1/variants", json={"id": "card", "options": options}))
    url = f"/{DEV_ACCOUNT_HASH}/{photo}/card"
    assert _size(cf_http.get(url)) == (200, 150)
    ok(cf_http.patch(f"{API}/v1/variants/card", json={"options": {**options, "width": 100}}))
    assert _size(cf_http.get(url)) == (100, 75)
    ok(cf_http.delete(f"{API}/v1/variants/card"))
    missing = cf_http.get(url)
    assert (missing.status_code, _resized_err(missing)) == (404, "err=9431")


# -- flexible variants ------------------------------------------------------------------------------------------


def test_flexible_options_are_applied_on_real_pixels(cf_http: httpx.Client, photo: str) -> None:
    base = f"/{DEV_ACCOUNT_HASH}/{photo}"
    assert _size(cf_http.get(f"{base}/w=200")) == (200, 150)
    assert _size(cf_http.get(f"{base}/w=100,h=100,fit=cover")) == (100, 100)
    assert _size(cf_http.get(f"{base}/width=100,dpr=2")) == (200, 150)
    for gravity, quadrant in (("0x0", "top-left"), ("1x0", "top-right")):
        strip = cf_http.get(f"{base}/w=100,h=300,fit=crop,g={gravity}")
        assert _size(strip) == (100, 300)
        assert imagegen.quadrant_at(imagegen.decode(strip.content).convert("RGB"), 50, 20) == quadrant


def test_format_is_negotiated_from_accept_and_varies_on_it(cf_http: httpx.Client, photo: str) -> None:
    url = f"/{DEV_ACCOUNT_HASH}/{photo}/w=200"
    answers = {
        accept: cf_http.get(url, headers={"Accept": accept})
        for accept in ("image/avif,image/webp,*/*", "image/webp,*/*", "image/png,*/*")
    }
    assert [imagegen.sniff(r.content) for r in answers.values()] == ["avif", "webp", "jpeg"]
    assert [r.headers["content-type"] for r in answers.values()] == ["image/avif", "image/webp", "image/jpeg"]
    assert all(r.headers["vary"] == "Accept" for r in answers.values())
    explicit = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/w=200,f=webp", headers={"Accept": "*/*"})
    assert imagegen.sniff(explicit.content) == "webp" and "vary" not in explicit.headers


def test_format_json_describes_the_image(cf_http: httpx.Client, photo: str) -> None:
    response = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/w=200,f=json")
    assert response.headers["content-type"].startswith("application/json")
    info = json.loads(response.content)
    assert (info["width"], info["height"]) == (200, 150)


def test_invalid_options_are_9401_naming_the_bad_part(cf_http: httpx.Client, photo: str) -> None:
    response = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/w=abc")
    assert (response.status_code, _resized_err(response)) == (400, "err=9401")
    assert "w=abc" in response.text and response.headers["content-type"].startswith("text/plain")
    typo = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/widht=100")
    assert typo.status_code == 400 and "did you mean" in typo.text


def test_options_the_emulator_cannot_honour_are_named_in_a_header(cf_http: httpx.Client, photo: str) -> None:
    response = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/w=100,segment=foreground,upscale=generate")
    assert response.status_code == 200
    ignored = response.headers["cf-emulator-ignored"].split(",")
    assert "segment" in ignored and any(name.startswith("upscale") for name in ignored)
    assert "cf-emulator-ignored" not in cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/w=100").headers


def test_flexible_variants_can_be_switched_off(cf_http: httpx.Client, photo: str) -> None:
    ok(cf_http.patch(f"{API}/v1/config", json={"flexible_variants": False}))
    response = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/w=200")
    assert (response.status_code, _resized_err(response)) == (403, "err=9429")
    assert cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/public").status_code == 200


# -- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/{hash}/{id}/w=20000,fit=scale-up", 403, 9413),
        ("/cdn-cgi/imagedelivery/{hash}/only-two", 403, 9426),
        ("/cdn-cgi/imagedelivery/{hash}//public", 403, 9426),
        ("/otherhash/{id}/public", 403, 9427),
        ("/{hash}/00000000-0000-0000-0000-000000000000/public", 404, 9431),
        ("/{hash}/{id}/nosuchvariant", 404, 9431),
        ("/{hash}/{id}/bad-name!", 400, 9401),
    ],
)
def test_delivery_errors_carry_cloudflare_codes(
    cf_http: httpx.Client, photo: str, path: str, status: int, code: int
) -> None:
    response = cf_http.get(path.format(hash=DEV_ACCOUNT_HASH, id=photo))
    assert (response.status_code, _resized_err(response)) == (status, f"err={code}")
    assert response.text.startswith(f"ERROR {code}:")
    assert response.headers["cache-control"] == "no-store"


def test_delivery_answers_head_and_refuses_other_methods(cf_http: httpx.Client, photo: str) -> None:
    url = f"/{DEV_ACCOUNT_HASH}/{photo}/w=50"
    head = cf_http.head(url)
    get = cf_http.get(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content)) and head.headers["etag"] == get.headers["etag"]
    posted = cf_http.post(url)
    assert posted.status_code == 405 and posted.headers["allow"] == "GET, HEAD"


# -- caching ----------------------------------------------------------------------------------------------------


def test_responses_have_a_strong_etag_and_answer_304(cf_http: httpx.Client, photo: str) -> None:
    url = f"/{DEV_ACCOUNT_HASH}/{photo}/w=120"
    first = cf_http.get(url, headers=ACCEPT_ALL)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "public, max-age=172800, stale-while-revalidate=7200"
    again = cf_http.get(url, headers=ACCEPT_ALL)
    assert (again.content, again.headers["etag"]) == (first.content, etag)
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        not_modified = cf_http.get(url, headers={**ACCEPT_ALL, "If-None-Match": header})
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == etag and not_modified.headers["vary"] == "Accept"
    assert cf_http.get(url, headers={**ACCEPT_ALL, "If-None-Match": '"other"'}).status_code == 200
    other_format = cf_http.get(url, headers={"Accept": "*/*"})
    assert other_format.headers["etag"] != etag


def test_browser_ttl_from_the_account_and_from_a_variant(cf_http: httpx.Client, photo: str) -> None:
    ok(cf_http.patch(f"{API}/v1/config", json={"browser_ttl": 3600}))
    assert cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/w=10").headers["cache-control"].startswith("public, max-age=3600,")
    options = {"fit": "contain", "width": 10, "height": 10, "metadata": "none", "browser_ttl": 86400}
    ok(cf_http.post(f"{API}/v1/variants", json={"id": "tiny", "options": options}))
    assert "max-age=86400," in cf_http.get(f"/{DEV_ACCOUNT_HASH}/{photo}/tiny").headers["cache-control"]


def test_a_cached_render_is_served_without_the_original(
    cf_http: httpx.Client, cf_emulator: Emulator, photo: str
) -> None:
    url = f"/{DEV_ACCOUNT_HASH}/{photo}/w=64"
    first = cf_http.get(url)
    record = cf_emulator.get_image(photo)
    assert record.file_key is not None
    cf_emulator.originals.path(record.file_key).unlink()  # only the cache can answer now
    assert cf_http.get(url).content == first.content


def test_deleting_an_image_purges_its_cache_and_a_reupload_is_fresh(
    cf_http: httpx.Client, cf_emulator: Emulator
) -> None:
    _upload(cf_http, imagegen.jpeg(100, 100, pattern=(230, 20, 20)), id="avatar.jpg")
    url = f"/{DEV_ACCOUNT_HASH}/avatar.jpg/w=10"
    red = imagegen.decode(cf_http.get(url).content).convert("RGB").getpixel((5, 5))
    assert list((cf_emulator.config.data_dir / "cache").iterdir())
    ok(cf_http.delete(f"{API}/v1/avatar.jpg"))
    assert not list((cf_emulator.config.data_dir / "cache").iterdir())
    _upload(cf_http, imagegen.jpeg(100, 100, pattern=(20, 20, 230)), id="avatar.jpg")
    blue = imagegen.decode(cf_http.get(url).content).convert("RGB").getpixel((5, 5))
    assert red[0] > 200 > blue[0] and blue[2] > 200  # type: ignore[index]


# -- private images ---------------------------------------------------------------------------------------------


@pytest.fixture
def private(cf_http: httpx.Client) -> str:
    return _upload(cf_http, imagegen.jpeg(300, 200), requireSignedURLs="true")


def test_private_images_need_a_signature(cf_http: httpx.Client, cf_delivery: Delivery, private: str) -> None:
    unsigned = cf_http.get(cf_delivery.url(private, "public"))
    assert (unsigned.status_code, _resized_err(unsigned)) == (403, "err=9425")
    assert "no exp and sig" in unsigned.text
    signed = cf_http.get(cf_delivery.signed_url(private, "public", expires_in=600))
    assert signed.status_code == 200 and imagegen.sniff(signed.content) == "jpeg"
    cache_control = signed.headers["cache-control"]
    assert cache_control.startswith("private, max-age=") and 590 <= int(cache_control.rsplit("=", 1)[1]) <= 600


def test_signatures_for_the_shared_domain_form_are_checked_on_its_path(cf_http: httpx.Client, private: str) -> None:
    shared = Delivery(DEV_ACCOUNT_HASH, signing_key=DEV_SIGNING_KEY)
    signed = shared.signed_url(private, "public", expires_in=600)
    local = signed.replace("https://imagedelivery.net", "")
    assert cf_http.get(local).status_code == 200
    # the same signature does not cover the custom-domain path (the prefix is part of the message)
    assert cf_http.get(f"/cdn-cgi/imagedelivery{local}").status_code == 403


def test_tampered_or_foreign_signatures_are_refused(cf_http: httpx.Client, cf_delivery: Delivery, private: str) -> None:
    signed = cf_delivery.signed_url(private, "public", expires_in=600)
    flipped = signed[:-1] + ("0" if signed[-1] != "0" else "1")
    assert "does not match" in cf_http.get(flipped).text
    longer = signed.replace("exp=", "exp=1")
    assert cf_http.get(longer).status_code == 403
    stranger = Delivery(DEV_ACCOUNT_HASH, domain="http://cfimages.test", signing_key="not-the-key")
    assert cf_http.get(stranger.signed_url(private, "public", expires_in=600)).status_code == 403


def test_any_key_of_the_account_verifies(cf_http: httpx.Client, private: str) -> None:
    keys = ok(cf_http.put(f"{API}/v1/keys/second"))["keys"]
    second = next(k["value"] for k in keys if k["name"] == "second")
    delivery = Delivery(DEV_ACCOUNT_HASH, domain="http://cfimages.test", signing_key=second)
    assert cf_http.get(delivery.signed_url(private, "public", expires_in=60)).status_code == 200
    ok(cf_http.delete(f"{API}/v1/keys/second"))
    assert cf_http.get(delivery.signed_url(private, "public", expires_in=60)).status_code == 403


def test_signed_urls_expire(tmp_path: Path) -> None:
    clock = FakeClock()
    app = create_app(data_dir=tmp_path / "d", clock=clock, base_url="http://cfimages.test")
    with in_process(app, token=DEV_API_TOKEN) as http:
        image_id = _upload(http, imagegen.jpeg(50, 50), requireSignedURLs="true")
        delivery = Delivery(DEV_ACCOUNT_HASH, domain="http://cfimages.test", signing_key=DEV_SIGNING_KEY)
        url = delivery.signed_url(image_id, "public", expires_at=clock.now + 60)
        assert http.get(url).status_code == 200
        clock.advance(61)
        expired = http.get(url)
        assert (expired.status_code, _resized_err(expired)) == (403, "err=9425")
        assert "expired" in expired.text
    app.emulator.close()


def test_private_images_cannot_use_flexible_variants(cf_http: httpx.Client, private: str) -> None:
    signer = SigningKey(DEV_SIGNING_KEY)
    path = f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/{private}/w=100"
    response = cf_http.get(f"{path}?exp=9999999999&sig={signer.hexdigest(f'{path}?exp=9999999999')}")
    assert (response.status_code, _resized_err(response)) == (403, "err=9425")
    assert "flexible" in response.text


def test_variants_that_never_require_signed_urls_serve_private_images(cf_http: httpx.Client, private: str) -> None:
    options = {"fit": "scale-down", "width": 100, "height": 100, "metadata": "none"}
    ok(cf_http.post(f"{API}/v1/variants", json={"id": "open", "options": options, "neverRequireSignedURLs": True}))
    response = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{private}/open")
    assert _size(response) == (100, 67)
    assert response.headers["cache-control"].startswith("public,")


def test_undocumented_signature_forms_only_in_lenient_mode(tmp_path: Path) -> None:
    signer = SigningKey(DEV_SIGNING_KEY)
    for lenient, expected in ((False, 403), (True, 200)):
        app = create_app(data_dir=tmp_path / str(lenient), lenient_signatures=lenient)
        with in_process(app, token=DEV_API_TOKEN) as http:
            image_id = _upload(http, imagegen.jpeg(40, 40), requireSignedURLs="true")
            short = f"/{DEV_ACCOUNT_HASH}/{image_id}/public"
            exp = "9999999999"
            prefixless = f"/cdn-cgi/imagedelivery{short}?exp={exp}&sig={signer.hexdigest(f'{short}?exp={exp}')}"
            path_only = f"{short}?exp={exp}&sig={signer.hexdigest(short)}"
            assert http.get(prefixless).status_code == expected
            assert http.get(path_only).status_code == expected
        app.emulator.close()


# -- SVG --------------------------------------------------------------------------------------------------------

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" onclick="steal()">'
    b"<script>alert(1)</script><rect width='40' height='20' fill='red'/></svg>"
)


def test_svg_is_delivered_sanitised_and_never_resized(cf_http: httpx.Client) -> None:
    image_id = _upload(cf_http, SVG, filename="logo.svg")
    public = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{image_id}/public", headers=ACCEPT_ALL)
    resized = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{image_id}/w=10", headers=ACCEPT_ALL)
    for response in (public, resized):
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        assert b"<script" not in response.content and b"onclick" not in response.content
        assert b'width="40"' in response.content
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert public.content == resized.content
    converted = cf_http.get(f"/{DEV_ACCOUNT_HASH}/{image_id}/w=10,f=webp")
    assert (converted.status_code, _resized_err(converted)) == (415, "err=9412")


# -- embedding --------------------------------------------------------------------------------------------------


def test_the_emulator_object_delivers_without_a_web_framework(cf_emulator: Emulator) -> None:
    record = cf_emulator.upload(imagegen.jpeg(80, 60))
    answer = cf_emulator.deliver(f"/{DEV_ACCOUNT_HASH}/{record.id}/w=40", headers={"Accept": "image/webp"})
    assert answer.status == 200 and answer.header("content-type") == "image/webp"
    assert imagegen.decode(answer.body).size == (40, 30)
    missing = cf_emulator.deliver(f"/{DEV_ACCOUNT_HASH}/nope/public")
    assert (missing.status, missing.header("Cf-Resized")) == (404, "err=9431")


@pytest.fixture
def flask_site(cf_app: EmulatorApp) -> Iterator[httpx.Client]:
    """A Flask app with the emulator mounted at the custom-domain delivery prefix."""
    site = Flask("site")

    @site.get("/")
    def home() -> str:
        return "home"

    site.wsgi_app = DispatcherMiddleware(site.wsgi_app, {"/cdn-cgi/imagedelivery": cf_app})  # type: ignore[method-assign]
    with httpx.Client(transport=httpx.WSGITransport(app=site), base_url="http://cfimages.test") as client:
        yield client


def test_a_flask_app_can_mount_delivery(flask_site: httpx.Client, cf_emulator: Emulator, cf_delivery: Delivery) -> None:
    public = cf_emulator.upload(imagegen.jpeg(80, 60))
    secret = cf_emulator.upload(imagegen.jpeg(80, 60), require_signed_urls=True)
    assert flask_site.get("/").text == "home"
    assert _size(flask_site.get(cf_delivery.url(public.id, width=20))) == (20, 15)
    assert flask_site.get(cf_delivery.signed_url(secret.id, "public", expires_in=60)).status_code == 200
    assert flask_site.get(cf_delivery.url(secret.id, "public")).status_code == 403


def test_a_real_server_serves_encoded_ids_and_signed_urls(cf_emulator_server: EmulatorServer) -> None:
    emulator = cf_emulator_server.app.emulator
    public = emulator.upload(imagegen.png(12, 8), image_id="albums/été 2026/100%.png")
    secret = emulator.upload(imagegen.jpeg(30, 20), require_signed_urls=True)
    cf = Delivery(DEV_ACCOUNT_HASH, domain=cf_emulator_server.url, signing_key=emulator.list_signing_keys()[0].value)
    with httpx.Client(timeout=10) as browser:
        assert _size(browser.get(cf.url(public.id, "public"))) == (12, 8)
        assert _size(browser.get(cf.url(public.id, width=6))) == (6, 4)
        assert browser.get(cf.signed_url(secret.id, "public", expires_in=60)).status_code == 200
        assert browser.get(cf.url(secret.id, "public")).status_code == 403
        api = f"{cf_emulator_server.url}{API}/v1/albums%2F%C3%A9t%C3%A9%202026%2F100%25.png"
        found = browser.get(api, headers={"Authorization": f"Bearer {DEV_API_TOKEN}"})
        assert ok(found)["variants"] == [cf.url(public.id, "public")]
