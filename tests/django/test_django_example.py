"""The example Django project (examples/django_app) run as a user runs it: ``manage.py migrate``, ``runserver``,
``run_huey``, ``check``, ``cfvariants_variants``; uploads through its ModelForm and admin, pages fetched over
HTTP, every image measured. Production runs against the emulator on a socket; development needs no account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django_example import EXAMPLE, example_env, image_sources, manage, server, upload, wait_for_state, worker
from imagegen import decode, encode, jpeg, make

from cfvariants.emulator import DEV_ACCOUNT_HASH, DEV_ACCOUNT_ID, DEV_API_TOKEN, EmulatorServer, create_app
from cfvariants.local import LocalCloudflare

pytestmark = pytest.mark.slow

SECRET_TOKEN = "s3cret-token-for-the-example-tests"  # looked for in outputs


def photo() -> bytes:
    """A photo-like, high-entropy JPEG of a real size (noise over a gradient, 1600x1200, several hundred KB)."""
    from PIL import Image

    image = Image.blend(make(1600, 1200, "gradient"), make(1600, 1200, "noise"), 0.35)
    return encode(image, "JPEG", quality=90)


@pytest.fixture
def cloudflare(tmp_path: Path) -> Iterator[str]:
    """A Cloudflare Images stand-in on 127.0.0.1 (the emulator, API and delivery)."""
    with EmulatorServer(create_app(data_dir=tmp_path / "cloudflare"), host="127.0.0.1", port=0) as running:
        yield running.url


def production_env(
    tmp_path: Path, cloudflare: str, *, overrides: dict | None = None, **variables: str
) -> dict[str, str]:
    defaults = {
        "ENV_NAME": "production",
        "DJANGO_SECRET_KEY": "tests-only-secret-key-of-the-example",
        "CF_ACCT_ID": DEV_ACCOUNT_ID,
        "CF_IMG_TOKEN": DEV_API_TOKEN,
        "CF_IMG_HASH": DEV_ACCOUNT_HASH,
        "CF_API_BASE": f"{cloudflare}/client/v4",
        "CF_IMG_DOMAIN": cloudflare,
    }
    return example_env(tmp_path / "site", overrides=overrides, **{**defaults, **variables})


def dev_env(tmp_path: Path, *, overrides: dict | None = None) -> dict[str, str]:
    """Development as the original app's .env had it: credentials left as 1Password references."""
    return example_env(
        tmp_path / "site",
        overrides=overrides,
        ENV_NAME="dev",
        CF_IMG_TOKEN="op://dev/cf-img/token",
        CF_ACCT_ID="op://dev/cf-img/acct_id",
    )


def migrated(env: dict[str, str]) -> dict[str, str]:
    result = manage(env, "migrate", "--noinput")
    assert result.returncode == 0, result.stdout + result.stderr
    return env


def follow_upload(base: str, client: httpx.Client, worker_log: Path, env: dict[str, str], original: bytes) -> dict:
    """Upload through the form; check the pending page shows the staged file; start run_huey; return the
    final page's image sources."""
    response = upload(base, client, "Ada", "lake.jpg", original)
    assert response.status_code == 302, response.text
    page_path = response.headers["location"]
    pending = client.get(f"{base}{page_path}").text
    assert 'data-state="pending"' in pending
    staged = image_sources(pending)
    preview = re.fullmatch(r"/cfvariants/uploads/([0-9a-f]{32})/preview", staged["w200"])
    assert preview is not None, staged  # every filter shows the staged file while the upload waits
    assert staged["avatar"] == staged["w200"]
    assert client.get(f"{base}{staged['w200']}").content == original
    with worker(env, worker_log):
        final = wait_for_state(base, client, page_path, "ready")
    sources = image_sources(final)
    upload_id = preview.group(1)
    assert re.search(rf"/avatars/\d{{4}}/\d{{2}}/{upload_id}\.jpg/w=200$", sources["w200"]), sources
    assert client.get(f"{base}{staged['w200']}").status_code == 404  # the preview is gone once stored
    return sources


