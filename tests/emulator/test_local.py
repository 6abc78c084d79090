"""cfvariants.local: the emulator wired into an app for development (in-process clients, root-relative delivery
URLs, WSGI middleware), and several emulators (threads, processes) on one data directory."""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from imagegen import decode, jpeg, png

from cfvariants import Delivery, verify
from cfvariants.client import NotFoundError
from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_SIGNING_KEY, Emulator
from cfvariants.local import LocalCloudflare

SITE_BODY = b"the site itself"


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalCloudflare]:
    opened = LocalCloudflare.open(tmp_path / "cfimages")
    yield opened
    opened.close()


def site(seen: list[str]) -> Any:
    """A plain WSGI app that records the paths it was given."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [SITE_BODY]

    return app


def browser(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://127.0.0.1:8000")


def test_open_shares_one_instance_per_data_directory(tmp_path: Path) -> None:
    first = LocalCloudflare.open(tmp_path / "a")
    try:
        assert LocalCloudflare.open(tmp_path / "a") is first
        assert LocalCloudflare.open(str(tmp_path / "x" / ".." / "a")) is first  # the same directory, spelled otherwise
        other = LocalCloudflare.open(tmp_path / "b")
        assert other is not first
        other.close()
        with pytest.raises(ValueError, match="already open in this process with other account values"):
            LocalCloudflare.open(tmp_path / "a", account_hash="another-hash")
    finally:
        first.close()
    reopened = LocalCloudflare.open(tmp_path / "a")
    assert reopened is not first
    reopened.close()


def test_client_uploads_in_process_and_delivery_urls_are_root_relative(local: LocalCloudflare) -> None:
    original = jpeg(800, 600)
    with local.client() as api:
        image = api.upload(original, id="pets/cat.jpg", filename="cat.jpg")
        assert api.get("pets/cat.jpg").filename == "cat.jpg"
        assert b"".join(api.iter_download(image)) == original
    assert image.url("w=200") == f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/pets/cat.jpg/w=200"
    assert local.delivery.url("pets/cat.jpg", width=200) == image.url("w=200")
    assert local.emulator.get_image("pets/cat.jpg").info.size == len(original)  # type: ignore[union-attr]


def test_middleware_serves_delivery_and_leaves_everything_else_to_the_app(local: LocalCloudflare) -> None:
    with local.client() as api:
        api.upload(jpeg(800, 600), id="pets/cat.jpg")
    seen: list[str] = []
    with browser(local.middleware(site(seen))) as http:
        small = http.get(local.delivery.url("pets/cat.jpg", "w=200"), headers={"Accept": "image/webp"})
        assert small.status_code == 200
        assert small.headers["content-type"] == "image/webp"
        assert decode(small.content).size == (200, 150)
        again = http.get(
            local.delivery.url("pets/cat.jpg", "w=200"),
            headers={"Accept": "image/webp", "If-None-Match": small.headers["etag"]},
        )
        assert again.status_code == 304
        missing = http.get(local.delivery.url("pets/dog.jpg", "w=200"))
        assert (missing.status_code, missing.headers["cf-resized"]) == (404, "err=9431")
        assert seen == []  # none of that reached the app
        for path in ("/", "/cdn-cgi/other", "/client/v4/accounts/x/images/v1", "/pets/cat.jpg"):
            answer = http.get(path)
            assert answer.content == SITE_BODY
        assert seen == ["/", "/cdn-cgi/other", "/client/v4/accounts/x/images/v1", "/pets/cat.jpg"]


def test_middleware_with_api_serves_the_rest_api_too(local: LocalCloudflare) -> None:
    seen: list[str] = []
    config = local.emulator.config
    with browser(local.middleware(site(seen), api=True)) as http:
        listing = f"/client/v4/accounts/{config.account_id}/images/v1"
        refused = http.get(listing)
        assert refused.status_code == 401
        upload = http.post(
            listing,
            headers={"Authorization": f"Bearer {config.api_token}"},
            files={"file": ("a.png", png(40, 30))},
            data={"id": "through/the/site.png"},
        )
        assert upload.status_code == 200, upload.text
        assert http.get(local.delivery.url("through/the/site.png")).status_code == 200
    assert seen == []
    assert local.emulator.get_image("through/the/site.png").filename == "a.png"


def test_private_images_need_the_signature_the_delivery_makes(local: LocalCloudflare) -> None:
    with local.client() as api:
        secret = api.upload(jpeg(300, 200), require_signed_urls=True)
    assert local.delivery.can_sign
    signed = local.delivery.signed_url(secret.id, "public", expires_in=600)
    assert verify("http://127.0.0.1:8000" + signed, DEV_SIGNING_KEY)  # the signature covers the path only
    with browser(local.middleware(site([]))) as http:
        assert http.get(local.delivery.url(secret.id, "public")).headers["cf-resized"] == "err=9425"
        assert http.get(signed).status_code == 200


def test_ids_that_need_percent_encoding_are_served(local: LocalCloudflare) -> None:
    with local.client() as api:
        api.upload(png(64, 48), id="albums/été 2024/plage #1.png")
    url = local.delivery.url("albums/été 2024/plage #1.png", "w=32")
    assert "%20" in url and "%23" in url
    with browser(local.middleware(site([]))) as http:
        answer = http.get(url)
    assert answer.status_code == 200, answer.headers.get("cf-resized")
    assert decode(answer.content).size == (32, 24)


async def test_async_client_works_in_process(local: LocalCloudflare) -> None:
    original = png(120, 90)
    async with local.async_client() as api:
        image = await api.upload(original, filename="a.png", metadata={"owner": 7})
        ids = [found.id async for found in api.iter_images()]
        chunks = [chunk async for chunk in api.iter_download(image)]
        with pytest.raises(NotFoundError):
            await api.get("no/such/image.png")
    assert ids == [image.id]
    assert b"".join(chunks) == original
    assert local.emulator.get_image(image.id).meta == {"owner": 7}


def test_settings_describe_the_same_account(local: LocalCloudflare) -> None:
    settings = local.settings
    assert Delivery.from_settings(settings) == local.delivery
    assert settings.account_hash == DEV_ACCOUNT_HASH
    assert "cfvariants-emulator-dev" not in repr(settings)  # token and key stay masked, even the dev ones
    assert repr(local) == f"LocalCloudflare(data_dir={str(local.data_dir)!r}, account_hash={DEV_ACCOUNT_HASH!r})"


def test_two_emulators_on_one_data_directory_see_each_other(tmp_path: Path) -> None:
    first = Emulator(data_dir=tmp_path / "shared")
    second = Emulator(data_dir=tmp_path / "shared")
    try:
        record = first.upload(png(20, 20), image_id="from/first.png")
        assert second.get_image("from/first.png").id == record.id
        assert second.image_blob("from/first.png")[0] == first.image_blob("from/first.png")[0]
        answer = second.deliver(f"/{DEV_ACCOUNT_HASH}/from/first.png/w=10")
        assert answer.status == 200

        errors: list[BaseException] = []

        def upload_many(emulator: Emulator, tag: str) -> None:
            try:
                for n in range(15):
                    emulator.upload(png(8, 8), image_id=f"{tag}/{n}.png")
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=upload_many, args=(e, t)) for e, t in ((first, "a"), (second, "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors
        assert first.count_images() == second.count_images() == 31
        second.delete_image("a/3.png")
        with pytest.raises(Exception, match="not found"):
            first.get_image("a/3.png")
    finally:
        first.close()
        second.close()


def _open_and_upload(data_dir: str, tag: str, count: int, results: Any) -> None:
    """In a child process: open the (perhaps new) data directory and upload ``count`` images."""
    local = LocalCloudflare.open(data_dir)
    with local.client() as api:
        for n in range(count):
            api.upload(png(8, 8), id=f"{tag}/{n}.png")
    results.put((tag, local.emulator.count_images()))
    local.close()


def test_several_processes_open_one_new_data_directory_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    data_dir = str(tmp_path / "fresh")
    processes = [context.Process(target=_open_and_upload, args=(data_dir, f"p{n}", 5, results)) for n in range(3)]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=120)
        assert [process.exitcode for process in processes] == [0, 0, 0]
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    reported = dict(results.get(timeout=5) for _ in processes)
    assert set(reported) == {"p0", "p1", "p2"}
    local = LocalCloudflare.open(data_dir)
    try:
        assert local.emulator.count_images() == 15
        assert {key.name for key in local.emulator.list_signing_keys()} == {"default"}  # bootstrapped once, not thrice
    finally:
        local.close()


def test_importing_the_framework_neutral_modules_imports_no_framework() -> None:
    code = (
        "import sys, cfvariants, cfvariants.local, cfvariants.storage\n"
        "print(sorted(name for name in ('django', 'flask') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_async_transport_runs_in_a_worker_thread(local: LocalCloudflare) -> None:
    """The event loop keeps running while the emulator works (it is called in a thread, not inline)."""
    seen_threads: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen_threads.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    from cfvariants.local import AsyncWSGITransport

    async def main() -> bytes:
        async with httpx.AsyncClient(transport=AsyncWSGITransport(app), base_url="http://x") as http:
            return (await http.post("/", content=b"body")).content

    assert asyncio.run(main()) == b"ok"
    assert seen_threads and seen_threads[0] != threading.get_ident()
