"""``cfvariants check``: template mistakes fail CI with ``path:line:column: message`` lines."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from cli_helpers import invoke
from test_templatecheck import SEEDED, STRICT_ONLY

FIXTURES = Path(__file__).parent.parent / "fixtures" / "templates"
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+)(?::(?P<column>\d+))?: (?P<message>.+)$")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory holding the fixture templates and their variants.toml."""
    shutil.copytree(FIXTURES, tmp_path / "templates")
    shutil.move(tmp_path / "templates" / "variants.toml", tmp_path / "variants.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lines_of(output: str) -> set[tuple[str, int]]:
    found = set()
    for line in output.splitlines():
        match = LINE.match(line)
        assert match, f"not a path:line: message line: {line!r}"
        found.add((match.group("path").removeprefix("templates/"), int(match.group("line"))))
    return found


def test_check_reports_every_seeded_mistake_and_fails(project: Path) -> None:
    result = invoke(["check", "templates"])

    assert result.exit_code == 1
    assert lines_of(result.stdout) == {(path, line) for path, line, _ in SEEDED}
    expected = "named variant 'avtar' is not declared in variants.toml; did you mean 'avatar'?"
    assert f"templates/jinja/profile.html:5:42: {expected}" in result.stdout
    assert result.stderr == f"{len(SEEDED)} problems in 5 templates (35 variant uses checked).\n"


def test_strict_fails_on_run_time_variants_too(project: Path) -> None:
    result = invoke(["check", "templates", "--strict"])

    assert lines_of(result.stdout) == {(path, line) for path, line, _ in SEEDED | STRICT_ONLY}


def test_clean_templates_pass(project: Path) -> None:
    result = invoke(["check", "templates/django/clean.html", "templates/django/unrelated.txt"])

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "No problems in 2 templates (3 variant uses checked).\n"


def test_json_for_scripts(project: Path) -> None:
    result = invoke(["check", "templates", "--json", "--variants", "variants.toml"])

    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert (body["ok"], body["templates"], body["declaration"]) == (False, 5, "variants.toml")
    assert {(f["path"].removeprefix("templates/"), f["line"], f["code"]) for f in body["findings"]} == SEEDED


def test_declaration_from_a_module(project: Path) -> None:
    (project / "site_variants.py").write_text("VARIANTS = [{'id': 'avatar', 'width': 1, 'height': 1}]\n")
    (project / "variants.toml").unlink()
    try:
        result = invoke(["check", "templates/django/clean.html", "--variants", "site_variants"])
    finally:
        sys.modules.pop("site_variants", None)

    assert result.exit_code == 1
    assert result.stdout == (
        "templates/django/clean.html:2:40: named variant 'thumb' is not declared in site_variants\n"
    )


def test_without_a_declaration_only_options_are_checked(project: Path) -> None:
    (project / "variants.toml").unlink()

    result = invoke(["check", "templates"])

    assert lines_of(result.stdout) == {(path, line) for path, line, code in SEEDED if code != "undeclared"}
    assert "Note: no declaration (--variants or ./variants.toml); named variants were not checked." in result.stderr


def test_forcing_a_syntax(project: Path) -> None:
    (project / "page.html").write_text("{{ x|variant:'w=oops' }}\n")

    as_django = invoke(["check", "page.html", "--syntax", "django"])
    as_jinja = invoke(["check", "page.html", "--syntax", "jinja"])

    assert as_django.stdout.startswith("page.html:1:14: ")
    assert as_jinja.stdout.startswith("page.html:1: Jinja syntax error")


def test_an_unreadable_declaration_is_a_usage_error(project: Path) -> None:
    (project / "variants.toml").write_text("[variants.a]\nwidth = 'wide'\nheight = 1\n")

    result = invoke(["check", "templates"])

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: variants.toml: [variants.a]: width:")
    assert result.stdout == ""


def test_images_says_which_url_form_the_templates_take(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "profile.html").write_text(
        "{% load cfvariants %}\n"
        "<img src=\"{{ p.image|variant:'avatar' }}\">\n"  # a named variant: hosted only
        "<img src=\"{{ p.image|variant:'w=200,onerror=redirect' }}\">\n"  # onerror: transformations only
        "<img src=\"{{ p.image|variant:'w=200' }}\">\n"  # fine in both forms
    )
    hosted = invoke(["check", "t"])
    remote = invoke(["check", "t", "--images", "remote"])
    both = invoke(["check", "t", "--images", "both"])

    assert hosted.exit_code == 1 and "t/profile.html:3:" in hosted.output and ":2:" not in hosted.output
    assert "onerror only applies to Image Transformations" in hosted.output
    assert remote.exit_code == 1 and "t/profile.html:2:" in remote.output and ":3:" not in remote.output
    assert "Image Transformations have none" in remote.output
    assert both.exit_code == 1 and {":2:", ":3:"} <= {m for m in (":2:", ":3:") if m in both.output}
    assert ":4:" not in both.output
