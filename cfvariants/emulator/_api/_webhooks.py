"""Cloudflare's direct-upload notifications, emulated: a POST to ``EmulatorConfig.webhook_url`` when an upload
URL receives its file (or the file is refused).

Cloudflare sends notifications as its generic webhook payload (``name``, ``text``, ``data``, ``ts``,
``account_id``, ``policy_id``, ``policy_name``, ``alert_type``, ``alert_correlation_id``, ``alert_event``) with
the destination's secret in the ``cf-webhook-auth`` header. What ``data`` holds for Images, the ``alert_type``
value and whether failed deliveries are retried are not documented; the emulator sends ``data = {"id": <image
id>, "status": "uploaded" | "failed", "reason": ...}`` with ``alert_type = "image_notification"``, once, from a
background thread (as Cloudflare, it does not hold up the upload's answer). Receivers should treat the payload
as a hint and read the image's state from the API, as ``cfvariants.direct_uploads`` does.

Only loopback hosts are called (the emulator's ``allowed_fetch_hosts``), so a dev emulator cannot be made to
POST anywhere else.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from urllib.parse import urlsplit

import httpx

from cfvariants.emulator._config import EmulatorConfig

log = logging.getLogger("cfvariants.emulator")
_TIMEOUT = 10.0


class WebhookSender:
    """Sends notifications for one emulator; ``wait()`` joins the ones in flight (tests)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0
        url = config.webhook_url
        if url is not None and urlsplit(url).hostname not in config.allowed_fetch_hosts:
            raise ValueError(f"webhook_url {url!r}: the emulator calls only {', '.join(config.allowed_fetch_hosts)}")

    def notify(self, image_id: str, *, uploaded: bool, reason: str | None = None) -> None:
        url = self._config.webhook_url
        if url is None:
            return
        status = "uploaded" if uploaded else "failed"
        now = self._config.clock()
        payload = {
            "name": "cfvariants emulator: direct creator uploads",
            "text": f"Image {image_id} {'was uploaded' if uploaded else 'failed to upload'}",
            "data": {"id": image_id, "status": status, **({"reason": reason} if reason else {})},
            "ts": int(now),
            "account_id": self._config.account_id,
            "policy_id": str(uuid.uuid5(uuid.NAMESPACE_URL, url)),
            "policy_name": "direct creator uploads",
            "alert_type": "image_notification",
            "alert_correlation_id": str(uuid.uuid4()),
            "alert_event": "ALERT_STATE_EVENT_START",
        }
        thread = threading.Thread(target=self._send, args=(url, payload), name="cfvariants-webhook", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _send(self, url: str, payload: dict[str, object]) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "cfvariants-emulator-webhooks"}
        if self._config.webhook_secret:
            headers["cf-webhook-auth"] = self._config.webhook_secret
        try:
            response = httpx.post(url, content=json.dumps(payload), headers=headers, timeout=_TIMEOUT)
        except httpx.HTTPError as exc:
            self.failed += 1
            log.warning("emulator: webhook to %s failed: %s", url, type(exc).__name__)
            return
        if response.is_success:
            self.sent += 1
        else:
            self.failed += 1
            log.warning("emulator: webhook to %s answered %d", url, response.status_code)

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the notifications in flight (each gives up after 10 s)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
