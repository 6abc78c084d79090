"""Development without a Cloudflare account: the local emulator behind the storage, the templates and the URLs.

With ``CFVARIANTS["DEV"]`` (default: ``ENV_NAME == "dev"``) everything that would talk to Cloudflare talks to one
``cfvariants.local.LocalCloudflare`` on ``CFVARIANTS["DATA_DIR"]`` (default ``<MEDIA_ROOT>/cfimages``) instead:
``CloudflareImagesStorage`` uploads to it in process, the template tags build root-relative URLs
(``/cdn-cgi/imagedelivery/<hash>/<id>/<variant>``), and ``cfvariants.django.urls`` serves those URLs from the
site itself, on whatever host and port ``runserver`` uses. The named variants declared in
``CFVARIANTS["VARIANTS_FILE"]`` are applied to that local account when a process first opens it (the engine of
``cfvariants variants apply``), so ``|variant:'avatar'`` works in development as in production. Needs the
``emulator`` extra (Pillow, werkzeug), which ``cfvariants[django]`` brings.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from django.conf import settings as django_settings

from cfvariants.local import LocalCloudflare

from . import _conf as conf

DEFAULT_DIR_NAME = "cfimages"


def is_dev() -> bool:
    """Whether development mode is on (``CFVARIANTS["DEV"]``, default ``ENV_NAME == "dev"``)."""
    return conf.get_config().dev


def data_dir(config: conf.Config | None = None) -> Path:
    """The emulator's data directory: ``CFVARIANTS["DATA_DIR"]``, else ``<MEDIA_ROOT>/cfimages`` (the original
    app kept its development images under MEDIA_ROOT), else ``./cfimages``."""
    config = config if config is not None else conf.get_config()
    if config.data_dir is not None:
        return config.data_dir
    media_root = getattr(django_settings, "MEDIA_ROOT", "") or "."
    return Path(media_root) / DEFAULT_DIR_NAME


def local_cloudflare(config: conf.Config | None = None) -> LocalCloudflare:
    """The process's ``LocalCloudflare`` for the configured data directory (opened on first use, shared with
    every storage, template and view of the process), with the declared named variants applied."""
    config = config if config is not None else conf.get_config()
    local = LocalCloudflare.open(data_dir(config))
    if config.variants_file is not None:
        key = (id(local), str(config.variants_file))
        if key not in _applied:
            with _apply_lock:
                if key not in _applied:
                    apply_declared_variants(local, config.variants_file)
                    _applied.add(key)
    return local


_applied: set[tuple[int, str]] = set()
_apply_lock = threading.Lock()
log = logging.getLogger("cfvariants.django")


def apply_declared_variants(local: LocalCloudflare, path: Path) -> None:
    """Create or update the variants declared in ``path`` on the local account (never deletes any)."""
    from cfvariants.variants import apply, load  # noqa: PLC0415

    with local.client() as client:
        plan = apply(client, load(path))
    if not plan.is_empty:
        log.info("development: applied the named variants of %s to the local account:\n%s", path, plan.describe())
