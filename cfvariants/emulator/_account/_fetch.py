"""``url`` uploads without the internet: the default fetcher only reaches an allow-list of local hosts.

Cloudflare fetches the URL itself (the URL may embed ``user:password@``). The emulator must not
touch the internet, so by default it fetches only http(s) URLs whose host is in
``EmulatorConfig.allowed_fetch_hosts`` (127.0.0.1, localhost, ::1) and refuses others with a 5400 error that
says so. ``EmulatorConfig.fetcher`` replaces the default entirely (e.g. to serve test fixtures from memory).
Redirects are not followed (a redirect could lead off the allow-list); an origin error is a 4xx, as documented.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx

from cfvariants._urls import redact_userinfo
from cfvariants.emulator._errors import TOO_LARGE, EmulatorAPIError, bad_request
from cfvariants.limits import MAX_UPLOAD_BYTES


def check_url(url: str) -> str:
    """An absolute http(s) URL, or a 5400 error naming the problem."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise bad_request(f"url {redact_userinfo(url)!r} is not an absolute http(s) URL")
    return url.strip()


def filename_from_url(url: str) -> str | None:
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name or None


class LocalFetcher:
    """Fetch ``url`` uploads from allow-listed hosts only."""

    def __init__(self, allowed_hosts: tuple[str, ...], *, timeout: float = 10.0) -> None:
        self.allowed_hosts = frozenset(host.lower().strip("[]") for host in allowed_hosts)
        self.timeout = timeout

    def __call__(self, url: str) -> tuple[bytes, str | None]:
        url = check_url(url)
        host = (urlsplit(url).hostname or "").lower()
        if host not in self.allowed_hosts:
            raise bad_request(
                f"url: the emulator does not fetch from the internet; {host!r} is not an allowed host "
                f"({', '.join(sorted(self.allowed_hosts))}). Serve the image locally or upload the file instead"
            )
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code >= 300:
                    raise bad_request(f"url: the origin answered HTTP {response.status_code} for {_shown(url)}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_UPLOAD_BYTES:
                        raise EmulatorAPIError(413, TOO_LARGE, "url: the image at the URL is larger than 10 MB")
        except httpx.HTTPError as exc:
            raise bad_request(f"url: could not fetch {_shown(url)}: {type(exc).__name__}") from None
        return bytes(body), filename_from_url(url)


def _shown(url: str) -> str:
    """The URL without any embedded ``user:password@``."""
    return repr(redact_userinfo(url))
