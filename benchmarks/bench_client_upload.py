"""Bulk upload throughput of ``AsyncImagesClient`` at concurrency 1, 8 and 32, and its peak memory.

    python3 dev.py bench client_upload      (or: .venv/bin/python benchmarks/bench_client_upload.py [--quick])

Uploads N small PNG files (500 by default) from disk against a server on 127.0.0.1 that answers every upload
with a valid envelope after a fixed simulated latency (20 ms), so concurrency is what the client adds. By default
that server is a minimal asyncio HTTP/1.1 server in a separate process (it is not the bottleneck: it only waits);
``--base-url http://127.0.0.1:8787/client/v4`` (with ``--account-id``/``--api-token`` as that server expects)
runs against any other server instead, e.g. the emulator started with ``cfvariants emulator``.

Printed: uploads per second at each concurrency, the ratio of 32 to 1 (target: at least 8x), the same workload
sent with bare ``httpx`` at concurrency 32 as a floor measured in the same run (what the client's own layer
costs), and tracemalloc peaks for 100 and 500 files at concurrency 32 (must not grow with the file count).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import multiprocessing
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from _results import publish
from PIL import Image as PILImage

from cfvariants.client import AsyncImagesClient

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"
HASH = "ZWd9g1K7eljCn_KDTu_MWA"
REPEATS = 3


@dataclass
class Credentials:
    account_id: str = ACCOUNT
    api_token: str = TOKEN


CREDENTIALS = Credentials()


# -- the local server ----------------------------------------------------------------------------------------


def serve(port_out: Connection, latency: float) -> None:
    """Run the minimal upload server until killed; report its port through ``port_out``."""
    asyncio.run(_serve(port_out, latency))


async def _serve(port_out: Connection, latency: float) -> None:
    counter = itertools.count()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while length:
                    length -= len(await reader.read(min(length, 65536)))
                await asyncio.sleep(latency)
                image_id = f"00000000-0000-4000-8000-{next(counter):012d}"
                result = {
                    "id": image_id,
                    "filename": "image.png",
                    "meta": {},
                    "requireSignedURLs": False,
                    "uploaded": "2026-01-01T00:00:00Z",
                    "variants": [f"https://imagedelivery.net/{HASH}/{image_id}/public"],
                }
                body = json.dumps({"success": True, "errors": [], "messages": [], "result": result}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
    port_out.send(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def local_server(latency: float) -> Iterator[str]:
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=serve, args=(send, latency), daemon=True)
    process.start()
    try:
        if not receive.poll(10):
            raise RuntimeError("the local upload server did not start")
        yield f"http://127.0.0.1:{receive.recv()}/client/v4"
    finally:
        process.terminate()
        process.join(5)


# -- the workload --------------------------------------------------------------------------------------------


def make_images(folder: Path, count: int) -> None:
    for index in range(count):
        colour = (index % 256, (index // 256) % 256, 128)
        PILImage.new("RGB", (32, 32), colour).save(folder / f"img{index:05d}.png")


async def upload_all(base_url: str, folder: Path, files: int, concurrency: int) -> float:
    """Seconds to upload ``files`` images with ``concurrency`` workers sharing one client."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with AsyncImagesClient(
        CREDENTIALS.account_id, CREDENTIALS.api_token, base_url=base_url, limits=limits
    ) as client:
        indices = iter(range(files))  # workers take the next index: no per-file state is kept

        async def worker() -> None:
            for index in indices:
                image = await client.upload(folder / f"img{index:05d}.png")
                assert image.id

        await client.upload(folder / "img00000.png")  # warm the connection and the code paths
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