def test_production_flow_with_run_huey(tmp_path: Path, cloudflare: str) -> None:
    env = migrated(production_env(tmp_path, cloudflare))
    plan = manage(env, "cfvariants_variants", "plan")
    assert plan.returncode == 0 and "+ create avatar" in plan.stdout, plan.stdout + plan.stderr
    assert manage(env, "cfvariants_variants", "apply").returncode == 0
    check = manage(env, "cfvariants_variants", "plan", "--check")
    assert check.returncode == 0 and "No changes" in check.stdout
    original = photo()
    assert 200_000 < len(original) < 10 * 1024 * 1024
    with server(env, tmp_path / "web.log") as base, httpx.Client(timeout=60) as client:
        sources = follow_upload(base, client, tmp_path / "huey.log", env, original)
        assert sources["w200"].startswith(f"{cloudflare}/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/avatars/")
        assert decode(client.get(sources["w200"]).content).size == (200, 150)
        assert decode(client.get(sources["avatar"]).content).size == (240, 240)
    log = (tmp_path / "huey.log").read_text()
    assert "stored as image avatars/" in log  # the worker's own log line reached its output
    assert "the same as the web app" in log  # the web process left its fingerprint on its first request
    assert "No web app has used this queue" not in log


def test_development_flow_needs_no_account(tmp_path: Path) -> None:
    env = migrated(dev_env(tmp_path))
    original = photo()
    with server(env, tmp_path / "web.log") as base, httpx.Client(timeout=60) as client:
        sources = follow_upload(base, client, tmp_path / "huey.log", env, original)
        prefix = f"/cdn-cgi/imagedelivery/{DEV_ACCOUNT_HASH}/avatars/"
        assert sources["w200"].startswith(prefix) and sources["avatar"].startswith(prefix)
        assert decode(client.get(f"{base}{sources['w200']}").content).width == 200
        assert decode(client.get(f"{base}{sources['avatar']}").content).size == (240, 240)  # declared in variants.toml
    media = tmp_path / "site" / "media" / "cfimages"
    assert media.is_dir()  # the images stayed on this machine, under MEDIA_ROOT


def test_private_uploads_learn_their_generated_id(tmp_path: Path) -> None:
    private = {"BACKEND": STORAGE, "OPTIONS": {"background": True, "require_signed_urls": True}}
    env = migrated(dev_env(tmp_path, overrides={"STORAGES": {**BASE_STORAGES, "cloudflare_images": private}}))
    env["DJANGO_DEBUG"] = "0"  # as on a live site: a filter that cannot sign falls back instead of raising
    original = photo()
    with server(env, tmp_path / "web.log") as base, httpx.Client(timeout=60) as client:
        response = upload(base, client, "Ada", "secret.jpg", original)
        assert response.status_code == 302, response.text
        page_path = response.headers["location"]
        preview = image_sources(client.get(f"{base}{page_path}").text)["avatar"]
        assert "?sig=" in preview and client.get(f"{base}{preview}").content == original
        assert client.get(f"{base}{preview.split('?')[0]}").status_code == 404  # no signature, no preview
        staged_name = _image_name(env)
        assert re.fullmatch(r"avatars/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", staged_name)
        with worker(env, tmp_path / "huey.log"):
            final = wait_for_state(base, client, page_path, "ready")
        image_id = _image_name(env)
        assert re.fullmatch(r"[0-9a-f-]{36}", image_id), image_id  # the worker wrote Cloudflare's id into the row
        sources = image_sources(final)
        for img in ("avatar", "w200"):  # the template's |variant, signed: a private image's URLs need it
            assert f"/{image_id}/" in sources[img] and "&sig=" in sources[img], sources
            assert client.get(f"{base}{sources[img]}").status_code == 200
        assert decode(client.get(f"{base}{sources['avatar']}").content).size == (240, 240)
        assert f"/{image_id}/public?exp=" in sources["w200"]  # 'w=200' cannot be signed: the signed public URL
        assert "flexible options 'w=200' cannot be signed" in (tmp_path / "web.log").read_text()
        url = _shell(env, "from profiles.models import Profile; print(Profile.objects.get().image.url)")
        assert f"/{image_id}/public?exp=" in url and "&sig=" in url  # private: the storage signs its URLs
        width, height = decode(client.get(f"{base}{url}").content).size
        assert width * 3 == height * 4  # the stored photo, through the public variant
        assert client.get(f"{base}{url.split('?')[0]}").status_code == 403


