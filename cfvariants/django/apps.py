"""The app config: ``INSTALLED_APPS = [..., "cfvariants.django"]`` makes ``{% load cfvariants %}`` available,
registers the system checks (``cfvariants.E0xx``/``W0xx``), on a web process's first request leaves the
fingerprint the upload worker checks at start (``cfvariants.django._uploads.announce_web``), and gives every
file field stored on Cloudflare Images what ``CloudflareImageField`` has:

* ``CloudflareImageValidator`` (Cloudflare's limits as form errors), added to the field's validators as
  Django built them, so migrations do not change;
* for image fields with Django's own file class, ``CloudflareImageFieldFile`` (previews while a background
  upload waits, ``upload_state``, dimensions without a download).

"Stored on Cloudflare Images" is decided from the field's storage object (``CloudflareImagesStorage``, or what
``select_storage`` returns), without reading any configuration.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.core.signals import request_started
from django.db import models
from django.db.models.fields.files import ImageFieldFile
from django.db.models.signals import class_prepared


class CFVariantsConfig(AppConfig):
    name = "cfvariants.django"
    label = "cfvariants"
    verbose_name = "Cloudflare Images (cfvariants)"

    def ready(self) -> None:
        from . import _checks as checks  # noqa: F401, PLC0415 - registers the system checks

        upgrade_fields()
        request_started.connect(_first_request, dispatch_uid=_FIRST_REQUEST)


_FIRST_REQUEST = "cfvariants.announce_web"


def _first_request(**kwargs: Any) -> None:
    """A web process's first request: leave the queue fingerprint the upload worker checks at start (once)."""
    request_started.disconnect(dispatch_uid=_FIRST_REQUEST)
    from ._uploads import announce_web  # noqa: PLC0415 - huey is imported only when background uploads are on

    announce_web()


def upgrade_fields() -> int:
    """Give each file field on the Cloudflare storage the validator and file class; returns how many changed."""
    return sum(upgrade_model(model) for model in apps.get_models())


def upgrade_model(model: type[models.Model]) -> int:
    from .fields import CloudflareImageFieldFile  # noqa: PLC0415
    from .storage import is_cloudflare_storage  # noqa: PLC0415
    from .validators import CloudflareImageValidator  # noqa: PLC0415

    changed = 0
    for field in model._meta.local_fields:
        if not isinstance(field, models.FileField) or not is_cloudflare_storage(field.storage):
            continue
        if not any(isinstance(v, CloudflareImageValidator) for v in field.validators):
            field.validators.append(CloudflareImageValidator())  # the cached list: not in deconstruct()
            changed += 1
        if isinstance(field, models.ImageField) and field.attr_class is ImageFieldFile:  # type: ignore[attr-defined]
            field.attr_class = CloudflareImageFieldFile  # type: ignore[attr-defined]  # a custom one is left alone
    return changed


def _prepared(sender: type[models.Model], **kwargs: Any) -> None:
    upgrade_model(sender)


class_prepared.connect(_prepared, dispatch_uid="cfvariants.upgrade_model")  # models imported after ready() too
