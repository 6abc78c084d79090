"""Typed results of the Images API: pydantic models that keep fields Cloudflare adds later.

Field names are Pythonic; the API's camelCase names are aliases (``requireSignedURLs`` →
``require_signed_urls``), and both are accepted when building a model. Unknown fields are kept (``extra``), so a
newer API response never breaks parsing. ``Image.url()`` and ``Image.signed_url()`` build delivery URLs through the
core ``Delivery``: the client's, or one derived from the image's own ``variants`` URLs.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from cfvariants._delivery import Delivery
from cfvariants._errors import CFVariantsError, SettingsError
from cfvariants._refs import PrivateImage
from cfvariants._segments import VariantLike as VariantSpec
from cfvariants._signing import SigningKey as CoreSigningKey
from cfvariants._urls import parse_delivery_url


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Image(_Model):
    """An image stored on Cloudflare Images (the ``result`` of upload, get, update, and list items).

    ``meta`` is the user metadata (responses may call it ``meta`` or ``metadata``). ``draft`` is true while a
    direct-upload record still waits for its file. ``variants`` holds one delivery URL per named variant.
    """

    id: str
    filename: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict, validation_alias=AliasChoices("meta", "metadata"))
    require_signed_urls: bool = Field(default=False, alias="requireSignedURLs")
    uploaded: datetime | None = None
    variants: list[str] = Field(default_factory=list)
    creator: str | None = None
    draft: bool = False

    _delivery: Delivery | None = PrivateAttr(default=None)

    def with_delivery(self, delivery: Delivery | None) -> Image:
        """This image, building its URLs through ``delivery`` (the client does this for every result)."""
        self._delivery = delivery
        return self

    @property
    def delivery(self) -> Delivery:
        """The ``Delivery`` that builds this image's URLs: the client's, else one derived from the account hash
        and domain of the image's own variant URLs (which cannot sign: it has no key)."""
        if self._delivery is not None:
            return self._delivery
        for url in self.variants:
            try:
                parsed = parse_delivery_url(url)
            except CFVariantsError:
                continue
            domain = parsed.domain if parsed.domain is None or parsed.scheme == "https" else parsed.origin
            return _derived_delivery(parsed.account_hash, domain)
        raise SettingsError(
            f"image {self.id!r} has no delivery URLs to learn the account hash from; create the client with "
            "delivery=Delivery(...) or set CF_IMG_HASH"
        )

    def __cf_image__(self) -> str:
        """Templates take an ``Image`` directly (``{{ image | variant('w=200') }}``): it stands for its id, a
        ``PrivateImage`` when it requires signed URLs (the filters sign it)."""
        return PrivateImage(self.id) if self.require_signed_urls else self.id

    def url(self, variant: VariantSpec = None, **options: Any) -> str:
        """The delivery URL of this image through ``variant`` (see ``Delivery.url``)."""
        return self.delivery.url(self.id, variant, **options)

    def signed_url(
        self,
        variant: VariantSpec = None,
        *,
        expires_in: int | float | timedelta | None = None,
        expires_at: datetime | float | None = None,
    ) -> str:
        """A signed delivery URL (see ``Delivery.signed_url``); needs a client ``Delivery`` with a signing key."""
        return self.delivery.signed_url(self.id, variant, expires_in=expires_in, expires_at=expires_at)

    def srcset(self, variant: VariantSpec = None, **kwargs: Any) -> str:
        """A ``srcset`` value for this image (see ``Delivery.srcset``)."""
        return self.delivery.srcset(self.id, variant, **kwargs)


@functools.lru_cache(maxsize=64)
def _derived_delivery(account_hash: str, domain: str | None) -> Delivery:
    return Delivery(account_hash, domain=domain)


class ImagesPage(_Model):
    """One page of a listing. ``continuation_token`` (list v2) is ``None`` on the last page; ``page`` and
    ``per_page`` echo the request of a v1 listing."""

    images: list[Image] = Field(default_factory=list)
    continuation_token: str | None = None
    page: int | None = None
    per_page: int | None = None


class DirectUpload(_Model):
    """A one-time upload URL for a browser (direct creator upload, v2): POST the file there as ``file``."""

    id: str
    upload_url: str = Field(alias="uploadURL")


class VariantOptions(_Model):
    """How a named variant resizes: ``fit`` (scale-down, contain, cover, crop, pad), ``width`` and ``height``
    in pixels, and which EXIF ``metadata`` to keep (keep, copyright, none)."""

    fit: str | None = None
    width: int | None = None
    height: int | None = None
    metadata: str | None = None


class Variant(_Model):
    """A named variant of the account."""

    id: str
    options: VariantOptions = Field(default_factory=VariantOptions)
    never_require_signed_urls: bool = Field(default=False, alias="neverRequireSignedURLs")


class StatsCount(_Model):
    """A count of the account's images: ``allowed`` (its quota) and ``current`` (stored now)."""

    allowed: int | None = None
    current: int | None = None


class Stats(_Model):
    """Usage: how many images are stored (``current``) out of how many the plan allows (``allowed``)."""

    count: StatsCount = Field(default_factory=StatsCount)

    @property
    def allowed(self) -> int | None:
        return self.count.allowed

    @property
    def current(self) -> int | None:
        return self.count.current


class AccountSigningKey(_Model):
    """A URL-signing key of the account. ``value`` is a ``SecretStr``: it never shows in a repr or log."""

    name: str
    value: SecretStr

    def signing_key(self) -> CoreSigningKey:
        """The core ``cfvariants.SigningKey`` for ``Delivery(..., signing_key=...)``."""
        return CoreSigningKey(self.value)


class BatchToken(_Model):
    """A token for the batch host (``https://batch.imagedelivery.net``), valid until ``expires_at``."""

    token: SecretStr
    expires_at: datetime | None = Field(default=None, alias="expiresAt")


class AccountConfig(_Model):
    """Account-wide Images settings (docs only, not in Cloudflare's schema): flexible variants on/off, the
    default browser TTL in seconds, and whether Content Credentials are preserved."""

    flexible_variants: bool | None = None
    browser_ttl: int | None = None
    preserve_content_credentials: bool | None = None