def test_importing_the_tasks_module_configures_no_logging(tmp_path: Path) -> None:
    """Every process that runs django.setup() imports cfvariants.django.tasks (djhuey loads it): the web server,
    manage.py shell. It leaves logging as the project set it; only a starting worker adds a handler (the flows
    above find its lines in run_huey's output)."""
    env = dev_env(tmp_path)
    script = (
        "import logging, cfvariants.django.tasks as tasks; "
        "print(type(tasks.queue).__name__, logging.getLogger('cfvariants').handlers, "
        "logging.getLogger('cfvariants').level, logging.getLogger('httpx').level)"
    )
    assert _shell(env, script) == "UploadQueue [] 0 0"


def _image_name(env: dict[str, str]) -> str:
    return _shell(env, "from profiles.models import Profile; print(Profile.objects.get().image.name)")


def _shell(env: dict[str, str], script: str) -> str:
    result = manage(env, "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # Django 5.2 shell prints its auto-imports first


# -- form errors: nothing staged, nothing stored --------------------------------------------------------------------


def _noisy_png(width: int, height: int) -> bytes:
    return encode(make(width, height, "noise"), "PNG")


REFUSED = [
    pytest.param(lambda: ("big.png", _noisy_png(2200, 2000)), "at most 10 MB", id="over-10MB"),
    pytest.param(lambda: ("wide.jpg", jpeg(12_001, 80, "noise")), "12,000 px", id="over-12000px"),
    pytest.param(lambda: ("notes.jpg", b"These are my notes, not a picture.\n" * 40), "valid image", id="not-an-image"),
]


@pytest.mark.parametrize(("make_file", "message"), REFUSED)
def test_refused_uploads_are_form_errors_with_nothing_kept(tmp_path: Path, make_file, message: str) -> None:
    env = migrated(dev_env(tmp_path))
    filename, data = make_file()
    with server(env, tmp_path / "web.log") as base, httpx.Client(timeout=60) as client:
        response = upload(base, client, "Ada", filename, data)
        assert response.status_code == 400
        errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.text, re.S)
        assert errors and message in " ".join(errors), response.text
        assert "No profiles yet." in client.get(f"{base}/").text
    _assert_nothing_kept(tmp_path / "site")


def test_the_admin_shows_the_limit_too(tmp_path: Path) -> None:
    env = migrated(dev_env(tmp_path))
    env["DJANGO_SUPERUSER_PASSWORD"] = "tests-only-admin-password"
    assert (
        manage(env, "createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.com").returncode == 0
    )
    with server(env, tmp_path / "web.log") as base, httpx.Client(timeout=60) as client:
        login = client.get(f"{base}/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
        assert token is not None
        client.post(
            f"{base}/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": "admin",
                "password": env["DJANGO_SUPERUSER_PASSWORD"],
            },
            headers={"Referer": f"{base}/admin/login/"},
        )
        add = client.get(f"{base}/admin/profiles/profile/add/")
        assert add.status_code == 200, add.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', add.text)
        assert token is not None
        response = client.post(
            f"{base}/admin/profiles/profile/add/",
            data={"csrfmiddlewaretoken": token.group(1), "name": "Ada", "_save": "Save"},
            files={"image": ("wide.jpg", jpeg(12_001, 80, "noise"), "image/jpeg")},
            headers={"Referer": f"{base}/admin/profiles/profile/add/"},
        )
        assert response.status_code == 200 and "12,000 px" in response.text
    _assert_nothing_kept(tmp_path / "site")


