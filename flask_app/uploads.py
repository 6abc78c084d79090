"""The upload queue, built the same way in the web process and in the huey workers (``flask_app.tasks``)."""

from __future__ import annotations

from cfvariants.client import ImagesClient
from cfvariants.uploads import UploadQueue, UploadStore, huey_from_url

from .config import AppSettings

__all__ = ["PREVIEW_URL", "build_queue"]

PREVIEW_URL = "/uploads/{id}/preview"


def build_queue(settings: AppSettings) -> UploadQueue:
    """Huey (SQLite in DATA_DIR unless HUEY_URL says Redis), the staging store, and a client factory: the local
    emulator in development, Cloudflare (CF_ACCT_ID, CF_IMG_TOKEN) otherwise."""
    huey = huey_from_url(settings.huey_url or None, name="cfvariants-reference", default_path=settings.huey_path)
    store = UploadStore(settings.uploads_dir, preview_url=PREVIEW_URL)

    def client() -> ImagesClient:
        if settings.is_dev:
            from cfvariants.local import LocalCloudflare  # noqa: PLC0415 - development only

            return LocalCloudflare.open(settings.emulator_dir).client()
        return ImagesClient.from_settings()

    return UploadQueue(huey, store, client, max_bytes=settings.max_upload_mb * 1024 * 1024)
