"""The one request-building and response-parsing layer shared by the sync and async clients.

An endpoint is a ``Call``: a transport-neutral ``Request`` (method, path under the account, query, JSON or
multipart body) plus the function that turns the envelope's ``result`` into a typed model. Responses are read
here too: the v4 envelope is unwrapped, and every failure (error status, ``success: false`` even with HTTP 200,
a body that is not an envelope, a refused connection) becomes one of the errors in ``errors.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from cfvariants._delivery import Delivery
from cfvariants._errors import SettingsError

from ._errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    ErrorDetail,
    NotFoundError,
    RateLimitError,
    TransportError,
)
from ._models import AccountConfig, AccountSigningKey, BatchToken, DirectUpload, Image, ImagesPage, Stats, Variant
from ._retry import RetryPolicy, parse_retry_after

T = TypeVar("T")

#: Cloudflare error codes that mean "who are you?" rather than "what is wrong with the request" [U: 10000 is
#: widely reported for bad tokens; 9103/9106/9107/9109 are the legacy key/email and token codes].
AUTH_CODES = frozenset({9103, 9106, 9107, 9109, 10000, 10001})
_CONFLICT_TEXT = re.compile(r"already exists|duplicate|already in use|already taken", re.IGNORECASE)
_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SNIPPET = 200
#: Failures that happen before any byte of the request left: the server cannot have acted on them.
_NOT_SENT = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol", "InvalidURL"})


@dataclass(frozen=True, slots=True)
class Context:
    """What parsing and retrying need from the client: its retry policy, its ``Delivery`` and whether it talks
    to the batch host."""

    retry: RetryPolicy
    delivery: Delivery | None
    batch: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, independent of httpx's sync/async split. ``path`` is relative to the account scope
    (``/accounts/<id>``) and already percent-encoded; ``form`` and ``file`` make a multipart body."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] = ()
    json: Mapping[str, Any] | None = None
    form: Sequence[tuple[str, str]] | None = None
    file: tuple[str, Any, str] | None = None  # (filename, stream, content type)
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: bool = False

    def httpx_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.build_request`` (same for ``AsyncClient``)."""
        arguments: dict[str, Any] = {}
        if self.params:
            arguments["params"] = list(self.params)
        if self.json is not None:
            arguments["json"] = dict(self.json)
        if self.form is not None or self.file is not None:
            # Text fields as parts without a filename: httpx sends multipart only when "files" is given, and
            # Cloudflare's upload endpoints are declared multipart/form-data.
            parts: list[tuple[str, Any]] = [(name, (None, value)) for name, value in self.form or ()]
            if self.file is not None:
                parts.append(("file", self.file))
            arguments["files"] = parts
        if self.headers:
            arguments["headers"] = dict(self.headers)
        return arguments


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """An endpoint call: the request, how to read its result, whether the batch host serves it, and what a
    repeat after an uncertain failure means (``after_uncertain``: e.g. a 404 on a repeated DELETE is success)."""

    request: Request
    parse: Callable[[Any, Context], T]
    batch: bool = False
    after_uncertain: Callable[[APIError | TransportError], bool] | None = None


def segment(value: str) -> str:
    """A path segment, percent-encoded in full: a custom id's ``/`` becomes ``%2F`` (Cloudflare's docs ask
    for ids encoded in full in API paths, and its SDK sends ``%2F``)."""
    return quote(value, safe="")


# -- reading responses ---------------------------------------------------------------------------------------


def read_response(response: httpx.Response, request: Request, *, attempts: int, now: float) -> Any:
    """The envelope's ``result`` of a successful response; raises the matching ``APIError`` otherwise."""
    status = response.status_code
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and "success" in body:
        errors, messages = _details(body.get("errors")), _details(body.get("messages"))
        if body.get("success") is True and 200 <= status < 300:
            return body.get("result")
        reason = None if errors else "success is false" if 200 <= status < 300 else response.reason_phrase
        raise api_error(status, errors, messages, response, request, attempts=attempts, now=now, reason=reason)
    if 200 <= status < 300:
        kind = response.headers.get("content-type", "no content type")
        reason = f"the response is not a Cloudflare API envelope ({kind})"
    else:
        reason = _describe_body(response)
    base = _base_without_v4(response, request)
    if base is not None:  # what answered is not the v4 API at all: say so, instead of an auth or a 404 error
        raise SettingsError(
            f"CF_API_BASE {base} does not end in /client/v4: {request.method} {request.path} was answered by "
            f"something else (HTTP {status}, {reason}); it should look like {_V4_EXAMPLE}"
        )
    raise api_error(status, [], [], response, request, attempts=attempts, now=now, reason=reason)


