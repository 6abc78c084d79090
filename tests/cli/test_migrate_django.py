"""Migrating a Django model field (tests/django_project's ``gallery.Profile.image``) and a Django storage to
the emulator: rows rewritten to image ids only once stored, exactly once across an interrupted run and its
rerun; old files kept until ``delete_source``; the command line with ``--from-storage``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import imagegen
import pytest
from cli_helpers import CLI, AsyncBridge, DyingTransport
from django_project import create_tables, setup

setup()

from django.core.files.base import ContentFile  # noqa: E402 - after settings are configured
from django.core.files.storage import FileSystemStorage  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django_project.gallery.models import Profile  # noqa: E402

from cfvariants import Settings  # noqa: E402
from cfvariants.cli._uploader import Unreachable  # noqa: E402
from cfvariants.emulator import Emulator, EmulatorApp  # noqa: E402
from cfvariants.limits import is_uuid  # noqa: E402
from cfvariants.migrate import UploadOptions, migrate_field, migrate_storage  # noqa: E402
from cfvariants.migrate._django import MigrationSetupError  # noqa: E402

create_tables(Profile)


@pytest.fixture(autouse=True)
def _empty_table() -> Iterator[None]:
    Profile.objects.all().delete()
    yield
    Profile.objects.all().delete()


@pytest.fixture
def legacy(tmp_path: Path) -> FileSystemStorage:
    """The storage the files are in before the migration."""
    return FileSystemStorage(location=tmp_path / "legacy-media")


def profiles(storage: FileSystemStorage, count: int) -> dict[int, bytes]:
    """``count`` profiles, each with its own photo-like JPEG in ``storage``; their bytes by primary key."""
    files = {}
    for index in range(count):
        data = imagegen.photo_jpeg(20_000 + index, seed=index)
        name = f"avatars/user{index}.jpg"
        assert storage.save(name, ContentFile(data)) == name
        files[Profile.objects.create(name=f"user{index}", image=name).pk] = data
    return files


@pytest.fixture
def rewrites() -> Iterator[list[tuple[Any, ...]]]:
    """Every UPDATE of a profile's image column (its parameters: new name, old name, pk)."""
    seen: list[tuple[Any, ...]] = []

    def spy(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("UPDATE") and "gallery_profile" in sql:
            seen.append(tuple(params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        yield seen


def target(app: EmulatorApp, settings: Settings, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    return {"settings": settings, "transport": AsyncBridge(transport or httpx.WSGITransport(app=app))}


def images(emulator: Emulator) -> dict[str, dict[str, object]]:
    return {record.id: record.meta for record in emulator.list_images(per_page=1000)}


def test_rows_hold_their_image_ids_after_the_migration(
    cf_app: EmulatorApp, cf_settings: Settings, cf_emulator: Emulator, legacy: FileSystemStorage
) -> None:
    files = profiles(legacy, 4)

    report = migrate_field("gallery.Profile.image", from_storage=legacy, **target(cf_app, cf_settings))

    assert (report.migrated, report.skipped, report.failed) == (4, 0, 0), report.failures
    for pk, data in files.items():
        name = Profile.objects.get(pk=pk).image.name
        assert is_uuid(name)
        assert cf_emulator.image_blob(name)[0] == data  # the row names the image of its own file
    assert len(images(cf_emulator)) == 4
    assert all(legacy.exists(f"avatars/user{i}.jpg") for i in range(4))  # old files kept


def test_an_interrupted_run_and_its_rerun_rewrite_each_row_exactly_once(
    cf_app: EmulatorApp,
    cf_settings: Settings,
    cf_emulator: Emulator,
    legacy: FileSystemStorage,
    rewrites: list[tuple[Any, ...]],
) -> None:
    files = profiles(legacy, 8)
    dying = DyingTransport(httpx.WSGITransport(app=cf_app), healthy=3)  # the 4th is stored, its answer lost

    with pytest.raises(Unreachable):  # the network is gone: the run stops
        migrate_field(
            "gallery.Profile.image", from_storage=legacy, retries=0, upload=UploadOptions(concurrency=2),
            **target(cf_app, cf_settings, dying),
        )  # fmt: skip

    assert len(images(cf_emulator)) == 4
    assert len(rewrites) == 3  # only rows whose image is known to be stored
    stored_unrecorded = {str(m["cfv_path"]) for m in images(cf_emulator).values()} - {r[1] for r in rewrites}
    assert len(stored_unrecorded) == 1

    second = migrate_field("gallery.Profile.image", from_storage=legacy, **target(cf_app, cf_settings))

    assert (second.migrated, second.skipped, second.failed) == (5, 3, 0), second.failures
    assert len(images(cf_emulator)) == 8  # no duplicate for the one whose answer was lost
    assert sorted(str(r[2]) for r in rewrites) == sorted(str(pk) for pk in files)  # each row once
    for pk, data in files.items():
        assert cf_emulator.image_blob(Profile.objects.get(pk=pk).image.name)[0] == data

    third = migrate_field("gallery.Profile.image", from_storage=legacy, **target(cf_app, cf_settings))

    assert (third.migrated, third.skipped, third.failed) == (0, 8, 0)
    assert len(rewrites) == 8


def test_custom_ids_from_paths_and_deleting_old_files(
    cf_app: EmulatorApp, cf_settings: Settings, cf_emulator: Emulator, legacy: FileSystemStorage
) -> None:
    files = profiles(legacy, 3)
    shared = Profile.objects.create(name="twin", image="avatars/user0.jpg")  # two rows, one file
    missing = Profile.objects.create(name="ghost", image="avatars/gone.jpg")

    report = migrate_field(
        "gallery.Profile.image", from_storage=legacy, delete_source=True,
        upload=UploadOptions(id_from_path=True, id_prefix="legacy/"), **target(cf_app, cf_settings),
    )  # fmt: skip

    assert (report.migrated, report.failed) == (4, 1)
    assert [f.path for f in report.failures] == [f"gallery.Profile.image pk={missing.pk} avatars/gone.jpg"]
    assert "not in the source storage" in str(report.failures[0].reason)
    assert Profile.objects.get(pk=shared.pk).image.name == "legacy/avatars/user0.jpg"
    assert sorted(images(cf_emulator)) == [f"legacy/avatars/user{i}.jpg" for i in range(3)]
    assert Profile.objects.get(pk=missing.pk).image.name == "avatars/gone.jpg"
    assert not any(legacy.exists(f"avatars/user{i}.jpg") for i in range(3))  # gone once every row moved
    assert len(files) == 3


def test_a_whole_storage(
    cf_app: EmulatorApp, cf_settings: Settings, cf_emulator: Emulator, legacy: FileSystemStorage
) -> None:
    profiles(legacy, 3)
    legacy.save("docs/readme.txt", ContentFile(b"not an image"))

    report = migrate_storage(legacy, upload=UploadOptions(id_from_path=True), **target(cf_app, cf_settings))

    assert (report.migrated, report.failed) == (3, 0)
    assert sorted(images(cf_emulator)) == [f"avatars/user{i}.jpg" for i in range(3)]


def test_the_command_migrates_a_field_from_a_named_storage(cli: CLI, cf_emulator: Emulator, tmp_path: Path) -> None:
    legacy = FileSystemStorage(location=tmp_path / "old")
    files = profiles(legacy, 2)
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "legacy": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(legacy.location)},
        },
    }

    with override_settings(STORAGES=storages):
        dry = cli("migrate", "gallery.Profile.image", "--from-storage", "legacy", "--dry-run")
        result = cli("migrate", "gallery.Profile.image", "--from-storage", "legacy", "--no-progress")

    assert dry.exit_code == 0, dry.output
    assert (
        len([line for line in dry.stdout.splitlines() if line.startswith("would migrate gallery.Profile.image pk=")])
        == 2
    )
    assert result.exit_code == 0, result.output
    assert "2 migrated, 0 skipped, 0 failed" in result.stdout
    assert all(is_uuid(Profile.objects.get(pk=pk).image.name) for pk in files)


def test_bad_field_paths_are_named() -> None:
    with pytest.raises(MigrationSetupError, match=r"not app_label\.Model\.field"):
        migrate_field("Profile.image")
    with pytest.raises(MigrationSetupError, match="Profile has no field 'photo' \\(file fields: image\\)"):
        migrate_field("gallery.Profile.photo")
    with pytest.raises(MigrationSetupError, match="name is a CharField, not a FileField"):
        migrate_field("gallery.Profile.name")


def test_the_source_cannot_be_cloudflare_itself() -> None:
    from cfvariants.django.storage import CloudflareImagesStorage

    with pytest.raises(MigrationSetupError, match="Cloudflare Images already"):
        migrate_field("gallery.Profile.image", from_storage=CloudflareImagesStorage())
