"""Signed-URL checks for private images, with the core's verifier (Cloudflare's documented procedure).

The documented message is the URL's full pathname (including any ``/cdn-cgi/imagedelivery`` prefix) plus
``?`` and the query with ``exp``; it is checked against every signing key of the account. With
``EmulatorConfig.lenient_signatures`` two undocumented forms are also accepted (Cloudflare leaves these open):
on the custom-domain form, a MAC of the path without the ``/cdn-cgi/imagedelivery`` prefix; and a MAC of the
pathname alone (no ``?exp=...``), as a 2023 report described. Expiry is enforced in every form.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from urllib.parse import parse_qsl

from cfvariants._signing import SigningKey, signature_problem
from cfvariants._urls import DOMAIN_PREFIX, normalize_path

_ORIGIN = "http://emulator.invalid"  # the verifier wants an absolute URL; only the path and query are signed


def signature_refusal(path: str, query: str, keys: Sequence[str], *, now: float, lenient: bool = False) -> str | None:
    """Why the request ``path?query`` is not validly signed by any of ``keys``, or ``None`` when it is."""
    url = f"{_ORIGIN}{path}?{query}" if query else f"{_ORIGIN}{path}"
    first_problem: str | None = None
    for key in keys:
        problem = signature_problem(url, key, now=now)
        if problem is None:
            return None
        first_problem = first_problem or problem
    if lenient and first_problem == "the signature does not match":
        if path.startswith(DOMAIN_PREFIX + "/"):
            short = f"{_ORIGIN}{path[len(DOMAIN_PREFIX) :]}?{query}"
            if any(signature_problem(short, key, now=now) is None for key in keys):
                return None
        if _path_only_mac_matches(path, query, keys):
            return None
    return first_problem


def _path_only_mac_matches(path: str, query: str, keys: Sequence[str]) -> bool:
    sigs = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == "sig"]
    if len(sigs) != 1:
        return False
    pathname = normalize_path(path)
    candidates = [pathname]
    if pathname.startswith(DOMAIN_PREFIX + "/"):
        candidates.append(pathname[len(DOMAIN_PREFIX) :])
    return any(
        hmac.compare_digest(SigningKey(key).hexdigest(message), sigs[0].lower())
        for key in keys
        for message in candidates
    )
