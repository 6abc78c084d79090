"""``Transformations``: Image Transformations URLs for images that are *not* stored in Cloudflare Images.

Cloudflare resizes any image on a zone (or from an allowed origin) through
``https://<zone>/cdn-cgi/image/<options>/<source>``: files on the site's own origin, in S3, in Django's media
folder. ``Delivery`` is for hosted images (``imagedelivery.net``); this is its twin for images anywhere, on the
same ``Options`` model and the same srcset/``<img>``/``<picture>`` builder (``cfvariants._html``). The differences
between the forms are enforced here, not left to a broken image:

* there are no named variants (``"avatar"`` is an error);
* options of the hosted form only are refused, options of this form only (``onerror=redirect``) are allowed;
* ``format`` is not implied: Cloudflare serves the source's format unless ``format=auto`` is given, so
  ``Transformations(zone, defaults={"format": "auto"})`` is how a site opts in to AVIF/WebP;
* at least one option is required (Cloudflare refuses ``/cdn-cgi/image//...``).

Sources are a path on the zone (``/media/cat.jpg``) or an absolute http(s) URL, appended as Cloudflare documents
it: not percent-encoded beyond what a URL path cannot hold (spaces, non-ASCII, ``\\``, ``"<>`{}^``), existing
escapes and the query kept. Sources a browser would rewrite (``.``/``..`` segments, also percent-encoded) are
refused: the URL would point at a different image than it names. Pure and cheap, like ``Delivery``: no network,
no disk; finished URLs and srcsets are remembered per instance in ``Memo`` rows (``cfvariants._memo``), the same
structure and the same exact keys as ``Delivery``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from ._errors import OptionsError, URLError, VariantError
from ._html import ImageMarkup, srcset_value
from ._layouts import Original
from ._memo import CacheInfo, Memo, Misses, cache_info, remember
from ._options import Options
from ._segments import KeywordKey, exact, keyword_key
from ._settings import Settings
from ._srcset_memo import SrcsetRow, as_tuple, make_row, remember_row, request_key
from ._urls import DELIVERY_HOST, DOMAIN_PREFIX, TRANSFORM_PREFIX, parse_origin

OptionsArg = Options | str | Mapping[str, Any] | None
"""Options as a string (``"w=200,fit=cover"``), an ``Options``, a mapping of keywords, or ``None`` (the
defaults only)."""

_SOURCE_SAFE = "/!$&'()*+,;=:@[]|~%?#"  # what a path keeps as it is, plus existing escapes, the query, a fragment
_DOTS = frozenset({".", "..", "%2e", ".%2e", "%2e.", "%2e%2e"})
_MAX_ROWS = 1024  # distinct options arguments / keyword sets remembered per Transformations


def encode_source(source: str) -> str:
    """The ``/<source>`` part of a transformation URL: ``/media/cat.jpg`` or ``/https://host/cat.jpg``
    (validated, and remembered per distinct source: an absolute URL costs a parse)."""
    if not isinstance(source, str):
        raise URLError(f"the source image must be a path or a URL (str), not {type(source).__name__}")
    if type(source) is not str:  # a str subclass (Markup): its text, the exact key the memo needs
        source = str.__str__(source)
    encoded = _sources.entries.get(source)
    return encoded if encoded is not None else _sources.keep(source, _encode_source(source))


_sources: Memo[str, str] = Memo(8192)


def _encode_source(source: str) -> str:
    shown = repr(source if len(source) <= 80 else source[:80] + "...")
    lowered = source[:8].lower()
    if lowered.startswith(("https://", "http://")):
        try:
            parts = urlsplit(source)
            host = parts.hostname
        except ValueError as exc:
            raise URLError(f"source {shown} is not a valid URL: {exc}") from None
        if not host:
            raise URLError(f"source {shown} has no host name")
        if "@" in parts.netloc:
            raise URLError(f"source {shown} carries credentials (user:password@); Cloudflare would publish them")
        if host == DELIVERY_HOST or parts.path.startswith(DOMAIN_PREFIX + "/"):
            raise URLError(
                f"source {shown} is a Cloudflare Images delivery URL: resize hosted images with Delivery "
                "(flexible variants), not with Image Transformations"
            )
        path, lead = parts.path, "/"
    elif source.startswith("//"):
        raise URLError(f"source {shown} is protocol-relative; write https://... or a path on the zone")
    elif source.startswith("/"):
        if source.startswith("/cdn-cgi/"):
            raise URLError(
                f"source {shown} is under /cdn-cgi/, Cloudflare's own paths: an already transformed image cannot be "
                "transformed again (error 9403), and hosted images go through Delivery"
            )
        path, lead = source.split("?", 1)[0].split("#", 1)[0], ""
    else:
        raise URLError(
            f"source {shown} is neither a path on the zone (starting with '/', like /media/cat.jpg) nor an "
            "absolute http(s) URL"
        )
    if any(segment.lower() in _DOTS for segment in path.replace("\\", "/").split("/")):
        raise URLError(
            f"source {shown} has a '.' or '..' segment; browsers resolve those away, so the URL would point at a "
            "different image"
        )
    return lead + quote(source, safe=_SOURCE_SAFE)


class _Row(Memo[str, str]):
    """The URLs one ``Transformations`` made with one options argument (or keyword set), by source: the merged
    options, and ``head``, everything before the source."""

    __slots__ = ("head", "options")

    def __init__(self, limit: int, head: str, options: Options) -> None:
        super().__init__(limit)
        self.head = head
        self.options = options


class Transformations(ImageMarkup):
    """Builds Image Transformations URLs on one zone: ``https://<zone>/cdn-cgi/image/<options>/<source>``.

    ``zone`` is a host name and may carry a scheme and port (``http://127.0.0.1:8000``), like ``Delivery``'s
    ``domain``; ``zone="/"`` gives root-relative URLs (``/cdn-cgi/image/...``) for development, where the app
    mounts the local emulator's transformation route. ``defaults`` are options laid under every URL's options
    (``{"format": "auto"}``). Immutable and thread-safe.

    >>> tr = Transformations("www.example.com")
    >>> tr.url("/media/cat.jpg", "w=200")
    'https://www.example.com/cdn-cgi/image/w=200/media/cat.jpg'
    """

    __slots__ = (
        "_cache_size", "_defaults", "_keyword_urls", "_misses", "_origin", "_prefix", "_srcsets", "_urls", "_zone",
    )  # fmt: skip

    _cache_size: int
    _misses: Misses  # calls that computed their result (cache_info)
    _defaults: Options | None
    _origin: str
    _prefix: str
    _zone: str
    # At most _MAX_ROWS rows each (plain dicts: a hit is two dict lookups), each row a Memo of cache_size sources.
    _urls: dict[OptionsArg, _Row]  # options argument -> source -> URL
    _keyword_urls: dict[KeywordKey, _Row]  # keyword_key -> source -> URL
    _srcsets: dict[tuple[object, ...], SrcsetRow]  # srcset request -> source -> srcset

    def __init__(self, zone: str, *, defaults: OptionsArg = None, cache_size: int = 8192) -> None:
        if not isinstance(zone, str) or not zone.strip():
            raise URLError(
                f"zone must be the site's host name (www.example.com), or '/' for root-relative URLs, not {zone!r}"
            )
        origin, shown = parse_origin(zone, "zone")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(f"cache_size must be a non-negative integer, not {cache_size!r}")
        setattr_ = object.__setattr__
        setattr_(self, "_zone", shown)
        setattr_(self, "_origin", origin)
        setattr_(self, "_prefix", origin + TRANSFORM_PREFIX)
        setattr_(self, "_cache_size", cache_size)
        setattr_(self, "_misses", Misses())
        setattr_(self, "_defaults", None)
        for table in ("_urls", "_keyword_urls", "_srcsets"):
            setattr_(self, table, {})
        if defaults is not None:
            given = _given(defaults)
            setattr_(self, "_defaults", given.check_form("remote") if given is not None else None)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> Transformations:
        """Build from ``CF_IMG_ZONE`` (environment or ``.env``)."""
        settings = settings if settings is not None else Settings.load()
        kwargs: dict[str, Any] = {"zone": settings.require("zone")}
        kwargs.update(overrides)
        return cls(**kwargs)

    # -- attributes ---------------------------------------------------------------------------------------------

    @property
    def zone(self) -> str:
        """The zone (``host[:port]``, with the scheme when it is not https; ``"/"`` for root-relative URLs)."""
        return self._zone

    @property
    def defaults(self) -> Options | None:
        return self._defaults

    @property
    def prefix(self) -> str:
        """Everything before the options: ``https://<zone>/cdn-cgi/image/``."""
        return self._prefix

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Transformations is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        defaults = f", defaults={str(self._defaults)!r}" if self._defaults is not None else ""
        return f"Transformations({self._zone!r}{defaults})"

    def __reduce__(self) -> tuple[object, ...]:
        return (
            type(self)._unpickle,
            (self._zone, None if self._defaults is None else str(self._defaults), self._cache_size),
        )

    @classmethod
    def _unpickle(cls, *args: Any) -> Any:
        """Rebuilds a pickled Transformations: pickles name the public class, not a private module."""
        return _rebuild(*args)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transformations):
            return NotImplemented
        return (self._prefix, self._defaults) == (other._prefix, other._defaults)

    def __hash__(self) -> int:
        return hash((self._prefix, self._defaults))

    # -- URLs ---------------------------------------------------------------------------------------------------

    def url(self, source: str, options: OptionsArg = None, **keywords: Any) -> str:
        """The transformation URL of ``source`` (a path on the zone or an absolute http(s) URL) with ``options``
        (a string, an ``Options``, a mapping) and/or keyword options, laid over the defaults."""
        try:  # the memo's lookups, and nothing else: a TypeError is an unhashable argument
            if keywords:
                key = keyword_key(options, keywords)
                row = self._keyword_urls.get(key)
            else:
                row = self._urls.get(options)
            if row is not None:
                url = row.entries.get(source)
                if url is not None:
                    return url
            else:  # the first URL through a new row, which will keep source: it must hash (a str subclass may not)
                hash(source)
        except TypeError:  # computed without a memo, where the bad argument is explained
            return self._uncached_url(source, options, keywords)
        if row is None:  # this instance's first URL with these options
            row = self._keyword_row(key, options, keywords) if keywords else self._row(options)
        url = f"{row.head}{encode_source(source)}"
        self._misses.count += 1  # counted once the URL is made: a refused call is no miss
        return row.keep(source, url)

    def _uncached_url(self, source: str, options: OptionsArg, keywords: Mapping[str, Any]) -> str:
        """The URL computed without any memo; raises the error that explains an unusable argument."""
        url = f"{self._prefix}{self._finish(_given(options), keywords)}{encode_source(source)}"
        self._misses.count += 1
        return url

    def _row(self, options: OptionsArg) -> _Row:
        merged = self._finish(_given(options), {})
        return remember(self._urls, _MAX_ROWS, options, _Row(self._cache_size, f"{self._prefix}{merged}", merged))

    def _keyword_row(self, key: KeywordKey, options: OptionsArg, keywords: dict[str, Any]) -> _Row:
        merged = self._finish(_given(options), keywords)
        row = _Row(self._cache_size, f"{self._prefix}{merged}", merged)
        return remember(self._keyword_urls, _MAX_ROWS, key, row) if exact(keywords) else row

    def options_of(self, variant: OptionsArg) -> Options:
        """The options a URL gets for ``variant`` (defaults included), validated for this form; remembered."""
        try:
            row = self._urls.get(variant)
            return (row if row is not None else self._row(variant)).options
        except TypeError:  # an unhashable mapping of options
            return self._finish(_given(variant), {})

    def srcset_options(self, variant: OptionsArg) -> Options:
        """The options every srcset candidate starts from (defaults included; may be empty: each candidate
        gets a width)."""
        return self._finish(_given(variant), {}, empty=True)

    def _finish(self, given: Options | None, keywords: Mapping[str, Any], *, empty: bool = False) -> Options:
        """Defaults, then the given options, then keywords; only options of this form; at least one option unless
        ``empty`` (a srcset's candidates each add their width or density)."""
        merged = self._defaults
        if given is not None:
            merged = given if merged is None else merged.replace(**given.to_kwargs())
        if keywords:
            merged = Options(**keywords) if merged is None else merged.replace(**keywords)
        if merged is None and empty:
            return Options()
        if merged is None or (merged.is_empty and not empty):
            raise OptionsError(
                "no options: an Image Transformations URL needs at least one, e.g. 'w=200' (or set "
                "Transformations(zone, defaults={'format': 'auto'}))"
            )
        return merged.check_form("remote")

    def srcset(
        self,
        source: str,
        options: OptionsArg = None,
        *,
        widths: Iterable[int] | None = None,
        densities: Iterable[float] | None = None,
        min_width: int | None = None,
        max_width: int | None = None,
        tolerance: float | None = None,
        layout: str | None = None,
        original: object = None,
        **keywords: Any,
    ) -> str:
        """A ``srcset`` value, with the same descriptors, layouts and rules as ``Delivery.srcset``. Every
        candidate is a distinct transformation, billed as such: keep the widths few (layouts snap them to
        ``cfvariants.WIDTH_LADDER``)."""
        if widths is not None and type(widths) is not tuple:
            widths = as_tuple(widths, "srcset widths")
        if densities is not None and type(densities) is not tuple:
            densities = as_tuple(densities, "densities")
        if original is not None:
            original = Original.of(original)
        request = (widths, densities, min_width, max_width, tolerance, layout, original)
        key = request_key(options, widths, densities, min_width, max_width, tolerance, layout, original, keywords)
        try:
            row = self._srcsets.get(key)
        except TypeError:  # an unhashable argument: validated without a memo, which explains it
            row = self._srcset_row(options, request, keywords)
            return self._uncached_srcset(row, source)
        if row is None or not row.made_from(widths, densities):
            scalars = (min_width, max_width, tolerance, *keywords.values())
            row = remember_row(self._srcsets, key, self._srcset_row(options, request, keywords), scalars)
        try:
            value = row.entries.get(source)
        except TypeError:  # an unhashable source: encode_source explains it
            return self._uncached_srcset(row, source)
        if value is None:  # the first srcset of this source for this request (inline: no call on this path)
            value = row.keep(source, srcset_value(row.candidates, self._prefix, encode_source(source)))
            self._misses.count += 1
        return value

    def _uncached_srcset(self, row: SrcsetRow, source: str) -> str:
        """The srcset of ``source`` from a request's candidates, computed (a miss)."""
        value = srcset_value(row.candidates, self._prefix, encode_source(source))
        self._misses.count += 1
        return value

    def _srcset_row(self, options: OptionsArg, request: tuple[Any, ...], keywords: dict[str, Any]) -> SrcsetRow:
        """The candidates of a srcset request (validating it), as a row of srcsets by source."""
        given = _given(options)
        return make_row(self._cache_size, request, keywords, lambda merged: self._finish(given, merged, empty=True))

    def cache_info(self) -> CacheInfo:
        """What this instance remembers (``misses``, ``entries``, ``cache_size``), as ``Delivery.cache_info``.

        >>> tr = Transformations("www.example.com")
        >>> _ = [tr.url(path, "w=200") for path in ("/a.jpg", "/a.jpg", "/b.jpg")]
        >>> tr.cache_info()
        CacheInfo(misses=2, entries=2, cache_size=8192)
        """
        return cache_info(self._misses, (self._urls, self._keyword_urls, self._srcsets), self._cache_size)

    def srcset_affixes(self, source: str) -> tuple[str, str]:
        """What comes before and after a candidate's options in ``source``'s srcset URLs (``srcset_value``)."""
        return self._prefix, encode_source(source)


def _given(options: OptionsArg) -> Options | None:
    """A user's options argument as ``Options`` (``None`` stays ``None``); a named variant is an error."""
    if options is None or isinstance(options, Options):
        return options
    if isinstance(options, str):
        if "=" not in options:
            if not options:
                return None
            raise VariantError(
                f"{options[:60]!r} is a named variant, and Image Transformations have none (named variants exist "
                "only for images stored in Cloudflare Images); give options such as 'w=200,fit=cover'"
            )
        return Options.parse(options)
    if isinstance(options, Mapping):
        return Options(**options)
    raise VariantError(f"options must be a string, an Options or a mapping, not {type(options).__name__}")


def _rebuild(zone: str, defaults: str | None, cache_size: int) -> Transformations:
    return Transformations(zone, defaults=defaults, cache_size=cache_size)
