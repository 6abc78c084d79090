"""The docs' production recipe end to end: gunicorn, two ``cfvariants-worker`` consumers, a real Redis with
AOF, the emulator standing in for Cloudflare, 200 camera-like uploads through the form. Mid-run one consumer gets
SIGTERM (what every deploy sends) and the other SIGKILL; both are restarted, and every upload ends ready exactly
once within 90 s of the restart. Throughput and stranded time are measured by ``benchmarks/bench_recipe.py``."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from recipe_harness import REDIS_SERVER, Deployment, photos

from cfvariants.uploads import UploadState

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs Debian's redis-server (dev.py test installs it)"),
]
UPLOADS = 200
TAKEOVER_LIMIT = 90.0


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path)
    try:
        yield deployment
    finally:
        deployment.close()


def test_the_production_recipe_survives_sigterm_and_sigkill_mid_run(deployment: Deployment) -> None:
    pool = photos()
    items = [pool[i % len(pool)] for i in range(UPLOADS)]
    with ThreadPoolExecutor(1) as background:
        posting = background.submit(deployment.post_many, items)  # people keep uploading throughout
        while deployment.store.counts()[UploadState.PENDING] < UPLOADS // 3:  # a backlog, as after a busy minute
            assert not posting.done(), posting.result()
            time.sleep(0.05)
        first, second = deployment.start_consumer(), deployment.start_consumer()
        # Both at work before the signals: each has stored an upload itself. Under load one consumer can still be
        # importing the app when the other has done a fifth of the run; a SIGTERM then kills it before huey's
        # handler is installed (exit -15, not 0), and a SIGKILL finds nothing in flight to take over.
        while deployment.store.counts()[UploadState.READY] < UPLOADS // 5 or not all(
            "stored as image" in deployment.log(name) for name in ("consumer0", "consumer1")
        ):
            assert deployment.store.counts()[UploadState.READY] < UPLOADS, "one consumer did every upload alone"
            time.sleep(0.05)
        in_flight = deployment.store.counts()[UploadState.UPLOADING]
        first.send_signal(signal.SIGTERM)  # a deploy: finish or hand back
        second.send_signal(signal.SIGKILL)  # a lost machine: nothing is handed back
        assert first.wait(30) == 0
        second.wait(10)
        killed_at = time.time()
        deployment.start_consumer()
        deployment.start_consumer()
        restarted_at = time.time()
        ids = posting.result(timeout=120)
    assert len(set(ids)) == UPLOADS

    took = deployment.wait_ready(ids, at_least=UPLOADS, timeout=TAKEOVER_LIMIT)
    assert restarted_at - killed_at + took <= TAKEOVER_LIMIT + 5

    records = deployment.records(ids)
    assert all(r.state is UploadState.READY for r in records)
    image_ids = [r.image_id for r in records]
    assert len(set(image_ids)) == UPLOADS
    assert sorted(deployment.stored_images()) == sorted(image_ids)  # exactly once: none lost, no duplicate
    assert deployment.store.staged_ids() == []  # every staged upload sent and its bytes released
    kept = deployment.store.redis.hkeys("huey.results.cfvariantsreference")
    assert kept == [b"cfvariants:web-app:cfvariants-reference"]  # the web app's fingerprint, and no task results
    assert in_flight > 0 and any(r.attempts >= 2 for r in records), "no upload was in flight: nothing was proved"

    # The recipe's operations: every process says where it is; the app's and the library's lines are there.
    web_log = deployment.log("gunicorn")
    assert "web app (pid" in web_log and "RedisHuey 'cfvariants-reference'" in web_log
    assert "DEVELOPMENT MODE" not in web_log and "DEVELOPMENT MODE" not in deployment.log("consumer2")
    stopped = deployment.log("consumer0")
    assert "the same as the web app" in stopped and "Shutting down gracefully" in stopped
    assert "stored as image" in deployment.log("consumer2") + deployment.log("consumer3")
    for name in ("gunicorn", "consumer0", "consumer1", "consumer2", "consumer3"):
        text = deployment.log(name)
        assert deployment.env["CF_IMG_TOKEN"] not in text and deployment.env["SECRET_KEY"] not in text

    # CF_IMG_DOMAIN: the pages link to the stand-in's delivery, which serves the variant.
    with deployment.browser() as client:
        page = client.get(f"/images/{ids[0]}").text
    match = re.search(r'id="flexible-w200"[^>]*src="([^"]+)"|src="([^"]+)"[^>]*id="flexible-w200"', page)
    assert match, page[:500]
    src = (match.group(1) or match.group(2)).replace("&amp;", "&")
    assert src.startswith(deployment.emulator_url + "/cdn-cgi/imagedelivery/")
    assert httpx.get(src, timeout=30).status_code == 200
