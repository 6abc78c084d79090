"""cfvariants.flask: the extension inside an app factory, in development (the emulator mounted in process) and
production configurations, with its filters, client, configuration precedence and error behaviour."""

from __future__ import annotations

import gc
import html
import io
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from imagegen import decode, jpeg

from cfvariants import SettingsError, TemplateFilterError, verify
from cfvariants.client import AuthenticationError, ImagesClient
from cfvariants.emulator import (
    DEV_ACCOUNT_HASH,
    DEV_ACCOUNT_ID,
    DEV_API_TOKEN,
    DEV_SIGNING_KEY,
    EmulatorServer,
    create_app,
)
from cfvariants.flask import CFImages, CFImagesState, get_state
from cfvariants.local import LocalCloudflare

ENV_VARS = (
    "CF_ACCT_ID",
    "CF_IMG_TOKEN",
    "CF_IMG_HASH",
    "CF_IMG_SIGNING_KEY",
    "CF_IMG_DOMAIN",
    "CF_API_BASE",
    "ENV_NAME",
)
HASH = "ZWd9g1K7eljCn_KDTu_MWA"
SECRET_TOKEN = "s3cret-flask-api-token"  # made-up values the tests look for in outputs
SECRET_KEY = "s3cret-flask-signing-key"
DELIVERY = f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}"

images = CFImages()  # one extension object, as an app factory module would have


def create(instance_path: Path, **config: Any) -> Flask:
    """The app factory under test."""
    app = Flask(__name__, instance_path=str(instance_path))
    app.config.update(config)
    images.init_app(app)

    @app.get("/photo/<path:image_id>")
    def show(image_id: str) -> str:
        options = app.config.get("TEST_OPTIONS", "w=200")
        return render_template_string(
            '<img src="{{ image_id | variant(options) }}" srcset="{{ image_id | srcset([100, 300]) }}">'
            "{{ image_id | cf_img('w=400', alt='A photo') }}",
            image_id=image_id,
            options=options,
        )

    @app.get("/secret/<image_id>")
    def secret(image_id: str) -> str:
        return render_template_string("{{ image_id | signed_variant('public') }}", image_id=image_id)

    @app.get("/count")
    def count() -> str:
        return str(len(get_state().client.list_images().images))

    return app


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the machine


@pytest.fixture
def dev_app(tmp_path: Path) -> Iterator[Flask]:
    app = create(tmp_path / "instance", CFVARIANTS_DEV=True, TESTING=True)
    yield app
    state = get_state(app)
    state.close()
    assert state.local is not None
    state.local.close()


