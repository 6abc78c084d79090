"""``cfvariants variants plan|apply|export``: variants as code against the emulator, like terraform."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from cli_helpers import CLI

from cfvariants.client import ImagesClient
from cfvariants.emulator import Emulator
from cfvariants.variants import Change, Plan, VariantDeclarationError, VariantSpec, execute, load

DECLARATION = """\
[variants.avatar]
fit = "cover"
width = 240
height = 240
never_require_signed_urls = true

[variants.thumb]
options = "w=320,h=320"
"""


def account(emulator: Emulator) -> dict[str, tuple[str, int, int, str, bool]]:
    return {v.id: (v.fit, v.width, v.height, v.metadata, v.never_require_signed_urls) for v in emulator.list_variants()}


@pytest.fixture
def declared(cli: CLI) -> Path:
    path = cli.cwd / "variants.toml"
    path.write_text(DECLARATION)
    return path


def test_plan_shows_what_apply_would_create(cli: CLI, declared: Path, cf_emulator: Emulator) -> None:
    result = cli("variants", "plan")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "+ create avatar: fit=cover, 240x240, metadata=none, never requires signed URLs",
        "+ create thumb: fit=scale-down, 320x320, metadata=none",
        "Plan: 2 to create, 0 to update, 0 to delete.",
        "Not declared, left alone: public",
    ]
    assert set(account(cf_emulator)) == {"public"}  # a plan changes nothing


def test_plan_check_fails_on_drift_for_ci(cli: CLI, declared: Path) -> None:
    result = cli("variants", "plan", "--check")

    assert result.exit_code == 1
    assert "Drift: the account does not match variants.toml." in result.stderr


def test_apply_twice_then_the_plan_is_empty(cli: CLI, declared: Path, cf_emulator: Emulator) -> None:
    first = cli("variants", "apply", "--yes")
    assert first.exit_code == 0, first.output
    assert "created avatar\ncreated thumb\nApply complete: 2 created, 0 updated, 0 deleted." in first.stdout
    assert account(cf_emulator) == {
        "public": ("scale-down", 1366, 768, "none", False),
        "avatar": ("cover", 240, 240, "none", True),
        "thumb": ("scale-down", 320, 320, "none", False),
    }

    second = cli("variants", "apply", "--yes")
    assert second.exit_code == 0, second.output
    assert second.stdout.startswith("No changes: the account's variants match the declaration.")

    check = cli("variants", "plan", "--check", "--json")
    assert check.exit_code == 0, check.output
    body = json.loads(check.stdout)
    assert (body["drift"], body["changes"], body["unchanged"]) == (False, [], ["avatar", "thumb"])


def test_a_changed_declaration_is_an_update(cli: CLI, declared: Path, cf_emulator: Emulator) -> None:
    assert cli("variants", "apply", "--yes").exit_code == 0
    declared.write_text(DECLARATION.replace("width = 240", "width = 300"))

    plan = cli("variants", "plan")
    assert "~ update avatar: width 240 -> 300" in plan.stdout
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.stdout

    assert cli("variants", "apply", "-y").exit_code == 0
    assert account(cf_emulator)["avatar"] == ("cover", 300, 240, "none", True)


def test_prune_deletes_undeclared_variants_but_never_public(cli: CLI, declared: Path, cf_emulator: Emulator) -> None:
    cf_emulator.create_variant("legacy", {"fit": "pad", "width": 10, "height": 10, "metadata": "none"})

    kept = cli("variants", "plan")
    assert "Not declared, left alone: legacy, public" in kept.stdout

    pruned = cli("variants", "plan", "--prune", "--json")
    changes = json.loads(pruned.stdout)["changes"]
    assert [(c["action"], c["id"]) for c in changes] == [
        ("create", "avatar"),
        ("create", "thumb"),
        ("delete", "legacy"),
    ]
    assert json.loads(pruned.stdout)["kept"] == ["public"]

    applied = cli("variants", "apply", "--prune", "--yes")
    assert applied.exit_code == 0, applied.output
    assert set(account(cf_emulator)) == {"public", "avatar", "thumb"}


def test_apply_asks_first_and_a_no_changes_nothing(cli: CLI, declared: Path, cf_emulator: Emulator) -> None:
    declined = cli("variants", "apply", input="n\n")

    assert declined.exit_code == 1
    assert "Apply these changes? [y/N]" in declined.stderr
    assert "not applied: nothing was changed" in declined.stderr
    assert set(account(cf_emulator)) == {"public"}

    accepted = cli("variants", "apply", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert set(account(cf_emulator)) == {"public", "avatar", "thumb"}


def test_a_failure_part_way_says_what_was_and_was_not_done(cli: CLI, declared: Path, cf_emulator: Emulator) -> None:
    inner = httpx.WSGITransport(app=cli.app)
    posts = []

    def second_create_fails(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/variants"):
            posts.append(request)
            if len(posts) == 2:
                return httpx.Response(
                    400, json={"success": False, "errors": [{"code": 5400, "message": "nope"}], "result": None}
                )
        return inner.handle_request(request)

    result = cli("variants", "apply", "--yes", runtime=cli.with_transport(httpx.MockTransport(second_create_fails)))

    assert result.exit_code == 1
    assert "Error: could not create variant 'thumb': " in result.stderr
    assert "(1 change(s) made, 1 not made)" in result.stderr
    assert set(account(cf_emulator)) == {"public", "avatar"}


def test_declaration_from_a_module_in_the_current_directory(cli: CLI, cf_emulator: Emulator) -> None:
    (cli.cwd / "shop_images.py").write_text(
        "VARIANTS = [{'id': 'card', 'width': 400, 'height': 300, 'fit': 'cover'}]\n"
    )
    try:
        result = cli("variants", "apply", "--module", "shop_images", "--yes")
    finally:
        sys.modules.pop("shop_images", None)

    assert result.exit_code == 0, result.output
    assert account(cf_emulator)["card"] == ("cover", 400, 300, "none", False)


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({}, [], "no variants.toml in the current directory; pass --file PATH or --module PKG.MOD"),
        (
            {"v.toml": "[variants.a]\nwidth = 10\n"},
            ["--file", "v.toml"],
            "v.toml: [variants.a]: height: missing; every variant needs width and height",
        ),
        ({"v.toml": "[variants"}, ["--file", "v.toml"], "v.toml: not valid TOML"),
        ({}, ["--module", "no_such_module_here"], "cannot import 'no_such_module_here'"),
        ({"v.toml": ""}, ["--file", "v.toml", "--module", "x"], "give --file or --module, not both"),
    ],
)
def test_declaration_problems_are_usage_errors(cli: CLI, files: dict[str, str], args: list[str], message: str) -> None:
    for name, text in files.items():
        (cli.cwd / name).write_text(text)

    result = cli("variants", "plan", *args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_export_writes_a_declaration_that_plans_empty(cli: CLI, cf_emulator: Emulator) -> None:
    cf_emulator.create_variant("hero", {"fit": "crop", "width": 1600, "height": 900, "metadata": "keep"})
    cf_emulator.create_variant(
        "icon", {"fit": "pad", "width": 64, "height": 64, "metadata": "none"}, never_require_signed_urls=True
    )

    exported = cli("variants", "export")

    assert exported.exit_code == 0, exported.output
    (cli.cwd / "variants.toml").write_text(exported.stdout)
    assert load(cli.cwd / "variants.toml") == [
        VariantSpec(id="hero", fit="crop", width=1600, height=900, metadata="keep"),
        VariantSpec(id="icon", fit="pad", width=64, height=64, never_require_signed_urls=True),
    ]
    plan = cli("variants", "plan", "--check", "--prune")
    assert plan.exit_code == 0, plan.output


def test_public_is_never_deleted_even_by_a_handmade_plan(cf_client: ImagesClient, cf_emulator: Emulator) -> None:
    todo = Plan((Change("delete", "public"),))

    with pytest.raises(VariantDeclarationError, match="'public' cannot be deleted"):
        execute(cf_client, todo)
    assert "public" in account(cf_emulator)
