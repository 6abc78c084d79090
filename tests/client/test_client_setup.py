"""Building clients: from arguments or settings, for the API, the batch host or an emulator behind a path
prefix (in-process WSGI or a mock transport); one connection pool for all calls; closing; no token in sight."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_helpers import ACCOUNT, HASH, TOKEN, UID, Side, close, fixture, local_server, resolve, server_base
from pydantic import SecretStr

from cfvariants import Settings, SettingsError
from cfvariants.client import AsyncImagesClient, ImagesClient, RetryPolicy

ENV = ("CF_ACCT_ID", "CF_IMG_TOKEN", "CF_IMG_HASH", "CF_IMG_SIGNING_KEY", "CF_IMG_DOMAIN", "CF_API_BASE")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return monkeypatch


@pytest.mark.parametrize("cls", [ImagesClient, AsyncImagesClient])
async def test_from_settings_reads_the_environment(
    cls: type[ImagesClient | AsyncImagesClient], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("CF_ACCT_ID", ACCOUNT)
    clean_env.setenv("CF_IMG_TOKEN", TOKEN)
    clean_env.setenv("CF_IMG_HASH", HASH)
    clean_env.setenv("CF_IMG_DOMAIN", "http://127.0.0.1:5000")
    clean_env.setenv("CF_API_BASE", "http://emulator/client/v4/")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fixture("image"))

    client = cls.from_settings(transport=httpx.MockTransport(handler), retry=RetryPolicy.none())
    try:
        assert (client.account_id, client.base_url) == (ACCOUNT, "http://emulator/client/v4")
        image = await resolve(client.get(UID))
    finally:
        await close(client)
    assert str(seen[0].url) == f"http://emulator/client/v4/accounts/{ACCOUNT}/images/v1/{UID}"
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert image.url("thumb") == f"http://127.0.0.1:5000/cdn-cgi/imagedelivery/{HASH}/{UID}/thumb"


def test_from_settings_names_what_is_missing(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CF_ACCT_ID", ACCOUNT)
    with pytest.raises(SettingsError, match="CF_IMG_TOKEN is not set"):
        ImagesClient.from_settings()
    client = ImagesClient.from_settings(Settings(CF_IMG_TOKEN="t"), account_id="other")  # overrides win
    assert client.account_id == "other"
    assert client.delivery is None  # no CF_IMG_HASH: URLs come from each image's own variants
    client.close()


def test_from_settings_for_the_batch_host_needs_no_account(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CF_IMG_TOKEN", "batch-token")
    with ImagesClient.from_settings(base_url="https://batch.imagedelivery.net") as client:
        assert client.is_batch and client.account_id is None


def test_an_emulator_mounted_in_process_over_wsgi_keeps_the_path_prefix() -> None:
    environments: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environments.append(environ)
        body = json.dumps(fixture("image")).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    with ImagesClient(
        account_id=ACCOUNT,
        api_token=TOKEN,
        base_url="http://emulator/client/v4",
        transport=httpx.WSGITransport(app=app),
    ) as client:
        image = client.upload(b"\x89PNG-data", filename="a.png")
        client.get("users/7/a.png")
    assert image.id == UID
    upload, get = environments
    assert (upload["REQUEST_METHOD"], upload["PATH_INFO"]) == ("POST", f"/client/v4/accounts/{ACCOUNT}/images/v1")
    assert upload["HTTP_AUTHORIZATION"] == f"Bearer {TOKEN}"
    assert upload["CONTENT_TYPE"].startswith("multipart/form-data")
    assert get["PATH_INFO"] == f"/client/v4/accounts/{ACCOUNT}/images/v1/users/7/a.png"  # WSGI decodes %2F


async def test_one_connection_serves_every_call(api: Side) -> None:
    with local_server() as server:
        await api.rebuild(base_url=server_base(server))
        for _ in range(4):
            await api.run(api.client.get(UID))
    assert len(server.peers) == 4
    assert len(set(server.peers)) == 1  # the same client socket each time: the pool is reused
    assert server.authorizations == [f"Bearer {TOKEN}"] * 4


async def test_the_token_stays_out_of_transport_debug_logs(api: Side, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # whatever level an app gave httpx, its debug lines too
    with local_server() as server:
        await api.rebuild(base_url=server_base(server), api_token=SecretStr(TOKEN))
        await api.run(api.client.get(UID))
    loggers = {record.name for record in caplog.records}
    assert {"httpx", "cfvariants.client"} <= loggers
    assert any(name.startswith("httpcore") for name in loggers)  # the transport's own DEBUG trace
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert server.authorizations == [f"Bearer {TOKEN}"]


def test_context_managers_close_the_pool() -> None:
    with ImagesClient(ACCOUNT, TOKEN) as client:
        assert not client.is_closed
    assert client.is_closed


async def test_async_context_manager_closes_the_pool() -> None:
    async with AsyncImagesClient(ACCOUNT, TOKEN) as client:
        assert not client.is_closed
    assert client.is_closed


def test_repr_shows_the_account_but_not_the_token() -> None:
    client = ImagesClient(ACCOUNT, SecretStr(TOKEN))
    assert repr(client) == (
        f"ImagesClient(account_id='{ACCOUNT}', base_url='https://api.cloudflare.com/client/v4', api_token='**********')"
    )
    assert TOKEN not in repr(client.__dict__)
    client.close()
