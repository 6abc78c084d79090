"""``CloudflareImageField``: an ``ImageField`` stored on Cloudflare Images, checked against Cloudflare's limits.

    from cfvariants.django.fields import CloudflareImageField

    class Profile(models.Model):
        image = CloudflareImageField(upload_to="avatars", blank=True)   # storage=select_storage by default

It is ``models.ImageField`` with ``storage=select_storage``, ``CloudflareImageValidator`` and a file class
(``CloudflareImageFieldFile``) that knows about background uploads: ``{{ profile.image|variant:'w=200' }}`` shows
the staged file while it waits, ``profile.image.upload_state`` says where it is, ``width``/``height`` come from
what was recorded at staging or upload (no download). A plain ``models.ImageField(storage=select_storage)`` (or
any field on ``CloudflareImagesStorage``) gets the same validator and file class when the app registry is ready
(``cfvariants.django.apps``), so the original app's field works unchanged; ``CloudflareImageField`` also lets
its form field accept SVG, which Django's image form field refuses.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.base import File
from django.db import models
from django.db.models.fields.files import ImageFieldFile

from cfvariants._layouts import Original
from cfvariants._refs import PrivateImage

from ._uploads import saving_row
from .storage import select_storage
from .validators import CloudflareImageValidator, image_facts

__all__ = ["CloudflareImageField", "CloudflareImageFieldFile", "CloudflareImageFormField"]

_IDS = (str, PrivateImage)  # an image id (not a preview): a stored row keeps it as its name


class CloudflareImageFieldFile(ImageFieldFile):
    """The field's value: Django's ``ImageFieldFile`` plus what background uploads need."""

    def __cf_image__(self) -> str | None:
        """What the template filters show: the image id once stored, the staged file's preview while it waits
        (see ``CloudflareImagesStorage.image_ref``). A private upload stored since this row was read has its
        generated id written into the row here, once."""
        if not self:
            return None
        resolve = getattr(self.storage, "image_ref", None)
        if resolve is None:
            return self.name
        ref: str | None = resolve(self.name)
        if ref is not None and ref != self.name and ref.__class__ in _IDS:
            self._adopt(str(ref))
        return ref

    def __cf_original__(self) -> Original | None:
        """What layouts know of the original (``cfvariants._refs.ORIGINAL_ATTRIBUTE``), read without opening the
        file or asking Cloudflare: the size and ThumbHash the storage recorded at save time
        (``CloudflareImagesStorage.recorded_original``), else the model's ``width_field``/``height_field``
        values, which Django keeps with the row. ``None`` when neither knows."""
        if not self:
            return None
        recorded = getattr(self.storage, "recorded_original", None)
        original: Original | None = recorded(self.name) if recorded is not None else None
        if original is not None and original.size is not None:
            return original
        size = self._declared_size()
        if size is None:
            return original
        return Original(*size, original.thumbhash if original is not None else None)

    def _declared_size(self) -> tuple[int, int] | None:
        """The row's ``width_field``/``height_field`` values, when the field declares both and they are set."""
        width_field, height_field = getattr(self.field, "width_field", None), getattr(self.field, "height_field", None)
        if not (isinstance(width_field, str) and width_field and isinstance(height_field, str) and height_field):
            return None
        width, height = getattr(self.instance, width_field, None), getattr(self.instance, height_field, None)
        if type(width) is int and type(height) is int and width > 0 and height > 0:
            return width, height
        return None

    @property
    def upload_state(self) -> str:
        """``"pending"``, ``"uploading"``, ``"ready"``, ``"failed"``...; ``""`` for no file."""
        if not self:
            return ""
        state = getattr(self.storage, "upload_state", None)
        return str(state(self.name)) if state is not None else "ready"

    def save(self, name: str, content: File[Any], save: bool = True) -> None:
        token = saving_row.set((self.instance._meta.label_lower, self.field.name))
        try:
            super().save(name, content, save=save)
        finally:
            saving_row.reset(token)

    def _get_image_dimensions(self) -> Any:
        """The size as displayed (EXIF orientation applied, as Cloudflare serves it): recorded by the storage
        for a stored file (no download), read from the header of one being assigned."""
        if not hasattr(self, "_dimensions_cache"):
            if getattr(self, "_committed", False) and self.name:
                dimensions = getattr(self.storage, "dimensions", None)
                recorded = dimensions(self.name) if dimensions is not None else None
                if recorded is not None:
                    self._dimensions_cache = recorded
            elif self.name:
                facts = image_facts(self.file)
                if facts is not None:
                    self._dimensions_cache = (facts.width, facts.height)
        return super()._get_image_dimensions()  # type: ignore[misc]

    def _adopt(self, image_id: str) -> None:
        instance, field = self.instance, self.field
        if instance.pk is not None:
            type(instance)._default_manager.filter(pk=instance.pk, **{field.name: self.name}).update(
                **{field.name: image_id}
            )
        self.name = image_id
        instance.__dict__[field.attname] = self


class CloudflareImageFormField(forms.FileField):
    """A form field for images Cloudflare takes, SVG included (Django's ``forms.ImageField`` refuses SVG); the
    checks are ``CloudflareImageValidator``'s."""

    default_validators = [CloudflareImageValidator()]  # noqa: RUF012 - Django's class-level convention


class CloudflareImageField(models.ImageField):
    """``ImageField`` on Cloudflare Images (``storage=select_storage`` unless given), validated against
    Cloudflare's limits; ``width_field``/``height_field`` work as usual and read nothing from Cloudflare."""

    attr_class = CloudflareImageFieldFile
    default_validators = [CloudflareImageValidator()]  # noqa: RUF012 - Django's class-level convention

    def __init__(self, *args: Any, storage: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, storage=storage or select_storage, **kwargs)

    def formfield(self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any) -> Any:
        return super().formfield(form_class=form_class or CloudflareImageFormField, **kwargs)
