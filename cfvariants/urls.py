"""Delivery-URL text: encoding image ids, normalising paths the way browsers do, and parsing delivery URLs.

Browsers (WHATWG URL parsers) rewrite a URL's path before requesting it: they percent-encode a few characters,
turn ``\\`` into ``/`` and resolve ``.``/``..`` segments. Cloudflare signs and serves the path *after* that
rewriting, so the builder emits paths that a parser leaves untouched, and the parser here reproduces the rewriting
for URLs that come from elsewhere (a database, a template). Reference §1 and §4 list the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .errors import ImageIdError, URLError, VariantError
from .options import Options

__all__ = [
    "DELIVERY_HOST",
    "DOMAIN_PREFIX",
    "ParsedURL",
    "check_account_hash",
    "check_variant_name",
    "encode_image_id",
    "is_url",
    "normalize_path",
    "parse_url",
    "split_delivery_url",
]

DELIVERY_HOST = "imagedelivery.net"
DOMAIN_PREFIX = "/cdn-cgi/imagedelivery"
SAME_SITE = "/"
"""``Delivery(..., domain="/")``: root-relative URLs (``/cdn-cgi/imagedelivery/...``) served by the current site,
which is how development mounts the local emulator into a Flask or Django app on any host and port."""
URL_PREFIXES = ("https://", "http://", DOMAIN_PREFIX + "/")
"""What a delivery URL (as opposed to an image id) starts with; an image id can never start with '/'."""
MAX_ID_LENGTH = 1024

# Characters a WHATWG parser leaves alone in a path (besides ASCII letters, digits and "_.-"). The path
# percent-encode set is: C0 controls, space, '"', '#', '<', '>', '?', '`', '{', '}', '^' (added to the URL standard
# in 2025) and everything above '~'. Encoding '^' ourselves makes old and new parsers see the same path.
_PATH_SAFE = "/!$&'()*+,;=:@[]|~"
_ID_PLAIN = re.compile(r"[A-Za-z0-9_.~!$&'()*+,;=:@|\[\]-]+(?:/[A-Za-z0-9_.~!$&'()*+,;=:@|\[\]-]+)*")
_ACCOUNT_HASH = re.compile(r"[A-Za-z0-9_-]{1,64}")
_VARIANT_NAME = re.compile(r"[A-Za-z0-9]{1,99}")
_DOT_SEGMENTS = frozenset({".", "%2e", "%2E"})
_DOUBLE_DOT_SEGMENTS = frozenset({"..", ".%2e", ".%2E", "%2e.", "%2E.", "%2e%2e", "%2E%2E", "%2e%2E", "%2E%2e"})

_id_cache: dict[str, str] = {}
_ID_CACHE_MAX = 8192


def encode_image_id(image_id: str) -> str:
    """Percent-encode a raw image id (as the API returns it) for a delivery URL path; validated and cached.

    Slashes of custom ids stay literal; ``%``, ``?``, ``#``, spaces, ``^`` and non-ASCII are percent-encoded
    (uppercase hex, UTF-8). Ids a browser would rewrite (``.``/``..`` segments, empty segments, a leading or
    trailing ``/``) raise ``ImageIdError``.
    """
    try:
        return _id_cache[image_id]
    except KeyError:
        pass
    except TypeError:
        raise ImageIdError(f"image id must be a string, not {type(image_id).__name__}") from None
    encoded = _encode_image_id(image_id)
    if len(_id_cache) >= _ID_CACHE_MAX:
        _id_cache.clear()
    _id_cache[image_id] = encoded
    return encoded


def _encode_image_id(image_id: str) -> str:
    if not isinstance(image_id, str):
        raise ImageIdError(f"image id must be a string, not {type(image_id).__name__}")
    shown = _show(image_id)
    if not image_id:
        raise ImageIdError("image id is empty")
    if len(image_id) > MAX_ID_LENGTH:
        raise ImageIdError(f"image id {shown} is longer than {MAX_ID_LENGTH} characters")
    if image_id.startswith("/") or image_id.endswith("/"):
        raise ImageIdError(f"image id {shown} starts or ends with '/', which Cloudflare does not allow")
    if "://" in image_id:
        raise ImageIdError(
            f"image id {shown} looks like a URL; only http(s) delivery URLs can stand in for an image id"
        )
    segments = image_id.split("/")
    if "" in segments:
        raise ImageIdError(f"image id {shown} has an empty path segment ('//')")
    if any(segment in (".", "..") for segment in segments):
        raise ImageIdError(
            f"image id {shown} has a '.' or '..' segment; browsers resolve those away, so the URL would point "
            "at a different image"
        )
    if _ID_PLAIN.fullmatch(image_id):
        return image_id
    return quote(image_id, safe=_PATH_SAFE)


def _show(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def check_account_hash(account_hash: str) -> str:
    """Validate an account hash (the URL-safe token in delivery URLs, not the 32-hex account id)."""
    if not isinstance(account_hash, str) or not _ACCOUNT_HASH.fullmatch(account_hash):
        shown = _show(account_hash) if isinstance(account_hash, str) else type(account_hash).__name__
        raise URLError(
            f"account hash {shown} is not valid: expected letters, digits, '-' or '_' (the hash shown under "
            "Images > Developer Resources, e.g. ZWd9g1K7eljCn_KDTu_MWA)"
        )
    return account_hash


def check_variant_name(name: str) -> str:
    """Validate a named variant (alphanumeric, at most 99 characters, reference §3)."""
    if not _VARIANT_NAME.fullmatch(name):
        raise VariantError(
            f"variant {_show(name)} is neither a named variant (letters and digits, at most 99) nor flexible "
            "options (name=value pairs such as 'w=200')"
        )
    return name


def normalize_path(path: str) -> str:
    """The pathname a WHATWG URL parser makes of ``path`` (special scheme): ``\\`` becomes ``/``, dot segments
    are resolved, and the path percent-encode set is encoded while existing escapes are kept as they are."""
    path = path.replace("\\", "/")
    if not path.startswith("/"):
        path = "/" + path
    segments = path.split("/")[1:]
    if any(s in _DOT_SEGMENTS or s in _DOUBLE_DOT_SEGMENTS for s in segments):
        out: list[str] = []
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment in _DOUBLE_DOT_SEGMENTS:
                if out:
                    out.pop()
                if last:
                    out.append("")
            elif segment in _DOT_SEGMENTS:
                if last:
                    out.append("")
            else:
                out.append(segment)
        segments = out
    return quote("/" + "/".join(segments), safe=_PATH_SAFE + "%")


@dataclass(frozen=True, slots=True)
class _Split:
    origin: str  # scheme://host[:port]
    prefix: str  # "" or "/cdn-cgi/imagedelivery"
    account_hash: str
    encoded_id: str  # as it stands in the normalised path
    last: str  # the variant segment as it stands
    query: str
    fragment: str


def is_url(text: str) -> bool:
    """True when ``text`` is a delivery URL (absolute, or root-relative on this site) rather than an image id."""
    return text.startswith(URL_PREFIXES)


def split_delivery_url(url: str) -> _Split:
    """Split a delivery URL into its parts without validating the variant (used to swap it)."""
    if not isinstance(url, str):
        raise URLError(f"a delivery URL must be a string, not {type(url).__name__}")
    if url.startswith(DOMAIN_PREFIX + "/"):
        return _split_relative(url)
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise URLError(f"{_show(url)} is not a valid URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise URLError(f"{_show(url)} is not a delivery URL: expected https://imagedelivery.net/<hash>/<id>/<variant>")
    path = normalize_path(parts.path)
    if host == DELIVERY_HOST:
        prefix = ""
    elif path.startswith(DOMAIN_PREFIX + "/"):
        prefix = DOMAIN_PREFIX
    else:
        raise URLError(
            f"{_show(url)} is not a Cloudflare Images delivery URL: expected https://imagedelivery.net/<hash>/<id>/"
            "<variant> or https://<your-domain>/cdn-cgi/imagedelivery/<hash>/<id>/<variant>"
        )
    segments = path[len(prefix) + 1 :].split("/")
    if len(segments) < 3 or "" in segments:
        raise URLError(f"{_show(url)} does not have the <account hash>/<image id>/<variant> path of a delivery URL")
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    return _Split(
        origin=f"{parts.scheme}://{netloc}",
        prefix=prefix,
        account_hash=segments[0],
        encoded_id="/".join(segments[1:-1]),
        last=segments[-1],
        query=parts.query,
        fragment=parts.fragment,
    )


def _split_relative(url: str) -> _Split:
    path, _, query = url.partition("?")
    query, _, fragment = query.partition("#")
    if "#" in path:
        path, _, fragment = path.partition("#")
    path = normalize_path(path)
    if not path.startswith(DOMAIN_PREFIX + "/"):
        raise URLError(f"{_show(url)} leaves {DOMAIN_PREFIX}/ once '..' segments are resolved")
    segments = path[len(DOMAIN_PREFIX) + 1 :].split("/")
    if len(segments) < 3 or "" in segments:
        raise URLError(f"{_show(url)} does not have the <account hash>/<image id>/<variant> path of a delivery URL")
    return _Split("", DOMAIN_PREFIX, segments[0], "/".join(segments[1:-1]), segments[-1], query, fragment)


@dataclass(frozen=True, slots=True)
class ParsedURL:
    """What a delivery URL says: whose image, which image, which variant, and its signature if any."""

    account_hash: str
    image_id: str  # raw, as the API knows it (percent-escapes decoded)
    variant: str | None  # the named variant, or None when the URL carries options
    options: Options | None  # the flexible-variant options, or None for a named variant
    domain: str | None  # None on imagedelivery.net; the custom domain (host[:port]); "/" for a root-relative URL
    scheme: str = "https"
    exp: int | None = None
    sig: str | None = None

    @property
    def is_flexible(self) -> bool:
        return self.options is not None

    @property
    def is_signed(self) -> bool:
        return self.sig is not None

    @property
    def variant_segment(self) -> str:
        """The last path segment in canonical form (a variant name or canonical options)."""
        return str(self.options) if self.options is not None else str(self.variant)

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``; empty for a root-relative URL."""
        if self.domain == SAME_SITE:
            return ""
        return f"{self.scheme}://{self.domain or DELIVERY_HOST}"

    @property
    def delivery_domain(self) -> str | None:
        """The ``domain`` argument of a ``Delivery`` that builds URLs of this form."""
        if self.domain is None or self.domain == SAME_SITE or self.scheme == "https":
            return self.domain
        return self.origin


