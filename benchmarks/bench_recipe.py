"""The production recipe under load: throughput of gunicorn + two ``cfvariants-worker`` consumers on Redis, and
how long uploads stay stranded when a consumer is stopped (SIGTERM) or killed (SIGKILL) mid-run.

    python3 dev.py bench recipe        (or: .venv/bin/python benchmarks/bench_recipe.py [--quick])

Everything runs as the docs' recipe says (``tests/recipe_harness.py``): a Redis with AOF, ``cfvariants
emulator`` standing in for Cloudflare, gunicorn with 2 web workers, consumers with 4 threads each, camera-like
photos of 0.1 to 2 MB posted through the form by 4 clients. The floor is the same photos uploaded straight to the
same emulator with 8 threads (no web app, no queue): the recipe's throughput is shown as a fraction of it, cold
(first batch, fresh processes) and warm (second batch).

Stranded time: for every upload the only consumer holds when it is stopped mid-run (a replacement starts at
once, as a supervisor restarts it), the seconds from the signal until it is ready: handed back and taken over
after SIGTERM (or finished within the grace); after SIGKILL, its lease running out and the replacement's look
for abandoned uploads.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _results import publish
from recipe_harness import Deployment, photos

from cfvariants.client import ImagesClient
from cfvariants.emulator import DEV_ACCOUNT_ID, DEV_API_TOKEN
from cfvariants.uploads import UploadState


def floor_rate(deployment: Deployment, items: list[tuple[str, bytes]]) -> float:
    """Uploads per second straight to the emulator, 8 threads: what the recipe's machinery adds nothing to."""
    client = ImagesClient(DEV_ACCOUNT_ID, DEV_API_TOKEN, base_url=f"{deployment.emulator_url}/client/v4")
    started = time.perf_counter()
    with client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: client.upload(item[1], filename=item[0]), items))
    return len(items) / (time.perf_counter() - started)


def recipe_rate(deployment: Deployment, items: list[tuple[str, bytes]]) -> tuple[float, float]:
    """(uploads/s from the first POST to the last one ready, POSTs/s the web app accepted)."""
    started = time.perf_counter()
    ids = deployment.post_many(items)
    posted = time.perf_counter() - started
    deployment.wait_ready(ids, at_least=len(ids), timeout=600)
    return len(ids) / (time.perf_counter() - started), len(ids) / posted


def stranded(deployment: Deployment, items: list[tuple[str, bytes]], how: signal.Signals) -> list[float]:
    """Seconds from stopping the only consumer (``how``) in the middle of a backlog, a replacement started at
    once, until each upload it held is ready."""
    for consumer in deployment.consumers:
        if consumer.poll() is None:
            deployment.stop(consumer, signal.SIGTERM)
    ids = deployment.post_many(items)  # a backlog, so the consumer is busy on all its threads
    victim = deployment.start_consumer()
    while deployment.store.counts()[UploadState.UPLOADING] < deployment.consumer_threads:
        time.sleep(0.01)
    held = [r.id for r in deployment.store.recent(state=UploadState.UPLOADING, limit=100)]
    signalled = time.time()
    victim.send_signal(how)
    victim.wait(60)
    deployment.start_consumer()
    deployment.wait_ready(ids, at_least=len(ids), timeout=600)
    return [deployment.store.get(upload_id).updated_at - signalled for upload_id in held]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 60 if args.quick else 200
    pool = photos()
    items = [pool[i % len(pool)] for i in range(count)]
    megabytes = sum(len(data) for _, data in items) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        deployment = Deployment(Path(tmp))
        try:
            floor = floor_rate(deployment, items)
            print(f"{count} camera-like uploads ({megabytes:.0f} MB), gunicorn -w 2, 2 consumers x 4 threads, Redis")
            print(f"  floor, straight to the emulator (8 threads): {floor:6.1f} uploads/s")
            deployment.start_consumer()
            deployment.start_consumer()
            table = [["straight to the emulator, 8 threads (floor)", f"{floor:.1f} uploads/s", ""]]
            for label in ("cold", "warm"):
                rate, accepted = recipe_rate(deployment, items)
                table.append([f"the recipe, {label}", f"{rate:.1f} uploads/s end to end ({rate / floor:.2f}× floor)",
                              f"web accepted {accepted:.1f} POST/s"])  # fmt: skip
                print(f"  recipe, {label}: {rate:6.1f} uploads/s end to end ({rate / floor:.2f}x floor); "
                      f"web accepted {accepted:6.1f} POST/s")  # fmt: skip
            for how in (signal.SIGTERM, signal.SIGKILL):
                times = stranded(deployment, items[: max(40, count // 2)], how)
                print(f"  {how.name} to the consumer mid-run: {len(times)} uploads held; stranded median "
                      f"{statistics.median(times):5.1f} s, max {max(times):5.1f} s")  # fmt: skip
                median = f"stranded median {statistics.median(times):.1f} s"
                table.append([f"{how.name} to the only consumer mid-run", median,
                              f"max {max(times):.1f} s ({len(times)} uploads held)"])  # fmt: skip
            publish("recipe", [f"{count} camera-like uploads ({megabytes:.0f} MB)", "measured", ""], table,
                    "gunicorn -w 2, Redis with AOF, 2 `cfvariants-worker` consumers × 4 threads, the emulator as "
                    "Cloudflare.")  # fmt: skip
        finally:
            deployment.close()


if __name__ == "__main__":
    main()
