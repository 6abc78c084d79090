"""The development delivery view behind ``cfvariants.django.urls``: the local emulator's variant renders,
served by the site itself. It answers 404 whenever development mode is off, so a URLconf that includes it in
production serves nothing."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from . import conf

__all__ = ["deliver"]

# Headers the WSGI/ASGI server sets itself; the emulator's own values would clash with them.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})


def deliver(request: HttpRequest, path: str) -> HttpResponse:
    """``GET /cdn-cgi/imagedelivery/<hash>/<id>/<variant>`` from the emulator: transformed bytes, ``ETag``/304,
    ``Cache-Control``, ``Vary`` and Cloudflare's ``Cf-Resized`` errors, as Cloudflare would answer."""
    config = conf.get_config()
    if not config.dev:
        raise Http404("cfvariants serves image delivery only in development (CFVARIANTS['DEV'] / ENV_NAME=dev)")
    from .dev import local_cloudflare  # noqa: PLC0415 - the emulator is imported only in development

    answer = local_cloudflare(config).deliver_environ(request.META)
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        if name.lower() not in _HOP_BY_HOP:
            response[name] = value
    return response
