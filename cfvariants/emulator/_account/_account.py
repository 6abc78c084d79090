"""The account-level half of an emulated account: settings, named variants, signing keys and batch tokens.

``Account`` holds the storage and the clock it is given; the ``Emulator`` composes it with ``Images`` and the
delivery side.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from cfvariants.emulator._config import EmulatorConfig
from cfvariants.emulator._errors import (
    NOT_FOUND,
    SERVICE_LIMIT,
    EmulatorAPIError,
    bad_request,
    conflict,
    variant_not_found,
)
from cfvariants.emulator._storage._database import DuplicateError
from cfvariants.emulator._storage._records import AccountSettings, SigningKeyRecord, VariantRecord, nanoseconds
from cfvariants.emulator._storage._storage import Storage
from cfvariants.emulator._unset import UNSET, Unset
from cfvariants.limits import BROWSER_TTL_RANGE, MAX_VARIANTS

from ._rules import check_key_name, check_variant_id, check_variant_options

PUBLIC_VARIANT = VariantRecord("public", fit="scale-down", width=1366, height=768, metadata="none")
"""The ``public`` variant a new account starts with. Its options are our choice (Cloudflare only says it exists
and cannot be deleted): 1366×768 ``scale-down`` never enlarges, so small images come back at their own size."""

BATCH_TOKEN_LIFETIME = 3600.0  # seconds; Cloudflare does not document it


class Account:
    """Settings, variants, keys and batch tokens of the emulated account, kept in ``storage``."""

    def __init__(self, storage: Storage, clock: Callable[[], float]) -> None:
        self.storage = storage
        self.clock = clock

    def bootstrap(self, config: EmulatorConfig) -> None:
        """A new data directory gets the account defaults; an existing one keeps what it has."""
        with self.storage.db.write() as tx:
            tx.put_setting("flexible_variants", config.initial_flexible_variants, only_if_missing=True)
            if config.flexible_variants is not None:
                tx.put_setting("flexible_variants", config.flexible_variants)
            tx.put_setting("browser_ttl", config.browser_ttl, only_if_missing=True)
            tx.put_setting("preserve_content_credentials", False, only_if_missing=True)
            if tx.get_variant(PUBLIC_VARIANT.id) is None:
                tx.put_variant(PUBLIC_VARIANT, created_ns=0, replace=False)
            if not tx.list_signing_keys():
                tx.put_signing_key("default", config.signing_key or new_key_value(), created_ns=self._now_ns())

    def _now_ns(self) -> int:
        return nanoseconds(self.clock())

    # -- account settings ---------------------------------------------------------------------------------------

    def settings(self) -> AccountSettings:
        return self.storage.db.read().account_settings()

    def update_settings(
        self,
        *,
        flexible_variants: bool | None = None,
        browser_ttl: int | None = None,
        preserve_content_credentials: bool | None = None,
    ) -> AccountSettings:
        """``PATCH /images/v1/config``: only the given settings change."""
        low, high = BROWSER_TTL_RANGE
        if browser_ttl is not None and (
            isinstance(browser_ttl, bool) or not isinstance(browser_ttl, int) or not low <= browser_ttl <= high
        ):
            raise bad_request(
                f"browser_ttl must be a whole number of seconds from {low} to {high}, not {browser_ttl!r}"
            )
        with self.storage.db.write() as tx:
            for name, value in (
                ("flexible_variants", flexible_variants),
                ("browser_ttl", browser_ttl),
                ("preserve_content_credentials", preserve_content_credentials),
            ):
                if value is not None:
                    tx.put_setting(name, value)
            return tx.account_settings()

    # -- variants -----------------------------------------------------------------------------------------------

    def list_variants(self) -> list[VariantRecord]:
        return self.storage.db.read().list_variants()

    def get_variant(self, variant_id: str) -> VariantRecord:
        variant = self.storage.db.read().get_variant(variant_id)
        if variant is None:
            raise variant_not_found(variant_id)
        return variant

    def create_variant(
        self, variant_id: str, options: Mapping[str, Any], *, never_require_signed_urls: bool = False
    ) -> VariantRecord:
        """``POST /images/v1/variants``: at most 100 variants; ids are 1-99 letters or digits."""
        variant = _variant_record(check_variant_id(variant_id), options, never_require_signed_urls)
        try:
            with self.storage.db.write() as tx:
                if tx.get_variant(variant.id) is not None:
                    raise DuplicateError(variant.id)
                if tx.count_variants() >= MAX_VARIANTS:
                    raise EmulatorAPIError(
                        400, SERVICE_LIMIT, f"an account has at most {MAX_VARIANTS} variants; delete one first"
                    )
                tx.put_variant(variant, created_ns=self._now_ns(), replace=False)
        except DuplicateError:
            raise conflict(f"variant {variant_id!r} already exists") from None
        return variant

    def update_variant(
        self, variant_id: str, options: Mapping[str, Any], *, never_require_signed_urls: bool | Unset = UNSET
    ) -> VariantRecord:
        """``PATCH /images/v1/variants/{id}``: new options (required); purges what was rendered with the old ones."""
        with self.storage.db.write() as tx:
            old = tx.get_variant(variant_id)
            if old is None:
                raise variant_not_found(variant_id)
            never = (
                old.never_require_signed_urls
                if isinstance(never_require_signed_urls, Unset)
                else never_require_signed_urls
            )
            variant = _variant_record(variant_id, options, never)
            tx.put_variant(variant, created_ns=self._now_ns(), replace=True)
        self.storage.cache.purge_options(str(old.as_options()))
        return variant

    def delete_variant(self, variant_id: str) -> None:
        """``DELETE /images/v1/variants/{id}``: any but ``public``; purges what was rendered through it."""
        if variant_id == PUBLIC_VARIANT.id:
            raise bad_request("the public variant cannot be deleted")
        with self.storage.db.write() as tx:
            old = tx.get_variant(variant_id)
            if old is None:
                raise variant_not_found(variant_id)
            tx.delete_variant(variant_id)
        self.storage.cache.purge_options(str(old.as_options()))

    # -- signing keys -------------------------------------------------------------------------------------------

    def list_signing_keys(self) -> list[SigningKeyRecord]:
        return self.storage.db.read().list_signing_keys()

    def put_signing_key(self, name: str) -> list[SigningKeyRecord]:
        """``PUT /images/v1/keys/{name}``: a new key with a fresh value (an existing name is rotated)."""
        check_key_name(name)
        with self.storage.db.write() as tx:
            tx.put_signing_key(name, new_key_value(), created_ns=self._now_ns())
            return tx.list_signing_keys()

    def delete_signing_key(self, name: str) -> list[SigningKeyRecord]:
        """``DELETE /images/v1/keys/{name}``: the remaining keys; deleting the last one generates a new
        ``default`` key (per the schema's description)."""
        with self.storage.db.write() as tx:
            if not tx.delete_signing_key(name):
                raise EmulatorAPIError(404, NOT_FOUND, f"Signing key not found: {name[:40]!r}")
            if not tx.list_signing_keys():
                tx.put_signing_key("default", new_key_value(), created_ns=self._now_ns())
            return tx.list_signing_keys()

    # -- batch tokens -------------------------------------------------------------------------------------------

    def issue_batch_token(self) -> tuple[str, float]:
        """``GET /images/v1/batch_token``: a token for the batch host, and its expiry (unix seconds)."""
        token = "cfbt_" + secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + BATCH_TOKEN_LIFETIME
        with self.storage.db.write() as tx:
            tx.add_batch_token(_token_hash(token), expires, now)
        return token, expires

    def batch_token_valid(self, token: str) -> bool:
        expires = self.storage.db.read().batch_token_expiry(_token_hash(token))
        return expires is not None and expires >= self.clock()


def _variant_record(variant_id: str, options: Mapping[str, Any], never_require_signed_urls: bool) -> VariantRecord:
    checked = check_variant_options(options)
    if not isinstance(never_require_signed_urls, bool):
        raise bad_request("neverRequireSignedURLs must be true or false")
    return VariantRecord(
        id=variant_id,
        fit=checked["fit"],
        width=checked["width"],
        height=checked["height"],
        metadata=checked["metadata"],
        never_require_signed_urls=never_require_signed_urls,
        browser_ttl=checked.get("browser_ttl"),
    )


def new_key_value() -> str:
    """A fresh signing-key value: 24 random bytes in base64, shaped like Cloudflare's (used as text)."""
    return base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
