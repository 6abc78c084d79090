"""``python manage.py cfvariants_variants plan|apply``: the named variants of ``CFVARIANTS["VARIANTS_FILE"]``
against the account the site uses, on the engine of ``cfvariants variants plan|apply`` (``cfvariants.variants``).

    python manage.py cfvariants_variants plan            # what apply would change: + create, ~ update, - delete
    python manage.py cfvariants_variants plan --check    # exit 1 when the account differs (CI)
    python manage.py cfvariants_variants apply           # make it so
    python manage.py cfvariants_variants apply --prune   # and delete variants the file does not declare

The account is the one ``select_storage()`` picks: Cloudflare (``CF_ACCT_ID``/``CF_IMG_TOKEN``) in production,
the local emulator in development (where the file is applied on start anyway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cfvariants import variants
from cfvariants._errors import CFVariantsError
from cfvariants.django import _conf as conf


class Command(BaseCommand):
    help = "Compare (plan) or apply the named variants declared in CFVARIANTS['VARIANTS_FILE'] to the account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["plan", "apply"])
        parser.add_argument("--file", type=Path, default=None, help="Declaration file (default: VARIANTS_FILE).")
        parser.add_argument("--prune", action="store_true", help="Also delete undeclared variants (never 'public').")
        parser.add_argument("--check", action="store_true", help="plan: exit 1 when there is anything to change.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"] or conf.get_config().variants_file
        if path is None:
            raise CommandError(f"no declaration: set {conf.SETTING_NAME}['VARIANTS_FILE'] or pass --file PATH")
        try:
            declared = variants.load(path)
            client = _client()
            try:
                todo = variants.plan(declared, variants.account_variants(client), prune=options["prune"])
                if options["action"] == "apply":
                    variants.execute(client, todo, on_change=lambda change: self.stdout.write(change.describe()))
            finally:
                client.close()
        except CFVariantsError as exc:
            raise CommandError(str(exc)) from None
        if options["action"] == "plan":
            self.stdout.write(todo.describe())
            if options["check"] and not todo.is_empty:
                raise CommandError("the account differs from the declaration", returncode=1)
        elif todo.is_empty:
            self.stdout.write("nothing to change")


def _client() -> Any:
    from cfvariants.django.storage import background_target  # noqa: PLC0415

    config = conf.get_config()
    if config.dev:
        from cfvariants.django._dev import local_cloudflare  # noqa: PLC0415

        return local_cloudflare(config).client()
    try:
        return background_target().store.client
    except conf.ConfigurationError:
        from cfvariants.client import ImagesClient  # noqa: PLC0415

        return ImagesClient.from_settings(config.settings)
