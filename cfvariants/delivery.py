"""``Delivery``: the one object that turns an image id and a variant into a delivery URL.

Pure and cheap: no network, no disk. Per instance it precomputes the URL prefix and the signing states; per
process it caches parsed option strings and encoded ids; per instance it memoises finished URLs in a bounded
table, because a page render asks for the same (image, variant) pairs over and over. Every adapter (Jinja,
Django, Flask, the CLI) builds URLs through this class and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr

from .errors import SigningError, VariantError
from .html import ImageMarkup, srcset_candidates, srcset_value
from .options import Options
from .segments import DEFAULT_VARIANT, Variant, keyword_options, resolve_variant
from .settings import Settings
from .signing import SigningKey, expiry
from .urls import (
    DELIVERY_HOST,
    DOMAIN_PREFIX,
    URL_PREFIXES,
    check_account_hash,
    encode_image_id,
    parse_origin,
    split_delivery_url,
)

__all__ = ["DEFAULT_VARIANT", "Delivery", "Variant"]


_MAX_ROWS = 1024  # distinct variants / call shapes remembered per Delivery
_KEYWORD_SETS_PER_IMAGE = 8
_time_ns = time.time_ns


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
        "_key",
        "_keyword_urls",
        "_origin",
        "_outer_copy",
        "_path_prefix",
        "_prefix",
        "_signable",
        "_srcsets",
        "_urls",
    )  # fmt: skip

    _account_hash: str
    _domain: str | None
    _key: SigningKey | None
    _origin: str
    _path_prefix: str
    _prefix: str
    _cache_size: int
    _urls: dict[Any, dict[Any, str]]
    _signable: dict[Any, dict[Any, list[Any]]]
    _srcsets: dict[Any, dict[Any, str]]
    _keyword_urls: dict[Any, list[tuple[Variant, dict[str, Any], str]]]

    def __init__(
        self,
        account_hash: str,
        *,
        signing_key: str | bytes | SecretStr | SigningKey | None = None,
        domain: str | None = None,
        cache_size: int = 8192,
    ) -> None:
        check_account_hash(account_hash)
        setattr_ = object.__setattr__
        if domain:
            origin, shown = parse_origin(domain)
            path_prefix = f"{DOMAIN_PREFIX}/{account_hash}/"
            setattr_(self, "_domain", shown)
        else:
            origin = f"https://{DELIVERY_HOST}"
            path_prefix = f"/{account_hash}/"
            setattr_(self, "_domain", None)
        setattr_(self, "_account_hash", account_hash)
        setattr_(self, "_origin", origin)
        setattr_(self, "_path_prefix", path_prefix)
        setattr_(self, "_prefix", origin + path_prefix)
        key = None if signing_key is None else _signing_key(signing_key)
        setattr_(self, "_key", key)
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(f"cache_size must be a non-negative integer, not {cache_size!r}")
        setattr_(self, "_cache_size", cache_size)
        for table in ("_urls", "_signable", "_srcsets", "_keyword_urls"):
            setattr_(self, table, {})

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
        return (_rebuild, (self._account_hash, self._key, self._domain, self._cache_size))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Delivery):
            return NotImplemented
        return (self._prefix, self._key) == (other._prefix, other._key)

    def __hash__(self) -> int:
        return hash(self._prefix)

    # -- URLs ---------------------------------------------------------------------------------------------------

    def url(self, image: str, variant: Variant = None, **options: Any) -> str:
        """The delivery URL of ``image`` through ``variant``.

        ``image`` is a raw image id or a full delivery URL (its variant is replaced). ``variant`` is a named
        variant, an option string, an ``Options``, or ``None`` for ``public``; keyword options build (or are laid
        over) a flexible variant.
        """
        if options:
            return self._url_with_keywords(image, variant, options)
        try:
            return self._urls[variant][image]
        except (KeyError, TypeError):
            return self._remember(self._urls, variant, image, self._build, image, variant)  # type: ignore[no-any-return]

    def _url_with_keywords(self, image: str, variant: Variant, options: dict[str, Any]) -> str:
        # Keyed by image, then compared with the (small) list of keyword sets seen for it: comparing two
        # small dicts is cheaper than building a hashable key from one on every call. (Dict equality treats
        # True as 1; a bool where a number belongs is only caught on a miss. Accepted for the speed.)
        try:
            seen = self._keyword_urls.get(image)
        except TypeError:  # not an id at all; _build explains
            return self._build(image, keyword_options(variant, options))
        if seen is not None:
            for seen_variant, seen_options, url in seen:
                if seen_options == options and seen_variant == variant:
                    return url
        url = self._build(image, keyword_options(variant, options))
        if seen is None:
            if len(self._keyword_urls) >= self._cache_size:
                self._keyword_urls.clear()
            if self._cache_size:
                self._keyword_urls[image] = [(variant, options, url)]
        else:
            if len(seen) >= _KEYWORD_SETS_PER_IMAGE:
                del seen[0]
            seen.append((variant, options, url))
        return url

    def _remember(
        self,
        table: dict[Any, dict[Any, Any]],
        outer: object,
        image: object,
        make: Callable[..., Any],
        *args: Any,
    ) -> Any:
        """Compute ``make(*args)`` and keep it in a bounded two-level table ``outer -> image -> value``.

        (Arguments rather than a closure: a lambda in the caller would make its hot path build cells on every
        call.)"""
        value = make(*args)
        try:
            row = table.get(outer)
            if row is None:
                if len(table) >= _MAX_ROWS:
                    table.clear()
                row = table[outer] = {}
            if len(row) >= self._cache_size:
                row.clear()
            if self._cache_size:
                row[image] = value
        except TypeError:  # unhashable: computed, not remembered
            pass
        return value

    def _build(self, image: str, variant: Variant) -> str:
        segment = resolve_variant(variant).text
        return f"{self._image_base(image)}{segment}"

    def _image_base(self, image: str) -> str:
        """Everything up to and including the ``/`` before the variant segment."""
        if isinstance(image, str) and image.startswith(URL_PREFIXES):
            split = split_delivery_url(image)
            return f"{split.origin}{split.prefix}/{split.account_hash}/{split.encoded_id}/"
        return f"{self._prefix}{encode_image_id(image)}/"

    def path(self, image: str, variant: Variant = None) -> str:
        """The URL path (what Cloudflare signs): ``/<hash>/<id>/<variant>`` or with the custom-domain prefix."""
        return self._origin_and_path(image, variant)[1]

    def _origin_and_path(self, image: str, variant: Variant) -> tuple[str, str]:
        segment = resolve_variant(variant).text
        if isinstance(image, str) and image.startswith(URL_PREFIXES):
            split = split_delivery_url(image)
            return split.origin, f"{split.prefix}/{split.account_hash}/{split.encoded_id}/{segment}"
        return self._origin, f"{self._path_prefix}{encode_image_id(image)}/{segment}"

    def signed_url(
        self,
        image: str,
        variant: Variant = None,
        *,
        expires_in: int | float | timedelta | None = None,
        expires_at: datetime | float | None = None,
    ) -> str:
        """A signed URL (``?exp=<unix>&sig=<hex>``) for a private image, through a named variant.

        Exactly one of ``expires_in`` (seconds or ``timedelta``) and ``expires_at`` (aware ``datetime`` or unix
        seconds). Flexible options cannot be signed: Cloudflare does not serve private images through them.
        """
        try:
            entry = self._signable[variant][image]
        except (KeyError, TypeError):
            entry = self._remember(self._signable, variant, image, self._signing_start, image, variant)
        if type(expires_in) is int and expires_at is None and expires_in > 0:
            exp = _time_ns() // 1_000_000_000 + expires_in
        else:
            exp = expiry(expires_in=expires_in, expires_at=expires_at)
        last = entry[2]  # (exp, url) of the last signature: one image shown many times in one second
        if last[0] == exp:
            return last[1]  # type: ignore[no-any-return]
        # HMAC-SHA256 (as SigningKey.hexdigest) finished inline from the states with the path already absorbed;
        # this is the hottest path of a page full of private images.
        tail = f"?exp={exp}"
        inner = entry[1].copy()
        inner.update(tail.encode())
        outer = entry[3]()
        outer.update(inner.digest())
        url = f"{entry[0]}{tail}&sig={outer.hexdigest()}"
        entry[2] = (exp, url)  # one assignment, so readers in other threads see a consistent pair
        return url

    def _signing_start(self, image: str, variant: Variant) -> list[Any]:
        """The URL up to the query, and the HMAC state with its path already absorbed (the path is the
        constant start of every message signed for this image and variant)."""
        if self._key is None:
            raise SigningError(
                "no signing key: pass Delivery(..., signing_key=...) or set CF_IMG_SIGNING_KEY (the key is listed "
                "under Images > Keys, or by the API's /images/v1/keys)"
            )
        origin, path = self._signable_origin_and_path(image, variant)
        return [origin + path, self._key.absorb(path), (None, ""), self._key.outer_copy]

    def _signable_origin_and_path(self, image: str, variant: Variant) -> tuple[str, str]:
        segment = resolve_variant(variant)
        if not segment.named:
            raise SigningError(
                f"flexible options {segment.text!r} cannot be signed: Cloudflare serves private images only "
                "through named variants (define one, e.g. 'avatar', and sign that)"
            )
        return self._origin_and_path(image, variant)

    def srcset(
        self,
        image: str,
        variant: Variant = None,
        *,
        widths: Iterable[int] | None = None,
        densities: Iterable[float] | None = None,
        min_width: int | None = None,
        max_width: int | None = None,
        tolerance: float | None = None,
        **options: Any,
    ) -> str:
        """A ``srcset`` value: width descriptors (``widths=(320, 640)`` or a ``min_width``..``max_width`` range
        with a ``tolerance``, like imgix's fluid srcset) or density descriptors (``densities=(1, 2)`` via dpr).

        With neither: a fixed ``width`` in the options gives densities 1x and 2x, otherwise the default fluid
        range. A named variant has a fixed size and cannot be resized, so it raises ``VariantError``.
        """
        shape = (
            variant,
            _hashable(widths),
            _hashable(densities),
            min_width,
            max_width,
            tolerance,
            *options.items(),
        )
        try:
            return self._srcsets[shape][image]
        except (KeyError, TypeError):
            pass

        return self._remember(  # type: ignore[no-any-return]
            self._srcsets, shape, image, self._build_srcset, image, variant, widths, densities, min_width,
            max_width, tolerance, options,
        )  # fmt: skip

    def _build_srcset(
        self,
        image: str,
        variant: Variant,
        widths: Iterable[int] | None,
        densities: Iterable[float] | None,
        min_width: int | None,
        max_width: int | None,
        tolerance: float | None,
        options: Mapping[str, Any],
    ) -> str:
        candidates = srcset_candidates(
            self._variant_for_srcset(variant, options),
            widths=widths,
            densities=densities,
            min_width=min_width,
            max_width=max_width,
            tolerance=tolerance,
        )
        return srcset_value(candidates, self._image_base(image))

    def _variant_for_srcset(self, variant: Variant, options: Mapping[str, Any]) -> Options:
        if variant is not None and resolve_variant(variant).named:
            raise VariantError(
                f"named variant {resolve_variant(variant).text!r} has a fixed size, so it cannot make a srcset; "
                "use flexible options (e.g. 'fit=cover') so each candidate can be resized"
            )
        return keyword_options(variant, options).check_form("hosted")

    def options_of(self, variant: Variant) -> Options | None:
        """The flexible options ``variant`` stands for; ``None`` for a named variant (``None`` is ``public``)."""
        return resolve_variant(variant).options


def _hashable(values: Iterable[Any] | None) -> object:
    if values is None or isinstance(values, tuple):
        return values
    return tuple(values)


def _signing_key(key: str | bytes | SecretStr | SigningKey) -> SigningKey:
    if isinstance(key, SigningKey):
        return key
    if isinstance(key, SecretStr | str) and not (key.get_secret_value() if isinstance(key, SecretStr) else key):
        raise SigningError("the signing key is empty")
    return SigningKey(key)


def _rebuild(account_hash: str, key: SigningKey | None, domain: str | None, cache_size: int) -> Delivery:
    return Delivery(account_hash, signing_key=key, domain=domain, cache_size=cache_size)