_V4_EXAMPLE = "https://api.cloudflare.com/client/v4 or http://127.0.0.1:8787/client/v4"


def _base_without_v4(response: httpx.Response, request: Request) -> str | None:
    """The base URL the request went to when its path lacks ``/client/v4`` (a CF_API_BASE missing it)."""
    try:
        url = response.request.url
    except RuntimeError:  # a response built without a request
        return None
    path = url.path
    if "/client/v4/" in path + "/" or not path.endswith(request.path):
        return None
    account_base = path[: len(path) - len(request.path)]  # .../accounts/<id>: the API base is before it
    return f"{url.scheme}://{url.netloc.decode('ascii')}{account_base.partition('/accounts/')[0]}"


def api_error(
    status: int,
    errors: list[ErrorDetail],
    messages: list[ErrorDetail],
    response: httpx.Response,
    request: Request,
    *,
    attempts: int,
    now: float,
    reason: str | None = None,
) -> APIError:
    cls = error_class(status, errors)
    return cls(
        status,
        errors,
        messages,
        method=request.method,
        path=request.path,
        request_id=response.headers.get("cf-ray"),
        attempts=attempts,
        retry_after=parse_retry_after(response.headers.get("retry-after"), now=now),
        reason=reason,
    )


def error_class(status: int, errors: Sequence[ErrorDetail]) -> type[APIError]:
    if status == 429:
        return RateLimitError
    if status in (401, 403) or any(error.code in AUTH_CODES for error in errors):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 409 or any(_CONFLICT_TEXT.search(error.message) for error in errors):
        return ConflictError
    return APIError


def _details(items: object) -> list[ErrorDetail]:
    if not isinstance(items, list):
        return []
    details = []
    for item in items:
        if isinstance(item, dict):
            code = item.get("code")
            details.append(ErrorDetail(code if isinstance(code, int) else None, str(item.get("message", "")).strip()))
        elif isinstance(item, str):
            details.append(ErrorDetail(None, item))
    return details


def _describe_body(response: httpx.Response) -> str:
    text = response.text.strip()
    title = _TITLE.search(text) if "html" in response.headers.get("content-type", "") else None
    if title:
        text = title.group(1)
    text = " ".join(text.split())
    if len(text) > _SNIPPET:
        text = text[:_SNIPPET] + "..."
    return f"{response.reason_phrase}: {text}" if text else response.reason_phrase or "no body"


def transport_error(exc: httpx.RequestError, request: Request, *, attempts: int) -> TransportError:
    cause = type(exc).__name__
    return TransportError(
        cause,
        str(exc),
        method=request.method,
        path=request.path,
        attempts=attempts,
        maybe_applied=cause not in _NOT_SENT,
    )


def parse_failure(exc: pydantic.ValidationError, request: Request, what: str) -> APIError:
    """A 2xx whose ``result`` is not what Cloudflare's schema promises."""
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "result"
    return APIError(
        200,
        method=request.method,
        path=request.path,
        reason=f"unexpected {what} in the response: {where}: {first['msg']}",
    )


# -- results -------------------------------------------------------------------------------------------------


def image_result(result: Any, context: Context) -> Image:
    return Image.model_validate(result).with_delivery(context.delivery)


def images_page(result: Any, context: Context, **extra: Any) -> ImagesPage:
    page = ImagesPage.model_validate({**(result or {}), **extra})
    for image in page.images:
        image.with_delivery(context.delivery)
    return page


def nothing(result: Any, context: Context) -> None:
    return None


def variant_result(result: Any, context: Context) -> Variant:
    return Variant.model_validate((result or {}).get("variant"))


def variants_result(result: Any, context: Context) -> dict[str, Variant]:
    variants = (result or {}).get("variants") or {}
    return {name: Variant.model_validate({"id": name, **body}) for name, body in variants.items()}


def keys_result(result: Any, context: Context) -> list[AccountSigningKey]:
    return [AccountSigningKey.model_validate(key) for key in (result or {}).get("keys") or []]


def stats_result(result: Any, context: Context) -> Stats:
    return Stats.model_validate(result or {})


def direct_upload_result(result: Any, context: Context) -> DirectUpload:
    return DirectUpload.model_validate(result)


def batch_token_result(result: Any, context: Context) -> BatchToken:
    return BatchToken.model_validate(result)


def config_result(result: Any, context: Context) -> AccountConfig:
    return AccountConfig.model_validate(result if isinstance(result, dict) else {})
