"""``ImagesClient``: the blocking Cloudflare Images API client (one ``httpx.Client`` and its connection pool)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar, cast

import httpx
from pydantic import SecretStr

from cfvariants._delivery import Delivery
from cfvariants._settings import DEFAULT_API_BASE, Settings

from . import _endpoints as ep
from . import _flow as flows
from ._base import DEFAULT_TIMEOUT, USER_AGENT, ClientBase, next_token, settings_arguments
from ._download import CHUNK_SIZE, Destination, Target, stream_failure
from ._filters import MetaFilters
from ._models import AccountConfig, AccountSigningKey, BatchToken, DirectUpload, Image, ImagesPage, Stats, Variant
from ._requests import Call
from ._retry import RetryPolicy
from ._sources import FileInput
from ._uploads import prepare_upload

T = TypeVar("T")


class ImagesClient(ClientBase):
    """Cloudflare Images API client (blocking).

    ``ImagesClient(account_id, api_token)`` or ``ImagesClient.from_settings()``. ``base_url`` may be the API
    (default), the batch host (``https://batch.imagedelivery.net``, with a batch token) or a local emulator;
    ``transport`` an httpx transport to use instead of the network (``httpx.MockTransport``,
    ``httpx.WSGITransport(app=...)``). ``retry`` is a ``RetryPolicy``; ``sleep`` replaces ``time.sleep`` between
    attempts; ``delivery`` builds the URLs of returned images. Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        account_id: str | None = None,
        api_token: str | SecretStr | None = None,
        *,
        base_url: str = DEFAULT_API_BASE,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        delivery: Delivery | None = None,
        sleep: Callable[[float], None] | None = None,
        limits: httpx.Limits | None = None,
        batch: bool | None = None,
    ) -> None:
        super().__init__(account_id, api_token, base_url=base_url, retry=retry, delivery=delivery, batch=batch)
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(
            auth=self._auth,
            timeout=timeout,
            transport=transport,
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=32),
            headers={"User-Agent": USER_AGENT},
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> ImagesClient:
        """A client from ``CF_ACCT_ID``, ``CF_IMG_TOKEN``, ``CF_API_BASE`` (and a ``Delivery`` from
        ``CF_IMG_HASH``...), read from the environment or ``.env``; keyword arguments override them."""
        return cls(**settings_arguments(settings, overrides))

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def __enter__(self) -> ImagesClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # -- driving flows -------------------------------------------------------------------------------------------

    def _run(self, flow: flows.Flow[T]) -> T:
        try:
            action = next(flow)
            while True:
                if isinstance(action, flows.Sleep):
                    self._sleep(action.seconds)
                    action = flow.send(None)
                else:
                    action = flow.send(self._send(action))
        except StopIteration as done:
            return cast(T, done.value)
        finally:
            flow.close()

    def _send(self, action: flows.Send) -> httpx.Response | httpx.RequestError:
        spec = action.request
        request = self._http.build_request(spec.method, self._url(spec), **spec.httpx_arguments())
        try:
            response = self._http.send(request, stream=spec.stream)
        except httpx.RequestError as exc:
            return exc
        if spec.stream and not response.is_success:
            try:
                response.read()  # an error body is small; the flow parses it
            except httpx.RequestError as exc:
                return exc
            finally:
                response.close()
        return response

    # -- images --------------------------------------------------------------------------------------------------

    def upload(
        self,
        file: FileInput | None = None,
        *,
        url: str | None = None,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        require_signed_urls: bool | None = None,
        creator: str | None = None,
        filename: str | None = None,
        content_type: str | None = None,
        idempotent: bool = True,
    ) -> Image:
        """Upload an image from a path, bytes or a binary file object (read from its current position, streamed),
        or have Cloudflare fetch ``url``. ``id`` sets a custom id; ``metadata`` (≤ 1,024 bytes as JSON),
        ``require_signed_urls`` and ``creator`` are stored with it.

        With ``idempotent`` (default) a retried upload never stores the image twice: a random marker goes into
        the metadata under ``"cfv_upload"`` and is looked for before repeating an upload that may have succeeded.
        """
        with prepare_upload(
            file, url=url, id=id, metadata=metadata, require_signed_urls=require_signed_urls, creator=creator,
            filename=filename, content_type=content_type, marker=idempotent and self.retry.max_attempts > 1,
        ) as prepared:  # fmt: skip
            return self._run(flows.upload(prepared, self._context))

    def get(self, image: str | Image) -> Image:
        """The image with this id (``draft`` is true while a direct upload awaits its file)."""
        return self._run(flows.perform(ep.get_image(image), self._context))

    def update(
        self,
        image: str | Image,
        *,
        metadata: Mapping[str, Any] | None = None,
        require_signed_urls: bool | None = None,
        creator: str | None = None,
    ) -> Image:
        """Change an image's metadata, signed-URL requirement or creator; omitted fields stay as they are."""
        call = ep.update_image(image, metadata=metadata, require_signed_urls=require_signed_urls, creator=creator)
        return self._run(flows.perform(call, self._context))

    def delete(self, image: str | Image) -> None:
        """Delete an image (every copy, purged from the cache)."""
        self._run(flows.perform(ep.delete_image(image), self._context))

    def download(self, image: str | Image, to: Target, *, chunk_size: int = CHUNK_SIZE) -> int:
        """Stream the original file to a path (written completely or not at all) or a binary file object;
        returns the number of bytes written."""
        call = ep.download(image)
        with Destination(to) as out:
            for chunk in self._stream(call, chunk_size):
                out.write(chunk)
        return out.written

    def iter_download(self, image: str | Image, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The original file as an iterator of chunks (the request is sent when iteration starts)."""
        return self._stream(ep.download(image), chunk_size)

    def _stream(self, call: Call[httpx.Response], chunk_size: int) -> Iterator[bytes]:
        response = self._run(flows.perform(call, self._context))
        try:
            yield from response.iter_bytes(chunk_size)
        except httpx.RequestError as exc:
            raise stream_failure(exc, call.request) from None
        finally:
            response.close()

    def list_images(
        self,
        *,
        continuation_token: str | None = None,
        per_page: int | None = None,
        sort_order: ep.SortOrder | None = None,
        creator: str | None = None,
        meta: MetaFilters | None = None,
    ) -> ImagesPage:
        """One page of images (list v2). Pass the page's ``continuation_token`` for the next; ``meta`` filters on
        metadata (``{"status": "live"}`` or ``MetaFilter`` conditions); ``creator=""`` finds images without one."""
        call = ep.list_images(continuation_token, per_page, sort_order, creator, meta)
        return self._run(flows.perform(call, self._context))

    def iter_images(
        self,
        *,
        per_page: int | None = None,
        sort_order: ep.SortOrder | None = None,
        creator: str | None = None,
        meta: MetaFilters | None = None,
    ) -> Iterator[Image]:
        """Every image (list v2), page after page, following continuation tokens (arguments are checked now,
        requests are sent as iteration proceeds)."""
        ep.list_images(None, per_page, sort_order, creator, meta)
        return self._iter_images(per_page, sort_order, creator, meta)

    def _iter_images(
        self, per_page: int | None, sort_order: ep.SortOrder | None, creator: str | None, meta: MetaFilters | None
    ) -> Iterator[Image]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            call = ep.list_images(token, per_page, sort_order, creator, meta)
            page = self._run(flows.perform(call, self._context))
            yield from page.images
            token = next_token(page, seen)
            if token is None:
                return

    def list_images_v1(self, *, page: int = 1, per_page: int | None = None, creator: str | None = None) -> ImagesPage:
        """One numbered page of images (list v1, deprecated by Cloudflare in favour of ``list_images``)."""
        return self._run(flows.perform(ep.list_images_v1(page, per_page, creator), self._context))

    def create_direct_upload(
        self,
        *,
        expiry: datetime | timedelta | None = None,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        require_signed_urls: bool | None = None,
        creator: str | None = None,
    ) -> DirectUpload:
        """A one-time URL a browser can POST a file to (v2); ``expiry`` 2 minutes to 6 hours ahead (default 30
        minutes), as an aware ``datetime`` or a ``timedelta``."""
        call = ep.create_direct_upload(
            expiry=expiry, id=id, metadata=metadata, require_signed_urls=require_signed_urls, creator=creator
        )
        return self._run(flows.perform(call, self._context))

    def get_stats(self) -> Stats:
        """How many images are stored, and how many the plan allows."""
        return self._run(flows.perform(ep.stats(), self._context))

    # -- variants ------------------------------------------------------------------------------------------------

    def list_variants(self) -> dict[str, Variant]:
        """The account's named variants, by id."""
        return self._run(flows.perform(ep.list_variants(), self._context))

    def get_variant(self, variant_id: str) -> Variant:
        return self._run(flows.perform(ep.get_variant(variant_id), self._context))

    def create_variant(
        self,
        variant: str | Variant,
        *,
        fit: str | None = None,
        width: int | None = None,
        height: int | None = None,
        metadata: str | None = None,
        never_require_signed_urls: bool | None = None,
    ) -> Variant:
        """Define a named variant: an id with ``fit`` (scale-down, contain, cover, crop, pad), ``width``,
        ``height`` and ``metadata`` (keep, copyright, none; default none), or a ``Variant`` (e.g. copied from
        another account) that keywords override."""
        given = {"fit": fit, "width": width, "height": height, "metadata": metadata}
        variant_id, options, never = ep.variant_definition(variant, given, never_require_signed_urls)
        options.setdefault("metadata", "none")
        return self._run(flows.create_variant(variant_id, options, bool(never), self._context))

    def update_variant(
        self,
        variant: str | Variant,
        *,
        fit: str | None = None,
        width: int | None = None,
        height: int | None = None,
        metadata: str | None = None,
        never_require_signed_urls: bool | None = None,
    ) -> Variant:
        """Change a variant (an id plus the keywords to change, or a whole ``Variant``); options not given keep
        their current values (read first when needed). Cloudflare purges every image served through it."""
        given = {"fit": fit, "width": width, "height": height, "metadata": metadata}
        variant_id, changes, never = ep.variant_definition(variant, given, never_require_signed_urls)
        return self._run(flows.update_variant(variant_id, changes, never, self._context))

    def delete_variant(self, variant_id: str) -> None:
        self._run(flows.perform(ep.delete_variant(variant_id), self._context))

    # -- signing keys --------------------------------------------------------------------------------------------

    def list_signing_keys(self) -> list[AccountSigningKey]:
        return self._run(flows.perform(ep.list_signing_keys(), self._context))

    def create_signing_key(self, name: str) -> AccountSigningKey:
        """Create (or fetch) the signing key ``name``; returns that key."""
        return self._run(flows.perform(ep.create_signing_key(name), self._context))

    def delete_signing_key(self, name: str) -> list[AccountSigningKey]:
        """Delete a signing key; returns the keys that remain."""
        return self._run(flows.perform(ep.delete_signing_key(name), self._context))

    # -- account -------------------------------------------------------------------------------------------------

    def get_config(self) -> AccountConfig:
        """The account's Images settings. Not in Cloudflare's schema or docs (only PATCH is documented)."""
        return self._run(flows.perform(ep.get_config(), self._context))

    def update_config(
        self,
        *,
        flexible_variants: bool | None = None,
        browser_ttl: int | None = None,
        preserve_content_credentials: bool | None = None,
    ) -> AccountConfig:
        """Switch flexible variants on or off, set the default browser TTL (1 hour to 1 year), or whether Content
        Credentials are kept."""
        call = ep.update_config(
            flexible_variants=flexible_variants,
            browser_ttl=browser_ttl,
            preserve_content_credentials=preserve_content_credentials,
        )
        return self._run(flows.perform(call, self._context))

    def get_batch_token(self) -> BatchToken:
        """A token for the batch host (``ImagesClient(api_token=token.token, base_url=BATCH_API_BASE)``)."""
        return self._run(flows.perform(ep.batch_token(), self._context))
