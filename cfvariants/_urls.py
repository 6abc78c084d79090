"""Delivery-URL text: encoding image ids, normalising paths the way browsers do, and parsing delivery URLs
(hosted images) and Image Transformations URLs (``/cdn-cgi/image/<options>/<source>``, images anywhere).

Browsers (WHATWG URL parsers) rewrite a URL's path before requesting it: they percent-encode a few characters,
turn ``\\`` into ``/`` and resolve ``.``/``..`` segments. Cloudflare signs and serves the path *after* that
rewriting, so the builder emits paths that a parser leaves untouched, and the parser here reproduces the rewriting
for URLs that come from elsewhere (a database, a template).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ._errors import ImageIdError, URLError, VariantError
from ._options import Options
from .limits import MAX_CUSTOM_ID_LENGTH, VARIANT_ID_PATTERN

DELIVERY_HOST = "imagedelivery.net"
DOMAIN_PREFIX = "/cdn-cgi/imagedelivery"
SAME_SITE = "/"
"""``Delivery(..., domain="/")``: root-relative URLs (``/cdn-cgi/imagedelivery/...``) served by the current site,
which is how development mounts the local emulator into a Flask or Django app on any host and port."""
TRANSFORM_PREFIX = "/cdn-cgi/image/"
"""The fixed path prefix of Image Transformations URLs: ``https://<zone>/cdn-cgi/image/<options>/<source>``."""
URL_PREFIXES = ("https://", "http://", DOMAIN_PREFIX + "/")
"""What a delivery URL (as opposed to an image id) starts with; an image id can never start with '/'."""
MAX_ID_LENGTH = MAX_CUSTOM_ID_LENGTH
MAX_EXP = 253_402_300_799
"""The last second of year 9999 (UTC): the latest ``exp`` signed or read (``datetime`` ends there too)."""

# Characters a WHATWG parser leaves alone in a path (besides ASCII letters, digits and "_.-"). The path
# percent-encode set is: C0 controls, space, '"', '#', '<', '>', '?', '`', '{', '}', '^' (added to the URL standard
# in 2025) and everything above '~'. Encoding '^' ourselves makes old and new parsers see the same path.
_PATH_SAFE = "/!$&'()*+,;=:@[]|~"
_ID_PLAIN = re.compile(r"[A-Za-z0-9_.~!$&'()*+,;=:@|\[\]-]+(?:/[A-Za-z0-9_.~!$&'()*+,;=:@|\[\]-]+)*")
_ACCOUNT_HASH = re.compile(r"[A-Za-z0-9_-]{1,64}")
_VARIANT_NAME = VARIANT_ID_PATTERN
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_DOT_SEGMENTS = frozenset({".", "%2e", "%2E"})
_DOUBLE_DOT_SEGMENTS = frozenset({"..", ".%2e", ".%2E", "%2e.", "%2E.", "%2e%2e", "%2E%2E", "%2e%2E", "%2E%2e"})

_ORIGIN = re.compile(r"(?:(https?)://)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?/?")

PLAIN_ID_BYTES = bytes(ord("a") if chr(c).isascii() and (chr(c).isalnum() or chr(c) in "-_") else 0 for c in range(256))
"""``image.encode().translate(PLAIN_ID_BYTES).isalnum()`` is true exactly when a non-empty id is only ASCII
letters, digits, ``-`` and ``_`` (a UUID, most custom ids): such an id needs no encoding and no path checks. It is
the fastest exact test in pure Python, and the delivery hot path uses it before falling back to ``encode_image_id``."""


def is_plain_id(image_id: object) -> bool:
    """True for an id that goes into a URL as it is (see ``PLAIN_ID_BYTES``)."""
    return (
        isinstance(image_id, str)
        and len(image_id) <= MAX_ID_LENGTH
        and image_id.isascii()
        and image_id.encode().translate(PLAIN_ID_BYTES).isalnum()
    )


