"""The upload URL of a direct creator upload: ``POST <base>/upload/<account hash>/<image id>``.

Cloudflare's ``uploadURL`` is ``https://upload.imagedelivery.net/<hash>/<id>``; the emulator's is the same path
under ``/upload`` on its own base URL. No credentials: the URL itself is the permission. It takes one
``multipart/form-data`` POST with the image in ``file``; a second POST is refused (409, 5409), as is a POST after
the draft's ``expiry`` (400, 5400). With ``EmulatorConfig.webhook_url`` set, each upload that arrives (or is
refused) is reported there, as Cloudflare's notifications do (``WebhookSender``). Browsers upload from another
origin, so the answer allows any origin (CORS), as Cloudflare's upload host does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from cfvariants.emulator._errors import ACCOUNT_NOT_VALID, EmulatorAPIError, bad_request
from cfvariants.emulator._paths import decode_segment

from ._envelope import success
from ._forms import multipart_form, read_upload_file
from ._routes import error_response

if TYPE_CHECKING:
    from cfvariants.emulator._emulator import Emulator

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


def handle_upload(emulator: Emulator, request: Request, segments: list[str], base_url: str) -> Response:
    """``segments``: the encoded path after ``/upload/`` (account hash, then the image id)."""
    if request.method == "OPTIONS":
        return Response(status=204, headers=_CORS)
    try:
        response = _upload(emulator, request, segments, base_url)
    except EmulatorAPIError as exc:
        response = error_response(exc)
    response.headers.update(_CORS)
    return response


def _upload(emulator: Emulator, request: Request, segments: list[str], base_url: str) -> Response:
    if request.method != "POST":
        raise EmulatorAPIError(405, 7001, "An upload URL takes one POST (multipart/form-data with a 'file' field)")
    if len(segments) < 2 or not all(segments):
        raise bad_request("an upload URL is /upload/<account hash>/<image id>")
    if segments[0] != emulator.config.account_hash:
        raise EmulatorAPIError(
            403, ACCOUNT_NOT_VALID, "The given account is not valid (wrong account hash in the upload URL)"
        )
    try:
        image_id = "/".join(decode_segment(part) for part in segments[1:])
    except UnicodeDecodeError:
        raise bad_request("the image id in the upload URL is not valid percent-encoded UTF-8") from None
    form, files = multipart_form(request)
    data, filename = read_upload_file(form, files)
    if data is None:
        raise bad_request("the form has no 'file' field with the image")
    try:
        record = emulator.complete_direct_upload(image_id, data, filename=filename)
    except EmulatorAPIError as exc:
        if exc.status not in (404, 409):  # a file refused for a live draft: its upload failed (webhook)
            emulator.webhooks.notify(image_id, uploaded=False, reason=exc.message)
        raise
    emulator.webhooks.notify(image_id, uploaded=True)
    return Response(success(emulator.image_object(record, base_url)), status=200, content_type="application/json")
