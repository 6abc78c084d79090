"""Development without a Cloudflare account: the local emulator behind the storage, the templates and the URLs.

With ``CFVARIANTS["DEV"]`` (default: ``ENV_NAME == "dev"``) everything that would talk to Cloudflare talks to one
``cfvariants.local.LocalCloudflare`` on ``CFVARIANTS["DATA_DIR"]`` (default ``<MEDIA_ROOT>/cfimages``) instead:
``CloudflareImagesStorage`` uploads to it in process, the template tags build root-relative URLs
(``/cdn-cgi/imagedelivery/<hash>/<id>/<variant>``), and ``cfvariants.django.urls`` serves those URLs from the
site itself, on whatever host and port ``runserver`` uses. Needs the ``emulator`` extra (Pillow, werkzeug).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings as django_settings

from cfvariants.local import LocalCloudflare

from . import conf

__all__ = ["data_dir", "is_dev", "local_cloudflare"]

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
    every storage, template and view of the process)."""
    return LocalCloudflare.open(data_dir(config))