def encode_image_id(image_id: str) -> str:
    """Percent-encode a raw image id (as the API returns it) for a delivery URL path, validating it.

    Slashes of custom ids stay literal; ``%``, ``?``, ``#``, spaces, ``^`` and non-ASCII are percent-encoded
    (uppercase hex, UTF-8). Ids a browser would rewrite (``.``/``..`` segments, empty segments, a leading or
    trailing ``/``) raise ``ImageIdError``.
    """
    if not isinstance(image_id, str):
        raise ImageIdError(f"image id must be a string, not {type(image_id).__name__}")
    if not image_id:
        raise ImageIdError("image id is empty")
    if len(image_id) > MAX_ID_LENGTH:
        raise ImageIdError(f"image id {_show(image_id)} is longer than {MAX_ID_LENGTH} characters")
    if image_id.startswith("/") or image_id.endswith("/"):
        raise ImageIdError(f"image id {_show(image_id)} starts or ends with '/', which Cloudflare does not allow")
    if "://" in image_id:
        raise ImageIdError(
            f"image id {_show(image_id)} looks like a URL; only http(s) delivery URLs can stand in for an image id"
        )
    segments = image_id.split("/")
    if "" in segments:
        raise ImageIdError(f"image id {_show(image_id)} has an empty path segment ('//')")
    if any(segment in (".", "..") for segment in segments):
        raise ImageIdError(
            f"image id {_show(image_id)} has a '.' or '..' segment; browsers resolve those away, so the URL would "
            "point at a different image"
        )
    if _ID_PLAIN.fullmatch(image_id):
        return image_id
    try:
        return quote(image_id, safe=_PATH_SAFE)
    except UnicodeEncodeError:
        raise ImageIdError(f"image id {_show(image_id)} is not valid text (it holds a lone surrogate)") from None


