"""Direct creator uploads in Django: a form field and widget, the views behind them, and the webhook receiver.

    # settings.py
    CFVARIANTS_DIRECT_UPLOADS = {
        "WEBHOOK_SECRET": env("CF_WEBHOOK_SECRET"),   # the secret of the Cloudflare notification webhook
        "MAX_BYTES": 8_000_000,                      # optional: checked in the browser and on the server
    }
    # urls.py
    path("cfvariants/", include("cfvariants.django.direct_upload")),
    # forms.py
    class ProfileForm(DirectUploadForm, forms.ModelForm):
        image = DirectUploadField()
        class Meta: model = Profile; fields = ["name", "image"]
    # views.py
    form = ProfileForm(request.POST or None, request=request)

The widget renders a file picker with a progress bar; the browser asks ``issue`` for a one-time upload URL,
uploads the file straight to Cloudflare and puts the signed ticket in the form. ``DirectUploadField.clean``
claims it for the form's user (``cfvariants.direct_uploads``: issued by this site, to this user, not expired,
not used before, the image stored and within limits) and returns the image id, which an ``ImageField`` on
``CloudflareImagesStorage`` stores as the file's name. ``webhook`` (``csrf_exempt``, authenticated by the
``cf-webhook-auth`` secret) records Cloudflare's notifications.

The uploader is ``request.user.pk`` when logged in, else an id kept in the session. The client is the one of
the Cloudflare storage (``select_storage()``: the local emulator in development, whose upload URLs this URLconf
also serves, under ``upload/``). ``STORE`` (SQLite file of issued uploads, default
``<BASE_DIR or cwd>/cfvariants-direct-uploads.sqlite3``) and ``EXPIRY`` (``timedelta``) are optional.
"""

from __future__ import annotations

import io
import secrets
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import re_path, reverse
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cfvariants.client import ImagesClient
from cfvariants.direct_uploads import SCRIPT, DirectUploadError, DirectUploads, DirectUploadStore, widget_html

from . import _conf as conf

__all__ = [
    "SETTING_NAME",
    "DirectUploadField",
    "DirectUploadForm",
    "DirectUploadWidget",
    "get_uploads",
    "uploader_id",
]

SETTING_NAME = "CFVARIANTS_DIRECT_UPLOADS"
"""The Django setting that holds cfvariants' configuration (a dict)."""
_KNOWN = ("WEBHOOK_SECRET", "MAX_BYTES", "STORE", "EXPIRY")
_SESSION_KEY = "cfvariants_uploader"
_lock = threading.Lock()
_uploads: DirectUploads | None = None


def _client() -> ImagesClient:
    from .storage import background_target  # noqa: PLC0415 - storage imports conf lazily

    try:
        storage = background_target()  # the storage select_storage() picks, resolved now
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"direct uploads need the Cloudflare storage (select_storage()): {exc}") from None
    return storage.store.client


def get_uploads() -> DirectUploads:
    """The project's ``DirectUploads`` (from ``settings.CFVARIANTS_DIRECT_UPLOADS``), made on first use."""
    global _uploads  # noqa: PLW0603 - one per process, rebuilt when the settings change
    with _lock:
        if _uploads is None:
            raw = getattr(django_settings, SETTING_NAME, None)
            if raw is None:
                raise ImproperlyConfigured(f"set settings.{SETTING_NAME} (a dict, may be empty) for direct uploads")
            if not isinstance(raw, dict) or set(raw) - set(_KNOWN):
                raise ImproperlyConfigured(f"settings.{SETTING_NAME} must be a dict with keys from {', '.join(_KNOWN)}")
            base = Path(getattr(django_settings, "BASE_DIR", None) or Path.cwd())
            _uploads = DirectUploads(
                _client, secret=django_settings.SECRET_KEY,
                store=DirectUploadStore(raw.get("STORE") or base / "cfvariants-direct-uploads.sqlite3"),
                expiry=raw.get("EXPIRY") or timedelta(minutes=30), max_bytes=raw.get("MAX_BYTES"),
                webhook_secret=raw.get("WEBHOOK_SECRET"),
            )  # fmt: skip
        return _uploads


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    global _uploads  # noqa: PLW0603
    if setting in (SETTING_NAME, conf.SETTING_NAME, "SECRET_KEY", "STORAGES"):
        with _lock:
            _uploads = None


