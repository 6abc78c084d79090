"""One configuration model behind Django, Flask, the CLI and the environment: the same bad value gets the same
message from every front end, naming the key as that front end spells it, never a secret; and the table of
every setting (for the docs) lists exactly the keys each front end accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from cli_helpers import invoke
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django_project import setup
from flask import Flask

from cfvariants import ENV_NAMES, Settings, SettingsError
from cfvariants._config import CLI, DJANGO, FLASK, load_config, settings_table
from cfvariants.cli import main
from cfvariants.django import _conf as conf
from cfvariants.flask import KEYS, CFImages

setup()

TOKEN = "tok-3f9a1c77e2b64d0d9a5b"  # a secret: must never show
HASH = "ZWd9g1K7eljCn_KDTu_MWA"


def flask_error(tmp_path: Path, **config: Any) -> str:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(config)
    with pytest.raises(SettingsError) as caught:
        CFImages(app)
    return str(caught.value)


def django_error(**config: Any) -> str:
    with override_settings(CFVARIANTS=config), pytest.raises(ImproperlyConfigured) as caught:
        conf.load()
    return str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("on_error", "ignore", "must be 'raise' or 'fallback', not 'ignore'"),
        ("signed_expires_in", "1h", "must be positive seconds or a timedelta, not '1h'"),
        ("signed_expires_in", 0, "must be positive seconds or a timedelta, not 0"),
        ("dev", "yes", "must be True or False, not 'yes'"),
        ("placeholder", 7, "must be an image URL or a static path (str), not int"),
        ("data_dir", 3, "must be a path, not 3"),
        ("api_base", "ftp://images.example", "must be an http(s) URL such as https://api.cloudflare.com/client/v4"),
        ("zone", "not a host", ": zone 'not a host' is not a host name"),
        ("transform_defaults", "w=abc", ": "),
    ],
)
def test_one_message_per_problem_each_naming_the_key_as_its_source_spells_it(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    upper = field.upper()
    from_django = django_error(**{upper: value})
    from_flask = flask_error(tmp_path, **{f"CFVARIANTS_{upper}": value})
    assert from_django.startswith(f"CFVARIANTS['{upper}']")
    assert from_flask.startswith(f"app.config['CFVARIANTS_{upper}']")
    assert message in from_django
    assert from_django.removeprefix(f"CFVARIANTS['{upper}']") == from_flask.removeprefix(
        f"app.config['CFVARIANTS_{upper}']"
    )


def test_the_cli_and_the_environment_name_their_own_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    by_option = invoke(["list", "--api-base", "ftp://images.example", "--account-id", "a", "--token", TOKEN])
    assert by_option.exit_code == 2
    assert by_option.stderr.startswith("Error: --api-base must be an http(s) URL")
    by_env = invoke(["list"], env={"CF_API_BASE": "ftp://images.example", "CF_ACCT_ID": "a", "CF_IMG_TOKEN": TOKEN})
    assert by_env.exit_code == 2
    assert by_env.stderr.startswith("Error: CF_API_BASE must be an http(s) URL")
    with pytest.raises(SettingsError, match=r"^CF_API_BASE must be an http\(s\) URL"):
        Settings.load(api_base="ftp://images.example")


def test_a_value_left_to_the_environment_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_IMG_ZONE", "not a host")
    assert django_error(ON_ERROR="raise").startswith("CF_IMG_ZONE: zone 'not a host'")
    with override_settings(CFVARIANTS={"ZONE": "www.example.com"}):  # the setting wins over the environment
        transformations = conf.load().transformations()
    assert transformations is not None
    assert transformations.url("/media/cat.jpg", "w=200") == "https://www.example.com/cdn-cgi/image/w=200/media/cat.jpg"


def test_a_storage_option_is_named_as_an_option() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^OPTIONS\['api_base'\] must be an http\(s\) URL"):
        conf.load(api_base="ftp://x")
    with pytest.raises(
        ImproperlyConfigured, match=r"OPTIONS has an unknown key 'acount_id' \(did you mean 'account_id'"
    ):
        conf.load(acount_id="x")


def test_unknown_keys_are_named_with_the_closest_known_one(tmp_path: Path) -> None:
    assert "settings.CFVARIANTS has an unknown key 'ACOUNT_HASH' (did you mean 'ACCOUNT_HASH'?)" in django_error(
        ACOUNT_HASH=HASH
    )
    assert "app.config has an unknown key 'CFVARIANTS_ACOUNT_HASH' (did you mean 'CFVARIANTS_ACCOUNT_HASH'?)" in (
        flask_error(tmp_path, CFVARIANTS_ACOUNT_HASH=HASH)
    )


def test_secrets_never_appear_in_messages_or_reprs(tmp_path: Path) -> None:
    for value in (f"op://vault/{TOKEN}/token", 12345):
        message = django_error(API_TOKEN=value, SIGNING_KEY=value)
        assert "CFVARIANTS['API_TOKEN']" in message and "CFVARIANTS['SIGNING_KEY']" in message
        assert TOKEN not in message and "12345" not in message
        assert TOKEN not in flask_error(tmp_path, CFVARIANTS_API_TOKEN=value)
    config = load_config({"api_token": TOKEN, "signing_key": TOKEN, "account_hash": HASH}, DJANGO)
    assert config.cloudflare.require("api_token") == TOKEN
    assert TOKEN not in repr(config) and TOKEN not in str(config)


def test_the_table_lists_exactly_the_keys_each_front_end_accepts() -> None:
    rows = settings_table()
    assert [row.field for row in rows if row.env] == list(ENV_NAMES)
    assert {row.env for row in rows if row.env} == set(ENV_NAMES.values())
    assert [row.django for row in rows if row.django] == [field.upper() for field in conf.FIELDS]
    assert {row.flask for row in rows if row.flask} == {f"CFVARIANTS_{key}" for key in KEYS}
    options = {
        option
        for command in main.list_commands(click.Context(main))
        for param in (main.get_command(click.Context(main), command) or click.Command("x")).params
        for option in param.opts
    }
    assert {row.cli for row in rows if row.cli} <= options
    assert all(row.meaning and row.type for row in rows)
    assert {row.field for row in rows if row.secret} == {"api_token", "signing_key"}
    assert next(row for row in rows if row.field == "signed_expires_in").default == "3600"


def test_every_key_in_the_table_is_read_by_its_front_end(tmp_path: Path) -> None:
    for row in settings_table():
        if row.django:  # a value of the wrong kind is refused by name: the key is read, not ignored
            assert f"['{row.django}']" in django_error(**{row.django: object()}) or row.field in {"direct_uploads"}
    assert CLI.key("api_token") == "--token" and FLASK.key("zone") == "app.config['CFVARIANTS_ZONE']"
