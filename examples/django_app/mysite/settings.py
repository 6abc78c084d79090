"""Settings of the example project: the original app's set-up, on embedded defaults.

``ENV_NAME=dev`` (the default here) keeps images on this machine, in the local emulator under MEDIA_ROOT, with no
account and no network; any other value uses Cloudflare Images with ``CF_ACCT_ID``, ``CF_IMG_TOKEN`` and
``CF_IMG_HASH`` from the environment or ``.env``. Uploads go to Cloudflare from ``python manage.py run_huey``.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EXAMPLE_DATA_DIR", BASE_DIR / "var"))  # database, media, huey queue
DATA_DIR.mkdir(parents=True, exist_ok=True)  # SQLite (the database, huey) creates files, not directories

ENV_NAME = os.environ.get("ENV_NAME", "dev")
DEBUG = os.environ.get("DJANGO_DEBUG", "1" if ENV_NAME == "dev" else "0") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret" if ENV_NAME == "dev" else "")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", *os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",  # python manage.py run_huey
    "cfvariants.django",  # {% load cfvariants %}, checks, validators
    "profiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "mysite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "cloudflare_images": {
        "BACKEND": "cfvariants.django.storage.CloudflareImagesStorage",
        "OPTIONS": {"background": True},  # saving stages the file; run_huey uploads it
    },
}
CFVARIANTS = {
    "VARIANTS_FILE": BASE_DIR / "variants.toml",  # 'avatar': applied to the local account when dev starts
    "UPLOADS_DIR": DATA_DIR / "uploads",  # staged uploads, outside MEDIA_ROOT (never served by the web server)
}
HUEY = {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "huey.db"), "immediate": False}