def parse_url(url: str) -> ParsedURL:
    """Parse a delivery URL (``imagedelivery.net`` or custom-domain form) into a ``ParsedURL``.

    Multi-segment custom ids are joined back together; the last segment is a named variant or options (it holds
    ``=``). Raises a ``CFVariantsError``: ``URLError``, or ``OptionsError``/``VariantError`` for a bad last
    segment.
    """
    split = split_delivery_url(url)
    check_account_hash(split.account_hash)
    image_id = _decode(split.encoded_id, url)
    last = split.last
    variant: str | None = None
    options: Options | None = None
    if "=" in last:
        options = Options.parse(last)
    else:
        variant = check_variant_name(_decode(last, url))
    exp: int | None = None
    sig: str | None = None
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        if name == "exp":
            if not value.isascii() or not value.isdigit():
                raise URLError(f"exp={value!r} in {_show(url)} is not a unix timestamp in seconds")
            exp = int(value)
        elif name == "sig":
            sig = value
    scheme, _, host = split.origin.partition("://")
    return ParsedURL(
        account_hash=split.account_hash,
        image_id=image_id,
        variant=variant,
        options=options,
        domain=None if split.prefix == "" else (host or SAME_SITE),
        scheme=scheme,
        exp=exp,
        sig=sig,
    )


def _decode(encoded: str, url: str) -> str:
    try:
        return unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        raise URLError(f"{_show(url)} has percent-escapes that are not UTF-8") from None