def _show(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_origin(domain: str, what: str = "domain") -> tuple[str, str]:
    """``(origin, shown)`` of a ``domain``/``zone`` argument: ``"images.example.com"`` gives
    ``("https://images.example.com", "images.example.com")``; a scheme other than https and a port are kept
    (``"http://127.0.0.1:5000"`` is shown as it is); ``"/"`` gives ``("", "/")`` (root-relative URLs)."""
    if domain == SAME_SITE:
        return "", SAME_SITE
    match = _ORIGIN.fullmatch(domain.strip()) if isinstance(domain, str) else None
    if not match:
        raise URLError(
            f"{what} {domain!r} is not a host name (like images.example.com, optionally with a scheme "
            "and port such as http://127.0.0.1:5000)"
        )
    scheme, host, port = match.group(1) or "https", match.group(2).lower(), match.group(3)
    if port is not None and not 0 < int(port) < 65536:
        raise URLError(f"{what} {domain!r} has port {port}; a port is from 1 to 65535")
    host = f"[{check_host(host[1:-1])}]" if host.startswith("[") else check_host(host)
    netloc = f"{host}:{port}" if port else host
    origin = f"{scheme}://{netloc}"
    return origin, netloc if scheme == "https" else origin


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def redact_userinfo(url: str, limit: int = 200) -> str:
    """``url`` for a message: any ``user:password@`` before the host becomes ``***@`` (whatever the scheme, and
    even when the URL does not parse), and at most ``limit`` characters."""
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if found != -1:
            end = min(end, found)
    at = url.rfind("@", start, end)
    shown = url if at == -1 else f"{url[:start]}***{url[at:]}"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def check_account_hash(account_hash: str) -> str:
    """Validate an account hash (the URL-safe token in delivery URLs, not the 32-hex account id)."""
    if not isinstance(account_hash, str) or not _ACCOUNT_HASH.fullmatch(account_hash):
        shown = _show(account_hash) if isinstance(account_hash, str) else type(account_hash).__name__
        raise URLError(
            f"account hash {shown} is not valid: expected letters, digits, '-' or '_' (the hash shown under "
            "Images > Developer Resources, e.g. ZWd9g1K7eljCn_KDTu_MWA)"
        )
    return account_hash


def check_host(host: str) -> str:
    """Validate a host name, IPv4 or IPv6 address (without brackets) and return it lowercased, non-ASCII names in
    their IDNA (``xn--``) form. Anything else raises ``URLError``: a host is written into URLs and HTML, so a
    stored URL whose host holds quotes or spaces must never be re-emitted."""
    if not isinstance(host, str):
        raise URLError(f"a host name must be a string, not {type(host).__name__}")
    name = host.lower()
    if ":" in name:
        try:
            return str(ipaddress.IPv6Address(name))
        except ValueError:
            raise URLError(f"host {_show(host)} is not a valid IPv6 address") from None
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise URLError(f"host {_show(host)} is not a valid host name") from None
    labels = name.removesuffix(".").split(".")
    if len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise URLError(
            f"host {_show(host)} is not a valid host name (letters, digits and '-' in dot-separated labels, "
            "like images.example.com)"
        )
    if labels[-1].isdigit():  # only an IPv4 address may end in a numeric label
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise URLError(f"host {_show(host)} is not a valid IPv4 address or host name") from None
    return name


def check_variant_name(name: str) -> str:
    """Validate a named variant (alphanumeric, at most 99 characters, as Cloudflare documents)."""
    if not _VARIANT_NAME.fullmatch(name):
        raise VariantError(
            f"variant {_show(name)} is neither a named variant (letters and digits, at most 99) nor flexible "
            "options (name=value pairs such as 'w=200')"
        )
    return name


def normalize_path(path: str) -> str:
    """The pathname a WHATWG URL parser makes of ``path`` (special scheme): ``\\`` becomes ``/``, dot segments
    are resolved, and the path percent-encode set is encoded while existing escapes are kept as they are."""
    if not isinstance(path, str):
        raise URLError(f"a URL path must be a string, not {type(path).__name__}")
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
    try:
        return quote("/" + "/".join(segments), safe=_PATH_SAFE + "%")
    except UnicodeEncodeError:
        raise URLError(f"path {_show(path)} is not valid text (it holds a lone surrogate)") from None


def parse_exp(text: str) -> int | None:
    """The unix time of an ``exp`` parameter, or ``None`` unless it is ASCII digits up to ``MAX_EXP`` (a
    thousand-digit value is refused before Python converts it)."""
    digits = text.lstrip("0") or "0"
    if not text.isascii() or not text.isdigit() or len(digits) > len(str(MAX_EXP)) or int(digits) > MAX_EXP:
        return None
    return int(digits)


@dataclass(frozen=True, slots=True)
class _Split:
    origin: str  # scheme://host[:port]
    prefix: str  # "" or "/cdn-cgi/imagedelivery"
    account_hash: str
    encoded_id: str  # as it stands in the normalised path
    last: str  # the variant segment as it stands
    query: str


def is_url(text: str) -> bool:
    """True when ``text`` is a delivery URL (absolute, or root-relative on this site) rather than an image id."""
    return text.startswith(URL_PREFIXES)


def is_remote_source(text: str) -> bool:
    """Whether ``text`` names an image outside Cloudflare Images: a path on the site other than
    ``/cdn-cgi/imagedelivery/...``, or an http(s) URL neither on imagedelivery.net nor under
    ``/cdn-cgi/imagedelivery/``. Decided by what the text is, never guessed: an image id never starts with ``/``
    and never holds ``://`` (``encode_image_id`` refuses both)."""
    if text.startswith("/"):
        return not text.startswith(DOMAIN_PREFIX + "/")
    if text[:8].lower().startswith(("https://", "http://")):
        authority, slash, path = text.split("://", 1)[1].partition("/")
        host = authority.rpartition("@")[2].lower().partition(":")[0]  # "[::1]:8080" gives "[": not ours either
        return host != DELIVERY_HOST and not (slash + path).startswith(DOMAIN_PREFIX + "/")
    return False


def _netloc(host: str, port: int | None, url: str) -> str:
    """``host[:port]`` of a parsed URL (an IPv6 host in brackets); port 0, which nothing can be fetched from, is
    refused as ``Delivery(domain=...)`` refuses it."""
    if port == 0:
        raise URLError(f"{_show(url)} has port 0; a port is from 1 to 65535")
    netloc = host if ":" not in host else f"[{host}]"
    return netloc if port is None else f"{netloc}:{port}"


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
    host = check_host(host)
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
    return _Split(
        origin=f"{parts.scheme}://{_netloc(host, port, url)}",
        prefix=prefix,
        account_hash=segments[0],
        encoded_id="/".join(segments[1:-1]),
        last=segments[-1],
        query=parts.query,
    )


def _split_relative(url: str) -> _Split:
    path, _, query = url.partition("#")[0].partition("?")  # as urlsplit: the fragment starts at the first '#'
    path = normalize_path(path)
    if not path.startswith(DOMAIN_PREFIX + "/"):
        raise URLError(f"{_show(url)} leaves {DOMAIN_PREFIX}/ once '..' segments are resolved")
    segments = path[len(DOMAIN_PREFIX) + 1 :].split("/")
    if len(segments) < 3 or "" in segments:
        raise URLError(f"{_show(url)} does not have the <account hash>/<image id>/<variant> path of a delivery URL")
    return _Split("", DOMAIN_PREFIX, segments[0], "/".join(segments[1:-1]), segments[-1], query)


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


def parse_url(url: str) -> ParsedURL | TransformationURL:
    """Parse a Cloudflare image URL: a delivery URL of a hosted image (``imagedelivery.net`` or custom-domain
    form) into a ``ParsedURL``, an Image Transformations URL (``/cdn-cgi/image/<options>/<source>``) into a
    ``TransformationURL``.

    Multi-segment custom ids are joined back together; the last segment is a named variant or options (it holds
    ``=``). Raises a ``CFVariantsError``: ``URLError``, or ``OptionsError``/``VariantError`` for a bad last
    segment.
    """
    if _transformation_path(url) is not None:
        return parse_transformation_url(url)
    return parse_delivery_url(url)


def parse_delivery_url(url: str) -> ParsedURL:
    """``parse_url`` for the hosted form only: a transformation URL is a ``URLError`` saying what it is."""
    if _transformation_path(url) is not None:
        raise URLError(
            f"{_show(url)} is an Image Transformations URL (/cdn-cgi/image/...) of an image outside Cloudflare "
            "Images, not a delivery URL of a hosted image"
        )
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
            exp = parse_exp(value)
            if exp is None:
                raise URLError(f"exp={_show(value, 30)} in {_show(url)} is not a unix timestamp in seconds")
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


@dataclass(frozen=True, slots=True)
class TransformationURL:
    """What an Image Transformations URL says: on which zone, which options, which source image."""

    zone: str  # host[:port], with the scheme when it is not https; "/" for a root-relative URL
    options: Options
    source: str  # a path on the zone ("/media/cat.jpg", query kept) or an absolute http(s) URL, as written
    scheme: str = "https"

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``; empty for a root-relative URL."""
        if self.zone == SAME_SITE:
            return ""
        return self.zone if "://" in self.zone else f"{self.scheme}://{self.zone}"

    @property
    def source_is_url(self) -> bool:
        """Whether the source is an absolute URL (another origin) rather than a path on the zone."""
        return self.source.startswith(("https://", "http://"))


def _transformation_path(url: object) -> tuple[str, str] | None:
    """``(origin, text after /cdn-cgi/image/)`` when ``url`` is a transformation URL, else ``None``."""
    if not isinstance(url, str):
        return None
    if url.startswith(TRANSFORM_PREFIX):
        return "", url[len(TRANSFORM_PREFIX) :]
    if not url.startswith(("https://", "http://")):
        return None
    start = url.find("/", url.index("//") + 2)
    if start < 0 or not url.startswith(TRANSFORM_PREFIX, start):
        return None
    return url[:start], url[start + len(TRANSFORM_PREFIX) :]


def parse_transformation_url(url: str) -> TransformationURL:
    """Parse ``https://<zone>/cdn-cgi/image/<options>/<source>`` (or the root-relative ``/cdn-cgi/image/...``);
    the options are validated for this form (a named variant or a hosted-only option is an error)."""
    found = _transformation_path(url)
    if found is None:
        raise URLError(f"{_show(url)} is not an Image Transformations URL (https://<zone>/cdn-cgi/image/...)")
    origin, rest = found
    segment, slash, source = rest.partition("/")
    if not slash or not source:
        raise URLError(f"{_show(url)} has no source image after /cdn-cgi/image/<options>/")
    if "=" not in segment:
        raise VariantError(
            f"{_show(url)}: {segment[:40]!r} is not a list of options; Image Transformations have no named "
            "variants (those exist only for images stored in Cloudflare Images)"
        )
    options = Options.parse(segment).check_form("remote")
    if not source.startswith(("https://", "http://")):
        source = "/" + source
    if origin:
        try:
            parts = urlsplit(origin)
            host, port = parts.hostname or "", parts.port
        except ValueError as exc:
            raise URLError(f"{_show(url)} is not a valid URL: {exc}") from None
        if not host:
            raise URLError(f"{_show(url)} has no host before /cdn-cgi/image/")
        host = check_host(host)  # as for delivery URLs: a zone that is no host name is never re-emitted
        netloc = _netloc(host, port, url)
        zone, scheme = (netloc if parts.scheme == "https" else f"{parts.scheme}://{netloc}"), parts.scheme
    else:
        zone, scheme = SAME_SITE, "https"
    return TransformationURL(zone=zone, options=options, source=source, scheme=scheme)
