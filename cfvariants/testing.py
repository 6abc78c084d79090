"""pytest fixtures for testing code that uses Cloudflare Images, against a fresh local emulator per test.

Enable them with ``pytest_plugins = ["cfvariants.testing"]`` in your top-level ``conftest.py`` (or rely on the
installed ``pytest11`` entry point). Every fixture is function-scoped: each test gets an empty account in its own
``tmp_path``, served in-process (no socket) unless it asks for ``cf_emulator_server``.

==========================  ==============================================================================
``cf_emulator``             the ``Emulator`` (upload, variants, keys... directly in Python)
``cf_app``                  its WSGI app (mount it, or wrap it in ``httpx.WSGITransport``)
``cf_base_url``             the origin the in-process fixtures use: ``http://cfimages.test``
``cf_http``                 an ``httpx.Client`` on that origin with the API token set (API and delivery)
``cf_client``               a ``cfvariants.client.ImagesClient`` configured for the emulator
``cf_delivery``             a ``cfvariants.Delivery`` whose URLs the emulator serves, with the signing key
``cf_settings``             ``cfvariants.Settings`` describing the emulator
``cf_env``                  sets ``CF_ACCT_ID``, ``CF_IMG_TOKEN``... in the environment for the test
``cf_emulator_server``      a real server on 127.0.0.1 (free port) for code that opens its own connections
==========================  ==============================================================================

The emulator is imported only when a fixture is used, so this plugin loads even where the ``emulator`` extra
(Pillow, werkzeug) is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

    from cfvariants._delivery import Delivery
    from cfvariants._settings import Settings
    from cfvariants.client import ImagesClient
    from cfvariants.emulator import Emulator, EmulatorApp, EmulatorServer

__all__ = [
    "CF_BASE_URL",
    "cf_app",
    "cf_base_url",
    "cf_client",
    "cf_delivery",
    "cf_emulator",
    "cf_emulator_server",
    "cf_env",
    "cf_http",
    "cf_settings",
]

CF_BASE_URL = "http://cfimages.test"
"""The origin of the in-process fixtures (``.test`` is reserved: it can never be a real host)."""


@pytest.fixture
def cf_base_url() -> str:
    """The base URL the emulator fixtures answer on (in process: no port is opened)."""
    return CF_BASE_URL


@pytest.fixture
def cf_emulator(tmp_path: Path, cf_base_url: str) -> Iterator[Emulator]:
    """A fresh emulated account (dev defaults, flexible variants on) stored under ``tmp_path``."""
    from cfvariants.emulator import Emulator  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    emulator = Emulator(data_dir=tmp_path / "cfimages", base_url=cf_base_url)
    yield emulator
    emulator.close()


@pytest.fixture
def cf_app(cf_emulator: Emulator) -> EmulatorApp:
    """The emulator as a WSGI app (on this test's emulator): mount it, or send requests with httpx's WSGITransport."""
    from cfvariants.emulator import create_app  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    return create_app(cf_emulator)


@pytest.fixture
def cf_http(cf_app: EmulatorApp, cf_base_url: str) -> Iterator[httpx.Client]:
    """An httpx client talking to the emulator in-process; it sends the API token."""
    import httpx  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    client = httpx.Client(
        transport=httpx.WSGITransport(app=cf_app),
        base_url=cf_base_url,
        headers={"Authorization": f"Bearer {cf_app.emulator.config.api_token}"},
    )
    yield client
    client.close()


@pytest.fixture
def cf_delivery(cf_emulator: Emulator, cf_base_url: str) -> Delivery:
    """Builds delivery URLs the emulator serves (custom-domain form on ``cf_base_url``), signing with the
    account's first key."""
    from cfvariants._delivery import Delivery  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    key = cf_emulator.list_signing_keys()[0].value
    return Delivery(cf_emulator.config.account_hash, domain=cf_base_url, signing_key=key)


@pytest.fixture
def cf_client(cf_app: EmulatorApp, cf_delivery: Delivery, cf_base_url: str) -> Iterator[ImagesClient]:
    """The project's API client, configured for the emulator, talking to it in-process."""
    import httpx  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    from cfvariants.client import ImagesClient  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    config = cf_app.emulator.config
    client = ImagesClient(
        config.account_id,
        config.api_token,
        base_url=f"{cf_base_url}/client/v4",
        transport=httpx.WSGITransport(app=cf_app),
        delivery=cf_delivery,
    )
    yield client
    client.close()


@pytest.fixture
def cf_settings(cf_emulator: Emulator, cf_base_url: str) -> Settings:
    """``Settings`` pointing at the emulator (as ``Settings.load()`` would read them from ``cf_env``)."""
    from cfvariants._settings import Settings  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    config = cf_emulator.config
    return Settings(
        account_id=config.account_id,
        api_token=config.api_token,
        account_hash=config.account_hash,
        signing_key=cf_emulator.list_signing_keys()[0].value,
        domain=cf_base_url,
        api_base=f"{cf_base_url}/client/v4",
    )


@pytest.fixture
def cf_env(cf_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The ``CF_*`` environment variables set to the emulator's values for the duration of the test."""
    from cfvariants._settings import ENV_NAMES  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    for field, name in ENV_NAMES.items():
        if getattr(cf_settings, field) is None:  # e.g. CF_IMG_ZONE: not part of an Images account
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, cf_settings.require(field))
    return cf_settings


@pytest.fixture
def cf_emulator_server(tmp_path: Path) -> Iterator[EmulatorServer]:
    """A fresh emulator served on 127.0.0.1 on a free port (``server.url``), stopped after the test.

    Use it for code that opens its own connections (browsers, subprocesses, other HTTP clients)."""
    from cfvariants.emulator import EmulatorServer, create_app  # noqa: PLC0415 - lazy: the plugin loads without the emulator extra

    app = create_app(data_dir=tmp_path / "cfimages-server")
    server = EmulatorServer(app, host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()
    app.emulator.close()
