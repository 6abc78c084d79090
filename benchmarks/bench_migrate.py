"""Migration at Cloudflare's rate limit: 10,000 small files to the emulator, which refuses more than 1,200 API
requests per window, with the window scaled down so the run takes minutes instead of 42 of them.

    python3 dev.py bench migrate       (or: .venv/bin/python benchmarks/bench_migrate.py [--quick])

How the limit is simulated. Cloudflare allows 1,200 requests per 300 s (4/s). Here the emulator (a separate
process on 127.0.0.1, a werkzeug threaded server) enforces 1,200 requests per ``W`` seconds, a sliding window,
answering 429 beyond it; the migration is told the same budget (``--rate-limit 1200/W``). Same count, same
burst, time compressed by ``300 / W``. ``W`` is chosen from the floor measured first, so that the limit is
about a third of what the emulator can take on this machine (otherwise the run would measure the emulator, not
the limit).

Measured, in one run:

* floor: files/s with no limit at all (the emulator's and the client's own speed);
* at the limit: files/s against the budget (``(1200 * 0.95 - burst) / W`` steady state), as a ratio; 429s (must be
  0: the bucket never overshoots) and the busiest window the emulator saw (must be <= 1200);
* memory: how much the resident memory of the migrating process grows (sampled every 20 ms; a fresh process
  per run, the emulator in another one) for 1,000 and 10,000 files: flat means about the same.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import imagegen
from _results import publish

from cfvariants import Settings
from cfvariants.client import RateLimit
from cfvariants.emulator import DEV_ACCOUNT_ID, DEV_API_TOKEN, EmulatorConfig, EmulatorServer, create_app
from cfvariants.emulator import Emulator as Account
from cfvariants.migrate import UploadOptions, migrate_directory

REAL_WINDOW = 300.0
REQUESTS = 1200


def make_files(root: Path, count: int) -> int:
    """``count`` distinct small photo-like JPEGs (~6 kB), 100 per directory; their total size. Each is one of
    50 generated photos with unique bytes after its end marker (decoders ignore them; the hash differs)."""
    bases = [imagegen.photo_jpeg(6_000, seed=seed) for seed in range(50)]
    total = 0
    for index in range(count):
        path = root / f"d{index // 100:03d}" / f"img{index:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = bases[index % len(bases)] + f"#{index}".encode()
        path.write_bytes(data)
        total += len(data)
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Emulator:
    """The emulator in its own process, with a rate limit, reporting its counts at the end."""

    def __init__(self, data: Path, window: float | None) -> None:
        self.port = free_port()
        self.stats = data / "stats.json"
        args = [sys.executable, __file__, "--serve", str(data), str(self.port), str(window or 0)]
        self.process = subprocess.Popen(args)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("emulator did not start")

    @property
    def settings(self) -> Settings:
        return Settings(
            account_id=DEV_ACCOUNT_ID, api_token=DEV_API_TOKEN, api_base=f"http://127.0.0.1:{self.port}/client/v4"
        )

    def stop(self) -> dict[str, int]:
        self.process.terminate()
        self.process.wait(timeout=30)
        return json.loads(self.stats.read_text()) if self.stats.exists() else {}


def serve(data: str, port: str, window: str) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    limit = (REQUESTS, float(window)) if float(window) else None
    account = Account(EmulatorConfig(data_dir=Path(data), rate_limit=limit))
    server = EmulatorServer(create_app(account), port=int(port))

    def stop(*_: object) -> None:
        stats = account.rate_limiter.stats() if account.rate_limiter else None
        if stats is not None:
            Path(data, "stats.json").write_text(
                json.dumps({"accepted": stats.accepted, "refused": stats.refused, "busiest": stats.busiest_window})
            )
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


def rss() -> int:
    """Resident memory of this process, bytes."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(root: str, api_base: str, window: str, concurrency: str) -> None:
    """In a fresh process: migrate ``root``, print seconds, 429s and the peak growth of resident memory."""
    before = rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss())

    threading.Thread(target=sample, daemon=True).start()
    limit = RateLimit(REQUESTS, float(window)) if float(window) else RateLimit(10**9, 1.0)
    settings = Settings(account_id=DEV_ACCOUNT_ID, api_token=DEV_API_TOKEN, api_base=api_base)
    started = time.perf_counter()
    report = migrate_directory(
        root, settings=settings, rate_limit=limit, retries=3, upload=UploadOptions(int(concurrency), id_from_path=True)
    )
    seconds = time.perf_counter() - started
    done.set()
    peak[0] = max(peak[0], rss())
    print(json.dumps({
        "seconds": seconds, "migrated": report.migrated, "failed": report.failed, "throttled": report.throttled,
        "rss_growth": peak[0] - before, "failures": [str(f.reason) for f in report.failures[:3]],
    }))  # fmt: skip


