"""Pickles made by 0.1.0 (tests/fixtures/pickles-0.1.0, made with the code of the release, commit a81baa6, by
``pickle.dumps(obj, protocol=4)`` of the objects named by the files).

0.1.0 pickled the core objects under their old module paths (``cfvariants.delivery``, ``options``, ``signing``,
``transformations``, ``errors``) and through private rebuild helpers of those modules. Since the modules became
private those pickles no longer load, by decision (CHANGELOG, Unreleased): the only way plain ``pickle.loads``
finds them is by importing those paths, which would make the old import paths work again and freeze the 0.1.0
helpers' signatures. What is pickled durably keeps working: Django storages (their path was kept; tested with the
storage's own 0.1.0 pickle in tests/django), fields and migrations, and queued uploads (ids only, pinned task
names). These tests pin both halves, so a change to either is deliberate."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from cfvariants import Delivery, Options, OptionsError, SigningKey, Transformations

OLD = Path(__file__).resolve().parent.parent / "fixtures" / "pickles-0.1.0"
CHANGELOG = Path(__file__).resolve().parent.parent.parent / "CHANGELOG.md"


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("Delivery", "cfvariants.delivery"),
        ("Options", "cfvariants.options"),
        ("SigningKey", "cfvariants.signing"),
        ("Transformations", "cfvariants.transformations"),
        ("OptionsError", "cfvariants.errors"),
    ],
)
def test_core_pickles_of_0_1_0_name_their_old_module_and_do_not_load(name: str, module: str) -> None:
    with pytest.raises(ModuleNotFoundError) as raised:
        pickle.loads((OLD / f"{name}.pickle").read_bytes())
    assert raised.value.name == module
    assert "Pickles made by 0.1.0 of the core objects" in CHANGELOG.read_text()  # the breaking change is written down


def test_the_same_objects_pickled_now_load_and_name_the_public_package() -> None:
    for obj in (
        Delivery("ZWd9g1K7eljCn_KDTu_MWA", signing_key="example-signing-key-123", domain="images.example.com"),
        Options.parse("w=200,h=100,fit=cover"),
        SigningKey("example-signing-key-123"),
        Transformations("www.example.com"),
    ):
        data = pickle.dumps(obj, protocol=4)
        assert b"cfvariants._" not in data  # no private module in the pickle: the next layout change keeps it
        assert pickle.loads(data) == obj
    error = pickle.loads(pickle.dumps(OptionsError("bad option")))
    assert type(error) is OptionsError and str(error) == "bad option"