def _assert_nothing_kept(site: Path) -> None:
    staging = site / "uploads" / "staging"
    assert not staging.exists() or not any(staging.iterdir())
    emulator = site / "media" / "cfimages"
    if emulator.exists():
        local = LocalCloudflare(emulator)
        try:
            with local.client() as client:
                assert list(client.iter_images()) == []
        finally:
            local.close()


# -- manage.py check ------------------------------------------------------------------------------------------------

STORAGE = "cfvariants.django.storage.CloudflareImagesStorage"
BASE_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WITHOUT_HUEY = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cfvariants.django",
    "profiles",
]
BAD_SETTINGS = [
    pytest.param({"CFVARIANTS": {"ACOUNT_HASH": "x"}}, {}, "cfvariants.E001", "did you mean 'ACCOUNT_HASH'", id="typo"),
    pytest.param({"CFVARIANTS": {"ACCOUNT_HASH": "has space"}}, {}, "cfvariants.E002", "", id="bad-hash"),
    pytest.param({}, {"CF_IMG_TOKEN": "op://dev/cf-img/token"}, "cfvariants.E003", "op run", id="op-reference"),
    pytest.param({"STORAGES": BASE_STORAGES}, {}, "cfvariants.E004", "STORAGES", id="no-alias"),
    pytest.param(
        {"STORAGES": {**BASE_STORAGES, "cloudflare_images": {"BACKEND": STORAGE, "OPTIONS": {"backgroud": True}}}},
        {},
        "cfvariants.E005",
        "did you mean 'background'",
        id="bad-options",
    ),
    pytest.param({}, {"CF_ACCT_ID": ""}, "cfvariants.E006", "CF_ACCT_ID", id="no-account"),
    pytest.param({"HUEY": None, "INSTALLED_APPS": WITHOUT_HUEY}, {}, "cfvariants.E010", "run_huey", id="no-huey"),
    pytest.param({"HUEY": {"name": "x"}}, {}, "cfvariants.W010", "immediate", id="immediate-mode"),
    pytest.param(
        {"CFVARIANTS": {"VARIANTS_FILE": "/nonexistent/variants.toml"}}, {}, "cfvariants.E020", "no such", id="variants"
    ),
    pytest.param(
        {"LOGGING": {"version": 1, "loggers": {"huey": {"level": "CRITICAL"}}}},
        {},
        "cfvariants.W011",
        "'huey'",
        id="logging",
    ),
]


@pytest.mark.parametrize(("overrides", "variables", "check_id", "words"), BAD_SETTINGS)
def test_check_reports_each_bad_setting_without_a_traceback(
    tmp_path: Path, overrides: dict, variables: dict, check_id: str, words: str
) -> None:
    variables = {"DJANGO_DEBUG": "1", "CF_IMG_TOKEN": SECRET_TOKEN, **variables}
    env = production_env(tmp_path, "http://127.0.0.1:9", overrides=overrides, **variables)
    result = manage(env, "check", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert check_id in output and words in output, output
    assert "Traceback" not in output and SECRET_TOKEN not in output


def test_check_passes_in_development_with_unresolved_credentials(tmp_path: Path) -> None:
    result = manage(dev_env(tmp_path), "check", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_hold_no_secrets(tmp_path: Path, cloudflare: str) -> None:
    env = production_env(tmp_path, cloudflare, CF_IMG_TOKEN=SECRET_TOKEN, CF_IMG_SIGNING_KEY=SECRET_TOKEN + "-key")
    result = manage(env, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0 and "No changes detected" in result.stdout, result.stdout + result.stderr
    for migration in (EXAMPLE / "profiles" / "migrations").glob("*.py"):
        text = migration.read_text()
        assert SECRET_TOKEN not in text and DEV_API_TOKEN not in text
        assert "storage=cfvariants.django.storage.select_storage" in text or migration.name == "__init__.py"
