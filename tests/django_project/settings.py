"""Settings of the test Django project (read by ``django_project.setup()``)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = "tests-only-not-a-secret"  # a fixed value for a test project
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "cfvariants.django",
    "django_project.gallery",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {},
    }
]
STATIC_URL = "/static/"
MEDIA_ROOT = HERE / "media-not-written"  # the tests never save files to the file system storage
CFVARIANTS = {
    "ACCOUNT_HASH": "ZWd9g1K7eljCn_KDTu_MWA",
    "SIGNING_KEY": "example-signing-key-123",
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # What select_storage() picks outside development (gallery/field_models.py uses it); made-up credentials.
    "cloudflare_images": {
        "BACKEND": "cfvariants.django.storage.CloudflareImagesStorage",
        "OPTIONS": {"account_id": "0" * 32, "api_token": "tests-only-not-a-token"},
    },
}