async def raw_httpx(base_url: str, folder: Path, files: int, concurrency: int) -> float:
    """The same uploads sent with bare httpx (no validation, models, retries): the floor of the client."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    url = f"{base_url}/accounts/{CREDENTIALS.account_id}/images/v1"
    headers = {"Authorization": f"Bearer {CREDENTIALS.api_token}"}
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:
        indices = iter(range(files))

        async def worker() -> None:
            for index in indices:
                with (folder / f"img{index:05d}.png").open("rb") as handle:
                    response = await client.post(url, files={"file": handle})
                assert response.json()["success"]

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


def peak_memory(run: Callable[[], Coroutine[Any, Any, float]]) -> tuple[int, int]:
    """(peak, retained after a collection) bytes of Python allocations while ``run`` uploads."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        asyncio.run(run())
        peak = tracemalloc.get_traced_memory()[1] - base
        gc.collect()
        return peak, tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.020, help="simulated server latency, seconds")
    parser.add_argument("--base-url", help="an already running server (e.g. the emulator) instead of the local one")
    parser.add_argument("--account-id", default=ACCOUNT, help="with --base-url: the account the server expects")
    parser.add_argument("--api-token", default=TOKEN, help="with --base-url: a token the server accepts")
    parser.add_argument("--quick", action="store_true", help="100 files")
    args = parser.parse_args()
    CREDENTIALS.account_id, CREDENTIALS.api_token = args.account_id, args.api_token
    files = 100 if args.quick else args.files
    levels = (1, 8, 32)

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        make_images(folder, max(files, 500))
        base_url = args.base_url or stack.enter_context(local_server(args.latency))
        server = "given server" if args.base_url else f"local asyncio server, {args.latency * 1000:.0f} ms per upload"
        print(f"bulk upload of {files} PNG files ({(folder / 'img00000.png').stat().st_size} bytes each), {server}")

        rates: dict[int, float] = {}
        for concurrency in levels:
            # Best of several runs (the least disturbed on a shared machine); one run at concurrency 1, where
            # the simulated latency dominates and a run takes seconds.
            repeats = 1 if concurrency == 1 else REPEATS
            seconds = min(asyncio.run(upload_all(base_url, folder, files, concurrency)) for _ in range(repeats))
            rates[concurrency] = files / seconds
            print(f"  concurrency {concurrency:>2}: {rates[concurrency]:8.1f} uploads/s  ({seconds:6.2f} s)")
        floor = files / min(asyncio.run(raw_httpx(base_url, folder, files, 32)) for _ in range(REPEATS))
        ratio = rates[32] / rates[1]
        verdict = "ok" if ratio >= 8 else "BELOW TARGET"
        print(f"  concurrency 32 / 1 = {ratio:.1f}x (target >= 8x): {verdict}")
        print(f"  bare httpx, concurrency 32: {floor:8.1f} uploads/s; the client reaches {rates[32] / floor:.2f} of it")

        small, small_kept = peak_memory(lambda: upload_all(base_url, folder, 100, 32))
        large, large_kept = peak_memory(lambda: upload_all(base_url, folder, 500, 32))
        growth = large / small
        verdict = "flat" if growth < 1.5 else "GROWS WITH FILE COUNT"
        print(
            f"  peak traced memory, concurrency 32: 100 files {small / 1024:.0f} KiB, 500 files {large / 1024:.0f} KiB"
        )
        print(f"    500/100 = {growth:.2f}x ({verdict}); kept after the run: {small_kept} and {large_kept} bytes")
        table = [[f"concurrency {level}", f"{rates[level]:.1f}", ""] for level in levels]
        memory = f"{growth:.2f}× ({large / 1024:.0f} / {small / 1024:.0f} KiB)"
        table += [["bare httpx, concurrency 32 (floor)", f"{floor:.1f}", ""],
                  ["concurrency 32 / 1", f"{ratio:.1f}×", "≥ 8×"],
                  ["peak memory, 500 / 100 files", memory, "flat"]]  # fmt: skip
        publish("client_upload", [f"async client, {files} uploads", "uploads/s", "target"], table, f"A {server}.")
    if args.quick:
        print("  (--quick: 100 files; the ratio is indicative only, start-up weighs more)")


if __name__ == "__main__":
    main()