def test_dev_mode_serves_real_transformed_images(dev_app: Flask) -> None:
    state = get_state(dev_app)
    assert state.local is not None
    assert state.local.data_dir == (Path(dev_app.instance_path) / "cfimages").resolve()
    uploaded = state.client.upload(jpeg(1200, 800), id="pets/cat.jpg", filename="cat.jpg")
    assert uploaded.url("w=200") == f"{DELIVERY}/pets/cat.jpg/w=200"
    browser = dev_app.test_client()
    page = browser.get("/photo/pets/cat.jpg").text
    assert f'<img src="{DELIVERY}/pets/cat.jpg/w=200"' in page
    assert f"{DELIVERY}/pets/cat.jpg/w=100 100w, {DELIVERY}/pets/cat.jpg/w=300 300w" in page
    assert f'src="{DELIVERY}/pets/cat.jpg/w=400"' in page and 'alt="A photo"' in page
    for width in (200, 100, 300, 400):
        answer = browser.get(f"{DELIVERY}/pets/cat.jpg/w={width}", headers={"Accept": "image/avif,image/webp"})
        assert answer.status_code == 200
        assert answer.content_type == "image/avif"
        assert decode(answer.data).size == (width, round(width * 2 / 3))
    first = browser.get(f"{DELIVERY}/pets/cat.jpg/w=200")
    assert (
        browser.get(f"{DELIVERY}/pets/cat.jpg/w=200", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )


def test_dev_mode_mounts_the_api_for_clients_and_signs_private_images(dev_app: Flask) -> None:
    browser = dev_app.test_client()
    api = f"/client/v4/accounts/{DEV_ACCOUNT_ID}/images/v1"
    assert browser.get(api).status_code == 401
    form = {"file": (io.BytesIO(jpeg(100, 100)), "a.jpg"), "requireSignedURLs": "true"}
    posted = browser.post(api, headers={"Authorization": f"Bearer {DEV_API_TOKEN}"}, data=form)
    assert posted.status_code == 200, posted.text
    private_id = posted.json["result"]["id"]  # type: ignore[index]
    assert browser.get("/count").text == "1"  # the app's own client sees what came in through the site
    signed = html.unescape(browser.get(f"/secret/{private_id}").text)
    assert verify("http://localhost" + signed, DEV_SIGNING_KEY)
    assert browser.get(signed).status_code == 200
    assert browser.get(signed.split("?")[0]).headers["Cf-Resized"] == "err=9425"
    assert browser.get("/no/such/page").status_code == 404  # everything else is the app's


async def test_dev_mode_async_client(dev_app: Flask) -> None:
    state = get_state(dev_app)
    async with state.async_client() as api:
        image = await api.upload(jpeg(50, 50), id="async/one.jpg")
    assert state.client.get(image.id).id == "async/one.jpg"


def test_one_client_per_app_closed_with_the_app_not_per_request(tmp_path: Path) -> None:
    app = create(tmp_path / "instance", CFVARIANTS_DEV=True, TESTING=True)
    state = get_state(app)
    browser = app.test_client()
    browser.get("/count")
    client = state.client
    browser.get("/count")
    assert state.client is client and not client.is_closed
    local = state.local
    del app, state, browser
    gc.collect()
    assert client.is_closed
    assert local is not None
    local.close()


def test_init_app_on_two_apps(tmp_path: Path) -> None:
    dev = create(tmp_path / "one", CFVARIANTS_DEV=True, TESTING=True)
    prod = create(tmp_path / "two", CFVARIANTS_ACCOUNT_HASH=HASH, CFVARIANTS_DOMAIN="img.example.com", TESTING=True)
    try:
        assert get_state(dev) is not get_state(prod)
        assert dev.jinja_env.cfvariants is not prod.jinja_env.cfvariants  # type: ignore[attr-defined]
        assert get_state(prod).local is None
        assert f'src="{DELIVERY}/x.jpg/w=200"' in dev.test_client().get("/photo/x.jpg").text
        prod_page = prod.test_client().get("/photo/x.jpg").text
        assert f'src="https://img.example.com/cdn-cgi/imagedelivery/{HASH}/x.jpg/w=200"' in prod_page
        with prod.app_context():
            assert CFImages.state() is get_state(prod)
    finally:
        local = get_state(dev).local
        assert local is not None
        local.close()


def test_app_config_beats_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_IMG_HASH", "fromEnvironment")
    monkeypatch.setenv("CF_IMG_DOMAIN", "env.example.com")
    from_env = get_state(create(tmp_path / "a", TESTING=True))
    assert from_env.delivery.url("x") == "https://env.example.com/cdn-cgi/imagedelivery/fromEnvironment/x/public"
    configured = get_state(
        create(tmp_path / "b", TESTING=True, CFVARIANTS_ACCOUNT_HASH="fromConfig", CFVARIANTS_DOMAIN="")
    )
    assert configured.delivery.url("x") == "https://imagedelivery.net/fromConfig/x/public"


def test_dev_follows_env_name_unless_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_IMG_HASH", HASH)
    assert not get_state(create(tmp_path / "a", TESTING=True)).dev
    from_config = get_state(create(tmp_path / "b", TESTING=True, ENV_NAME="dev"))
    monkeypatch.setenv("ENV_NAME", "dev")
    from_environment = get_state(create(tmp_path / "c", TESTING=True))
    assert get_state(create(tmp_path / "d", TESTING=True, CFVARIANTS_DEV=False)).dev is False
    custom_dir = tmp_path / "elsewhere"
    custom = get_state(create(tmp_path / "e", TESTING=True, CFVARIANTS_DATA_DIR=str(custom_dir)))
    try:
        assert from_config.dev and from_environment.dev and custom.dev
        assert custom.local is not None and custom.local.data_dir == custom_dir.resolve()
    finally:
        for state in (from_config, from_environment, custom):
            assert state.local is not None
            state.local.close()


def test_bad_configuration_is_refused_at_init_app(tmp_path: Path) -> None:
    with pytest.raises(
        SettingsError, match=r"unknown key 'CFVARIANTS_ACOUNT_HASH' \(did you mean 'CFVARIANTS_ACCOUNT_HASH'\?\)"
    ):
        create(tmp_path, CFVARIANTS_ACOUNT_HASH=HASH)
    with pytest.raises(SettingsError, match=r"app\.config\['CFVARIANTS_ON_ERROR'\] must be 'raise' or 'fallback'"):
        create(tmp_path, CFVARIANTS_ON_ERROR="ignore")
    with pytest.raises(SettingsError, match=r"CFVARIANTS_SIGNED_EXPIRES_IN'\] must be positive"):
        create(tmp_path, CFVARIANTS_SIGNED_EXPIRES_IN=-1)
    with pytest.raises(SettingsError, match=r"CFVARIANTS_DEV'\] must be True or False"):
        create(tmp_path, CFVARIANTS_DEV="yes")
    with pytest.raises(SettingsError, match="domain 'not a host' is not a host name"):
        create(tmp_path, CFVARIANTS_ACCOUNT_HASH=HASH, CFVARIANTS_DOMAIN="not a host")
    with pytest.raises(SettingsError, match=r"app\.config\['CFVARIANTS_API_TOKEN'\] is a 1Password secret reference"):
        create(tmp_path, CFVARIANTS_API_TOKEN="op://vault/item/token")


def test_a_missing_account_hash_is_named_when_a_url_is_needed(tmp_path: Path) -> None:
    app = create(tmp_path, TESTING=True)  # an app factory used for CLI commands must still build
    with pytest.raises(SettingsError, match=r"CFVARIANTS_ACCOUNT_HASH in app\.config or CF_IMG_HASH"):
        app.test_client().get("/photo/x.jpg")


def test_bad_options_raise_in_testing_and_debug(tmp_path: Path) -> None:
    app = create(tmp_path, CFVARIANTS_ACCOUNT_HASH=HASH, TESTING=True, TEST_OPTIONS="w=abc")
    with pytest.raises(TemplateFilterError, match=r"variant filter on 'x.jpg' with 'w=abc'"):
        app.test_client().get("/photo/x.jpg")


def test_bad_options_fall_back_in_production_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create(tmp_path, CFVARIANTS_ACCOUNT_HASH=HASH, TEST_OPTIONS="w=abc")
    browser = app.test_client()
    with caplog.at_level(logging.WARNING, logger="cfvariants"):
        first = browser.get("/photo/x.jpg")
        browser.get("/photo/y.jpg")
    assert first.status_code == 200
    assert f'<img src="https://imagedelivery.net/{HASH}/x.jpg/public"' in first.text
    assert len([r for r in caplog.records if "w=abc" in r.getMessage()]) == 1
    explicit = create(tmp_path, CFVARIANTS_ACCOUNT_HASH=HASH, CFVARIANTS_ON_ERROR="raise", TEST_OPTIONS="w=abc")
    assert explicit.test_client().get("/photo/x.jpg").status_code == 500


def test_placeholder_and_signed_lifetime_from_config(tmp_path: Path) -> None:
    app = create(
        tmp_path,
        CFVARIANTS_ACCOUNT_HASH=HASH,
        CFVARIANTS_SIGNING_KEY=SECRET_KEY,
        CFVARIANTS_PLACEHOLDER="/static/none.png",
        CFVARIANTS_SIGNED_EXPIRES_IN=timedelta(minutes=2),
    )
    with app.app_context():
        assert render_template_string("{{ none | variant('w=10') }}", none=None) == "/static/none.png"
        signed = html.unescape(render_template_string("{{ 'abc' | signed_variant('public') }}"))
    exp = int(signed.split("exp=")[1].split("&")[0])
    assert 0 < exp - time.time() <= 121
    assert verify(signed, SECRET_KEY)


def test_no_secrets_in_reprs_errors_or_error_pages(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server_app = create_app(data_dir=tmp_path / "server")
    with EmulatorServer(server_app, host="127.0.0.1", port=0) as server:
        app = create(
            tmp_path,
            CFVARIANTS_ACCOUNT_ID=DEV_ACCOUNT_ID,
            CFVARIANTS_API_TOKEN=SECRET_TOKEN,
            CFVARIANTS_ACCOUNT_HASH=DEV_ACCOUNT_HASH,
            CFVARIANTS_SIGNING_KEY=SECRET_KEY,
            CFVARIANTS_API_BASE=f"{server.url}/client/v4",
        )
        state = get_state(app)
        with caplog.at_level(logging.DEBUG):
            page = app.test_client().get("/count")  # the token is refused: an AuthenticationError in the view
        assert page.status_code == 500
        with pytest.raises(AuthenticationError) as raised:
            state.client.list_images()
        state.close()
    server_app.emulator.close()
    shown = [
        page.text,
        repr(state),
        repr(state.settings),
        repr(state.client),
        str(raised.value),
        caplog.text,
        repr(raised.value),
        repr(state.delivery),
    ]
    assert "AuthenticationError" in caplog.text  # Flask logged the failure ...
    for text in shown:
        assert SECRET_TOKEN not in text and SECRET_KEY not in text  # ... without the secrets
    assert isinstance(state, CFImagesState)
    assert isinstance(state.client, ImagesClient)


def test_state_of_an_app_without_the_extension_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="cfvariants is not set up on app 'bare'"):
        get_state(Flask("bare"))


def test_local_shared_between_apps_on_one_data_directory(tmp_path: Path) -> None:
    one = create(tmp_path / "x", CFVARIANTS_DEV=True, CFVARIANTS_DATA_DIR=str(tmp_path / "shared"), TESTING=True)
    two = create(tmp_path / "y", CFVARIANTS_DEV=True, CFVARIANTS_DATA_DIR=str(tmp_path / "shared"), TESTING=True)
    try:
        assert get_state(one).local is get_state(two).local is LocalCloudflare.open(tmp_path / "shared")
        get_state(one).client.upload(jpeg(20, 20), id="shared.jpg")
        assert two.test_client().get(f"{DELIVERY}/shared.jpg/w=10").status_code == 200
    finally:
        get_state(one).close()
        get_state(two).close()
        local = get_state(one).local
        assert local is not None
        local.close()


def test_init_app_twice_mounts_the_emulator_once(tmp_path: Path) -> None:
    from cfvariants.local import LocalCloudflareMiddleware

    app = create(tmp_path, CFVARIANTS_DEV=True, TESTING=True)
    images.init_app(app)
    state = get_state(app)
    try:
        assert isinstance(app.wsgi_app, LocalCloudflareMiddleware)
        assert not isinstance(app.wsgi_app.app, LocalCloudflareMiddleware)
        state.client.upload(jpeg(20, 20), id="twice.jpg")
        assert app.test_client().get(f"{DELIVERY}/twice.jpg/w=10").status_code == 200
    finally:
        state.close()
        assert state.local is not None
        state.local.close()


def test_a_browser_direct_upload_reaches_the_mounted_emulator(dev_app: Flask) -> None:
    """Direct creator uploads in development: the one-time uploadURL is root-relative, so the page's own origin
    (whatever host and port) receives the browser's POST, and image objects list root-relative variant URLs."""
    state = get_state(dev_app)
    draft = state.client.create_direct_upload(id="direct/from-browser.jpg")
    assert draft.upload_url.startswith("/upload/")
    browser = dev_app.test_client()
    sent = browser.post(draft.upload_url, data={"file": (io.BytesIO(jpeg(300, 200)), "me.jpg")},
                        content_type="multipart/form-data")  # fmt: skip
    assert sent.status_code == 200, sent.text
    image = state.client.get("direct/from-browser.jpg")
    assert not image.draft and all(url.startswith("/cdn-cgi/imagedelivery/") for url in image.variants)
    assert decode(browser.get(image.url("w=100")).data).size == (100, 67)
    assert browser.post(draft.upload_url, data={"file": (io.BytesIO(jpeg(10, 10)), "x.jpg")},
                        content_type="multipart/form-data").status_code == 409  # fmt: skip  # one-time
