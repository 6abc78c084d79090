"""Peak memory of the emulator serving a tiny PNG of exactly 100 megapixels to 8 concurrent renders.

    .venv/bin/python benchmarks/bench_emulator_memory.py

A 10000x10000 one-bit PNG is about 12 kB on disk and 400 MB once decoded to RGB. The emulator runs as its own
process (an ``EmulatorServer`` on 127.0.0.1, ephemeral port) so its peak RSS (``VmHWM`` from /proc) is its alone.
The image is uploaded, then 8 threads ask at once for 8 different variants (different widths, one rotated, so
nothing comes from the variant cache). Reported against floors measured in the same run: the idle server's RSS and
the size of one decoded master (width x height x 4 bytes). Target (issue 13): peak RSS <= 1 GiB; before the
shared-master/budget change it was about 3.5 GiB. Linux only (reads /proc).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _results import publish
from PIL import Image

from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_ACCOUNT_ID, DEV_API_TOKEN

SIDE = 10_000
CONCURRENT = 8
TARGET = 1024**3
MIB = 1024 * 1024
SERVER = """
import sys
from cfvariants.emulator import EmulatorServer, create_app
server = EmulatorServer(create_app(data_dir=sys.argv[1]), port=0).start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""


def tiny_huge_png() -> bytes:
    image = Image.new("1", (SIDE, SIDE), 1)
    image.paste(0, (SIDE // 4, SIDE // 4, SIDE // 2, SIDE // 2))  # a shape, so a crop is not all one colour
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def kib_from_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def main() -> None:
    data = tiny_huge_png()
    with tempfile.TemporaryDirectory() as directory:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, directory],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            idle = kib_from_status(server.pid, "VmRSS")
            with httpx.Client(base_url=url, timeout=600, headers={"Authorization": f"Bearer {DEV_API_TOKEN}"}) as http:
                response = http.post(
                    f"/client/v4/accounts/{DEV_ACCOUNT_ID}/images/v1", files={"file": ("huge.png", data, "image/png")}
                )
                response.raise_for_status()
                image_id = response.json()["result"]["id"]
                variants = [f"w={200 + 50 * i}" for i in range(CONCURRENT - 1)] + ["w=300,rotate=90"]
                paths = [f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/{image_id}/{v}" for v in variants]
                start = time.perf_counter()
                with ThreadPoolExecutor(CONCURRENT) as pool:
                    statuses = list(pool.map(lambda path: http.get(path).status_code, paths))
                seconds = time.perf_counter() - start
            peak = kib_from_status(server.pid, "VmHWM")
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=60)
    master = SIDE * SIDE * 4
    print(f"PNG of {SIDE}x{SIDE} = {SIDE * SIDE / 1e6:.0f} MP, {len(data) / 1024:.1f} KiB on disk")
    print(f"{CONCURRENT} concurrent renders: statuses {sorted(set(statuses))}, {seconds:.1f} s in all")
    print(f"floor: idle server RSS        {idle / MIB:8.0f} MiB")
    print(f"floor: one decoded master     {master / MIB:8.0f} MiB")
    print(f"peak RSS (VmHWM)              {peak / MIB:8.0f} MiB  = idle + {(peak - idle) / master:.2f} masters")
    verdict = "meets" if peak <= TARGET else "MISSES"
    publish(
        "emulator_memory",
        [f"{CONCURRENT} concurrent renders of a {SIDE * SIDE / 1e6:.0f} MP PNG", "MiB", "target"],
        [["idle server (floor)", f"{idle / MIB:.0f}", ""], ["one decoded master", f"{master / MIB:.0f}", ""],
         ["peak resident (VmHWM)", f"{peak / MIB:.0f}", f"≤ {TARGET / MIB:.0f}"]],
        f"The PNG is {len(data) / 1024:.1f} KiB on disk; the renders took {seconds:.1f} s in all.",
    )  # fmt: skip
    print(f"target <= {TARGET / MIB:.0f} MiB: {verdict}")
    if any(status != 200 for status in statuses):
        raise SystemExit("a render failed")


if __name__ == "__main__":
    main()
