"""``cfvariants migrate``: move existing images (a directory, a Django storage, a model field) to Cloudflare."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from cfvariants.client import BATCH_TOKEN_LIMIT, DEFAULT_LIMIT, RateLimit

from ._errors import EXIT_FAILED, EXIT_INTERRUPTED, CFCommand, CLIUsageError
from ._options import api_options, json_option, load_settings, retries
from ._output import echo_json
from ._progress import Tally
from ._runtime import ensure_cwd_importable, runtime
from ._upload import checked_options, echo_plan_line, reporter_for, unreachable_error, upload_flags
from ._uploader import HASH_KEY, PATH_KEY, Unreachable, UploadOptions, custom_id_for

_FAILURES_SHOWN = 20


def _rate_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> RateLimit | None:
    if value is None:
        return None
    try:
        return RateLimit.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(
    cls=CFCommand,
    short_help="Move existing images to Cloudflare, resumably.",
    epilog=f"""\b
Examples:
  cfvariants migrate media/ --id-from-path               # every image under media/, ids from paths
  cfvariants migrate storage:default --id-prefix old/ --id-from-path    # a Django storage (settings.STORAGES)
  cfvariants migrate gallery.Profile.image               # each row's file; the row then holds the image id
  cfvariants migrate gallery.Profile.image --from-storage legacy --delete-source
  cfvariants migrate media/ --rate-limit 600/5m          # leave half the account's API budget to the app

\b
Resuming: run the same command again. Each image stores its file's SHA-256 ({HASH_KEY}) and, without custom
ids, its path ({PATH_KEY}); what is already there is skipped, the rest moved, nothing twice. A row is
rewritten to its image id only after that image is stored, one transaction per row, and only if it still
holds the old name. Old files stay until --delete-source. Django sources need DJANGO_SETTINGS_MODULE (or
--django-settings). Exit codes: 0 all migrated or skipped, 1 some failed, 2 bad usage/configuration or the API
unreachable, 130 interrupted.
""",
)
@click.argument("source")
@click.option("--from-storage", metavar="ALIAS", help="Model fields: read the files from this STORAGES alias.")
@click.option("--delete-source", is_flag=True, help="Delete each old file once its image is stored and checked.")
@upload_flags
@click.option(
    "--rate-limit",
    default=None,
    callback=_rate_limit,
    metavar="N/WINDOW",
    help="At most N API requests per window [default: 1200/5m, Cloudflare's per account; with --batch 200/s].",
)
@click.option("--batch", is_flag=True, help="Send through a batch token: its own 200/s, outside the account's limit.")
@click.option("--django-settings", metavar="MODULE", help="Django settings module (else DJANGO_SETTINGS_MODULE).")
@click.option("--dry-run", is_flag=True, help="Only list what would be migrated; no API calls, no changes.")
@api_options
@json_option
def migrate(
    source: str,
    from_storage: str | None,
    delete_source: bool,
    concurrency: int,
    metadata: tuple[str, ...],
    private: bool,
    id_from_path: bool,
    id_prefix: str,
    creator: str | None,
    progress: bool | None,
    rate_limit: RateLimit | None,
    batch: bool,
    django_settings: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Move the images of SOURCE to Cloudflare Images: a directory, storage:ALIAS (a Django storage), or
    app_label.Model.field (a FileField/ImageField, whose rows then hold the image ids).

    A progress bar (files, rate, ETA) shows on a terminal; at the end, what was migrated, skipped and failed,
    with the reasons.
    """
    options = checked_options(concurrency, metadata, private, id_from_path, id_prefix, creator)
    plan = _source(source, from_storage, delete_source, django_settings)
    if dry_run:
        _dry_run(plan, options, as_json)
        return
    from cfvariants.migrate import migrate as run  # noqa: PLC0415 - keep --help fast

    files, size = plan.count()
    reporter = reporter_for(Tally(files, size, verb="migrated"), as_json=as_json, progress=progress)
    ctx = click.get_current_context()
    try:
        report = run(
            plan, settings=load_settings(ctx), transport=runtime(ctx).async_transport, upload=options,
            rate_limit=rate_limit, retries=retries(ctx), reporter=reporter, batch=batch,
        )  # fmt: skip
    except Unreachable as exc:
        raise unreachable_error(exc) from None
    except KeyboardInterrupt:  # the reporter printed "Interrupted: ..." already; say it once
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    if not as_json:
        if report.throttled or report.waited >= 1:
            budget = rate_limit or (BATCH_TOKEN_LIMIT if batch else DEFAULT_LIMIT)
            click.echo(f"Rate limit: {report.waited:.1f} s held back, {report.throttled} answers 429 ({budget})")
        if report.failures:
            click.echo(f"Failed ({report.failed}):", err=True)
            for failure in report.failures[:_FAILURES_SHOWN]:
                click.echo(f"  {failure.path}: {failure.reason}", err=True)
            hidden = report.failed - min(len(report.failures), _FAILURES_SHOWN)
            if hidden:
                click.echo(f"  ... and {hidden} more (--json lists every one)", err=True)
    if report.failed:
        raise click.exceptions.Exit(EXIT_FAILED)


