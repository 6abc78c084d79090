"""Fuzzing the emulator, bounded and deterministic (derandomised hypothesis, a fixed example budget, no example
database; see tests/conftest.py): the API against Cloudflare's OpenAPI subset with schemathesis (no 5xx, every
response conforms to the schema), and delivery URLs of every shape: only 200, 304 and 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import imagegen
import pytest
import schemathesis
from emulator_helpers import ok, openapi_document, upload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cfvariants import Delivery
from cfvariants._options import option_names
from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_ACCOUNT_ID, DEV_API_TOKEN, EmulatorApp, create_app

BASE = "http://cfimages.test"
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorApp]:
    """One emulator for the module (hypothesis runs many examples per test), with a public and a private image."""
    application = create_app(data_dir=tmp_path_factory.mktemp("fuzz") / "cfimages", base_url=BASE)
    with httpx.Client(transport=httpx.WSGITransport(app=application), base_url=BASE,
                      headers={"Authorization": f"Bearer {DEV_API_TOKEN}"}) as http:  # fmt: skip
        ok(upload(http, imagegen.jpeg(320, 240, "noise"), id="public/photo.jpg"))
        ok(upload(http, imagegen.png(200, 150, alpha=True), requireSignedURLs="true"))
    yield application
    application.emulator.close()


# -- the API against its schema -------------------------------------------------------------------------------------

# Used through its strategies, not its pytest plugin (pyproject disables it: the plugin broke pytest's failure
# reports on Python 3.11). One hypothesis run per operation and generation mode.
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in SCHEMA.get_all_operations())}
AUTH = {"Authorization": f"Bearer {DEV_API_TOKEN}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_api_answer_conforms_and_none_is_a_5xx(app: EmulatorApp, label: str, mode: GenerationMode) -> None:
    # The account is fixed (any other id is a uniform 403); everything else is generated from the schema.
    strategy = OPERATIONS[label].as_strategy(mode, path_parameters={"account_id": DEV_ACCOUNT_ID})

    @FUZZ
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(app=app, base_url=f"{BASE}/client/v4", headers=AUTH)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    check()


# -- delivery URLs ----------------------------------------------------------------------------------------------

_ODD_VALUES = ["auto", "cover", "face", "border", "true", "0x0", "1;2;3;4", "%23fff", "rgb%281%2C2%2C3%29", "1e300"]
_ODD_VALUES += ["NaN", "-1", "٣", "%ZZ", "%00", "..", ""]
_VALUES = st.one_of(
    st.from_regex(r"[0-9]{0,12}(\.[0-9]{0,6})?", fullmatch=True),
    st.sampled_from(_ODD_VALUES),
    st.text(max_size=12).map(quote),
)
_PARTS = st.tuples(st.sampled_from([*option_names(), "onerror", "x"]), _VALUES).map(lambda nv: f"{nv[0]}={nv[1]}")
_SEGMENTS = st.one_of(
    st.lists(_PARTS, min_size=1, max_size=5).map(",".join),
    st.sampled_from(["public", "avatar", "nosuchvariant", "w=200", "w=100,h=100,fit=cover,f=json", "trim=border"]),
    st.text(max_size=20).map(lambda text: quote(text, safe="=,;")),
)
_IDS = st.one_of(
    st.sampled_from(["public/photo.jpg", "public%2Fphoto.jpg", "missing", "..", "%2e%2e", "a" * 2000]),
    st.text(min_size=1, max_size=30).map(lambda text: quote(text, safe="/")),
)
_QUERIES = st.one_of(
    st.just(""),
    st.builds(
        lambda exp, sig: f"?exp={quote(str(exp))}&sig={quote(sig)}",
        st.one_of(st.integers(0, 10**13), st.text(max_size=8)),
        st.one_of(st.from_regex(r"[0-9a-f]{64}", fullmatch=True), st.text(max_size=70)),
    ),
    st.text(max_size=30).map(lambda text: "?" + quote(text, safe="=&")),
)


@settings(FUZZ, max_examples=300)
@given(
    ids=_IDS,
    segment=_SEGMENTS,
    query=_QUERIES,
    prefix=st.sampled_from(
        [f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}", f"/{DEV_ACCOUNT_HASH}", "/cdn-cgi/imagedelivery/other"]
    ),
    accept=st.sampled_from(["image/avif,image/webp,*/*", "*/*", ""]),
    etag=st.sampled_from(["", "*", '"abc"', 'W/"x"']),
)
def test_delivery_urls_of_any_shape_answer_200_304_or_4xx(
    app: EmulatorApp, ids: str, segment: str, query: str, prefix: str, accept: str, etag: str
) -> None:
    headers = {name: value for name, value in (("Accept", accept), ("If-None-Match", etag)) if value}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE) as http:
        response = http.get(f"{prefix}/{ids}/{segment}{query}", headers=headers)
    assert response.status_code in (200, 304) or 400 <= response.status_code < 500, (
        response.status_code,
        response.request.url,
        response.text[:300],
    )


def test_signed_urls_from_the_builder_are_served(app: EmulatorApp) -> None:
    """The fuzz above rarely hits a valid signature; this is the positive control for the private image."""
    emulator = app.emulator
    image = next(record for record in emulator.list_images(per_page=10) if record.require_signed_urls)
    cf = Delivery(DEV_ACCOUNT_HASH, domain=BASE, signing_key=emulator.list_signing_keys()[0].value)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE) as http:
        assert http.get(cf.signed_url(image.id, "public", expires_in=600)).status_code == 200
        assert http.get(cf.url(image.id, "public")).status_code == 403
