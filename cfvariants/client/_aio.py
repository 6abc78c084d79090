"""``AsyncImagesClient``: the asyncio/trio Cloudflare Images API client (one ``httpx.AsyncClient`` and its pool).

The same methods as ``ImagesClient`` with the same arguments, awaited; ``iter_images`` and ``iter_download``
are async iterators. Requests, parsing, retries and upload idempotency are the shared flows of ``_flow.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar, cast

import anyio
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


class AsyncImagesClient(ClientBase):
    """Cloudflare Images API client (async). Arguments as ``ImagesClient``; ``transport`` is an async httpx
    transport (``httpx.MockTransport`` works for both) and ``sleep`` an async function (default ``anyio.sleep``).
    Use ``async with``, or ``await client.aclose()``.
    """

    def __init__(
        self,
        account_id: str | None = None,
        api_token: str | SecretStr | None = None,
        *,
        base_url: str = DEFAULT_API_BASE,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        delivery: Delivery | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        limits: httpx.Limits | None = None,
        batch: bool | None = None,
    ) -> None:
        super().__init__(account_id, api_token, base_url=base_url, retry=retry, delivery=delivery, batch=batch)
        self._sleep = sleep or anyio.sleep
        self._http = httpx.AsyncClient(
            auth=self._auth,
            timeout=timeout,
            transport=transport,
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=32),
            headers={"User-Agent": USER_AGENT},
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> AsyncImagesClient:
        """A client from ``CF_ACCT_ID``, ``CF_IMG_TOKEN``, ``CF_API_BASE`` (and a ``Delivery`` from
        ``CF_IMG_HASH``...), read from the environment or ``.env``; keyword arguments override them."""
        return cls(**settings_arguments(settings, overrides))

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def __aenter__(self) -> AsyncImagesClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- driving flows -------------------------------------------------------------------------------------------

    async def _run(self, flow: flows.Flow[T]) -> T:
        try:
            action = next(flow)
            while True:
                if isinstance(action, flows.Sleep):
                    await self._sleep(action.seconds)
                    action = flow.send(None)
                else:
                    action = flow.send(await self._send(action))
        except StopIteration as done:
            return cast(T, done.value)
        finally:
            flow.close()

    async def _send(self, action: flows.Send) -> httpx.Response | httpx.RequestError:
        spec = action.request
        request = self._http.build_request(spec.method, self._url(spec), **spec.httpx_arguments())
        try:
            response = await self._http.send(request, stream=spec.stream)
        except httpx.RequestError as exc:
            return exc
        if spec.stream and not response.is_success:
            try:
                await response.aread()  # an error body is small; the flow parses it
            except httpx.RequestError as exc:
                return exc
            finally:
                await response.aclose()
        return response

    # -- images --------------------------------------------------------------------------------------------------

    async def upload(
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
        """Upload an image (see ``ImagesClient.upload``). Files are read in 64 KiB chunks as the body is sent."""
        with prepare_upload(
            file, url=url, id=id, metadata=metadata, require_signed_urls=require_signed_urls, creator=creator,
            filename=filename, content_type=content_type, marker=idempotent and self.retry.max_attempts > 1,
        ) as prepared:  # fmt: skip
            return await self._run(flows.upload(prepared, self._context))

    async def get(self, image: str | Image) -> Image:
        """The image with this id (``draft`` is true while a direct upload awaits its file)."""
        return await self._run(flows.perform(ep.get_image(image), self._context))

    async def update(
        self,
        image: str | Image,
        *,
        metadata: Mapping[str, Any] | None = None,
        require_signed_urls: bool | None = None,
        creator: str | None = None,
    ) -> Image:
        """Change an image's metadata, signed-URL requirement or creator; omitted fields stay as they are."""
        call = ep.update_image(image, metadata=metadata, require_signed_urls=require_signed_urls, creator=creator)
        return await self._run(flows.perform(call, self._context))

    async def delete(self, image: str | Image) -> None:
        """Delete an image (every copy, purged from the cache)."""
        await self._run(flows.perform(ep.delete_image(image), self._context))

    async def download(self, image: str | Image, to: Target, *, chunk_size: int = CHUNK_SIZE) -> int:
        """Stream the original file to a path (written completely or not at all) or a binary file object;
        returns the number of bytes written. (Chunks are written to the file as they arrive, without a thread:
        local disk writes of 64 KiB do not stall the event loop noticeably.)"""
        call = ep.download(image)
        with Destination(to) as out:
            async for chunk in self._stream(call, chunk_size):
                out.write(chunk)
        return out.written

    def iter_download(self, image: str | Image, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The original file as an async iterator of chunks (the request is sent when iteration starts)."""
        return self._stream(ep.download(image), chunk_size)

    async def _stream(self, call: Call[httpx.Response], chunk_size: int) -> AsyncIterator[bytes]:
        response = await self._run(flows.perform(call, self._context))
        try:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.RequestError as exc:
            raise stream_failure(exc, call.request) from None
        finally:
            await response.aclose()

    async def list_images(
        self,
        *,
        continuation_token: str | None = None,
        per_page: int | None = None,
        sort_order: ep.SortOrder | None = None,
        creator: str | None = None,
        meta: MetaFilters | None = None,
    ) -> ImagesPage:
        """One page of images (list v2); see ``ImagesClient.list_images``."""
        call = ep.list_images(continuation_token, per_page, sort_order, creator, meta)
        return await self._run(flows.perform(call, self._context))

    def iter_images(
        self,
        *,
        per_page: int | None = None,
        sort_order: ep.SortOrder | None = None,
        creator: str | None = None,
        meta: MetaFilters | None = None,
    ) -> AsyncIterator[Image]:
        """Every image (list v2) as an async iterator, following continuation tokens."""
        ep.list_images(None, per_page, sort_order, creator, meta)
        return self._iter_images(per_page, sort_order, creator, meta)

    async def _iter_images(
        self, per_page: int | None, sort_order: ep.SortOrder | None, creator: str | None, meta: MetaFilters | None
    ) -> AsyncIterator[Image]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            call = ep.list_images(token, per_page, sort_order, creator, meta)
            page = await self._run(flows.perform(call, self._context))
            for image in page.images:
                yield image
            token = next_token(page, seen)
            if token is None:
                return

    async def list_images_v1(
        self, *, page: int = 1, per_page: int | None = None, creator: str | None = None
    ) -> ImagesPage:
        """One numbered page of images (list v1, deprecated by Cloudflare in favour of ``list_images``)."""
        return await self._run(flows.perform(ep.list_images_v1(page, per_page, creator), self._context))

    async def create_direct_upload(
        self,
        *,
        expiry: datetime | timedelta | None = None,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        require_signed_urls: bool | None = None,
        creator: str | None = None,
    ) -> DirectUpload:
        """A one-time URL a browser can POST a file to (v2); see ``ImagesClient.create_direct_upload``."""
        call = ep.create_direct_upload(
            expiry=expiry, id=id, metadata=metadata, require_signed_urls=require_signed_urls, creator=creator
        )
        return await self._run(flows.perform(call, self._context))

    async def get_stats(self) -> Stats:
        """How many images are stored, and how many the plan allows."""
        return await self._run(flows.perform(ep.stats(), self._context))

    # -- variants ------------------------------------------------------------------------------------------------

    async def list_variants(self) -> dict[str, Variant]:
        """The account's named variants, by id."""
        return await self._run(flows.perform(ep.list_variants(), self._context))

    async def get_variant(self, variant_id: str) -> Variant:
        return await self._run(flows.perform(ep.get_variant(variant_id), self._context))

    async def create_variant(
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
        return await self._run(flows.create_variant(variant_id, options, bool(never), self._context))

    async def update_variant(
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
        return await self._run(flows.update_variant(variant_id, changes, never, self._context))

    async def delete_variant(self, variant_id: str) -> None:
        await self._run(flows.perform(ep.delete_variant(variant_id), self._context))

    # -- signing keys --------------------------------------------------------------------------------------------

    async def list_signing_keys(self) -> list[AccountSigningKey]:
        return await self._run(flows.perform(ep.list_signing_keys(), self._context))

    async def create_signing_key(self, name: str) -> AccountSigningKey:
        """Create (or fetch) the signing key ``name``; returns that key."""
        return await self._run(flows.perform(ep.create_signing_key(name), self._context))

    async def delete_signing_key(self, name: str) -> list[AccountSigningKey]:
        """Delete a signing key; returns the keys that remain."""
        return await self._run(flows.perform(ep.delete_signing_key(name), self._context))

    # -- account -------------------------------------------------------------------------------------------------

    async def get_config(self) -> AccountConfig:
        """The account's Images settings. Not in Cloudflare's schema or docs (only PATCH is documented)."""
        return await self._run(flows.perform(ep.get_config(), self._context))

    async def update_config(
        self,
        *,
        flexible_variants: bool | None = None,
        browser_ttl: int | None = None,
        preserve_content_credentials: bool | None = None,
    ) -> AccountConfig:
        """Switch flexible variants, set the default browser TTL, or whether Content Credentials are kept."""
        call = ep.update_config(
            flexible_variants=flexible_variants,
            browser_ttl=browser_ttl,
            preserve_content_credentials=preserve_content_credentials,
        )
        return await self._run(flows.perform(call, self._context))

    async def get_batch_token(self) -> BatchToken:
        """A token for the batch host."""
        return await self._run(flows.perform(ep.batch_token(), self._context))
