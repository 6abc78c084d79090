"""The WSGI application: a thin werkzeug layer that routes a request to the API, the batch host, an upload URL
or delivery, all served by one ``Emulator``.

    /client/v4/accounts/<account id>/images/...     REST API (Bearer token)
    /images/v1..., /images/v2...                     batch host (batch token)
    /upload/<hash>/<id>                              direct-upload URLs
    /<hash>/<id>/<variant>                           delivery (imagedelivery.net form)
    /cdn-cgi/imagedelivery/<hash>/<id>/<variant>     delivery (custom-domain form)
    /cdn-cgi/image/<options>/<source>                Image Transformations of local files (``transformations``)

``create_app(...)`` takes an ``EmulatorConfig``, an ``Emulator``, or the config's keywords, and
``transformations=TransformationServer({"/media/": "media"})`` for the files ``/cdn-cgi/image/`` may read (without
one, every source is refused with 9419, as Cloudflare refuses origins a zone does not allow). The app works
in-process with ``httpx.Client(transport=httpx.WSGITransport(app=app))`` and can be mounted in another WSGI app
(werkzeug's ``DispatcherMiddleware``, e.g. at ``/cdn-cgi/imagedelivery`` for delivery only).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from cfvariants._urls import TRANSFORM_PREFIX
from cfvariants.limits import MAX_UPLOAD_BYTES

from ._api._direct_upload import handle_upload
from ._api._routes import error_response, handle_account_api, handle_batch_api
from ._config import EmulatorConfig
from ._delivery._transformations import TransformationServer
from ._emulator import Emulator
from ._errors import INTERNAL, TOO_LARGE, EmulatorAPIError
from ._paths import request_path

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("cfvariants.emulator")

_FORM_OVERHEAD = 1024 * 1024  # room for the multipart framing and the other fields around a 10 MB file


def _latin1_paths(environ: WSGIEnvironment) -> None:
    """PEP 3333 passes the path as its bytes decoded as latin-1; some callers (httpx's ``WSGITransport``, which the
    test fixtures use) pass decoded text instead, and a character past U+00FF then broke every request for it
    (a 500, even in the error handler). Such a path is re-encoded as its UTF-8 bytes, as a server would send it."""
    for key in ("PATH_INFO", "SCRIPT_NAME"):
        value = environ.get(key)
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                environ[key] = value.encode("utf-8", "surrogatepass").decode("latin-1")


class EmulatorApp:
    """WSGI callable around an ``Emulator`` (``app.emulator``) and a ``TransformationServer``
    (``app.transformations``) for ``/cdn-cgi/image/``."""

    def __init__(self, emulator: Emulator, *, transformations: TransformationServer | None = None) -> None:
        self.emulator = emulator
        self.transformations = transformations if transformations is not None else TransformationServer()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        _latin1_paths(environ)
        request = Request(environ)
        request.max_content_length = MAX_UPLOAD_BYTES + _FORM_OVERHEAD
        try:
            if request_path(environ).full.startswith(TRANSFORM_PREFIX):
                return self.transformations(environ, start_response)
            response = self.dispatch(request)
        except RequestEntityTooLarge:  # a JSON body over the limit (forms are handled where they are parsed)
            response = error_response(EmulatorAPIError(413, TOO_LARGE, "The request body is larger than 10 MB"))
        except Exception:
            log.exception("emulator: unexpected error on %s %s", request.method, request.path[:200])
            response = error_response(EmulatorAPIError(500, INTERNAL, "Internal error in the emulator (see its log)"))
        finally:
            request.close()  # uploaded files spooled to temporary files
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request_path(request.environ)
        segments = path.segments
        base_url = f"{request.scheme}://{request.host}"
        if segments[:2] == ["client", "v4"]:
            return handle_account_api(self.emulator, request, segments[2:], base_url)
        if len(segments) >= 2 and segments[0] == "images" and segments[1] in ("v1", "v2"):
            return handle_batch_api(self.emulator, request, segments, base_url)
        if segments[:1] == ["upload"]:
            return handle_upload(self.emulator, request, segments[1:], base_url)
        if path.app == "/" and request.method in ("GET", "HEAD"):
            return self._index(base_url)
        if path.full.startswith("/cdn-cgi/imagedelivery/") or len(segments) >= 3:
            answer = self.emulator.deliver(
                path.full,
                query=request.query_string.decode("latin-1"),
                headers=dict(request.headers.items()),
                method="GET" if request.method == "HEAD" else request.method,  # werkzeug drops a HEAD's body
            )
            return Response(answer.body, status=answer.status, headers=answer.headers)
        return Response("Not found\n", status=404, content_type="text/plain; charset=utf-8")

    def _sources(self) -> str:
        server = self.transformations
        sources = [f"{url} -> {directory}" for url, directory in server.roots] + sorted(server.allowed_origins)
        return "sources: " + ", ".join(sources) if sources else "no sources configured"

    def _index(self, base_url: str) -> Response:
        cfg = self.emulator.config
        base = self.emulator.base_url(base_url)
        text = (
            "cfvariants emulator: a local Cloudflare Images\n\n"
            f"API base:  {base}/client/v4  (account {cfg.account_id})\n"
            f"Delivery:  {base}/cdn-cgi/imagedelivery/{cfg.account_hash}/<image id>/<variant>\n"
            f"           {base}/{cfg.account_hash}/<image id>/<variant>\n"
            f"Transformations: {base}{TRANSFORM_PREFIX}<options>/<source>  ({self._sources()})\n"
        )
        return Response(text, status=200, content_type="text/plain; charset=utf-8")


def create_app(
    config: EmulatorConfig | Emulator | None = None,
    /,
    *,
    transformations: TransformationServer | None = None,
    **kwargs: Any,
) -> EmulatorApp:
    """The emulator as a WSGI app: ``create_app(data_dir=".cfimages")``, ``create_app(EmulatorConfig(...))`` or
    ``create_app(emulator)``; ``transformations``: what ``/cdn-cgi/image/`` may read (default: nothing)."""
    if isinstance(config, Emulator):
        if kwargs:
            raise TypeError("create_app(emulator) takes no other arguments; configure the Emulator instead")
        return EmulatorApp(config, transformations=transformations)
    return EmulatorApp(Emulator(config, **kwargs), transformations=transformations)
