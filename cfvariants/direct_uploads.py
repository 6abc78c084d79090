"""Direct creator uploads: browsers upload straight to Cloudflare, and the app trusts only ids it issued.

The flow, framework-neutral (``cfvariants.django.direct_upload`` and ``cfvariants.flask_direct`` wire it in):

1. ``issue(user)``: the server asks Cloudflare for a one-time upload URL (``POST /images/v2/direct_upload``,
   with ``creator=user``), records the draft in the ``DirectUploadStore`` and hands the browser the URL and a
   **ticket**: a token binding the image id, the user and an expiry, signed with the app's secret (HMAC-SHA256).
2. The browser POSTs the file to the URL (``multipart/form-data``, field ``file``); the bytes never pass through
   the app.
3. The form comes back with the ticket. ``claim(ticket, user)`` checks, in this order: the signature (constant
   time), the user, the expiry, the store (issued by this app, not claimed before), then Cloudflare (the image
   exists, is no longer a draft, has this user as creator, and is within ``max_bytes``). Only then is it
   claimed, once: the store's claim is atomic, so a ticket submitted twice, or by two requests at once, is
   accepted once. A client-supplied image id without a valid ticket is never accepted.
4. Cloudflare's webhook for direct uploads (``receive_webhook``) is checked with the shared secret (the
   ``cf-webhook-auth`` header, compared in constant time) and then updates the upload's state. Cloudflare does
   not document the webhook's ``data`` for Images, so the payload is only a hint of which image changed: its
   state is read back from the API (draft or stored), which also makes a replayed or duplicated notification
   harmless (idempotent).

State lives in a small SQLite database (WAL mode, one row per issued upload), so any process of the app can
claim what another issued; for several machines, point ``DirectUploadStore`` at a shared path or write a store
with the same methods.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup

from ._errors import CFVariantsError
from .client import CloudflareImagesError, Image, ImagesClient, NotFoundError

__all__ = [
    "SCRIPT",
    "DirectUploadError",
    "DirectUploadRecord",
    "DirectUploadStore",
    "DirectUploads",
    "Ticket",
    "WebhookOutcome",
    "widget_html",
]

log = logging.getLogger("cfvariants.direct_uploads")

State = Literal["issued", "uploaded", "failed", "claimed"]
WEBHOOK_HEADER = "cf-webhook-auth"
_TICKET_VERSION = "1"
_KEY_CONTEXT = b"cfvariants.direct-upload.ticket.v1"
SCRIPT = Path(__file__).resolve().parent / "static" / "cfvariants" / "direct-upload.js"
"""The browser side (vanilla JavaScript, no framework), served by the Django and Flask routes."""


class DirectUploadError(CFVariantsError, ValueError):
    """An upload that cannot be accepted; ``reason`` is safe to show to the user, ``status`` is the HTTP
    status a view should answer with (400 for bad input, 403 for a ticket that is not theirs)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the browser gets: where to upload, the future image id, and the signed token to send back."""

    image_id: str
    upload_url: str
    token: str
    expires_at: float

    def as_json(self) -> dict[str, Any]:
        return {"id": self.image_id, "uploadURL": self.upload_url, "token": self.token, "expires": int(self.expires_at)}


@dataclass(frozen=True, slots=True)
class DirectUploadRecord:
    """A direct upload's record: the image id, the user it was issued to, its state, its times, why it failed."""

    image_id: str
    user: str
    state: State
    issued_at: float
    expires_at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """What a webhook view answers: ``status`` (200 done, 401 bad secret, 400 unreadable) and a short text."""

    status: int
    message: str
    image_id: str | None = None
    state: State | None = None


