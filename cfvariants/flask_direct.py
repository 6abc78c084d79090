"""Direct creator uploads in Flask: browsers upload straight to Cloudflare; the form carries a signed ticket.

Switched on by ``CFVARIANTS_DIRECT_UPLOADS`` in ``app.config`` (``True`` or a dict), read by ``CFImages``::

    app.config["CFVARIANTS_DIRECT_UPLOADS"] = {
        "WEBHOOK_SECRET": os.environ["CF_WEBHOOK_SECRET"],   # the secret of the Cloudflare notification webhook
        "MAX_BYTES": 8_000_000,                              # optional, checked in the browser and on the server
        "USER": lambda: str(current_user.id),                # optional; default: one id per browser session
    }
    CFImages(app)

In a template, ``{{ cf_direct_upload("photo") }}`` renders the file picker, progress bar and the hidden field
``photo``; in the view, ``claim_direct_upload(request.form["photo"])`` returns the stored ``Image`` (or raises
``DirectUploadError``, whose ``reason`` can be shown and whose ``status`` is the HTTP status to answer).

Routes (blueprint ``cfvariants_direct``, under ``/cfvariants``): ``POST /cfvariants/direct-uploads`` issues a
ticket for the current user (JSON: ``id``, ``uploadURL``, ``token``, ``expires``), ``POST
/cfvariants/webhooks/images`` receives Cloudflare's notifications (point the webhook destination there), and
``GET /cfvariants/direct-upload.js`` is the script. With Flask-WTF's ``CSRFProtect`` the issue route is
protected like any form post (the script sends the form's ``csrf_token``); the webhook route is exempt (it is
authenticated by its secret). Other settings: ``STORE`` (the SQLite file of issued uploads, default
``<instance_path>/cfvariants-direct-uploads.sqlite3``), ``EXPIRY`` (a ``timedelta``, default 30 minutes).
In development the upload URLs are the local emulator's, served by the app itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, session, url_for
from markupsafe import Markup

from ._errors import SettingsError
from .client import Image
from .direct_uploads import SCRIPT, DirectUploadError, DirectUploads, DirectUploadStore, widget_html

if TYPE_CHECKING:
    from .flask import CFImagesState

__all__ = ["CONFIG_KEY", "claim_direct_upload", "current_uploader", "install"]

CONFIG_KEY = "CFVARIANTS_DIRECT_UPLOADS"
"""The Flask config key of the direct-upload settings (a dict)."""
_KNOWN = ("WEBHOOK_SECRET", "MAX_BYTES", "USER", "STORE", "EXPIRY")
_SESSION_KEY = "cfvariants_uploader"

blueprint = Blueprint("cfvariants_direct", __name__, url_prefix="/cfvariants")


def install(app: Flask, state: CFImagesState, value: object) -> DirectUploads:
    """Set up direct uploads on ``app`` from the ``CFVARIANTS_DIRECT_UPLOADS`` value (``True`` or a dict)."""
    config = _config(value)
    if not app.secret_key:
        raise SettingsError(f"{CONFIG_KEY} needs app.secret_key (tickets are signed with it)")
    store = DirectUploadStore(config.get("STORE") or Path(app.instance_path) / "cfvariants-direct-uploads.sqlite3")
    uploads = DirectUploads(
        lambda: state.client, secret=str(app.secret_key), store=store,
        expiry=config.get("EXPIRY") or timedelta(minutes=30), max_bytes=config.get("MAX_BYTES"),
        webhook_secret=config.get("WEBHOOK_SECRET"),
    )  # fmt: skip
    state.direct_uploads = uploads
    app.extensions["cfvariants.direct_user"] = config.get("USER")
    if "cfvariants_direct" not in app.blueprints:
        app.register_blueprint(blueprint)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # Flask-WTF: Cloudflare cannot send a CSRF token; the secret authenticates it
        csrf.exempt(webhook)
    app.jinja_env.globals["cf_direct_upload"] = _render
    return uploads


def _config(value: object) -> dict[str, Any]:
    if value is True:
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError(f"{CONFIG_KEY} must be True or a dict, not {type(value).__name__}")
    unknown = sorted(set(value) - set(_KNOWN))
    if unknown:
        raise SettingsError(f"{CONFIG_KEY} has unknown keys {unknown}; known: {', '.join(_KNOWN)}")
    user = value.get("USER")
    if user is not None and not callable(user):
        raise SettingsError(f"{CONFIG_KEY}['USER'] must be a function returning the current user's id")
    return dict(value)


def _uploads() -> DirectUploads:
    from .flask import get_state  # noqa: PLC0415 - flask.py imports this module

    uploads = get_state().direct_uploads
    if uploads is None:
        raise SettingsError(f"direct uploads are off: set app.config[{CONFIG_KEY!r}] before CFImages(app)")
    return uploads


def current_uploader() -> str:
    """Who is uploading: ``USER()`` when configured, else an id kept in the session (one per browser)."""
    user: Callable[[], object] | None = current_app.extensions.get("cfvariants.direct_user")
    if user is not None:
        who = user()
        if who is None or str(who) == "":
            raise DirectUploadError("log in to upload", 403)
        return str(who)
    if _SESSION_KEY not in session:
        session[_SESSION_KEY] = secrets.token_urlsafe(18)
    return str(session[_SESSION_KEY])


def claim_direct_upload(token: str) -> Image:
    """The image behind the ticket a form posted, checked and claimed for the current user (once)."""
    if not token:
        raise DirectUploadError("no image was uploaded")
    return _uploads().claim(token, current_uploader())


def _render(name: str, *, accept: str = "image/*", label: str = "Image") -> Markup:
    uploads = _uploads()
    return widget_html(
        name, issue_url=url_for("cfvariants_direct.issue"), script_url=url_for("cfvariants_direct.script"),
        accept=accept, max_bytes=uploads.max_bytes, label=label,
    )  # fmt: skip


@blueprint.post("/direct-uploads")
def issue() -> tuple[Response, int]:
    try:
        ticket = _uploads().issue(current_uploader())
    except DirectUploadError as exc:
        return jsonify(error=exc.reason), exc.status
    return jsonify(ticket.as_json()), 200


@blueprint.post("/webhooks/images")
def webhook() -> tuple[Response, int]:
    outcome = _uploads().receive_webhook(dict(request.headers), request.get_data(cache=False))
    return jsonify(message=outcome.message, id=outcome.image_id, state=outcome.state), outcome.status


@blueprint.get("/direct-upload.js")
def script() -> Response:
    response = Response(SCRIPT.read_text(encoding="utf-8"), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
