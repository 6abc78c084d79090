"""``CloudflareImageField``: an ``ImageField`` stored on Cloudflare Images, checked against Cloudflare's limits.

    from cfvariants.django.fields import CloudflareImageField

    class Profile(models.Model):
        image = CloudflareImageField(upload_to="avatars", blank=True)   # storage=select_storage by default

    class Photo(models.Model):                  # layouts and placeholders with no request, after any restart
        image = CloudflareImageField(
            upload_to="photos", width_field="width", height_field="height", thumbhash_field="thumbhash"
        )
        width = models.PositiveIntegerField(null=True, editable=False)
        height = models.PositiveIntegerField(null=True, editable=False)
        thumbhash = models.CharField(max_length=THUMBHASH_MAX_LENGTH, blank=True, editable=False)

It is ``models.ImageField`` with ``storage=select_storage``, ``CloudflareImageValidator`` and a file class
(``CloudflareImageFieldFile``) that knows about background uploads: ``{{ profile.image|variant:'w=200' }}`` shows
the staged file while it waits, ``profile.image.upload_state`` says where it is, ``width``/``height`` come from
what was recorded at staging or upload (no download). A plain ``models.ImageField(storage=select_storage)`` (or
any field on ``CloudflareImagesStorage``) gets the same validator and file class when the app registry is ready
(``cfvariants.django.apps``), so the original app's field works unchanged; ``CloudflareImageField`` also lets
its form field accept SVG, which Django's image form field refuses.

``thumbhash_field`` names a text field of the model that keeps the image's ThumbHash, as ``width_field`` and
``height_field`` keep its size: filled when a new file is assigned (computed from its content, once: the storage
records the same hash with the upload, and a background upload's record carries it), so
``{% cf_img photo.image ... placeholder="thumbhash" %}`` paints its placeholder from the row, in any process.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.core.files.base import File
from django.db import models
from django.db.models import signals
from django.db.models.fields.files import ImageFieldFile

from cfvariants._layouts import THUMBHASH_KEY, Original
from cfvariants._refs import PrivateImage

from ._uploads import saving_row
from .storage import select_storage
from .validators import CloudflareImageValidator, image_facts, placeholder_facts

__all__ = ["THUMBHASH_MAX_LENGTH", "CloudflareImageField", "CloudflareImageFieldFile", "CloudflareImageFormField"]

THUMBHASH_MAX_LENGTH = 40
"""A ``max_length`` that holds every ThumbHash as base64 text (at most 36 characters) for a ``thumbhash_field``."""

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
        and ``thumbhash_field`` values, which Django keeps with the row. ``None`` when neither knows."""
        if not self:
            return None
        recorded = getattr(self.storage, "recorded_original", None)
        original: Original | None = recorded(self.name) if recorded is not None else None
        if original is not None and original.size is not None and original.thumbhash is not None:
            return original
        size = original.size if original is not None and original.size else self._declared_size()
        thumbhash = original.thumbhash if original is not None and original.thumbhash else self._declared_hash()
        if size is None and thumbhash is None:
            return original
        width, height = size or (None, None)
        return Original(width, height, thumbhash)

    def _declared_size(self) -> tuple[int, int] | None:
        """The row's ``width_field``/``height_field`` values, when the field declares both and they are set."""
        width_field, height_field = getattr(self.field, "width_field", None), getattr(self.field, "height_field", None)
        if not (isinstance(width_field, str) and width_field and isinstance(height_field, str) and height_field):
            return None
        width, height = getattr(self.instance, width_field, None), getattr(self.instance, height_field, None)
        if type(width) is int and type(height) is int and width > 0 and height > 0:
            return width, height
        return None

    def _declared_hash(self) -> str | None:
        """The row's ``thumbhash_field`` value, when the field declares one and it is set."""
        name = getattr(self.field, "thumbhash_field", None)
        value = getattr(self.instance, name, None) if isinstance(name, str) and name else None
        return value if isinstance(value, str) and value else None

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
    Cloudflare's limits; ``width_field``/``height_field`` work as usual and read nothing from Cloudflare;
    ``thumbhash_field`` keeps the ThumbHash in the row the same way (see the module's docstring)."""

    attr_class = CloudflareImageFieldFile
    default_validators = [CloudflareImageValidator()]  # noqa: RUF012 - Django's class-level convention

    def __init__(self, *args: Any, storage: Any = None, thumbhash_field: str | None = None, **kwargs: Any) -> None:
        self.thumbhash_field = thumbhash_field
        super().__init__(*args, storage=storage or select_storage, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.thumbhash_field:
            kwargs["thumbhash_field"] = self.thumbhash_field
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type[models.Model], name: str, **kwargs: Any) -> None:  # type: ignore[override]
        super().contribute_to_class(cls, name, **kwargs)
        sized = getattr(self, "width_field", None) or getattr(self, "height_field", None)  # Django connected it
        if not cls._meta.abstract and self.thumbhash_field and not sized:
            signals.post_init.connect(self.update_dimension_fields, sender=cls)  # Django's hook for the size

    def update_dimension_fields(self, instance: models.Model, force: bool = False, *args: Any, **kwargs: Any) -> None:
        """Django's (``width_field``/``height_field``), then the ``thumbhash_field``: from a new file's content
        (the storage then records this hash, not a second one), from what the storage recorded for a stored
        name (no request), or emptied with the file. A row read from the database keeps its value."""
        super().update_dimension_fields(instance, force, *args, **kwargs)
        target = self.thumbhash_field
        if not target or self.attname not in instance.__dict__:
            return
        file = getattr(instance, self.attname)
        if not file:
            if force:
                setattr(instance, target, self._empty_hash(instance))
            return
        if getattr(file, "_committed", True):
            if not force:
                return  # loaded from the database: the row's value stands
            recorded = getattr(file.storage, "recorded_original", None)
            original = recorded(file.name) if recorded is not None else None
            thumbhash = original.thumbhash if original is not None else None
        else:
            thumbhash = placeholder_facts(file.file).get(THUMBHASH_KEY)
        setattr(instance, target, thumbhash or self._empty_hash(instance))

    def _empty_hash(self, instance: models.Model) -> str | None:
        try:
            target = instance._meta.get_field(str(self.thumbhash_field))
        except FieldDoesNotExist:
            return ""
        return None if getattr(target, "null", False) else ""

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_thumbhash_field()]

    def _check_thumbhash_field(self) -> list[checks.CheckMessage]:
        """``cfvariants.E030``: ``thumbhash_field`` names no field of the model; ``E031``: not a text field that
        holds a ThumbHash (a ``CharField`` of ``max_length`` at least 36, or a ``TextField``)."""
        name = self.thumbhash_field
        if name is None:
            return []
        model = getattr(self, "model", None)
        if not isinstance(name, str) or not name or model is None:
            return [checks.Error(f"thumbhash_field must be a field name, not {name!r}", obj=self, id="cfvariants.E030")]
        try:
            target = model._meta.get_field(name)
        except FieldDoesNotExist:
            return [
                checks.Error(
                    f"thumbhash_field={name!r} names no field of {model._meta.label}",
                    hint=f"add {name} = models.CharField(max_length={THUMBHASH_MAX_LENGTH}, blank=True, "
                    "editable=False) to the model",
                    obj=self,
                    id="cfvariants.E030",
                )
            ]
        if isinstance(target, models.TextField) or (
            isinstance(target, models.CharField) and (target.max_length or 0) >= 36
        ):
            return []
        return [
            checks.Error(
                f"thumbhash_field={name!r} is a {type(target).__name__}"
                + (f" of max_length {target.max_length}" if isinstance(target, models.CharField) else "")
                + "; a ThumbHash is base64 text of up to 36 characters",
                hint=f"make it models.CharField(max_length={THUMBHASH_MAX_LENGTH}, blank=True, editable=False)",
                obj=self,
                id="cfvariants.E031",
            )
        ]

    def formfield(self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any) -> Any:
        return super().formfield(form_class=form_class or CloudflareImageFormField, **kwargs)
