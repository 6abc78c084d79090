"""Sans-I/O flows: the retry loop and the idempotent upload, written once for both clients.

A flow is a generator that yields actions (``Send`` a request, ``Sleep`` a while) and receives outcomes (an
``httpx.Response`` or the ``httpx.RequestError`` that replaced it). The sync client drives it with a blocking
``httpx.Client`` and ``time.sleep``; the async client with an ``httpx.AsyncClient`` and ``asyncio.sleep``. So
every decision (retry or not, how long to wait, whether an uncertain upload already happened) is made by the same
code, and tests of one client hold for the other.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pydantic

from . import _endpoints as ep
from . import _requests as rq
from ._errors import APIError, ConflictError, NotFoundError, TransportError, ValidationError
from ._filters import MetaFilter
from ._models import Image, Variant
from ._requests import Call, Context, Request
from ._uploads import MARKER_KEY, PreparedUpload

T = TypeVar("T")
log = logging.getLogger("cfvariants.client")


@dataclass(frozen=True, slots=True)
class Send:
    request: Request


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Action = Send | Sleep
Outcome = httpx.Response | httpx.RequestError | None
Flow = Generator[Action, Outcome, T]
Failure = APIError | TransportError

_NOT_CHECKABLE = (
    "not retried: the upload may have been stored, and without a custom id or the idempotency marker in its "
    "metadata a repeat could store it twice"
)


def attempt(request: Request, context: Context, attempts: int) -> Flow[Any]:
    """Send ``request`` once: the envelope's result (or the open response of a streamed request), or an error."""
    outcome = yield Send(request)
    if isinstance(outcome, httpx.RequestError):
        log.debug("%s %s: %s (attempt %d)", request.method, request.path, type(outcome).__name__, attempts)
        raise rq.transport_error(outcome, request, attempts=attempts)
    if not isinstance(outcome, httpx.Response):
        raise TypeError(f"a flow expected a response, got {type(outcome).__name__}")
    log.debug("%s %s -> %d (attempt %d)", request.method, request.path, outcome.status_code, attempts)
    if request.stream and outcome.is_success:
        return outcome
    return rq.read_response(outcome, request, attempts=attempts, now=context.retry.clock())


def perform(call: Call[T], context: Context) -> Flow[T]:
    """Send ``call`` until it succeeds, fails for good, or the retry policy gives up."""
    if context.batch and not call.batch:
        raise ValidationError(
            f"{call.request.method} {call.request.path} is not served by the batch host; use a client on the API "
            "host (https://api.cloudflare.com/client/v4) for it"
        )
    attempts, uncertain = 0, False
    while True:
        attempts += 1
        try:
            result = yield from attempt(call.request, context, attempts)
        except (APIError, TransportError) as error:
            if uncertain and call.after_uncertain is not None and call.after_uncertain(error):
                log.info("%s %s: done by an earlier attempt (%s)", call.request.method, call.request.path, error)
                return finish(call, None, context)
            delay = context.retry.delay(error, attempts)
            if delay is None:
                raise give_up(error, attempts, uncertain) from None
            uncertain = uncertain or error.maybe_applied
            _log_retry(call.request, error, attempts, delay, context)
            yield Sleep(delay)
            continue
        return finish(call, result, context)


def finish(call: Call[T], result: Any, context: Context) -> T:
    """The typed result; a 2xx whose body does not match the schema becomes an ``APIError``, not a crash."""
    try:
        return call.parse(result, context)
    except pydantic.ValidationError as exc:
        raise rq.parse_failure(exc, call.request, "result") from None
    except (AttributeError, TypeError):
        raise APIError(
            200,
            method=call.request.method,
            path=call.request.path,
            reason=f"unexpected result in the response: {type(result).__name__}",
        ) from None


def give_up(error: Failure, attempts: int, uncertain: bool, note: str | None = None) -> Failure:
    """``error`` as the call's final error: how many attempts were made, and whether it may have taken effect."""
    error.attempts = attempts
    error.maybe_applied = error.maybe_applied or uncertain
    if note is not None:
        error.note = note
    elif error.maybe_applied and error.method not in ("GET", "HEAD"):
        error.note = "an earlier attempt may have been applied" if uncertain else "it may have been applied"
    return error


def _log_retry(request: Request, error: Failure, attempts: int, delay: float, context: Context) -> None:
    log.info(
        "%s %s failed (%s); retrying in %.2f s (attempt %d of %d)",
        request.method, request.path, _short(error), delay, attempts + 1, context.retry.max_attempts,
    )  # fmt: skip


