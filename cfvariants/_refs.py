"""``image_ref``: what a template value means as an image, for every template adapter (Jinja, Django, Flask).

A template hands a filter whatever the view put in the context: an image id, a delivery URL kept in a database, a
model object, a Django ``FieldFile``, ``None``, or Jinja's ``Undefined``. This module turns that into what a URL
builder takes (an id or a delivery URL for ``Delivery``; a ``RemoteImage`` path or URL for ``Transformations``)
or ``None`` for "no image", by a fixed, documented order, and refuses anything else with an error that names the
type. Hosted or remote is decided by what the value is, never guessed from a file name: a Django file by its
storage, a string by its form (``cfvariants._urls.is_remote_source``). It never falls back to ``.id`` or ``.pk``:
those are database keys, and a URL built from one would point at somebody else's image.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from ._errors import ArgumentError
from ._layouts import Original
from ._urls import is_remote_source, is_url

ORIGINAL_ATTRIBUTE = "__cf_original__"
"""Implement this (an attribute, property or method returning an ``Original``, ``(width, height)``, the image's
metadata mapping or ``None``) to let layouts size your objects' images without ``original=``."""

REF_ATTRIBUTE = "__cf_image__"
"""Implement this (an attribute, property or method returning an image id, a delivery URL or ``None``) to let
templates take your objects directly: ``{{ photo | variant('w=200') }}``."""


class LocalImage(str):
    """An image that is not on Cloudflare (yet), shown from this URL as it is whatever the variant asked for:
    e.g. an upload still waiting in the queue, previewed from the app's staging area. ``__cf_image__`` may
    return one; every template filter then renders it unchanged (an ``<img>`` keeps its alt and attributes)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"LocalImage({str(self)!r})"


class RemoteImage(str):
    """An image outside Cloudflare Images, by its URL or path on the site (``/media/cat.jpg``,
    ``https://bucket.s3.amazonaws.com/cat.jpg``): resized through Image Transformations (``/cdn-cgi/image/``).
    ``image_ref`` returns one for a Django file of any storage but the Cloudflare Images storage."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"RemoteImage({str(self)!r})"


class PrivateImage(str):
    """The id of a private image (uploaded with ``requireSignedURLs``): Cloudflare serves it only through a signed
    URL of a named variant. Every template filter signs it, ``variant`` included, with the configured lifetime;
    flexible options and srcsets, which Cloudflare refuses for private images, are an error naming the image.
    The Django storage with ``require_signed_urls=True``, the API client's ``Image`` and a private upload's record
    return one; ``__cf_image__`` may return one too."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"PrivateImage({str(self)!r})"


_KEPT_REFS = (LocalImage, RemoteImage, PrivateImage)  # str subclasses image_ref hands on as they are

_CLOUDFLARE_STORAGE_MODULE = "cfvariants.django.storage"
_CLOUDFLARE_STORAGE_CHECK = "is_cloudflare_storage"


def is_cloudflare_storage(storage: object) -> bool:
    """Whether a Django storage keeps its files on Cloudflare Images (``CloudflareImagesStorage``, or what
    ``select_storage`` returns: ``cfvariants.django.storage.is_cloudflare_storage``). A file can only be of
    such a storage once that module is imported, so the core never imports Django for this."""
    module = sys.modules.get(_CLOUDFLARE_STORAGE_MODULE)
    check = getattr(module, _CLOUDFLARE_STORAGE_CHECK, None) if module is not None else None
    return check is not None and bool(check(storage))


def image_ref(value: object) -> str | None:
    """The image reference (an image id or a full delivery URL) that ``value`` stands for, or ``None``.

    Checked in this order:

    1. ``None``, ``""`` and Jinja's ``Undefined`` mean no image (a ``StrictUndefined`` raises its own error, as a
       strict environment asks). Jinja is recognised only when it is already imported: the core never imports it.
    2. a ``str`` is an image id or a delivery URL, as it is.
    3. ``value.__cf_image__`` (called if it is a method): the object's own answer; our models implement it. It
       may be a ``LocalImage``: a URL shown as it is (an upload still in the queue), or a ``PrivateImage``: an
       id whose URLs are signed.
    4. ``value.image_id``.
    5. a Django file (``FieldFile``/``ImageFieldFile``: it has ``.storage``), decided by its storage: of the
       Cloudflare Images storage, its ``.name`` (the image id; ``storage.image_ref(name)`` when the storage has
       it, which answers for background uploads, a ``LocalImage`` preview while they wait, and for private
       storages, a ``PrivateImage``); of any other storage
       (``FileSystemStorage``, S3...), a ``RemoteImage`` of its ``.url``. An empty file means no image.
    6. ``value.url``, then ``value.image_url`` (the first that is set): a delivery URL, or the URL or path of an
       image outside Cloudflare Images (a ``RemoteImage``); both empty means no image.

    Anything else raises ``ArgumentError`` naming the type.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value.__class__ in _KEPT_REFS:
            return value
        return str(value) if value else None  # str() turns Markup and other subclasses into the plain text
    if _is_jinja_undefined(value):
        return None if not value else _not_an_image(value)  # bool() of StrictUndefined raises UndefinedError
    own = getattr(value, REF_ATTRIBUTE, None)
    if own is not None:
        return _checked(value, REF_ATTRIBUTE, own() if callable(own) else own)
    image_id = getattr(value, "image_id", _MISSING)
    if image_id is not _MISSING:
        return _checked(value, "image_id", image_id)
    storage = getattr(value, "storage", None)
    if storage is not None and hasattr(value, "name"):
        if is_cloudflare_storage(storage):
            resolve = getattr(storage, "image_ref", None)  # a background upload: its final id, or its preview
            return _checked(value, "name", resolve(value.name) if resolve is not None and value.name else value.name)
        if not value.name:
            return None
        url = _checked(value, "url", getattr(value, "url", None))
        return None if url is None else RemoteImage(url)
    has_url = False
    for name in ("url", "image_url"):
        url = getattr(value, name, _MISSING)
        if url is _MISSING:
            continue
        has_url = True
        checked = _checked(value, name, url)
        if checked is not None:
            if is_remote_source(checked):
                return checked if checked.__class__ is RemoteImage else RemoteImage(checked)
            if not is_url(checked):
                raise ArgumentError(
                    f"{type(value).__name__}.{name} is {_show(checked)}, not a URL (a delivery URL, or the http(s) "
                    "URL or /path of an image outside Cloudflare Images)"
                )
            return checked
    return None if has_url else _not_an_image(value)