def uploader_id(request: HttpRequest) -> str:
    """Who is uploading: the logged-in user's primary key, else an id kept in the session."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    session = getattr(request, "session", None)
    if session is None:
        raise DirectUploadError("direct uploads need a logged-in user or Django sessions", 403)
    if _SESSION_KEY not in session:
        session[_SESSION_KEY] = secrets.token_urlsafe(18)
    return f"session:{session[_SESSION_KEY]}"


# -- form field and widget ---------------------------------------------------------------------------------------


class DirectUploadWidget(forms.Widget):
    """File picker + progress bar + hidden ticket field (the script does the upload)."""

    def __init__(self, attrs: dict[str, Any] | None = None, *, accept: str = "image/*") -> None:
        super().__init__(attrs)
        self.accept = accept

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        markup = widget_html(
            name, issue_url=reverse("cfvariants_direct:issue"), script_url=reverse("cfvariants_direct:script"),
            accept=self.accept, max_bytes=get_uploads().max_bytes, label="",
        )  # fmt: skip
        return SafeString(str(markup))

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


class DirectUploadField(forms.Field):
    """A form field whose value is a direct-upload ticket; ``clean`` claims it and returns the image id."""

    widget = DirectUploadWidget

    def __init__(self, *, accept: str = "image/*", **kwargs: Any) -> None:
        kwargs.setdefault("widget", DirectUploadWidget(accept=accept))
        super().__init__(**kwargs)
        self.request: HttpRequest | None = None

    def clean(self, value: Any) -> str | None:
        value = super().clean(value)
        if not value:
            return None
        if self.request is None:
            raise ImproperlyConfigured(
                "DirectUploadField needs the request: use DirectUploadForm(..., request=request)"
            )
        try:
            image = get_uploads().claim(str(value), uploader_id(self.request))
        except DirectUploadError as exc:
            raise ValidationError(exc.reason, code="direct_upload") from None
        return image.id


class DirectUploadForm(forms.BaseForm):
    """Mixin: ``Form(data, request=request)`` hands the request to its ``DirectUploadField``s."""

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, DirectUploadField):
                field.request = request


# -- views -------------------------------------------------------------------------------------------------------


@require_POST
def issue(request: HttpRequest) -> JsonResponse:
    """A one-time upload URL and its ticket for the current user (CSRF-protected like any form post)."""
    try:
        ticket = get_uploads().issue(uploader_id(request))
    except DirectUploadError as exc:
        return JsonResponse({"error": exc.reason}, status=exc.status)
    answer = ticket.as_json()
    if answer["uploadURL"].startswith("/upload/"):  # the local emulator's (development): served by this URLconf
        answer["uploadURL"] = reverse("cfvariants_direct:dev-upload", kwargs={"path": answer["uploadURL"][8:]})
    return JsonResponse(answer)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """Cloudflare's direct-upload notifications (authenticated by the ``cf-webhook-auth`` secret)."""
    outcome = get_uploads().receive_webhook(dict(request.headers), request.body)
    return JsonResponse(
        {"message": outcome.message, "id": outcome.image_id, "state": outcome.state}, status=outcome.status
    )


@require_GET
def script(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(SCRIPT.read_text(encoding="utf-8"), content_type="text/javascript")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@csrf_exempt
def dev_upload(request: HttpRequest, path: str) -> HttpResponse:
    """Development only: the local emulator's upload URLs (``/upload/<hash>/<id>``), as Cloudflare's upload host
    would take them (no cookies, no CSRF: the URL is the permission)."""
    config = conf.get_config()
    if not config.dev:
        raise Http404("upload URLs are served here only in development")
    from ._dev import local_cloudflare  # noqa: PLC0415 - the emulator only in development

    environ = dict(request.META)
    body = request.body
    environ.update({"PATH_INFO": f"/upload/{path}", "SCRIPT_NAME": "", "wsgi.input": io.BytesIO(body),
                    "CONTENT_LENGTH": str(len(body))})  # fmt: skip
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = int(status.split(maxsplit=1)[0]), headers
        return lambda data: None

    chunks = local_cloudflare(config).app(environ, start_response)
    response = HttpResponse(b"".join(chunks), status=captured["status"])
    for name, value in captured["headers"]:
        if name.lower() not in ("content-length", "connection"):
            response[name] = value
    return response


app_name = "cfvariants_direct"
urlpatterns = [
    re_path(r"^direct-uploads\Z", issue, name="issue"),
    re_path(r"^webhooks/images\Z", webhook, name="webhook"),
    re_path(r"^direct-upload\.js\Z", script, name="script"),
    re_path(r"^upload/(?P<path>.+)\Z", dev_upload, name="dev-upload"),
]
