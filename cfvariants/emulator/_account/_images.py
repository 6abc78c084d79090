"""The images of an emulated account: uploads (a file or a URL), direct creator uploads, lists, updates, deletes.

Nothing is written for a request that is refused: every rule is checked before the original is written, and a
write that loses a race (a duplicate id) removes its file again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from cfvariants.emulator._config import EmulatorConfig, Fetcher
from cfvariants.emulator._errors import EmulatorAPIError, bad_request, conflict, image_not_found
from cfvariants.emulator._storage._database import DuplicateError, Transaction
from cfvariants.emulator._storage._records import ImageRecord, nanoseconds
from cfvariants.emulator._storage._storage import Storage
from cfvariants.emulator._unset import UNSET, Unset
from cfvariants.imaging import ImageInfo, ImageRejected, inspect_image
from cfvariants.limits import PER_PAGE_RANGE, is_uuid

from ._fetch import check_url
from ._listing import EmulatorMetaFilter, decode_token, encode_token
from ._rules import check_custom_id, check_filename, check_metadata, parse_expiry


class Images:
    """The account's images in ``storage``; ``fetcher`` reads the image of a ``url`` upload."""

    def __init__(self, config: EmulatorConfig, storage: Storage, fetcher: Fetcher, clock: Callable[[], float]) -> None:
        self.config = config
        self.storage = storage
        self.fetcher = fetcher
        self.clock = clock

    def _now_ns(self) -> int:
        return nanoseconds(self.clock())

    def upload(
        self,
        data: bytes | None = None,
        *,
        url: str | None = None,
        filename: str | None = None,
        image_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        require_signed_urls: bool = False,
        creator: str | None = None,
    ) -> ImageRecord:
        """``POST /images/v1``: store ``data`` (or the image at ``url``) under a new or a custom id."""
        if (data is None) == (url is None):
            raise bad_request("give exactly one of file (the image) and url (where to fetch it)")
        image_id = self._new_image_id(image_id, require_signed_urls)
        meta = check_metadata(metadata if metadata is not None else {})
        self._check_id_free(image_id)
        if url is not None:
            data, url_name = self.fetcher(check_url(url))
            filename = filename or url_name
        assert data is not None
        info, stored = _inspect(data)
        originals = self.storage.originals
        file_key = originals.new_key(image_id)
        record = ImageRecord(
            id=image_id,
            filename=check_filename(filename),
            meta=meta,
            require_signed_urls=require_signed_urls,
            creator=creator or None,
            uploaded_ns=self._now_ns(),
            file_key=file_key,
            info=info,
        )
        originals.write(file_key, stored)
        try:
            with self.storage.db.write() as tx:
                self._drop_expired_draft(tx, image_id)
                return tx.insert_image(record)
        except DuplicateError:
            originals.delete(file_key)
            raise conflict(f"an image with id {image_id!r} already exists") from None
        except BaseException:
            originals.delete(file_key)
            raise

    def _new_image_id(self, image_id: str | None, require_signed_urls: bool) -> str:
        if image_id is None or image_id == "":
            return str(uuid.uuid4())
        check_custom_id(image_id)
        if require_signed_urls:
            raise bad_request(
                f"requireSignedURLs: an image stored under a custom id ({image_id!r}) cannot be private; "
                "leave out id to get a generated one"
            )
        return image_id

    def _check_id_free(self, image_id: str) -> None:
        existing = self.storage.db.read().get_image(image_id)
        if existing is not None and not self._expired_draft(existing):
            raise conflict(f"an image with id {image_id!r} already exists")

    def _expired_draft(self, record: ImageRecord) -> bool:
        return record.draft and record.upload_expires is not None and record.upload_expires < self.clock()

    def _drop_expired_draft(self, tx: Transaction, image_id: str) -> None:
        existing = tx.get_image(image_id)
        if existing is not None and self._expired_draft(existing):
            tx.delete_image(image_id)

    def get_image(self, image_id: str) -> ImageRecord:
        """``GET /images/v1/{id}``: the image, or a draft (``draft=True``) whose upload URL has not expired."""
        record = self.storage.db.read().get_image(image_id)
        if record is None or self._expired_draft(record):
            raise image_not_found(image_id)
        return record

    def list_images(self, *, page: int = 1, per_page: int = 1000, creator: str | None = None) -> list[ImageRecord]:
        """``GET /images/v1`` (deprecated list): oldest first, so pages stay stable while images are added.
        ``creator=""`` lists images without a creator."""
        _check_int("page", page, 1, 10**9)
        _check_int("per_page", per_page, *PER_PAGE_RANGE)
        return self.storage.db.read().page_images(
            offset=(page - 1) * per_page, limit=per_page, ascending=True, creator=creator
        )

    def list_images_v2(
        self,
        *,
        per_page: int = 1000,
        continuation_token: str | None = None,
        sort_order: str = "desc",
        creator: str | None = None,
        filters: Iterable[EmulatorMetaFilter] = (),
    ) -> tuple[list[ImageRecord], str | None]:
        """``GET /images/v2``: a page by upload time and the token for the next one (``None`` on the last)."""
        _check_int("per_page", per_page, *PER_PAGE_RANGE)
        if sort_order not in ("asc", "desc"):
            raise bad_request(f"sort_order must be asc or desc, not {sort_order!r}")
        filters = list(filters)
        position = decode_token(continuation_token) if continuation_token else None
        found: list[ImageRecord] = []
        batch_size = max(per_page + 1, 200)
        reader = self.storage.db.read()
        while len(found) <= per_page:
            batch = reader.images_after(position, limit=batch_size, ascending=sort_order == "asc", creator=creator)
            for record in batch:
                position = (record.uploaded_ns, record.seq)
                if all(f.matches(record.meta) for f in filters):
                    found.append(record)
                    if len(found) > per_page:
                        break
            if len(batch) < batch_size:
                break
        if len(found) > per_page:
            last = found[per_page - 1]
            return found[:per_page], encode_token((last.uploaded_ns, last.seq))
        return found, None

    def update_image(
        self,
        image_id: str,
        *,
        metadata: Mapping[str, Any] | Unset | None = UNSET,
        require_signed_urls: bool | Unset = UNSET,
        creator: str | Unset | None = UNSET,
    ) -> ImageRecord:
        """``PATCH /images/v1/{id}``: ``metadata`` replaces the old metadata (Cloudflare leaves replace vs merge
        open; replace is what a PATCH of one field usually means); unset fields stay. The id never changes
        (the schema's "returns a new UID" is not emulated)."""
        meta = None if isinstance(metadata, Unset) else check_metadata(metadata if metadata is not None else {})
        with self.storage.db.write() as tx:
            record = tx.get_image(image_id)
            if record is None or self._expired_draft(record):
                raise image_not_found(image_id)
            private = record.require_signed_urls if isinstance(require_signed_urls, Unset) else require_signed_urls
            if private and not is_uuid(record.id):
                raise bad_request(f"requireSignedURLs: image {image_id!r} has a custom id, so it cannot be private")
            new_creator = record.creator if isinstance(creator, Unset) else (creator or None)
            tx.update_image(
                image_id, meta=record.meta if meta is None else meta, require_signed=private, creator=new_creator
            )
            updated = tx.get_image(image_id)
        assert updated is not None
        return updated

    def delete_image(self, image_id: str) -> None:
        """``DELETE /images/v1/{id}``: the record, the original and every cached variant go."""
        with self.storage.db.write() as tx:
            record = tx.get_image(image_id)
            if record is None:
                raise image_not_found(image_id)
            tx.delete_image(image_id)
        if record.file_key is not None:
            self.storage.originals.delete(record.file_key)
            self.storage.cache.purge_image(record.file_key)

    def image_blob(self, image_id: str) -> tuple[bytes, str]:
        """``GET /images/v1/{id}/blob``: the stored original and its content type."""
        record = self.get_image(image_id)
        if record.draft or record.file_key is None or record.info is None:
            raise image_not_found(image_id)
        return self.storage.originals.read(record.file_key), record.info.content_type

    def stats(self) -> tuple[int, int]:
        """``GET /images/v1/stats``: (images stored, images allowed)."""
        return self.storage.db.read().count_images(), self.config.images_allowed

    def count_images(self, *, creator: str | None = None) -> int:
        """Stored images (not drafts), optionally of one ``creator`` (``""``: without a creator)."""
        return self.storage.db.read().count_images(creator)

    # -- direct creator uploads ---------------------------------------------------------------------------------

    def create_direct_upload(
        self,
        *,
        expiry: str | None = None,
        image_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        require_signed_urls: bool = False,
        creator: str | None = None,
    ) -> ImageRecord:
        """``POST /images/v2/direct_upload``: a draft record that accepts one file until ``expiry``."""
        expires = parse_expiry(expiry, self.clock())
        image_id = self._new_image_id(image_id, require_signed_urls)
        meta = check_metadata(metadata if metadata is not None else {})
        record = ImageRecord(
            id=image_id,
            filename="",
            meta=meta,
            require_signed_urls=require_signed_urls,
            creator=creator or None,
            uploaded_ns=self._now_ns(),
            draft=True,
            upload_expires=expires,
        )
        try:
            with self.storage.db.write() as tx:
                self._drop_expired_draft(tx, image_id)
                return tx.insert_image(record)
        except DuplicateError:
            raise conflict(f"an image with id {image_id!r} already exists") from None

    def complete_direct_upload(self, image_id: str, data: bytes, *, filename: str | None = None) -> ImageRecord:
        """The one POST to an upload URL: validates and stores the file, and the draft becomes an image."""
        draft = self.storage.db.read().get_image(image_id)
        self._check_upload_target(image_id, draft)
        info, stored = _inspect(data)
        originals = self.storage.originals
        file_key = originals.new_key(image_id)
        originals.write(file_key, stored)
        try:
            with self.storage.db.write() as tx:
                draft = tx.get_image(image_id)
                self._check_upload_target(image_id, draft)
                assert draft is not None
                record = replace(
                    draft,
                    filename=check_filename(filename),
                    uploaded_ns=self._now_ns(),
                    draft=False,
                    upload_expires=None,
                    file_key=file_key,
                    info=info,
                )
                tx.complete_draft(record)
                completed = tx.get_image(image_id)
        except BaseException:
            originals.delete(file_key)
            raise
        assert completed is not None
        return completed

    def _check_upload_target(self, image_id: str, draft: ImageRecord | None) -> None:
        if draft is None:
            raise image_not_found(image_id)
        if not draft.draft:
            raise conflict(f"the upload URL of image {image_id!r} was already used (upload URLs are one-time)")
        if self._expired_draft(draft):
            raise bad_request(f"the upload URL of image {image_id!r} has expired")


def _inspect(data: bytes) -> tuple[ImageInfo, bytes]:
    """``cfvariants.imaging``'s upload checks, reported as API errors (they carry 5400/5413/5455 already)."""
    try:
        return inspect_image(data)
    except ImageRejected as exc:
        raise EmulatorAPIError(exc.status, exc.code, exc.message) from None


def _check_int(name: str, value: object, lo: int, hi: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        bound = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
        raise bad_request(f"{name} must be a whole number {bound}, not {value!r}")
