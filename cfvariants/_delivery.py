"""``Delivery``: the one object that turns an image id and a variant into a delivery URL.

Pure and cheap: no network, no disk. Per instance it precomputes the URL prefix and the keyed signing states.
The first URL for a never-seen image is the work itself: one exact character test of the id (a UUID or any id of
ASCII letters, digits, ``-`` and ``_`` needs no encoding) and one f-string; the variant's segment was validated
once per process. On top of that each instance remembers finished URLs per variant (``_Row``, a bounded
``Memo``), because a server renders the same images again and again. Every adapter (Jinja, Django, Flask, the
CLI) builds URLs through this class and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import SecretStr

from ._errors import ArgumentError, SigningError, VariantError
from ._html import ImageMarkup, srcset_value
from ._layouts import Original
from ._memo import CacheInfo, Memo, Misses, cache_info, remember
from ._options import Options
from ._segments import KeywordKey, Segment, VariantLike, exact, keyword_key, keyword_options, resolve_variant
from ._settings import Settings
from ._signing import SigningKey, expiry
from ._srcset_memo import SrcsetRow, as_tuple, make_row, remember_row, request_key
from ._urls import (
    DELIVERY_HOST,
    DOMAIN_PREFIX,
    MAX_EXP,
    MAX_ID_LENGTH,
    PLAIN_ID_BYTES,
    URL_PREFIXES,
    check_account_hash,
    encode_image_id,
    is_plain_id,
    parse_origin,
    split_delivery_url,
)

_V = TypeVar("_V")


_MAX_ROWS = 1024  # distinct variants / keyword sets / srcset requests remembered per Delivery


class _Row(Memo[object, _V]):
    """What one ``Delivery`` made for one variant (or keyword set), by image id, with the resolved segment that
    every value of the row ends with."""

    __slots__ = ("segment", "tail")

    def __init__(self, limit: int, segment: Segment) -> None:
        super().__init__(limit)
        self.segment = segment
        self.tail = f"/{segment.text}"  # what follows the image id in a URL


@dataclass(slots=True)
class _Signable:
    """One image through one named variant, ready to sign: the origin, the path that the signature covers, and
    the last signature made, because a page shows one image many times within the same second."""

    origin: str
    path: str
    last: tuple[int, str] = (0, "")  # (exp, signed URL); replaced whole, so threads never see a torn pair


_FAST_EXPIRES_IN = 10**10  # longer lifetimes take expiry(), which refuses an exp after year 9999


class Delivery(ImageMarkup):
    """Builds Cloudflare Images delivery URLs for one account.

    ``Delivery(account_hash, signing_key=None, domain=None)``: ``domain`` switches to the custom-domain form
    ``https://<domain>/cdn-cgi/imagedelivery/...``; it may carry a scheme and port (``http://127.0.0.1:5000``),
    and ``domain="/"`` gives root-relative URLs (``/cdn-cgi/imagedelivery/...``) served by the current site, which
    is how development mounts the local emulator into an app. Instances are immutable and thread-safe.
    """

    __slots__ = (
        "_account_hash",
        "_cache_size",
        "_domain",
        "_hmac_inner",
        "_hmac_outer",
        "_key",
        "_keyword_urls",
        "_misses",
        "_origin",
        "_path_prefix",
        "_prefix",
        "_signing",
        "_srcsets",
        "_urls",
    )  # fmt: skip

    _account_hash: str
    _domain: str | None
    _key: SigningKey | None
    _hmac_inner: Any  # the key's keyed SHA-256 states (hashlib objects), copied per signature
    _hmac_outer: Any
    _origin: str
    _path_prefix: str
    _prefix: str
    _cache_size: int
    _misses: Misses  # calls that computed their result (cache_info)
    # At most _MAX_ROWS rows each (plain dicts: a hit is two dict lookups), each row a Memo of cache_size images.
    _urls: dict[VariantLike, _Row[str]]  # variant argument -> image -> URL
    _keyword_urls: dict[KeywordKey, _Row[str]]  # keyword_key -> image -> URL
    _signing: dict[VariantLike, _Row[_Signable]]  # named variant -> image (or its type and text) -> what is signed
    _srcsets: dict[tuple[object, ...], SrcsetRow]  # srcset request -> image -> srcset

    def __init__(
        self,
        account_hash: str,
        *,
        signing_key: str | bytes | SecretStr | SigningKey | None = None,
        domain: str | None = None,
        cache_size: int = 8192,
    ) -> None:
        check_account_hash(account_hash)
        if domain:
            origin, shown_domain = parse_origin(domain)
            path_prefix = f"{DOMAIN_PREFIX}/{account_hash}/"
        else:
            origin, path_prefix, shown_domain = f"https://{DELIVERY_HOST}", f"/{account_hash}/", None
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ArgumentError(f"cache_size must be a non-negative integer, not {type(cache_size).__name__}")
        key = None if signing_key is None else _signing_key(signing_key)
        fields: dict[str, object] = {
            "_account_hash": account_hash,
            "_domain": shown_domain,
            "_origin": origin,
            "_path_prefix": path_prefix,
            "_prefix": origin + path_prefix,
            "_key": key,
            "_hmac_inner": None if key is None else key.states()[0],
            "_hmac_outer": None if key is None else key.states()[1],
            "_cache_size": cache_size,
            "_misses": Misses(),
            "_urls": {},
            "_keyword_urls": {},
            "_signing": {},
            "_srcsets": {},
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)  # immutable from outside: __setattr__ refuses

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> Delivery:
        """Build from ``CF_IMG_HASH``, ``CF_IMG_SIGNING_KEY`` and ``CF_IMG_DOMAIN`` (environment or ``.env``)."""
        settings = settings if settings is not None else Settings.load()
        kwargs: dict[str, Any] = {
            "account_hash": settings.require("account_hash"),
            "signing_key": settings.signing_key,
            "domain": settings.domain,
        }
        kwargs.update(overrides)
        return cls(**kwargs)

    # -- attributes ---------------------------------------------------------------------------------------------

    @property
    def account_hash(self) -> str:
        return self._account_hash

    @property
    def domain(self) -> str | None:
        """The custom domain (``None`` for imagedelivery.net, ``"/"`` for root-relative URLs); includes the
        scheme when it is not https."""
        return self._domain

    @property
    def can_sign(self) -> bool:
        return self._key is not None

    @property
    def prefix(self) -> str:
        """Everything before the image id: ``https://imagedelivery.net/<hash>/``."""
        return self._prefix

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Delivery is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        key = ", signing_key='**********'" if self._key is not None else ""
        domain = f", domain={self._domain!r}" if self._domain else ""
        return f"Delivery({self._account_hash!r}{domain}{key})"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self)._unpickle, (self._account_hash, self._key, self._domain, self._cache_size))

    @classmethod
    def _unpickle(cls, *args: Any) -> Any:
        """Rebuilds a pickled Delivery: pickles name the public class, not a private module."""
        return _rebuild(*args)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Delivery):
            return NotImplemented
        return (self._prefix, self._key) == (other._prefix, other._key)

    def __hash__(self) -> int:
        return hash(self._prefix)

    # -- URLs ---------------------------------------------------------------------------------------------------

    def url(self, image: str, variant: VariantLike = None, **options: Any) -> str:
        """The delivery URL of ``image`` through ``variant``.

        ``image`` is a raw image id or a full delivery URL (its variant is replaced). ``variant`` is a named
        variant, an option string, an ``Options``, or ``None`` for ``public``; keyword options build (or are laid
        over) a flexible variant.
        """
        try:  # the memo's lookups, and nothing else: a TypeError is an unhashable variant, keyword value or image
            if options:
                for value in options.values():  # keyword_key, inlined: exact when every value is a str or an int
                    if type(value) is not str and type(value) is not int:
                        key = keyword_key(variant, options)
                        break
                else:
                    key = (variant, *options, *options.values())
                row = self._keyword_urls.get(key)
            else:
                row = self._urls.get(variant)
            if row is not None:
                url = row.entries.get(image)
                if url is not None:
                    return url
            else:  # the first URL through a new row, which will keep image: it must hash (a str subclass may not)
                hash(image)
        except TypeError:  # computed without a memo, where the bad argument is explained
            return self._uncached_url(image, variant, options)
        if row is None:  # this Delivery's first URL through this variant or keyword set
            if options:
                row = self._keyword_row(key, variant, options)
            else:
                row = remember(self._urls, _MAX_ROWS, variant, self._row(variant))
        # The first sight of this image: an id of ASCII letters, digits, - and _ goes into the URL as it is
        # (PLAIN_ID_BYTES maps every other byte, UTF-8 ones included, to one that isalnum refuses).
        try:
            plain = len(image) <= MAX_ID_LENGTH and image.encode().translate(PLAIN_ID_BYTES).isalnum()
        except (TypeError, AttributeError, UnicodeEncodeError):  # not a text, or a lone surrogate:
            plain = False  # _image_base's encode_image_id explains it
        url = f"{self._prefix}{image}{row.tail}" if plain else f"{_image_base(self._prefix, image)}{row.segment.text}"
        self._misses.count += 1  # counted once the URL is made: a refused call is no miss
        return row.keep(image, url) if row.limit else url

    def _row(self, variant: VariantLike) -> _Row[Any]:
        return _Row(self._cache_size, resolve_variant(variant))

    def _keyword_row(self, key: KeywordKey, variant: VariantLike, options: dict[str, Any]) -> _Row[str]:
        row = self._row(keyword_options(variant, options))
        return remember(self._keyword_urls, _MAX_ROWS, key, row) if exact(options) else row

    def _uncached_url(self, image: str, variant: VariantLike, options: dict[str, Any]) -> str:
        """The URL computed without any memo; raises the error that explains an unusable argument."""
        segment = resolve_variant(keyword_options(variant, options) if options else variant)
        url = f"{_image_base(self._prefix, image)}{segment.text}"
        self._misses.count += 1
        return url

    def path(self, image: str, variant: VariantLike = None) -> str:
        """The URL path (what Cloudflare signs): ``/<hash>/<id>/<variant>`` or with the custom-domain prefix."""
        return self._origin_and_path(image, resolve_variant(variant))[1]

    def _origin_and_path(self, image: str, segment: Segment) -> tuple[str, str]:
        if isinstance(image, str) and image.startswith(URL_PREFIXES):
            split = split_delivery_url(image)
            return split.origin, f"{split.prefix}/{split.account_hash}/{split.encoded_id}/{segment.text}"
        return self._origin, f"{self._path_prefix}{encode_image_id(image)}/{segment.text}"

    def signed_url(
        self,
        image: str,
        variant: VariantLike = None,
        *,
        expires_in: int | float | timedelta | None = None,
        expires_at: datetime | int | float | None = None,
    ) -> str:
        """A signed URL (``?exp=<unix>&sig=<hex>``) for a private image, through a named variant.

        Exactly one of ``expires_in`` (seconds or ``timedelta``) and ``expires_at`` (aware ``datetime`` or unix
        seconds). Flexible options cannot be signed: Cloudflare does not serve private images through them.
        """
        if expires_at is None and type(expires_in) is int and 0 < expires_in < _FAST_EXPIRES_IN:
            exp = int(time.time()) + expires_in  # what expiry() gives, without its checks for other types
        elif expires_in is None and type(expires_at) is int and 0 < expires_at <= MAX_EXP:
            exp = expires_at
        else:
            exp = expiry(expires_in=expires_in, expires_at=expires_at)
        # An exact str is its own key; anything else (a str subclass such as PrivateImage, or no text at all,
        # which _origin_and_path refuses) carries its type, so that no two equal ids of two types meet.
        key = image if type(image) is str else (type(image), image)
        try:
            row = self._signing.get(variant)
        except TypeError:  # an unhashable variant, which _signing_row refuses (resolve_variant explains it)
            self._signing_row(variant)
            raise
        if row is None:  # this Delivery's first signature through this variant
            row = remember(self._signing, _MAX_ROWS, variant, self._signing_row(variant))
        try:
            start = row.entries.get(key)
        except TypeError:  # an id without a hash (a list, a str subclass without one): signed without a memo
            return self._uncached_signed_url(image, variant, exp)
        if start is None:  # the first signature for this image: where it points, what the signature covers
            try:  # as in url(): an id of ASCII letters, digits, - and _ goes into the path as it is
                plain = len(image) <= MAX_ID_LENGTH and image.encode().translate(PLAIN_ID_BYTES).isalnum()
            except (TypeError, AttributeError, UnicodeEncodeError):  # no text, or a lone surrogate:
                plain = False  # _origin_and_path's encode_image_id explains it
            if plain:
                origin, path = self._origin, f"{self._path_prefix}{image}{row.tail}"
            else:
                origin, path = self._origin_and_path(image, row.segment)
            if row.limit:
                start = row.keep(key, _Signable(origin, path))
        else:
            last_exp, last_url = start.last
            if last_exp == exp:
                return last_url
            origin, path = start.origin, start.path
        self._misses.count += 1
        # HMAC-SHA256 of the message, from the key's prekeyed inner and outer states (what hmac.new would compute
        # after hashing the padded key twice), inline because this is the hot path of a page of private images.
        message = f"{path}?exp={exp}"
        inner = self._hmac_inner.copy()
        inner.update(message.encode())
        outer = self._hmac_outer.copy()
        outer.update(inner.digest())
        url = f"{origin}{message}&sig={outer.hexdigest()}"
        if start is not None:
            start.last = (exp, url)
        return url

    def _uncached_signed_url(self, image: str, variant: VariantLike, exp: int) -> str:
        """The signed URL computed without any memo; raises the error that explains an unusable argument."""
        row = self._signing_row(variant)
        origin, path = self._origin_and_path(image, row.segment)
        self._misses.count += 1
        message = f"{path}?exp={exp}"
        return f"{origin}{message}&sig={self._key.hexdigest(message)}"  # type: ignore[union-attr]

    def _signing_row(self, variant: VariantLike) -> _Row[_Signable]:
        if self._key is None:
            raise SigningError(
                "no signing key: pass Delivery(..., signing_key=...) or set CF_IMG_SIGNING_KEY (the key is listed "
                "under Images > Keys, or by the API's /images/v1/keys)"
            )
        row: _Row[_Signable] = self._row(variant)
        if not row.segment.named:
            raise SigningError(
                f"flexible options {row.segment.text!r} cannot be signed: Cloudflare serves private images only "
                "through named variants (define one, e.g. 'avatar', and sign that)"
            )
        return row

    def srcset(
        self,
        image: str,
        variant: VariantLike = None,
        *,
        widths: Iterable[int] | None = None,
        densities: Iterable[float] | None = None,
        min_width: int | None = None,
        max_width: int | None = None,
        tolerance: float | None = None,
        layout: str | None = None,
        original: object = None,
        **options: Any,
    ) -> str:
        """A ``srcset`` value: width descriptors (``widths=(320, 640)`` or a ``min_width``..``max_width`` range
        with a ``tolerance``, like imgix's fluid srcset) or density descriptors (``densities=(1, 2)`` via dpr).

        With neither: a fixed ``width`` in the options gives densities 1x and 2x, otherwise the default fluid
        range. With a ``layout`` (``cfvariants._layouts``) the layout chooses the widths, ``width``/``height``
        are its CSS size and ``original`` (``image.meta``, ``(width, height)``) caps them at the original's size.
        A named variant has a fixed size and cannot be resized, so it raises ``VariantError``.
        """
        if widths is not None and type(widths) is not tuple:
            widths = as_tuple(widths, "srcset widths")
        if densities is not None and type(densities) is not tuple:
            densities = as_tuple(densities, "densities")
        if original is not None:
            original = Original.of(original)
        key = request_key(variant, widths, densities, min_width, max_width, tolerance, layout, original, options)
        try:
            row = self._srcsets.get(key)
        except TypeError:  # an unhashable argument: validated without a memo, which explains it
            request = (widths, densities, min_width, max_width, tolerance, layout, original)
            row = self._srcset_row(variant, request, options)
            return self._uncached_srcset(row, image)
        if row is None or not (
            (row.widths is widths and row.densities is densities) or row.made_from(widths, densities)
        ):
            request = (widths, densities, min_width, max_width, tolerance, layout, original)
            scalars = (min_width, max_width, tolerance, *options.values())
            row = remember_row(self._srcsets, key, self._srcset_row(variant, request, options), scalars)
        try:
            value = row.entries.get(image)
        except TypeError:  # an unhashable image: encode_image_id explains it
            return self._uncached_srcset(row, image)
        if value is None:  # the first srcset of this image for this request (inline: no call on this path)
            value = row.keep(image, srcset_value(row.candidates, _image_base(self._prefix, image)))
            self._misses.count += 1
        return value

    def _uncached_srcset(self, row: SrcsetRow, image: str) -> str:
        """The srcset of ``image`` from a request's candidates, computed (a miss)."""
        value = srcset_value(row.candidates, _image_base(self._prefix, image))
        self._misses.count += 1
        return value

    def _srcset_row(self, variant: VariantLike, request: tuple[Any, ...], options: dict[str, Any]) -> SrcsetRow:
        """The candidates of a srcset request (validating it), as a row of srcsets by image."""
        return make_row(self._cache_size, request, options, lambda given: self._variant_for_srcset(variant, given))

    def _variant_for_srcset(self, variant: VariantLike, options: Mapping[str, Any]) -> Options:
        if variant is not None and resolve_variant(variant).named:
            raise VariantError(
                f"named variant {resolve_variant(variant).text!r} has a fixed size, so it cannot make a srcset; "
                "use flexible options (e.g. 'fit=cover') so each candidate can be resized"
            )
        return keyword_options(variant, options).check_form("hosted")

    def srcset_options(self, variant: VariantLike) -> Options:
        """The options every srcset candidate starts from (``VariantError`` for a named variant)."""
        return self._variant_for_srcset(variant, {})

    def srcset_affixes(self, image: str) -> tuple[str, str]:
        """What comes before and after a candidate's options in ``image``'s srcset URLs (``srcset_value``)."""
        return _image_base(self._prefix, image), ""

    def cache_info(self) -> CacheInfo:
        """What this Delivery remembers (``misses``, ``entries``, ``cache_size``), to choose ``cache_size``: a
        warm page that still adds misses needs a larger one.

        >>> cf = Delivery("ZWd9g1K7eljCn_KDTu_MWA", cache_size=100)
        >>> _ = cf.url("cat", "avatar"), cf.url("cat", "avatar"), cf.url("dog", "avatar")
        >>> cf.cache_info()
        CacheInfo(misses=2, entries=2, cache_size=100)
        """
        return cache_info(
            self._misses, (self._urls, self._keyword_urls, self._signing, self._srcsets), self._cache_size
        )

    def options_of(self, variant: VariantLike) -> Options | None:
        """The flexible options ``variant`` stands for; ``None`` for a named variant (``None`` is ``public``)."""
        return resolve_variant(variant).options


def _image_base(prefix: str, image: str) -> str:
    """Everything up to and including the ``/`` before the variant segment: ``prefix`` and the encoded id, or the
    same part of a delivery URL given as the image."""
    if is_plain_id(image):
        return f"{prefix}{image}/"
    if isinstance(image, str) and image.startswith(URL_PREFIXES):
        split = split_delivery_url(image)
        return f"{split.origin}{split.prefix}/{split.account_hash}/{split.encoded_id}/"
    return f"{prefix}{encode_image_id(image)}/"


def _signing_key(key: str | bytes | SecretStr | SigningKey) -> SigningKey:
    if isinstance(key, SigningKey):
        return key
    if isinstance(key, SecretStr | str) and not (key.get_secret_value() if isinstance(key, SecretStr) else key):
        raise SigningError("the signing key is empty")
    return SigningKey(key)


def _rebuild(account_hash: str, key: SigningKey | None, domain: str | None, cache_size: int) -> Delivery:
    return Delivery(account_hash, signing_key=key, domain=domain, cache_size=cache_size)
