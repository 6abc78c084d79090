"""The views behind ``cfvariants.django.urls``: in development the local emulator's variant renders and Image
Transformations of media files, served by the site itself (both answer 404 whenever development mode is off, so
a URLconf that includes them in production serves nothing); always, the preview of a background upload still
waiting for its worker."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings as django_settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from . import _conf as conf

if TYPE_CHECKING:
    from cfvariants.emulator import DeliveryResponse, TransformationServer

# Headers the WSGI/ASGI server sets itself; the emulator's own values would clash with them.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})


def deliver(request: HttpRequest, path: str) -> HttpResponse:
    """``GET /cdn-cgi/imagedelivery/<hash>/<id>/<variant>`` from the emulator: transformed bytes, ``ETag``/304,
    ``Cache-Control``, ``Vary`` and Cloudflare's ``Cf-Resized`` errors, as Cloudflare would answer."""
    config = conf.get_config()
    if not config.dev:
        raise Http404("cfvariants serves image delivery only in development (CFVARIANTS['DEV'] / ENV_NAME=dev)")
    from ._dev import local_cloudflare  # noqa: PLC0415 - the emulator is imported only in development

    return _response(local_cloudflare(config).deliver_environ(request.META))


def transform(request: HttpRequest, path: str) -> HttpResponse:
    """``GET /cdn-cgi/image/<options>/<source>`` in development: the source is a file under ``MEDIA_URL``,
    read from ``MEDIA_ROOT`` (nothing outside it), resized with the emulator's transforms."""
    if not conf.get_config().dev:
        raise Http404("cfvariants serves Image Transformations only in development (CFVARIANTS['DEV'] / ENV_NAME=dev)")
    return _response(_media_server().serve_environ(request.META))


_servers: dict[tuple[str, str], TransformationServer] = {}


def _media_server() -> TransformationServer:
    """One ``TransformationServer`` per (MEDIA_URL, MEDIA_ROOT), so its render cache survives requests."""
    from cfvariants.emulator import TransformationServer  # noqa: PLC0415 - development only

    media_url = str(getattr(django_settings, "MEDIA_URL", "") or "")
    media_root = str(getattr(django_settings, "MEDIA_ROOT", "") or "")
    key = (media_url, media_root)
    server = _servers.get(key)
    if server is None:
        roots = {}
        if media_root and media_url and not media_url.startswith(("http://", "https://", "//")):
            roots["/" + media_url.lstrip("/")] = Path(media_root)
        server = _servers[key] = TransformationServer(roots)
    return server


def _response(answer: DeliveryResponse) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        if name.lower() not in _HOP_BY_HOP:
            response[name] = value
    return response


def upload_preview(request: HttpRequest, upload_id: str) -> HttpResponse | FileResponse:
    """The staged bytes of a background upload that is not stored yet (404 once it is, or when unknown; a
    private upload needs the signature its preview URL carries). Never cached: the real image replaces it."""
    from ._uploads import get_store, verify_preview  # noqa: PLC0415

    store = get_store()
    record = store.find(upload_id)
    if record is None or record.is_ready or not verify_preview(record, request.GET.get("sig")):
        raise Http404("no upload waiting under this id")
    try:
        staged = store.open_staged(upload_id)
    except FileNotFoundError:
        raise Http404("the upload is no longer staged") from None
    response = FileResponse(staged, content_type=record.content_type)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if record.content_type == "image/svg+xml":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
