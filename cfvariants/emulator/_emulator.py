"""``Emulator``: one emulated Cloudflare Images account, framework-neutral, composed of its parts.

* ``storage``: the SQLite records, the originals and the rendered variants in ``config.data_dir``;
* ``account``: settings, named variants, signing keys, batch tokens (``cfvariants.emulator._account.Account``);
* ``images``: uploads, direct uploads, lists, updates (``cfvariants.emulator._account.Images``);
* ``delivery``: delivery URLs answered with real transforms (``cfvariants.emulator._delivery.HostedDelivery``);
* ``rate_limiter`` and ``webhooks``: what the HTTP API adds around them.

Every method takes and returns plain Python values, so the WSGI app, a Django view, a Flask blueprint, the
upload workers and the CLI all drive the same object. Failures raise ``EmulatorAPIError`` (REST semantics) or come
back as a ``DeliveryResponse`` with Cloudflare's 9xxx code. Several ``Emulator`` objects (threads or processes)
may share one data directory: state lives in SQLite and in files, never only in memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Concatenate, ParamSpec, TypeVar

from cfvariants._errors import CFVariantsError
from cfvariants._urls import encode_image_id

from ._account._account import Account
from ._account._fetch import LocalFetcher
from ._account._images import Images
from ._api._ratelimit import WindowLimiter
from ._api._representation import image_object, variant_object
from ._api._webhooks import WebhookSender
from ._config import DEFAULT_HOST, DEFAULT_PORT, EmulatorConfig
from ._delivery._hosted import HostedDelivery
from ._storage._database import Database
from ._storage._files import Originals, VariantCache
from ._storage._records import ImageRecord, VariantRecord
from ._storage._storage import Storage

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Part = TypeVar("_Part")


def _forward(method: Callable[Concatenate[_Part, _P], _R], part: str) -> Callable[Concatenate[Any, _P], _R]:
    """``method`` of one of the emulator's parts as a method of the ``Emulator`` (same signature, same docstring),
    called on the part held in attribute ``part``."""

    @functools.wraps(method)
    def forwarded(self: Any, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return method(getattr(self, part), *args, **kwargs)

    return forwarded


class Emulator:
    """An emulated Cloudflare Images account stored in ``config.data_dir``.

    ``Emulator(EmulatorConfig(data_dir=...))`` or ``Emulator(data_dir=..., account_hash=...)``.
    """

    def __init__(self, config: EmulatorConfig | None = None, /, **kwargs: Any) -> None:
        if config is None:
            config = EmulatorConfig(**kwargs)
        elif kwargs:
            config = replace(config, **kwargs)
        self.config = config
        self.storage = Storage.open(config.data_dir)
        self.account = Account(self.storage, config.clock)
        self.images = Images(
            config, self.storage, config.fetcher or LocalFetcher(config.allowed_fetch_hosts), config.clock
        )
        self.delivery = HostedDelivery(config, self.storage)
        self.rate_limiter = WindowLimiter(*config.rate_limit, config.clock) if config.rate_limit else None
        """Counts REST API requests when ``config.rate_limit`` is set (``rate_limiter.stats()``), else ``None``."""
        self.webhooks = WebhookSender(config)
        """Reports finished direct uploads to ``config.webhook_url`` (``webhooks.wait()`` in tests)."""
        self.account.bootstrap(config)

    @property
    def db(self) -> Database:
        return self.storage.db

    @property
    def originals(self) -> Originals:
        return self.storage.originals

    @property
    def cache(self) -> VariantCache:
        return self.storage.cache

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Emulator(data_dir={str(self.config.data_dir)!r}, account_hash={self.config.account_hash!r})"

    # -- time and URLs ------------------------------------------------------------------------------------------

    def now(self) -> float:
        return self.config.clock()

    @property
    def default_base_url(self) -> str:
        """Where the emulator says it lives when no request tells it (``config.base_url`` or the CLI default);
        empty for a root-relative emulator (``base_url="/"``)."""
        if self.config.base_url == "/":
            return ""
        return self.config.base_url or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"

    def base_url(self, request_base: str | None = None) -> str:
        """The origin put in ``variants`` and ``uploadURL`` ("" when they are root-relative)."""
        if self.config.base_url is not None:
            return self.default_base_url
        return request_base.rstrip("/") if request_base else self.default_base_url

    def image_object(self, record: ImageRecord, base_url: str | None = None) -> dict[str, Any]:
        """The API's JSON object for ``record`` (``base_url``: the request's origin, used unless configured)."""
        return self.image_objects([record], base_url)[0]

    def image_objects(self, records: Iterable[ImageRecord], base_url: str | None = None) -> list[dict[str, Any]]:
        """``image_object`` for many records (the variant list is read once)."""
        records = list(records)
        variant_ids = self.storage.db.read().variant_ids()
        base = self.base_url(base_url)
        hash_ = self.config.account_hash
        try:
            return [image_object(r, account_hash=hash_, base_url=base, variant_ids=variant_ids) for r in records]
        except CFVariantsError:  # a Host header the URL builder cannot use
            base = self.default_base_url
            return [image_object(r, account_hash=hash_, base_url=base, variant_ids=variant_ids) for r in records]

    def variant_object(self, variant: VariantRecord) -> dict[str, Any]:
        return variant_object(variant)

    def upload_url(self, image_id: str, base_url: str | None = None) -> str:
        """The direct-upload URL of a draft: ``<base>/upload/<account hash>/<id>`` (one POST, multipart ``file``)."""
        return f"{self.base_url(base_url)}/upload/{self.config.account_hash}/{encode_image_id(image_id)}"

    # -- the parts' operations, under the names the REST API gives them ---------------------------------------

    upload = _forward(Images.upload, "images")
    get_image = _forward(Images.get_image, "images")
    list_images = _forward(Images.list_images, "images")
    list_images_v2 = _forward(Images.list_images_v2, "images")
    update_image = _forward(Images.update_image, "images")
    delete_image = _forward(Images.delete_image, "images")
    image_blob = _forward(Images.image_blob, "images")
    stats = _forward(Images.stats, "images")
    count_images = _forward(Images.count_images, "images")
    create_direct_upload = _forward(Images.create_direct_upload, "images")
    complete_direct_upload = _forward(Images.complete_direct_upload, "images")

    settings = _forward(Account.settings, "account")
    update_settings = _forward(Account.update_settings, "account")
    list_variants = _forward(Account.list_variants, "account")
    get_variant = _forward(Account.get_variant, "account")
    create_variant = _forward(Account.create_variant, "account")
    update_variant = _forward(Account.update_variant, "account")
    delete_variant = _forward(Account.delete_variant, "account")
    list_signing_keys = _forward(Account.list_signing_keys, "account")
    put_signing_key = _forward(Account.put_signing_key, "account")
    delete_signing_key = _forward(Account.delete_signing_key, "account")
    issue_batch_token = _forward(Account.issue_batch_token, "account")
    batch_token_valid = _forward(Account.batch_token_valid, "account")
    deliver = _forward(HostedDelivery.deliver, "delivery")