def run(files: int, window: float | None, *, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as work:
        root = Path(work)
        size = make_files(root / "media", files)
        emulator = Emulator(root / "emulator", window)
        try:
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(root / "media"), emulator.settings.api_base,
                 str(window or 0), str(concurrency)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            counts = emulator.stop()
    result = json.loads(child.stdout.strip().splitlines()[-1])
    if result["failed"] or result["migrated"] != files:
        raise SystemExit(f"{result['failed']} failed: {result['failures']}")
    return {
        "files": files, "bytes": size, "seconds": result["seconds"], "files_per_s": files / result["seconds"],
        "rss_mb": result["rss_growth"] / 1e6, "throttled": result["throttled"], "refused": counts.get("refused", 0),
        "busiest": counts.get("busiest", 0),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 files instead of 10,000")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    if args.measure:
        measure(*args.measure)
        return
    files = 2_000 if args.quick else 10_000
    small = 1_000

    floor = run(small, None, concurrency=args.concurrency)
    # The window: the limit at about a third of the floor, in whole seconds (at least 2 s).
    window = max(2.0, round(REQUESTS / (floor["files_per_s"] / 3)))
    budget = RateLimit(REQUESTS, window)
    steady = budget.rate
    print(f"floor (no limit, {small} files, -j {args.concurrency}): {floor['files_per_s']:.0f} files/s, "
          f"resident memory +{floor['rss_mb']:.1f} MB")  # fmt: skip
    print(f"limit: {REQUESTS} requests per {window:g} s = the real limit, time compressed {REAL_WINDOW / window:.0f}x; "
          f"steady state {steady:.1f} requests/s after a burst of {budget.burst_size} (5 % headroom)")  # fmt: skip

    small_rss = 0.0
    table = [[f"{small} files, no limit (floor)", f"{floor['files_per_s']:.1f}", "", "", "", f"+{floor['rss_mb']:.1f}"]]
    for count in (small, files):
        result = run(count, window, concurrency=args.concurrency)
        ideal = max(0.0, (count - budget.burst_size) / steady)
        table.append([f"{count:,} files at the limit", f"{result['files_per_s']:.1f}",
                      f"{result['files_per_s'] / steady:.2f}", str(result["throttled"]),
                      f"{result['busiest']:,}/{REQUESTS:,}", f"+{result['rss_mb']:.1f}"])  # fmt: skip
        print(
            f"{count:>6} files at the limit: {result['seconds']:.1f} s (ideal {ideal:.1f} s), "
            f"{result['files_per_s']:.1f} files/s = {result['files_per_s'] / steady:.2f} x the steady budget; "
            f"429s {result['throttled']}, busiest window {result['busiest']}/{REQUESTS}, "
            f"resident memory +{result['rss_mb']:.1f} MB"
        )
        if count == small:
            small_rss = result["rss_mb"]
        else:
            print(f"memory: +{result['rss_mb']:.1f} MB for {count} files vs +{small_rss:.1f} MB for {small} "
                  f"({result['rss_mb'] / small_rss:.2f} x for {count // small} x the files)")  # fmt: skip
            print(f"real-time equivalent: {count} files in {result['seconds'] * REAL_WINDOW / window / 60:.0f} min "
                  f"at 1,200 requests / 5 min (one request per new file with --id-from-path)")  # fmt: skip
    publish(
        "migrate",
        ["cfvariants migrate", "files/s", "÷ steady budget", "429s", "busiest window", "resident MB"],
        table,
        f"Against the emulator in its own process enforcing {REQUESTS:,} requests per sliding window of {window:g} s "
        f"(Cloudflare's 300 s compressed {REAL_WINDOW / window:.0f}×), -j {args.concurrency}.",
    )


if __name__ == "__main__":
    main()
