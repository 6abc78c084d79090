"""The emulator's errors, carrying what Cloudflare would answer: an HTTP status and a numeric code.

API errors (``EmulatorAPIError``) become the v4 envelope ``{"success": false, "errors": [{code, message}], ...}``;
delivery errors (``DeliveryError``) become a short text body with ``Cf-Resized: err=<code>``.

Codes. Cloudflare publishes no list of Images API error codes; the 5xxx codes below follow the list that
third-party libraries copied from Cloudflare's old API documentation (5400 bad request, 5401 variant not found,
5403 account not valid, 5404 image not found, 5413 too large, 5415 not a form, 5453 service limit, 5455
unsupported format). 5409 for a duplicate id is our choice (the status Cloudflare uses is unconfirmed). The
account-level codes are those Cloudflare's v4 API is widely seen to return: 10000 authentication error, 6003
invalid request headers, 7000 no route, 7003 bad object identifier in the path. 7001 (method not allowed) is our
choice. Delivery codes are Cloudflare's documented 9xxx codes.
"""

from __future__ import annotations

from cfvariants._errors import EmulatorError

# API codes
AUTH_ERROR = 10000
INVALID_HEADERS = 6003
NO_ROUTE = 7000
METHOD_NOT_ALLOWED = 7001
BAD_IDENTIFIER = 7003
RATE_LIMITED = 10429  # our choice: Cloudflare documents the 429, not a code for it
BAD_REQUEST = 5400
VARIANT_NOT_FOUND = 5401
ACCOUNT_NOT_VALID = 5403
NOT_FOUND = 5404
ALREADY_EXISTS = 5409
TOO_LARGE = 5413
NOT_A_FORM = 5415
SERVICE_LIMIT = 5453
UNSUPPORTED_FORMAT = 5455
INTERNAL = 5500

# Delivery codes: Cloudflare's documented 9xxx codes, sent as Cf-Resized: err=<code>
BAD_OPTIONS = 9401
NOT_AN_IMAGE = 9412
SIZE_EXCEEDED = 9413
ACCESS_DENIED = 9425
MALFORMED_URL = 9426
ACCOUNT_MISMATCH = 9427
FLEXIBLE_DISABLED = 9429
DELIVERY_NOT_FOUND = 9431


class EmulatorAPIError(EmulatorError):
    """A REST API failure the emulator answers with: ``status`` (HTTP), ``code`` (Cloudflare's numeric code) and
    ``message``. A client talking to it sees the answer as ``cfvariants.client.APIError``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"EmulatorAPIError({self.status}, {self.code}, {self.message!r})"


class DeliveryError(EmulatorError):
    """A delivery failure: answered with ``status``, ``Cf-Resized: err=<code>`` and ``message`` as text."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DeliveryError({self.status}, {self.code}, {self.message!r})"


def bad_request(message: str) -> EmulatorAPIError:
    return EmulatorAPIError(400, BAD_REQUEST, message)


def conflict(message: str) -> EmulatorAPIError:
    return EmulatorAPIError(409, ALREADY_EXISTS, message)


def image_not_found(image_id: str) -> EmulatorAPIError:
    return EmulatorAPIError(404, NOT_FOUND, f"Image not found: {_show(image_id)}")


def variant_not_found(variant_id: str) -> EmulatorAPIError:
    return EmulatorAPIError(404, VARIANT_NOT_FOUND, f"Variant not found: {_show(variant_id)}")


def _show(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
