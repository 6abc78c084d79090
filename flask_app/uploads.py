"""The upload queue, built the same way in the web process and in the huey workers (``flask_app.tasks``)."""

from __future__ import annotations

from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadQueue, huey_from_url, store_from_url

from .config import AppSettings

__all__ = ["PREVIEW_URL", "build_queue"]

PREVIEW_URL = "/uploads/{id}/preview"


def build_queue(settings: AppSettings) -> UploadQueue:
    """Huey and the upload store (SQLite and files in DATA_DIR, or both in Redis when HUEY_URL says so, so any
    machine's worker can send what any web server accepted), and a client factory: the local emulator in
    development, Cloudflare (CF_ACCT_ID, CF_IMG_TOKEN) otherwise."""
    url = settings.huey_url or None
    huey = huey_from_url(url, name="cfvariants-reference", default_path=settings.huey_path)
    store = store_from_url(url, settings.uploads_dir, name="cfvariants-reference", preview_url=PREVIEW_URL)

    def client() -> ImagesClient:
        if settings.is_dev:
            from cfvariants.local import LocalCloudflare  # noqa: PLC0415 - development only

            return LocalCloudflare.open(settings.emulator_dir).client()
        return ImagesClient.from_settings()

    return UploadQueue(huey, store, client, max_bytes=settings.max_upload_mb * 1024 * 1024)
