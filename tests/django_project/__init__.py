"""A real Django project for the tests, configured once per test process.

Django settings can be configured only once per process, so every test module that needs Django calls
``django_project.setup()`` at import (it is idempotent) and changes what it needs per test with
``django.test.override_settings`` (``CFVARIANTS``, ``STORAGES``, ``ROOT_URLCONF``, ``DEBUG``...): the cfvariants
caches are reset on Django's ``setting_changed`` signal. ``setup()`` also sets up Django's test environment, as
Django's test runner does (``DEBUG=False``, ``mail.outbox``), so template errors raise by default.

For a Storage test module: ``from django_project import setup; setup()``, then a model in the ``gallery`` app
(``tests/django_project/gallery/models.py``; add a module there rather than another app, since INSTALLED_APPS is
fixed once configured), tables with ``django_project.create_tables(Model)``, and the storage through
``override_settings(STORAGES=...)``.
"""

from __future__ import annotations

import django
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Model
from django.test.utils import setup_test_environment

from . import settings as project_settings

__all__ = ["create_tables", "setup"]


def setup() -> None:
    """Configure Django with ``django_project.settings`` (once per process) and set up the test environment."""
    if django_settings.configured:
        return
    values = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}
    django_settings.configure(**values)
    django.setup()
    setup_test_environment()


def create_tables(*models: type[Model]) -> None:
    """Create the tables of ``models`` in the in-memory database (no migrations in the test project)."""
    with connection.schema_editor() as editor:
        for model in models:
            if model._meta.db_table not in connection.introspection.table_names():
                editor.create_model(model)
