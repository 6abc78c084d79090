"""The emulator's HTTP API: the REST routes (and the batch host), authentication, the v4 envelope, forms, the
JSON shapes of results, direct-upload URLs, the rate limit and the webhooks of finished direct uploads."""

from __future__ import annotations