class DirectUploadStore:
    """Issued uploads and their states, in SQLite at ``path`` (shared by the app's processes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS direct_uploads (image_id TEXT PRIMARY KEY, user TEXT NOT NULL, "
                "state TEXT NOT NULL, issued_at REAL NOT NULL, expires_at REAL NOT NULL, reason TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    def add(self, image_id: str, user: str, issued_at: float, expires_at: float) -> None:
        self._connect().execute(
            "INSERT INTO direct_uploads (image_id, user, state, issued_at, expires_at) VALUES (?, ?, 'issued', ?, ?)",
            (image_id, user, issued_at, expires_at),
        )

    def get(self, image_id: str) -> DirectUploadRecord | None:
        row = (
            self._connect()
            .execute(
                "SELECT image_id, user, state, issued_at, expires_at, reason FROM direct_uploads WHERE image_id = ?",
                (image_id,),
            )
            .fetchone()
        )
        return None if row is None else DirectUploadRecord(*row)

    def mark(self, image_id: str, state: State, reason: str | None = None) -> bool:
        """Set the state of an upload not claimed yet (a claimed one stays claimed); whether a row changed."""
        cursor = self._connect().execute(
            "UPDATE direct_uploads SET state = ?, reason = ? WHERE image_id = ? AND state != 'claimed' "
            "AND (state != ? OR reason IS NOT ?)",
            (state, reason, image_id, state, reason),
        )
        return cursor.rowcount > 0

    def claim(self, image_id: str, user: str) -> bool:
        """Claim the upload for ``user``, atomically: true for exactly one caller."""
        cursor = self._connect().execute(
            "UPDATE direct_uploads SET state = 'claimed' WHERE image_id = ? AND user = ? AND state != 'claimed'",
            (image_id, user),
        )
        return cursor.rowcount == 1


class DirectUploads:
    """Issue, claim and track direct creator uploads (module docs).

    ``client``: an ``ImagesClient`` or a function returning one (e.g. a Flask app's ``state.client``).
    ``secret``: signs tickets (the app's ``SECRET_KEY``; a derived key is used, never the secret itself).
    ``store``: a ``DirectUploadStore``. ``expiry``: how long an upload URL is valid (2 minutes to 6 hours,
    default 30 minutes); a ticket stays valid ``claim_within`` longer, for a long form. ``max_bytes``: refuse
    images larger than this (checked by streaming the stored original, so only when set; Cloudflare's own
    limit is 10 MB). ``webhook_secret``: the secret of the Cloudflare notification webhook (``None``: every
    webhook is refused).
    """

    def __init__(
        self,
        client: ImagesClient | Callable[[], ImagesClient],
        *,
        secret: str | bytes,
        store: DirectUploadStore,
        expiry: timedelta = timedelta(minutes=30),
        claim_within: timedelta = timedelta(hours=6),
        max_bytes: int | None = None,
        webhook_secret: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("DirectUploads needs a secret to sign tickets (the app's SECRET_KEY)")
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        self._key = hmac.new(raw, _KEY_CONTEXT, hashlib.sha256).digest()
        self._client = client if callable(client) and not isinstance(client, ImagesClient) else (lambda: client)
        self.store = store
        self.expiry = expiry
        self.claim_within = claim_within
        self.max_bytes = max_bytes
        self._webhook_secret = webhook_secret
        self._clock = clock

    def __repr__(self) -> str:
        return f"DirectUploads(store={str(self.store.path)!r}, expiry={self.expiry}, max_bytes={self.max_bytes})"

    @property
    def client(self) -> ImagesClient:
        return self._client()

    # -- 1. issue ---------------------------------------------------------------------------------------------

    def issue(self, user: str | int, *, metadata: Mapping[str, Any] | None = None, private: bool = False) -> Ticket:
        """A one-time upload URL for ``user`` (their id in the app) and the ticket that will claim it."""
        who = _user(user)
        now = self._clock()
        upload = self.client.create_direct_upload(
            expiry=self.expiry, metadata={**(metadata or {}), "cfv_direct": who}, creator=who,
            require_signed_urls=True if private else None,
        )  # fmt: skip
        expires = now + self.expiry.total_seconds() + self.claim_within.total_seconds()
        self.store.add(upload.id, who, now, expires)
        return Ticket(upload.id, upload.upload_url, self._sign(upload.id, who, expires), expires)

    def _sign(self, image_id: str, user: str, expires: float) -> str:
        body = json.dumps({"v": _TICKET_VERSION, "i": image_id, "u": user, "e": int(expires)}, separators=(",", ":"))
        payload = base64.urlsafe_b64encode(body.encode("utf-8")).rstrip(b"=").decode("ascii")
        return f"{payload}.{self._mac(payload)}"

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).hexdigest()

    # -- 3. claim ---------------------------------------------------------------------------------------------

    def read_ticket(self, token: str, user: str | int) -> str:
        """The image id of a ticket issued by this app to ``user`` and not expired; ``DirectUploadError``
        otherwise. Checks nothing else (see ``claim``)."""
        who = _user(user)
        payload, dot, mac = str(token).strip().partition(".")
        if not dot or not payload or len(mac) != 64:
            raise DirectUploadError("this upload was not issued by this site (malformed ticket)", 403)
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise DirectUploadError("this upload was not issued by this site (bad signature)", 403)
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            image_id, owner, expires = str(body["i"]), str(body["u"]), float(body["e"])
        except (ValueError, KeyError, TypeError):
            raise DirectUploadError("this upload was not issued by this site (unreadable ticket)", 403) from None
        if not hmac.compare_digest(owner.encode("utf-8"), who.encode("utf-8")):
            raise DirectUploadError("this upload was issued to another user", 403)
        if expires < self._clock():
            raise DirectUploadError("this upload's ticket has expired; upload the file again")
        return image_id

    def claim(self, token: str, user: str | int) -> Image:
        """The uploaded image of ``token``, checked (module docs) and claimed: a second claim is refused."""
        who = _user(user)
        image_id = self.read_ticket(token, who)
        record = self.store.get(image_id)
        if record is None or record.user != who:
            raise DirectUploadError("this upload was not issued by this site", 403)
        if record.state == "claimed":
            raise DirectUploadError("this upload was already used")
        image = self._stored_image(image_id, who)
        if not self.store.claim(image_id, who):
            raise DirectUploadError("this upload was already used")
        return image

    def _stored_image(self, image_id: str, user: str) -> Image:
        client = self.client
        try:
            image = client.get(image_id)
        except NotFoundError:
            self.store.mark(image_id, "failed", "no such image on Cloudflare")
            raise DirectUploadError("the upload did not arrive (no such image); upload the file again") from None
        if image.draft:
            raise DirectUploadError("the file has not been uploaded yet (wait for the upload to finish)")
        if image.creator is not None and image.creator != user:
            raise DirectUploadError("this upload belongs to another user", 403)
        if self.max_bytes is not None:
            size = 0
            for chunk in client.iter_download(image_id):
                size += len(chunk)
                if size > self.max_bytes:
                    break
            if size > self.max_bytes:
                self._discard(client, image_id, f"larger than {self.max_bytes} bytes")
                raise DirectUploadError(f"the image is larger than the {self.max_bytes:,} bytes allowed here")
        self.store.mark(image_id, "uploaded")
        return image

    def _discard(self, client: ImagesClient, image_id: str, reason: str) -> None:
        self.store.mark(image_id, "failed", reason)
        try:
            client.delete(image_id)
        except CloudflareImagesError as exc:  # the record says failed; the image is left for a sweep
            log.warning("direct upload %s refused (%s) but could not be deleted: %s", image_id, reason, exc)

    # -- 4. webhooks ------------------------------------------------------------------------------------------

    def receive_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookOutcome:
        """Handle one Cloudflare notification: check the secret, find the image, record its state (read from
        the API, not from the payload). Safe to call again with the same notification."""
        expected = self._webhook_secret
        given = next((value for name, value in headers.items() if name.lower() == WEBHOOK_HEADER), None)
        if not expected or given is None or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            return WebhookOutcome(401, "wrong or missing cf-webhook-auth secret")
        try:
            payload = json.loads(body)
        except ValueError:
            return WebhookOutcome(400, "the body is not JSON")
        image_id = _image_id_of(payload)
        if image_id is None:
            return WebhookOutcome(200, "no image id in this notification; nothing to do")
        record = self.store.get(image_id)
        if record is None:
            return WebhookOutcome(200, "not an upload issued by this app; ignored", image_id)
        if record.state == "claimed":
            return WebhookOutcome(200, "already claimed", image_id, "claimed")
        try:
            image = self.client.get(image_id)
        except NotFoundError:
            self.store.mark(image_id, "failed", _failure_reason(payload))
            return WebhookOutcome(200, "upload failed", image_id, "failed")
        except CloudflareImagesError as exc:
            return WebhookOutcome(503, f"cannot check the image now ({type(exc).__name__}); send it again later")
        if image.draft:
            return WebhookOutcome(200, "still waiting for the file", image_id, record.state)
        self.store.mark(image_id, "uploaded")
        return WebhookOutcome(200, "uploaded", image_id, "uploaded")


def _user(user: str | int) -> str:
    text = str(user).strip()
    if not text:
        raise ValueError("a direct upload needs the id of the user it is for")
    return text


def _image_id_of(payload: Any) -> str | None:
    """The image id in a notification: Cloudflare documents the envelope (``name``, ``text``, ``data``, ``ts``,
    ``alert_type``...) but not the Images ``data``; look for the likely keys."""
    if not isinstance(payload, dict):
        return None
    data = payload.get("data")
    for where in (data if isinstance(data, dict) else {}, payload):
        for key in ("id", "image_id", "imageId", "imageID"):
            value = where.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _failure_reason(payload: Mapping[str, Any]) -> str:
    data = payload.get("data")
    text = (data.get("reason") or data.get("error")) if isinstance(data, dict) else None
    return str(text or payload.get("text") or "the upload failed")[:500]


def widget_html(
    name: str,
    *,
    issue_url: str,
    script_url: str,
    accept: str = "image/*",
    max_bytes: int | None = None,
    label: str = "",
) -> Markup:
    """The markup ``SCRIPT`` works on: a file picker (no ``name``: the file is never posted to the app), the
    hidden field ``name`` that receives the ticket, a progress bar and a status line. Every value is escaped."""
    return Markup(
        '<div class="cfv-direct-upload" data-cfv-direct-upload data-issue-url="{issue}" data-max-bytes="{limit}" '
        'data-state="idle">{label}<input type="file" accept="{accept}" aria-label="{aria}">'
        '<input type="hidden" name="{name}" value="">'
        '<progress max="1" value="0" hidden></progress> <output data-cfv-status aria-live="polite"></output>'
        '</div><script src="{script}" defer></script>'
    ).format(
        issue=issue_url, limit=max_bytes or 0, accept=accept, aria=label or "Image", name=name, script=script_url,
        label=Markup("<span>{}</span> ").format(label) if label else "",
    )  # fmt: skip
