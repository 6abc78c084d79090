"""The cfvariants reference app: upload -> huey -> Cloudflare Images (or the local emulator) -> variants.

``create_app()`` builds the Flask app; ``python -m flask_app`` runs it with a huey worker (what
``python3 dev.py run`` does). ``ENV_NAME`` says the mode and is required: ``production`` (Cloudflare) or
``dev``, where everything runs locally (the emulator is mounted into the app, so no account and no network are
needed) and says so at start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from cfvariants import configure_logging
from cfvariants.flask import CFImages
from cfvariants.variants import apply as apply_variants
from cfvariants.variants import load as load_variants

from .config import AppSettings
from .csrf import init_csrf
from .limits import FormTooLarge, UploadRequest, file_too_large_message, form_config, form_too_large_message
from .playground import playground
from .profiles import ProfileStore
from .samples import URL_PREFIX as SAMPLES_URL
from .samples import ensure_samples
from .tour import tour
from .uploads import build_queue
from .views import gallery

__all__ = ["create_app", "images"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
images = CFImages()
log = logging.getLogger("flask_app")


def create_app(settings: AppSettings | None = None, **config: Any) -> Flask:
    """The app for ``settings`` (default: read from the environment and ``.env``); ``config`` overrides
    Flask config keys (tests use ``TESTING=True``)."""
    configure_logging("flask_app")  # under gunicorn, its lines and the library's go to gunicorn's stderr
    settings = settings or AppSettings.load()
    if settings.is_dev:
        log.warning("%s", settings.dev_banner())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_path=str(settings.data_dir.resolve() / "instance"))
    app.request_class = UploadRequest
    app.config.update(
        SECRET_KEY=settings.flask_secret(),
        **form_config(settings.max_upload_mb),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        APP_MAX_UPLOAD_MB=settings.max_upload_mb,
        CFVARIANTS_DEV=settings.is_dev,
        CFVARIANTS_DATA_DIR=str(settings.emulator_dir),
        CFVARIANTS_TRANSFORM_ROOTS={SAMPLES_URL: str(settings.data_dir / "samples")},  # development: the samples
    )
    app.config.update(config)
    samples = settings.data_dir / "samples"  # drawn now in development, else on first request (fast start)
    app.extensions["samples_dir"] = ensure_samples(samples) if settings.is_dev else samples
    state = images.init_app(app)
    app.extensions["uploads"] = queue = build_queue(settings)
    log.info("web app (pid %d) %s", os.getpid(), queue.announce_web())
    app.extensions["profiles"] = ProfileStore(settings.app_db)
    app.extensions["app_settings"] = settings
    init_csrf(app)
    app.register_blueprint(gallery)
    app.register_blueprint(playground)
    app.register_blueprint(tour)
    app.jinja_env.globals["dev"] = settings.is_dev
    _register_errors(app)
    if settings.is_dev:
        plan = apply_variants(state.client, load_variants(settings.variants_file))
        if not plan.is_empty:
            log.info("created the app's named variants in the local emulator:\n%s", plan.describe())
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
        limit = app.config["APP_MAX_UPLOAD_MB"]
        message = form_too_large_message() if isinstance(error, FormTooLarge) else file_too_large_message(limit)
        log.warning("refused %s %s (413, Content-Length %s): %s", request.method, request.path, request.content_length,
                    message)  # fmt: skip
        if request.endpoint == "gallery.upload":
            return render_template("upload.html", error=message, max_mb=limit), 413
        return render_template("error.html", code=413, heading="Too large", message=message), 413

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        headings = {400: "That did not work", 404: "Not found", 405: "Not allowed"}
        return render_template(
            "error.html", code=code, heading=headings.get(code, "Something went wrong"), message=error.description
        ), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unexpected error")
        message = "The server hit an unexpected problem. It has been logged; please try again."
        return render_template("error.html", code=500, heading="Something went wrong", message=message), 500