class _Missing:
    pass


_MISSING: Any = _Missing()


def image_original(value: object) -> Original | None:
    """What a template value knows of its original (pixel size, ThumbHash), for layouts and placeholders: its
    ``__cf_original__``, else its ``meta`` mapping when that holds what was recorded at upload (the API
    client's ``Image``); ``None`` for a plain id or URL, which carry nothing."""
    if value is None or isinstance(value, str):
        return None
    own = getattr(value, ORIGINAL_ATTRIBUTE, None)
    if own is not None:
        return Original.of(own() if callable(own) else own)
    meta = getattr(value, "meta", None)
    if isinstance(meta, dict):
        found = Original.of(meta)
        return found if found is not None and (found.size or found.thumbhash) else None
    return None


def _is_jinja_undefined(value: object) -> bool:
    jinja2: Any = sys.modules.get("jinja2")
    return jinja2 is not None and isinstance(value, jinja2.Undefined)


def _checked(owner: object, name: str, ref: object) -> str | None:
    if ref is None or ref == "":
        return None
    if isinstance(ref, str):
        return ref if ref.__class__ in _KEPT_REFS else str(ref)
    raise ArgumentError(
        f"{type(owner).__name__}.{name} is of type {type(ref).__name__}, not an image id or delivery URL (str) or None"
    )


def _not_an_image(value: object) -> NoReturn:
    raise ArgumentError(
        f"{type(value).__name__} is not an image: pass an image id or a delivery URL (str), or an object with "
        f"{REF_ATTRIBUTE}, image_id, a Django file (.name and .storage), url or image_url "
        "(.id and .pk are database keys, not image ids, so they are never used)"
    )


def _show(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
