"""``Options`` is validated once, by the option parsers: what they produce must already be what pydantic's own
validation of the declared fields accepts, in strict mode, unchanged. (This is the measurement behind dropping the
second validation: if pydantic ever had something to add, these tests fail.)"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from pydantic import BaseModel, create_model
from test_properties import options

from cfvariants import Options, OptionsError

# The same fields, types and defaults as Options, without its validator: pydantic's judgement alone.
PydanticOnly: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "PydanticOnly",
    **{name: (field.annotation, field.default) for name, field in Options.model_fields.items()},
)


def pydantic_accepts_unchanged(built: Options) -> None:
    values = built.model_dump()
    checked = PydanticOnly.model_validate(values, strict=True)
    assert checked.model_dump() == values
    assert {name: type(value) for name, value in checked.model_dump().items()} == {
        name: type(value) for name, value in values.items()
    }


@given(options())
def test_parsed_and_keyword_options_are_already_what_pydantic_would_make(built: Options) -> None:
    pydantic_accepts_unchanged(built)
    parsed = Options.parse(str(built)) if not built.is_empty else built
    pydantic_accepts_unchanged(parsed)
    again = Options(**built.to_kwargs())
    pydantic_accepts_unchanged(again)
    assert parsed == again == built


@pytest.mark.parametrize(
    ("keywords", "canonical"),
    [
        ({"width": 200.0, "height": 100.0}, "w=200,h=100"),
        ({"dpr": 2, "sharpen": 1}, "dpr=2,sharpen=1"),
        ({"rotate": 90.0}, "rotate=90"),
        ({"gravity": [0.5, 1]}, "g=0.5x1"),
        ({"trim": [1, 2.0, 3, 4]}, "trim=1;2;3;4"),
        ({"quality": "80", "format": "webp"}, "q=80,f=webp"),
        ({"anim": False, "blur": 250.0}, "anim=false,blur=250"),
    ],
)
def test_equal_values_of_other_types_normalise_to_the_declared_types(keywords: dict[str, Any], canonical: str) -> None:
    built = Options(**keywords)
    assert str(built) == canonical
    pydantic_accepts_unchanged(built)
    assert Options.model_validate(keywords) == built


def test_model_validate_and_nested_models_use_the_same_parsers() -> None:
    class Holder(BaseModel):
        options: Options

    assert Holder(options={"w": 300, "fit": "cover"}).options == Options.parse("w=300,fit=cover")
    same = Options(width=5)
    assert Holder(options=same).options is same
    with pytest.raises(ValueError, match="width must be"):
        Holder(options={"width": True})
    with pytest.raises(OptionsError, match="did you mean 'width'"):
        Options(widht=5)


def test_an_options_pydantic_builds_without_validation_is_equal_to_the_validated_one() -> None:
    """``model_construct`` (pydantic's unvalidated constructor, used by tools that copy models) still gives an
    Options with its canonical text and hash, equal to the validated one and usable as a variant."""
    built = Options.model_construct(width=200, fit="cover")
    validated = Options(width=200, fit="cover")
    assert str(built) == "w=200,fit=cover" and built == validated and hash(built) == hash(validated)
    assert {validated: "found"}[built] == "found"
    assert str(Options.model_construct()) == "" and Options.model_construct().is_empty
    assert str(Options.model_construct(quality=80, width=10)) == "w=10,q=80"
