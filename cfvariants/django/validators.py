"""Cloudflare's upload limits as a Django validator, so a form shows what is wrong before anything is stored.

``CloudflareImageValidator`` refuses what Cloudflare Images would refuse: files over 10 MB, images over 12,000
px on a side or 100 megapixels, formats it does not take (the type is read from the bytes, never from the
name), broken files, and SVGs with active content (scripts, event handlers, external references). The checks
are the local emulator's, so development and production refuse the same files.

It is on by default for every ``FileField``/``ImageField`` whose storage is the Cloudflare storage
(``CloudflareImagesStorage`` or ``select_storage``, see ``cfvariants.django.apps``) and for
``CloudflareImageField``; elsewhere add it yourself: ``validators=[CloudflareImageValidator()]``. A ModelForm
(and so the admin) then shows the message on the field, and since the form is invalid nothing is saved, staged
or uploaded. A file already stored is never read again (validating an unchanged row downloads nothing).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from cfvariants.imaging import oriented_size, placeholder_metadata
from cfvariants.limits import MAX_UPLOAD_BYTES
from cfvariants.uploads._validation import ACCEPTED_FORMATS, UploadRejected, check_image_bytes

__all__ = ["CloudflareImageValidator", "ImageFacts", "image_facts"]

_FACTS = "_cfvariants_facts"
_PLACEHOLDER = "_cfvariants_placeholder"


@dataclass(frozen=True)
class ImageFacts:
    """What the validator found in a file: kept on the file so the storage records it without decoding again."""

    format: str
    content_type: str
    width: int
    height: int


@deconstructible
class CloudflareImageValidator:
    """Refuse a new file Cloudflare Images would refuse, with a message that names the limit."""

    def __init__(self, formats: tuple[str, ...] = ACCEPTED_FORMATS, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.formats = tuple(formats)
        self.max_bytes = max_bytes

    def __call__(self, value: Any) -> None:
        if getattr(value, "_committed", False) is True:
            return  # a stored file (an unchanged row): Cloudflare took it already, and reading it would download
        file = getattr(value, "file", value)
        size = getattr(value, "size", None)
        if isinstance(size, int) and size > self.max_bytes:
            raise ValidationError(
                "The file is %(size)s MB; Cloudflare Images accepts files of at most %(limit)s MB.",
                code="cloudflare_file_size",
                params={"size": f"{size / 1024 / 1024:.1f}", "limit": f"{self.max_bytes / 1024 / 1024:g}"},
            )
        data = _read(file, self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ValidationError(
                "The file is larger than %(limit)s MB, the most Cloudflare Images accepts.",
                code="cloudflare_file_size",
                params={"limit": f"{self.max_bytes / 1024 / 1024:g}"},
            )
        try:
            info = check_image_bytes(data, formats=self.formats)
        except UploadRejected as exc:
            raise ValidationError(str(exc), code="cloudflare_image") from None
        facts = ImageFacts(info.format, info.content_type, info.width, info.height)
        for holder in (file, value):
            with contextlib.suppress(AttributeError):
                setattr(holder, _FACTS, facts)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CloudflareImageValidator)
            and other.formats == self.formats
            and other.max_bytes == self.max_bytes
        )

    def __hash__(self) -> int:
        return hash((self.formats, self.max_bytes))


def _read(file: Any, limit: int) -> bytes:
    start = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        return bytes(file.read(limit))
    finally:
        file.seek(start)


def image_facts(content: object) -> ImageFacts | None:
    """What the validator recorded about ``content`` (or its ``.file``); else the pixel size from the header
    (Pillow reads only the start of the file). ``None`` when neither says."""
    for holder in (content, getattr(content, "file", None)):
        facts = getattr(holder, _FACTS, None)
        if isinstance(facts, ImageFacts):
            return facts
    size = _displayed_size(content)
    return ImageFacts("", "", *size) if size is not None else None


def placeholder_facts(content: object, *, compute: bool = True) -> dict[str, Any]:
    """The size and ThumbHash an upload records of ``content`` (``cfvariants.imaging.placeholder_metadata``),
    computed once per file and kept on it, so a ``thumbhash_field`` and the storage share one decode. ``{}``
    when it is no raster image Pillow reads, or (``compute=False``) when nothing has computed it yet."""
    for holder in (content, getattr(content, "file", None)):
        found = getattr(holder, _PLACEHOLDER, None)
        if isinstance(found, dict):
            return found
    if not compute:
        return {}
    file: Any = getattr(content, "file", content)
    try:
        position = file.tell()
        file.seek(0)
        try:
            recorded = placeholder_metadata(file)
        finally:
            file.seek(position)
    except (AttributeError, OSError, ValueError):
        return {}
    for holder in (content, file):
        with contextlib.suppress(AttributeError):
            setattr(holder, _PLACEHOLDER, recorded)
    return recorded


def _displayed_size(content: object) -> tuple[int, int] | None:
    """The pixel size as shown, after the EXIF orientation (Cloudflare serves photos upright; Django's
    ``get_image_dimensions`` gives a phone's sideways stored size), read from the header; the file's position
    is kept."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - Pillow comes with the django extra

    file: Any = getattr(content, "file", content)
    try:
        position = file.tell()
        file.seek(0)
        try:
            with Image.open(file) as image:
                width, height = oriented_size(image)
        finally:
            file.seek(position)
    except (AttributeError, OSError, ValueError, TypeError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
    return (width, height) if width and height else None
