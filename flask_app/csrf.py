"""CSRF protection for the app's forms: a per-session token in a hidden field, checked on every POST.

(Flask-WTF would do this too; the app keeps to Flask itself, and the mechanism is small.)
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

__all__ = ["csrf_token", "init_csrf"]

FIELD = "csrf_token"


def csrf_token() -> str:
    token = session.get(FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[FIELD] = token
    return token


def _check() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token") or ""
    expected = session.get(FIELD)
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode()):
        abort(400, description="The form expired or did not come from this site (missing CSRF token). "
                               "Reload the page and try again.")  # fmt: skip


def init_csrf(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
