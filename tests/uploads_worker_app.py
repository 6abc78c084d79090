"""The upload queue as a worker process sees it, configured from the environment (used by the multi-process
tests: ``huey_consumer uploads_worker_app.huey``). Mirrors what an app's tasks module does."""

from __future__ import annotations

import os

from cfvariants import configure_logging
from cfvariants.client import ImagesClient, RetryPolicy
from cfvariants.uploads import UploadQueue, huey_from_url, store_from_url
from cfvariants.uploads._leases import LEASE

configure_logging()
huey = huey_from_url(os.environ["HUEY_URL"], name="cfvariants-test-uploads")
store = store_from_url(os.environ["HUEY_URL"], os.environ["CFV_UPLOADS_DIR"], name="cfvariants-test-uploads")


def make_client() -> ImagesClient:
    return ImagesClient(
        os.environ["CF_ACCT_ID"],
        os.environ["CF_IMG_TOKEN"],
        base_url=os.environ["CF_API_BASE"],
        retry=RetryPolicy(max_attempts=2),
    )


queue = UploadQueue(
    huey,
    store,
    make_client,
    lease=float(os.environ.get("CFV_LEASE", LEASE)),
    requeue_after=float(os.environ.get("CFV_REQUEUE_AFTER", "300")),
    backoff=0.2,
    backoff_cap=1.0,
)
