"""The template scanner behind ``cfvariants check``: every use found, in both syntaxes, at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfvariants import Options, OptionsError
from cfvariants.templatecheck import Finding, check_paths, check_source, detect_syntax, find_uses, template_files

FIXTURES = Path(__file__).parent.parent / "fixtures" / "templates"
DECLARED = frozenset({"avatar", "thumb", "hero"})

# The mistakes seeded in tests/fixtures/templates: (template, line, kind). Lines hold them after multi-line
# comments, raw/verbatim blocks, comment blocks and a multi-line Jinja expression; those hide other mistakes.
SEEDED = {
    ("jinja/profile.html", 5, "undeclared"),  # 'avtar'
    ("jinja/profile.html", 12, "options"),  # fit=squish, third line of a multi-line expression
    ("jinja/profile.html", 14, "variant"),  # srcset of a named variant
    ("jinja/profile.html", 16, "variant"),  # signed flexible options
    ("jinja/profile.html", 18, "options"),  # variant(width=-5)
    ("jinja/profile.html", 20, "undeclared"),  # 'hreo' in one branch of an inline if
    ("jinja/profile.html", 21, "options"),  # q=101, second use on the line
    ("jinja/partials/card.jinja", 3, "usage"),  # cf_img without alt, inside an unknown {% cache %} block
    ("django/profile.html", 4, "undeclared"),  # 'avatr'
    ("django/profile.html", 10, "options"),  # q=500
    ("django/profile.html", 12, "variant"),  # cf_img of a named variant with widths
    ("django/profile.html", 15, "options"),  # fit='covr'
    ("django/profile.html", 18, "variant"),  # signed_variant of flexible options
    ("django/profile.html", 20, "syntax"),  # a {{ }} spanning two lines is text in Django
}
STRICT_ONLY = {
    ("jinja/profile.html", 19, "unresolved"),  # variant(size)
    ("django/profile.html", 19, "unresolved"),  # variant:size
}


def found(findings: list[Finding]) -> set[tuple[str, int, str]]:
    return {(Path(f.path).relative_to(FIXTURES).as_posix(), f.line, f.code) for f in findings}


def at(findings: list[Finding], template: str, line: int) -> Finding:
    (match,) = [f for f in findings if f.path.endswith(template) and f.line == line]
    return match


def test_finds_the_seeded_mistakes_in_both_syntaxes_at_their_lines() -> None:
    report = check_paths([FIXTURES], declared=DECLARED, declared_in="variants.toml")

    assert found(report.findings) == SEEDED
    assert report.templates == 5  # django/unrelated.txt is read too; variants.toml is not a template
    assert not report.ok


def test_strict_also_reports_what_only_render_time_knows() -> None:
    report = check_paths([FIXTURES], declared=DECLARED, strict=True)

    assert found(report.findings) == SEEDED | STRICT_ONLY
    assert "variant filter: variant size is only known at render time; not checked" in str(
        at(report.findings, "jinja/profile.html", 19)
    )


def test_messages_are_the_cores_and_point_at_the_argument() -> None:
    findings = check_paths([FIXTURES], declared=DECLARED, declared_in="variants.toml").findings
    with pytest.raises(OptionsError) as squish:
        Options.parse("w=200,fit=squish")

    multi_line = at(findings, "jinja/profile.html", 12)
    assert multi_line.message == str(squish.value)
    assert str(multi_line).endswith(f"jinja/profile.html:12:10: {squish.value}")
    assert at(findings, "jinja/profile.html", 5).message == (
        "named variant 'avtar' is not declared in variants.toml; did you mean 'avatar'?"
    )
    assert (at(findings, "jinja/profile.html", 18).column, at(findings, "jinja/profile.html", 18).message) == (
        28,
        "\"width=-5\": width must be a positive integer or 'auto'",
    )
    assert at(findings, "jinja/profile.html", 21).column == 89  # the second use on its line
    assert at(findings, "django/profile.html", 4).column == 40
    assert at(findings, "django/profile.html", 15).column == 35  # the fit= keyword
    assert at(findings, "django/profile.html", 18).column == 78
    assert "cannot be signed" in at(findings, "django/profile.html", 18).message
    assert at(findings, "jinja/partials/card.jinja", 3).message == (
        "cf_img filter needs alt text: alt=... (alt='' for a purely decorative image)"
    )


def test_without_a_declaration_named_variants_are_not_judged() -> None:
    report = check_paths([FIXTURES])

    assert found(report.findings) == {item for item in SEEDED if item[2] != "undeclared"}


def test_every_use_is_found_with_its_variant() -> None:
    source = (FIXTURES / "django" / "clean.html").read_text()

    uses, findings = check_source(source, "clean.html", declared=DECLARED)

    assert findings == []
    assert [(use.helper, use.kind, use.line, use.args[0].value) for use in uses] == [
        ("variant", "filter", 2, "thumb"),
        ("srcset", "filter", 2, "fit=cover"),
        ("cf_img", "tag", 3, "avatar"),
    ]


@pytest.mark.parametrize(
    ("source", "path", "syntax"),
    [
        ("{{ x|variant:'w=1' }}", "a.html", "django"),
        ("{% load cfvariants %}{% cf_img x 'avatar' alt='' %}", "a.html", "django"),
        ("{{ x | variant('w=1') }}", "a.html", "jinja"),
        ("{{ x|variant:'w=1' }}", "a.jinja", "jinja"),  # the extension decides
        ("{%- set v = x | variant %}{{ v }}", "a.html", "jinja"),
        ("{{ x | variant }}", "a.html", "jinja"),  # nothing tells: Jinja
    ],
)
def test_syntax_is_detected(source: str, path: str, syntax: str) -> None:
    assert detect_syntax(source, path) == syntax


def test_a_jinja_syntax_error_is_a_finding_at_its_line() -> None:
    source = "{{ x | variant('w=1') }}\n{% if x %}\n{{ x | variant('w=2') }}"

    _, findings = check_source(source, "broken.html", syntax="jinja")

    assert [(f.line, f.code) for f in findings] == [(3, "syntax")]  # where Jinja itself reports it
    assert "Jinja syntax error: Unexpected end of template" in findings[0].message


def test_a_django_tag_in_a_jinja_template_is_pointed_out() -> None:
    _, findings = check_source("<p>\n{% cf_img x 'avatar' alt='' %}\n", "a.j2")

    assert [str(f) for f in findings] == [
        "a.j2:2: {% cf_img %} is a Django tag; in Jinja write {{ image | cf_img(...) }}"
    ]


def test_jinja_keyword_options_with_run_time_values_still_have_their_names_checked() -> None:
    _, findings = check_source("{{ x | variant(widht=size, fit='cover') }}", "a.html", syntax="jinja")

    assert [(f.code, f.message) for f in findings] == [
        ("options", "\"widht=None\": unknown option 'widht'; did you mean 'width'?")
    ]


def test_jinja_functions_and_keyword_variants() -> None:
    source = "{{ cf_url(x, 'avtar') }}\n{{ cf_img(x, variant='w=0', alt='') }}\n{{ x | srcset(variant='thumb') }}"

    _, findings = check_source(source, "a.html", syntax="jinja", declared=DECLARED)

    assert [(f.line, f.code) for f in findings] == [(1, "undeclared"), (2, "options"), (3, "variant")]


def test_django_literals_are_read_like_django_does() -> None:
    source = (
        "{% load cfvariants %}"
        '{% cf_url x dpr=1.5 width=200 fit="cover" %}'
        "{% cf_url x 'avatar' signed=True %}"
        "{% cf_url x 'avatar' signed=flag %}"
        "{% cf_srcset x 'fit=cover' widths='320,640' as set %}"
        "{{ x|variant:'it\\'s' }}"
    )

    uses, findings = check_source(source, "a.html", syntax="django", declared=DECLARED)

    assert {name: arg.value for name, arg in uses[0].kwargs} == {"dpr": 1.5, "width": 200, "fit": "cover"}
    assert uses[1].kwargs[0][1].value is True
    assert uses[2].kwargs[0][1].const is False
    assert [arg.value for arg in uses[3].args] == ["fit=cover"]  # "as set" is not an argument
    assert uses[4].args[0].value == "it's"
    column = source.index("'it") + 1  # all on line 1
    assert [(f.code, f.column) for f in findings] == [("variant", column)]  # it's: not a variant name


def test_django_strict_wants_the_library_loaded() -> None:
    source = (
        "{% load static %}\n{{ x|variant:'avatar' }}\n{% load variant from cfvariants %}\n{{ x|variant:'avatar' }}\n"
    )

    _, lenient = check_source(source, "a.html", syntax="django")
    _, strict = check_source(source, "a.html", syntax="django", strict=True)

    assert lenient == []
    assert [(f.line, f.code) for f in strict] == [(2, "load")]


def test_filters_inside_other_django_tags_are_found() -> None:
    uses, _ = find_uses(
        "{% with u=x|variant:'avatar' %}{% if y|srcset:'fit=cover' %}{% endif %}{% endwith %}", syntax="django"
    )

    assert [(use.helper, use.args[0].value) for use in uses] == [("variant", "avatar"), ("srcset", "fit=cover")]


def test_template_files_skips_hidden_and_vendored_directories(tmp_path: Path) -> None:
    for name in ("a.html", "b.jinja", "c.py", "sub/d.htm", ".git/e.html", "node_modules/f.html", ".g.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "x.tmpl").write_text("")

    found_files = [p.relative_to(tmp_path).as_posix() for p in template_files([tmp_path, tmp_path / "x.tmpl"])]

    assert found_files == ["a.html", "b.jinja", "sub/d.htm", "x.tmpl"]
