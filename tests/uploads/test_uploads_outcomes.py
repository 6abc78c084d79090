"""What each failure does to a background upload: who can fix it (time, the account's owner, nobody by retrying),
the state and the words a person then reads, when the next attempt is due, and that the staged bytes stay until
the image is stored or a person discards them. Both stores, the emulator behind a controllable wire, a
controllable clock (no sleeps)."""

from __future__ import annotations

import httpx
import imagegen
import pytest

from cfvariants.client import (
    APIError,
    AuthenticationError,
    ConflictError,
    ImagesClient,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    TransportError,
    ValidationError,
)
from cfvariants.uploads import classify

PHOTO = imagegen.photo_jpeg(160_000, seed=30)  # camera-like, 160 KB


def _envelope(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    body = {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}
    return httpx.Response(status, json=body, headers=headers)


def _refusal(response: httpx.Response) -> Exception:
    """The error an upload gets when Cloudflare (or a proxy in front of it) answers ``response``."""
    client = ImagesClient("a" * 32, "t", base_url="http://cf.test/client/v4", retry=RetryPolicy.none(),
                          transport=httpx.MockTransport(lambda request: response))  # fmt: skip
    with pytest.raises(Exception) as info:
        client.upload(PHOTO, filename="a.jpg")
    return info.value


# -- who can fix it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (_envelope(500, 5500, "Internal error"), "transient"),
        (_envelope(504, 5500, "Gateway timeout"), "transient"),
        (_envelope(425, 5425, "Too early"), "transient"),
        (_envelope(429, 971, "Please wait", **{"retry-after": "30"}), "transient"),
        (_envelope(404, 5404, "Not found"), "blocked"),  # an upload has no image to miss: the account is unknown
        (_envelope(400, 7000, "No route for that URI"), "blocked"),
        (_envelope(400, 9429, "This feature is not included in your plan"), "blocked"),
        (_envelope(400, 9429, "Feature unavailable"), "blocked"),  # by its code alone
        (_envelope(400, 9427, "Mismatch"), "blocked"),
        (_envelope(402, 5400, "Payment required"), "blocked"),
        (_envelope(400, 5400, "Your subscription has ended"), "blocked"),
        (_envelope(400, 5400, "Billing problem: update the card"), "blocked"),
        (_envelope(400, 5400, "A payment is overdue"), "blocked"),
        (_envelope(400, 5400, "Not entitled to Images"), "blocked"),
        (_envelope(400, 5400, "Images is not an entitlement of this zone"), "blocked"),
        (_envelope(400, 5400, "ACCOUNT suspended"), "blocked"),  # whatever the case
        (_envelope(400, 5400, "Storage quota reached"), "blocked"),
        (_envelope(400, 5400, "The image is a planetarium photo too large to decode"), "failed"),  # words, not parts
        (_envelope(400, 5400, "Accounting for EXIF failed: bad image"), "failed"),
        (_envelope(409, 5409, "An image with this id already exists in this account"), "failed"),  # the image's id
        (_envelope(400, 5400, "Unsupported image format"), "failed"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_refusal_of_an_upload_is_classified_by_who_can_fix_it(response: httpx.Response, kind: str) -> None:
    assert classify(_refusal(response)) == kind  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TransportError("ConnectError", "connection refused"), "transient"),
        (RateLimitError(429), "transient"),
        (APIError(429), "transient"),  # a 429 built by hand, not through the client
        (APIError(408), "transient"),
        (APIError(425), "transient"),
        (APIError(500), "transient"),
        (APIError(499), "failed"),
        (APIError(430), "failed"),
        (AuthenticationError(401), "blocked"),
        (APIError(402), "blocked"),
        (NotFoundError(404), "blocked"),
        (ConflictError(409), "failed"),
        (ValidationError("the id must not start with a slash"), "failed"),
    ],
    ids=lambda value: (
        f"{type(value).__name__}-{getattr(value, 'status_code', '')}" if isinstance(value, Exception) else value
    ),
)
def test_classify_takes_the_client_errors_as_built_by_hand(error: Exception, kind: str) -> None:
    assert classify(error) == kind  # type: ignore[arg-type]
