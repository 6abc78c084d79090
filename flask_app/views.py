"""The pages: a profile and a gallery, an upload form, one page per image showing its variants."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from cfvariants import Original
from cfvariants.client import CloudflareImagesError
from cfvariants.flask import get_state
from cfvariants.imaging import with_placeholder_metadata
from cfvariants.uploads import (
    StorageFull,
    UploadQueue,
    UploadRecord,
    UploadRejected,
    UploadsError,
    UploadState,
    UploadTooLarge,
)

from .limits import file_too_large_message
from .profiles import ProfileStore

__all__ = ["gallery"]


gallery = Blueprint("gallery", __name__)
log = logging.getLogger("flask_app")


def _queue() -> UploadQueue:
    queue: UploadQueue = current_app.extensions["uploads"]
    return queue


def _profiles() -> ProfileStore:
    profiles: ProfileStore = current_app.extensions["profiles"]
    return profiles


def _record(upload_id: str) -> UploadRecord:
    try:
        return _queue().store.get(upload_id)
    except UploadsError:
        abort(404, description="There is no such image.")


def _title(record: UploadRecord) -> str:
    title = record.context.get("title")
    return title if isinstance(title, str) and title else record.filename


PER_PAGE = 24
MAX_PAGE = 1000


def _page_number() -> int:
    text = request.args.get("page", "1")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        abort(400, description=f"page must be a whole number from 1 to {MAX_PAGE}, not {text[:20]!r}.")
    return int(text)


@gallery.get("/")
def index() -> str:
    profile = _profiles().get()
    page = _page_number()
    newest = _queue().store.recent(limit=page * PER_PAGE + 1)  # the store pages from the newest: enough for this page
    uploads = newest[(page - 1) * PER_PAGE : page * PER_PAGE]
    if page > 1 and not uploads:
        abort(404, description=f"There is no page {page}: the gallery has {len(newest)} image(s).")
    avatar = None
    if profile.avatar_upload_id:
        found = _queue().store.find(profile.avatar_upload_id)
        avatar = found if found is not None and found.state is not UploadState.FAILED else None
    pending_ids = [u.id for u in uploads if u.is_pending]
    return render_template(
        "index.html", profile=profile, avatar=avatar, uploads=uploads, pending_ids=pending_ids, stats=_queue().stats(),
        page=page, has_next=len(newest) > page * PER_PAGE,
    )  # fmt: skip


@gallery.route("/upload", methods=["GET", "POST"])
def upload() -> Any:
    max_mb = current_app.config["APP_MAX_UPLOAD_MB"]
    if request.method == "GET":
        return render_template("upload.html", max_mb=max_mb)
    title = request.form.get("title", "").strip()[:120]
    private = request.form.get("private") == "1"
    as_avatar = request.form.get("avatar") == "1"
    form = {"title": title, "private": private, "avatar": as_avatar, "max_mb": max_mb}
    file: FileStorage | None = request.files.get("file")
    if file is None or not file.filename:
        return render_template("upload.html", error="Choose an image file to upload.", **form), 400
    if as_avatar and private:
        return render_template("upload.html", error="An avatar is shown to everyone, so it cannot be private.",
                               **form), 400  # fmt: skip
    try:
        metadata = with_placeholder_metadata(None, file.stream)  # size + ThumbHash: pages lay it out from the record
        record = _queue().submit(
            file.stream, filename=file.filename, private=private, metadata=metadata, context={"title": title}
        )
    except UploadRejected as exc:
        return _refused(file.filename, str(exc), 400, form)
    except StorageFull as exc:  # the server's problem, not the uploader's: say so, log where (not shown)
        log.error("upload refused: %s", exc)
        message = "The server cannot take files right now (its storage is full). Please try again later."
        return render_template("upload.html", error=message, **form), 503
    except UploadTooLarge:
        return _refused(file.filename, file_too_large_message(max_mb), 413, form)
    except UploadsError as exc:  # e.g. a file name that is empty once cleaned
        return _refused(file.filename, f"{str(exc)[:1].upper()}{str(exc)[1:]}.", 400, form)
    if as_avatar:
        _profiles().set_avatar(record.id)
    flash("Got it. The image is being sent to Cloudflare Images in the background.", "ok")
    return redirect(url_for("gallery.image", upload_id=record.id), code=303)


def _refused(filename: str, message: str, status: int, form: dict[str, Any]) -> tuple[str, int]:
    """The form again with ``message``; logged (the file's name as sent, quoted; no form values, no cookies)."""
    log.warning("refused upload %r (%d): %s", filename[:200], status, message)
    return render_template("upload.html", error=message, **form), status


@gallery.get("/images/<upload_id>")
def image(upload_id: str) -> str:
    record = _record(upload_id)
    # the main image, laid out from the size recorded at staging (an upload staged without one gets the blur-up)
    original = Original.of(record.metadata)
    hero = record.is_ready and not record.private and original is not None and original.size is not None
    return render_template("image.html", upload=record, title=_title(record), hero=hero)


@gallery.post("/images/<upload_id>/retry")
def retry(upload_id: str) -> Any:
    """A person's retry of a failed or blocked upload (a blocked one lifts the block for all)."""
    record = _record(upload_id)
    try:
        sent = _queue().retry(record.id)
    except UploadsError as exc:
        flash(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", "error")
    else:
        flash(f"Sending {len(sent)} upload(s) to Cloudflare Images again.", "ok")
    return redirect(url_for("gallery.image", upload_id=record.id), code=303)


WORKER_HINT_AFTER = 20.0
"""Seconds an upload may wait untouched before the pages say that no worker seems to be running."""


def _waiting_for_worker(record: UploadRecord) -> bool:
    """Pending, never tried and not held by a worker for a while: most likely no worker is running."""
    untouched = record.state is UploadState.PENDING and record.attempts == 0 and record.lease_until is None
    return untouched and _queue().store.clock() - record.created_at > WORKER_HINT_AFTER


def _status(record: UploadRecord) -> dict[str, Any]:
    return {"state": record.state.value, "image_id": record.image_id, "error": record.error,
            "attempts": record.attempts, "waiting_for_worker": _waiting_for_worker(record)}  # fmt: skip


@gallery.get("/uploads/<upload_id>/status")
def status(upload_id: str) -> Response:
    return jsonify(_status(_record(upload_id)))


@gallery.get("/uploads/status")
def statuses() -> Response:
    """The uploads a page waits for (``?id=...&id=...``): ``changed`` once one is no longer pending (the page
    reloads), ``waiting_for_worker`` while one sits untouched (the page shows a hint)."""
    found = [r for r in (_queue().store.find(i) for i in request.args.getlist("id")[:100]) if r is not None]
    uploads = {record.id: _status(record) for record in found}
    return jsonify(
        uploads=uploads,
        changed=len(found) < len(request.args.getlist("id")[:100]) or not all(r.is_pending for r in found),
        waiting_for_worker=any(u["waiting_for_worker"] for u in uploads.values()),
    )


@gallery.get("/uploads/<upload_id>/preview")
def preview(upload_id: str) -> Response:
    """The staged file, shown while it is not stored (afterwards it is gone from disk)."""
    record = _record(upload_id)
    try:
        if record.is_ready:
            raise FileNotFoundError(upload_id)
        with _queue().store.open_staged(record.id) as staged:
            data = staged.read()
    except FileNotFoundError:
        abort(404, description="This image is no longer waiting to be uploaded.")
    response = Response(data, mimetype=record.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@gallery.post("/profile")
def rename() -> Any:
    name = " ".join(request.form.get("name", "").split())[:80]
    if not name:
        flash("A name cannot be empty.", "error")
    else:
        _profiles().set_name(name)
    return redirect(url_for("gallery.index"), code=303)


@gallery.post("/images/<upload_id>/avatar")
def make_avatar(upload_id: str) -> Any:
    record = _record(upload_id)
    if record.private:
        flash("A private image cannot be an avatar: everyone sees avatars.", "error")
    elif record.state is UploadState.FAILED:
        flash("That image could not be stored, so it cannot be an avatar.", "error")
    else:
        _profiles().set_avatar(record.id)
        flash("Avatar updated.", "ok")
    return redirect(url_for("gallery.index"), code=303)


@gallery.route("/images/<upload_id>/delete", methods=["GET", "POST"])
def delete(upload_id: str) -> Any:
    """GET asks for confirmation (works without JavaScript); POST deletes: a stored image from Cloudflare Images
    (or the emulator) through the API client, then its row; one not stored yet is discarded with its file."""
    record = _record(upload_id)
    title = _title(record)
    if request.method == "GET":
        return render_template("delete.html", upload=record, title=title)
    try:
        if record.is_ready and record.image_id:
            get_state().client.delete(record.image_id)
            _queue().store.delete(record.id)
        else:
            _queue().discard(record.id)
    except (CloudflareImagesError, UploadsError) as exc:
        log.warning("could not delete upload %s: %s", record.id, exc)
        flash(f"Could not delete {title!r}: {exc}", "error")
        return redirect(url_for("gallery.image", upload_id=record.id), code=303)
    if _profiles().get().avatar_upload_id == record.id:
        _profiles().set_avatar(None)
    where = "from Cloudflare Images" if record.is_ready else "before it was sent, with its file"
    flash(f"Deleted {title!r} {where}.", "ok")
    return redirect(url_for("gallery.index"), code=303)
