"""The reference app as a showcase: the playground (computed on the server, with and without JavaScript), the
tour's signed and unsigned URLs, sample photos in a fresh app, paging and deleting in the gallery, and the
status endpoint that tells the pages when no worker is running."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import imagegen
import pytest
from cli_helpers import invoke
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from reference_app_helpers import csrf, make_app, queue_of

from cfvariants.local import LocalCloudflare
from flask_app.samples import SAMPLES, SIZE


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, ENV_NAME="dev")


def submit(app: Flask, name: str, *, seed: int = 0, ready: bool = True, private: bool = False) -> str:
    queue = queue_of(app)
    record = queue.submit(io.BytesIO(imagegen.photo_jpeg(120_000, seed=seed)), filename=f"{name}.jpg",
                          private=private, context={"title": name})  # fmt: skip
    if ready:
        assert queue.run_once(record.id).status == "ready"
    return record.id


def image_at(client: FlaskClient, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return Image.open(io.BytesIO(response.data))


def text_of(html: str, ident: str) -> str:
    match = re.search(rf'id="{ident}">([^<]*)<', html)
    assert match, ident
    return match.group(1).replace("&#39;", "'").replace("&amp;", "&")


def test_a_fresh_app_has_photo_like_samples(app: Flask) -> None:
    client = app.test_client()
    for sample in SAMPLES:
        response = client.get(sample.url)
        assert response.status_code == 200 and response.content_type == "image/jpeg"
        assert len(response.data) > 100_000  # grain and detail, not a flat card
        assert Image.open(io.BytesIO(response.data)).size == SIZE
    assert client.get("/samples/nothing.jpg").status_code == 404


def test_the_playground_computes_options_url_and_template_lines_on_the_server(app: Flask) -> None:
    client = app.test_client()
    query = {"src": f"sample:{SAMPLES[1].name}", "width": "300", "height": "200", "fit": "cover", "quality": "70"}
    answer = client.get("/playground", query_string=query, headers={"Accept": "application/json"}).json
    assert answer["options"] == "w=300,h=200,fit=cover,q=70"
    assert answer["url"] == f"/cdn-cgi/image/w=300,h=200,fit=cover,q=70/samples/{SAMPLES[1].name}"
    assert answer["jinja"] == f"{{{{ '/samples/{SAMPLES[1].name}' | variant('w=300,h=200,fit=cover,q=70') }}}}"
    assert answer["django"] == f"{{{{ '/samples/{SAMPLES[1].name}'|variant:'w=300,h=200,fit=cover,q=70' }}}}"
    assert image_at(client, answer["url"]).size == (300, 200)
    page = client.get("/playground", query_string=query).text  # the form submitted without JavaScript
    assert text_of(page, "pg-options") == answer["options"] and text_of(page, "pg-url") == answer["url"]
    assert f'src="{answer["url"]}"' in page and 'value="300"' in page


def test_the_playground_names_a_bad_value_and_shows_hosted_uploads(app: Flask) -> None:
    client = app.test_client()
    bad = client.get("/playground", query_string={"src": f"sample:{SAMPLES[0].name}", "blur": "999"})
    assert bad.status_code == 400 and "blur must be an integer from 1 to 250" in bad.text
    upload_id = submit(app, "Harbour")
    image_id = queue_of(app).store.get(upload_id).image_id
    query = {"src": f"upload:{upload_id}", "width": "250", "format": "webp"}
    answer = client.get("/playground", query_string=query, headers={"Accept": "application/json"}).json
    assert answer["url"].startswith("/cdn-cgi/imagedelivery/") and answer["url"].endswith(f"{image_id}/w=250,f=webp")
    assert answer["jinja"] == "{{ upload | variant('w=250,f=webp') }}"
    shown = image_at(client, answer["url"])
    assert shown.size[0] == 250 and shown.format == "WEBP"


def test_the_tour_shows_a_signed_url_and_the_unsigned_one_refused(app: Flask) -> None:
    client = app.test_client()
    submit(app, "Public one", seed=1)
    submit(app, "Secret plan", seed=2, private=True)
    page = client.get("/tour").text
    signed = re.search(r'<img src="([^"]+/avatar\?exp=[^"]+)"', page)
    unsigned = re.search(r'id="unsigned">([^<]+)<', page)
    assert signed and unsigned
    assert image_at(client, signed.group(1).replace("&amp;", "&")).size == (240, 240)
    assert "?" not in unsigned.group(1) and unsigned.group(1).endswith("/avatar")  # the bare id: no signature
    assert client.get(unsigned.group(1)).status_code == 403
    assert "{{ upload | variant(&#39;avatar&#39;) }}" in page  # the code beside its result
    assert 'src="/cdn-cgi/image/w=480,h=320,fit=cover/samples/' in page  # remote next to hosted


def test_the_gallery_pages_through_uploads(app: Flask) -> None:
    client = app.test_client()
    for number in range(30):
        submit(app, f"photo {number:02d}", seed=number, ready=False)
    first = client.get("/").text
    second = client.get("/?page=2").text
    titles = [set(re.findall(r"<span>(photo \d\d)</span>", page)) for page in (first, second)]
    assert [len(t) for t in titles] == [24, 6] and titles[0] | titles[1] == {f"photo {n:02d}" for n in range(30)}
    assert 'href="/?page=2"' in first and 'href="/?page=1"' in second and 'href="/?page=3"' not in second
    assert client.get("/?page=3").status_code == 404
    refused = client.get("/?page=x1")
    assert refused.status_code == 400 and "page must be a whole number" in refused.text


def test_deleting_asks_first_then_removes_the_image_from_the_emulator_and_its_row(app: Flask) -> None:
    client = app.test_client()
    upload_id = submit(app, "Doomed")
    local = LocalCloudflare.open(app.extensions["app_settings"].emulator_dir)
    try:
        assert local.emulator.count_images() == 1
        confirm = client.get(f"/images/{upload_id}/delete").text
        assert "deletes the image from Cloudflare Images" in confirm and 'id="confirm-delete"' in confirm
        assert local.emulator.count_images() == 1  # asking deletes nothing
        assert client.post(f"/images/{upload_id}/delete").status_code == 400  # no CSRF token, no delete
        done = client.post(f"/images/{upload_id}/delete", data={"csrf_token": csrf(client)})
        assert done.status_code == 303 and "Deleted &#39;Doomed&#39; from Cloudflare Images" in client.get("/").text
        assert local.emulator.count_images() == 0
        assert queue_of(app).store.find(upload_id) is None
    finally:
        local.close()


def test_deleting_an_upload_not_sent_yet_discards_its_file(app: Flask) -> None:
    client = app.test_client()
    upload_id = submit(app, "Never mind", ready=False)
    staged = queue_of(app).store.staged_path(upload_id)
    assert staged.exists()
    client.post(f"/images/{upload_id}/delete", data={"csrf_token": csrf(client)})
    assert queue_of(app).store.find(upload_id) is None and not staged.exists()


def test_the_status_endpoint_says_when_no_worker_picked_an_upload_up(app: Flask) -> None:
    client = app.test_client()
    upload_id = submit(app, "Waiting", ready=False)
    store = queue_of(app).store
    fresh = client.get("/uploads/status", query_string={"id": upload_id}).json
    assert fresh["changed"] is False and fresh["waiting_for_worker"] is False
    real_clock = store.clock
    store.clock = lambda: real_clock() + 60  # type: ignore[method-assign]  # a minute later, still untouched
    later = client.get("/uploads/status", query_string={"id": upload_id}).json
    assert later["changed"] is False and later["waiting_for_worker"] is True
    assert queue_of(app).run_once(upload_id).status == "ready"
    done = client.get("/uploads/status", query_string={"id": upload_id}).json
    assert done["changed"] is True and done["waiting_for_worker"] is False


def test_in_production_samples_are_drawn_on_first_request_not_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"CF_ACCT_ID": "a" * 32, "CF_IMG_TOKEN": "tok", "CF_IMG_HASH": "h" * 22}.items():
        monkeypatch.setenv(name, value)
    app = make_app(tmp_path, ENV_NAME="production", SECRET_KEY="k" * 32)
    samples = tmp_path / "var" / "samples"
    assert not samples.exists()  # web workers start without drawing anything
    response = app.test_client().get(SAMPLES[2].url)  # what Image Transformations on the zone fetch
    assert response.status_code == 200 and Image.open(io.BytesIO(response.data)).size == SIZE
    assert sorted(p.name for p in samples.iterdir()) == [SAMPLES[2].name]  # no temporary file left


def test_the_reference_templates_pass_cfvariants_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variant, layout, placeholder and priority the reference app's templates use is one the checker
    accepts, against the app's own variants.toml, strict mode included."""
    monkeypatch.chdir(Path(__file__).parent.parent.parent)
    result = invoke(["check", "templates", "--variants", "flask_app/variants.toml", "--strict", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and report["findings"] == [] and report["uses"] >= 16