def _source(source: str, from_storage: str | None, delete_source: bool, django_settings: str | None) -> Any:
    from cfvariants.migrate import DirectorySource  # noqa: PLC0415 - keep --help fast

    path = Path(source)
    if path.is_dir():
        if from_storage:
            raise CLIUsageError("--from-storage applies to a model field, not to a directory")
        return DirectorySource(path, delete_source=delete_source)
    if path.exists():
        raise CLIUsageError(f"{source}: a file; give the directory it is in (cfvariants upload takes files)")
    is_storage = source.startswith("storage:")
    if not is_storage and source.count(".") != 2:
        raise CLIUsageError(
            f"{source!r} is neither a directory, storage:ALIAS nor app_label.Model.field (e.g. gallery.Profile.image)"
        )
    _setup_django(django_settings)
    from django.core.files.storage import storages  # noqa: PLC0415
    from django.core.files.storage.handler import InvalidStorageError  # noqa: PLC0415

    from cfvariants.migrate._django import FieldSource, MigrationSetupError, StorageSource  # noqa: PLC0415

    def storage(alias: str) -> Any:
        try:
            return storages[alias]
        except InvalidStorageError:
            raise CLIUsageError(f"settings.STORAGES has no {alias!r} entry") from None

    try:
        if is_storage:
            if from_storage:
                raise CLIUsageError("--from-storage applies to a model field; storage:ALIAS names the storage")
            return StorageSource(storage(source.removeprefix("storage:")), delete_source=delete_source)
        from_ = storage(from_storage) if from_storage else None
        return FieldSource(source, from_storage=from_, delete_source=delete_source)
    except MigrationSetupError as exc:
        raise CLIUsageError(str(exc)) from None


def _setup_django(settings_module: str | None) -> None:
    try:
        import django  # noqa: PLC0415
        from django.conf import settings  # noqa: PLC0415
    except ImportError:
        raise CLIUsageError("Django sources need Django (pip install 'cfvariants[django]')") from None
    if settings.configured:
        return
    ensure_cwd_importable()
    if settings_module:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        raise CLIUsageError("set DJANGO_SETTINGS_MODULE or pass --django-settings to migrate a Django source")
    try:
        django.setup()
    except ImportError as exc:
        raise CLIUsageError(f"cannot import the Django settings: {exc}") from None


def _dry_run(plan: Any, options: UploadOptions, as_json: bool) -> None:
    from cfvariants.cli._files import Rejected  # noqa: PLC0415
    from cfvariants.migrate._django import Row  # noqa: PLC0415

    rows: list[dict[str, Any]] = []
    for item in plan.items():
        entry: dict[str, Any]
        if isinstance(item, Row):
            target = custom_id_for(item.file, options) if item.in_source else None
            problem = None if item.in_source else "not in the source storage (migrated already, or missing)"
            entry = {"item": item.file.shown, "custom_id": target, "problem": problem}
        else:
            problem = item.reason if isinstance(item, Rejected) else None
            entry = {
                "item": item.shown,
                "custom_id": None if problem else custom_id_for(item, options),
                "problem": problem,
            }
        if as_json:
            rows.append(entry)
        else:
            echo_plan_line(entry["item"], entry["custom_id"], entry["problem"], "would migrate")
    if as_json:
        echo_json(rows)