def _short(error: Failure) -> str:
    return f"HTTP {error.status_code}" if isinstance(error, APIError) else error.cause


# -- uploads -------------------------------------------------------------------------------------------------


def upload(prepared: PreparedUpload, context: Context) -> Flow[Image]:
    """Upload, retrying without ever storing the image twice.

    After a failure that may have reached Cloudflare, the next attempt first looks for the image (by custom id,
    or by the marker token in its metadata) and returns it if an earlier attempt stored it. A repeat that hits
    "id already exists" does the same check. Without a custom id or a marker, an uncertain failure is not retried.
    """
    attempts, uncertain = 0, False
    while True:
        attempts += 1
        found: Image | None = None
        result: Any = None
        try:
            if uncertain:
                found = yield from _find_upload(prepared, context, attempts)
            if found is None:
                result = yield from attempt(prepared.request(), context, attempts)
        except ConflictError as error:
            if not (uncertain and prepared.custom_id is not None):
                raise give_up(error, attempts, uncertain) from None
            found = yield from _find_upload(prepared, context, attempts)
            if found is None:
                raise give_up(error, attempts, uncertain) from None
        except (APIError, TransportError) as error:
            delay = context.retry.delay(error, attempts)
            if delay is None:
                raise give_up(error, attempts, uncertain) from None
            if error.maybe_applied and not prepared.verifiable:
                raise give_up(error, attempts, uncertain, note=_NOT_CHECKABLE) from None
            uncertain = uncertain or error.maybe_applied
            _log_retry(prepared.request(), error, attempts, delay, context)
            yield Sleep(delay)
            continue
        if found is not None:
            log.info("upload: an earlier attempt stored image %r; not uploading again", found.id)
            return _claim(found, prepared, context, attempts)
        return finish(Call(prepared.request(), rq.image_result), result, context)


def _find_upload(prepared: PreparedUpload, context: Context, attempts: int) -> Flow[Image | None]:
    """The image an earlier attempt of ``prepared`` stored, or ``None``."""
    if prepared.custom_id is not None:
        lookup = ep.get_image(prepared.custom_id)
        try:
            result = yield from attempt(lookup.request, context, attempts)
        except NotFoundError:
            return None
        return finish(lookup, result, context)
    assert prepared.marker is not None
    listing = ep.list_images(per_page=10, meta=[MetaFilter(MARKER_KEY, "eq:string", prepared.marker)])
    result = yield from attempt(listing.request, context, attempts)
    page = finish(listing, result, context)
    return page.images[0] if page.images else None


def _claim(found: Image, prepared: PreparedUpload, context: Context, attempts: int) -> Image:
    """``found`` if this upload stored it; a ``ConflictError`` if its custom id belongs to another image."""
    if prepared.marker is not None and found.meta.get(MARKER_KEY) != prepared.marker:
        raise ConflictError(
            409,
            method="POST",
            path="/images/v1",
            attempts=attempts,
            reason=f"image id {found.id!r} already exists and was not stored by this upload",
        )
    return found.with_delivery(context.delivery)


# -- variants ------------------------------------------------------------------------------------------------


def create_variant(
    variant_id: str, options: Mapping[str, Any], never_require_signed_urls: bool, context: Context
) -> Flow[Variant]:
    """Create a variant; if a repeat after an uncertain failure finds it exists, return it when it is the same
    definition (the earlier attempt made it) and raise the ``ConflictError`` otherwise."""
    call = ep.create_variant(variant_id, options, never_require_signed_urls)
    try:
        return (yield from perform(call, context))
    except ConflictError as error:
        if not error.maybe_applied:
            raise
        existing = yield from perform(ep.get_variant(variant_id), context)
        wanted = call.request.json or {}
        if existing.options.model_dump(include=set(ep.OPTION_NAMES)) != wanted.get("options"):
            raise
        return existing


def update_variant(
    variant_id: str, changes: Mapping[str, Any], never_require_signed_urls: bool | None, context: Context
) -> Flow[Variant]:
    """Update a variant. Cloudflare needs all four options; missing ones are read from the current definition
    first (one extra GET)."""
    placeholder = {"fit": "cover", "width": 1, "height": 1, "metadata": "none"}
    ep.update_variant(variant_id, {**placeholder, **changes}, never_require_signed_urls)  # validate first
    options = dict(changes)
    if any(name not in options for name in ep.OPTION_NAMES):
        current = yield from perform(ep.get_variant(variant_id), context)
        options = {**current.options.model_dump(include=set(ep.OPTION_NAMES)), **changes}
    return (yield from perform(ep.update_variant(variant_id, options, never_require_signed_urls), context))
