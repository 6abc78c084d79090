"""Variants as code: loading declarations and planning changes against an account."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cfvariants.variants import VariantDeclarationError, VariantSpec, declarations, load, plan

TOML = """
[variants.avatar]
fit = "cover"
width = 240
height = 240
never_require_signed_urls = true

[variants.thumb]
options = "w=320,h=320"
"""


def test_load_toml_with_both_spellings(tmp_path: Path) -> None:
    path = tmp_path / "variants.toml"
    path.write_text(TOML)
    avatar, thumb = load(path)
    assert avatar == VariantSpec(id="avatar", fit="cover", width=240, height=240, never_require_signed_urls=True)
    assert (thumb.width, thumb.height, thumb.fit, thumb.metadata) == (320, 320, "scale-down", "none")
    assert avatar.api_body() == {
        "id": "avatar",
        "options": {"fit": "cover", "width": 240, "height": 240, "metadata": "none"},
        "neverRequireSignedURLs": True,
    }
    assert str(avatar.options) == "w=240,h=240,fit=cover,metadata=none"


def test_load_python_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_variants.py").write_text(
        "from cfvariants.variants import VariantSpec\n"
        "VARIANTS = [VariantSpec(id='hero', width=1600, height=900, fit='cover'), {'id': 'card', 'width': 400,"
        " 'height': 300}]\n"
        "OTHER = [{'id': 'x1', 'options': 'w=10,h=10,fit=pad'}]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert [s.id for s in load("my_variants")] == ["hero", "card"]
        assert load("my_variants:OTHER")[0].fit == "pad"
    finally:
        sys.modules.pop("my_variants", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[variants.bad-name]\nwidth = 1\nheight = 1\n", "letters and digits only"),
        ("[variants.a]\nwidth = 0\nheight = 1\n", "width: must be a whole number of pixels, at least 1, not 0"),
        ("[variants.a]\nwidth = 10\n", "height: missing; every variant needs width and height"),
        ("[variants.a]\nwidth = 10\nheight = 10\nfit = 'squeeze'\n", "fit: must be one of scale-down, contain, cover"),
        ("[variants.a]\nwidth = 10\nheight = 10\nfit = 'cvoer'\n", "not 'cvoer'; did you mean 'cover'?"),
        ("[variants.a]\nwidht = 10\nheight = 10\n", "widht: unknown field; did you mean 'width'?"),
        (
            "[variants.a]\nwidth = 'wide'\nheight = 10\n",
            "width: must be a whole number of pixels, at least 1, not 'wide'",
        ),
        ("[variants.a]\nwidth = 1\nheight = 1\nmetadata = 'all'\n", "metadata: must be one of keep, copyright, none"),
        ("[variants.a]\noptions = 'w=10,h=10,blur=3'\n", "only takes width, height, fit and metadata (not blur)"),
        ("[variants.a]\noptions = 'w=abc'\n", "width must be a positive integer"),
        (
            "[variants.a]\nwidth = 10\nheight = 10\ncolour = 'red'\n",
            "colour: unknown field (a variant takes fit, width",
        ),
        ("variants = 3\n", "expected [variants.<name>] tables"),
        ("[variants\n", "not valid TOML"),
    ],
)
def test_bad_declarations_name_the_variant_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "variants.toml"
    path.write_text(text)
    with pytest.raises(VariantDeclarationError) as info:
        load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_sources() -> None:
    with pytest.raises(VariantDeclarationError, match="no such file"):
        load("does-not-exist.toml")
    with pytest.raises(VariantDeclarationError, match="cannot import"):
        load("no_such_module_anywhere")


def test_duplicates_are_refused() -> None:
    with pytest.raises(VariantDeclarationError, match="declared twice"):
        declarations([{"id": "a", "width": 1, "height": 1}, {"id": "a", "width": 2, "height": 2}])


def spec(name: str, width: int = 100, **extra: object) -> VariantSpec:
    return VariantSpec.model_validate({"id": name, "width": width, "height": width, **extra})


def test_plan_creates_updates_and_leaves_undeclared_alone() -> None:
    account = [spec("public", 1366), spec("avatar", 200), spec("old")]
    declared = [spec("avatar", 240), spec("thumb")]
    result = plan(declared, account)
    assert [(c.action, c.id) for c in result.changes] == [("update", "avatar"), ("create", "thumb")]
    assert result.kept == ("old", "public")
    assert result.changes[0].fields_changed() == [("width", 200, 240), ("height", 200, 240)]
    text = result.describe()
    assert "~ update avatar: width 200 -> 240, height 200 -> 240" in text
    assert "+ create thumb: fit=scale-down, 100x100, metadata=none" in text
    assert "Plan: 1 to create, 1 to update, 0 to delete." in text
    assert "Not declared, left alone: old, public" in text


def test_prune_deletes_undeclared_but_never_public() -> None:
    result = plan([spec("avatar")], [spec("public"), spec("avatar"), spec("old")], prune=True)
    assert [(c.action, c.id) for c in result.changes] == [("delete", "old")]
    assert result.unchanged == ("avatar",)
    assert result.kept == ("public",)


def test_matching_account_gives_an_empty_plan() -> None:
    result = plan(
        [spec("a"), spec("b", never_require_signed_urls=True)], [spec("b", never_require_signed_urls=True), spec("a")]
    )
    assert result.is_empty
    assert result.describe().startswith("No changes")
    assert json.loads(result.to_json()) == {"changes": [], "unchanged": ["a", "b"], "kept": []}
