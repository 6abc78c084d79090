"""``cfvariants.testing``: the fixtures a user's own test suite gets, run in a separate pytest session."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _quiet_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


USER_TESTS = """
import io

import httpx
from PIL import Image

from cfvariants._settings import Settings


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_client_uploads_and_delivery_serves(cf_client, cf_http, cf_delivery):
    image = cf_client.upload(jpeg(), metadata={"owner": 7})
    assert cf_client.get(image.id).meta["owner"] == 7
    response = cf_http.get(cf_delivery.url(image.id, width=60))
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (60, 40)


def test_each_test_gets_a_fresh_account(cf_emulator):
    assert cf_emulator.stats()[0] == 0
    cf_emulator.upload(jpeg())
    assert cf_emulator.stats()[0] == 1


def test_private_images_and_signed_urls(cf_emulator, cf_http, cf_delivery):
    record = cf_emulator.upload(jpeg(), require_signed_urls=True)
    assert cf_http.get(cf_delivery.url(record.id, "public")).status_code == 403
    assert cf_http.get(cf_delivery.signed_url(record.id, "public", expires_in=60)).status_code == 200


def test_env_points_settings_at_the_emulator(cf_env, cf_emulator):
    settings = Settings.load()
    assert settings.account_hash == cf_emulator.config.account_hash
    assert settings.api_base == "http://cfimages.test/client/v4"


def test_real_server_for_code_with_its_own_connections(cf_emulator_server):
    assert cf_emulator_server.url.startswith("http://127.0.0.1:")
    assert httpx.get(cf_emulator_server.url + "/").status_code == 200
"""


def test_user_suites_get_a_fresh_emulator_and_configured_clients(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["cfvariants.testing"]\n')
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=5)


def test_the_plugin_loads_without_importing_the_emulator(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["cfvariants.testing"]\n')
    pytester.makepyfile(
        test_lazy="""
        import sys

        def test_nothing_imported_until_a_fixture_is_used():
            assert "cfvariants.testing" in sys.modules
            assert "cfvariants.emulator" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["cfvariants.testing"]\n')
    result = pytester.runpytest_inprocess("--fixtures", "-p", "no:cacheprovider")
    for name in ("cf_emulator", "cf_client", "cf_http", "cf_delivery", "cf_env", "cf_emulator_server"):
        result.stdout.fnmatch_lines([f"{name}*"])
