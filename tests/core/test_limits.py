"""Cloudflare's limits have one home (``cfvariants.limits``): the client, the emulator, uploads and Django all refuse
the same input, so what passes in development passes in production and the other way round."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import httpx
import pytest

from cfvariants import limits
from cfvariants.client import ImagesClient, ValidationError
from cfvariants.emulator import Emulator
from tests.imagegen import photo_jpeg

API = "/client/v4/accounts/{account}/images/v1"
ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = sorted(
    path
    for folder in ("cfvariants", "flask_app")
    for path in (ROOT / folder).rglob("*.py")
    if path.name != "limits.py" or path.parent.name != "cfvariants"
)

# Numbers that are Cloudflare limits and nothing else in this code base: written anywhere but limits.py they are a
# second definition of the fact (1,024 and 100 also mean other things, so they are checked by name below).
LIMIT_VALUES = {
    limits.MAX_UPLOAD_BYTES: "MAX_UPLOAD_BYTES",
    limits.MAX_SIDE: "MAX_SIDE",
    limits.MAX_AREA: "MAX_AREA",
    limits.ANIMATION_TRANSFORM_AREA: "ANIMATION_TRANSFORM_AREA",
    limits.BROWSER_TTL_RANGE[1]: "BROWSER_TTL_RANGE",
}


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return photo_jpeg(120_000, seed=18)


@pytest.mark.parametrize(
    ("custom_id", "refused"),
    [
        ("083eb7b2-5392-4565-b69e-aff66acddd00", True),  # the shape of Cloudflare's own ids
        ("083EB7B2-5392-4565-B69E-AFF66ACDDD00", True),  # the same UUID in capitals
        ("users/083eb7b2-5392-4565-b69e-aff66acddd00", False),  # a UUID as one segment of a path
        ("083eb7b253924565b69eaff66acddd00", False),  # 32 hex digits: documented nowhere as refused
        ("083eb7b2-53924565-b69e-aff66acddd00", False),  # not a UUID spelling anyone uses
        ("x" * limits.MAX_CUSTOM_ID_LENGTH, False),
        ("x" * (limits.MAX_CUSTOM_ID_LENGTH + 1), True),
    ],
)
def test_client_and_emulator_refuse_the_same_custom_ids(
    cf_client: ImagesClient, cf_http: httpx.Client, cf_emulator: Emulator, jpeg: bytes, custom_id: str, refused: bool
) -> None:
    raw = cf_http.post(  # past the client's checks, straight to the emulator's API
        API.format(account=cf_emulator.config.account_id),
        files={"file": ("a.jpg", jpeg, "image/jpeg")},
        data={"id": custom_id},
    )
    assert raw.status_code == (400 if refused else 200), raw.text
    if not refused:
        cf_emulator.delete_image(custom_id)
    try:
        image = cf_client.upload(jpeg, id=custom_id)
    except ValidationError as exc:
        assert refused, exc
    else:
        assert not refused and image.id == custom_id


def test_is_uuid_matches_what_python_writes_for_a_uuid() -> None:
    for _ in range(50):
        value = uuid.uuid4()
        assert limits.is_uuid(str(value)) and limits.is_uuid(str(value).upper())
        assert not limits.is_uuid(value.hex)
        assert not limits.is_uuid(f"{{{value}}}") and not limits.is_uuid(f"{value} ")


def test_variant_and_key_names_follow_the_documented_lengths() -> None:
    assert limits.is_variant_id("a" * 99) and not limits.is_variant_id("a" * 100)
    assert limits.is_key_name("k" * 20) and not limits.is_key_name("k" * 21)
    assert not limits.is_variant_id("thumb-1") and not limits.is_key_name("") and not limits.is_variant_id("ä")


def _numbers(tree: ast.AST) -> list[tuple[int, int]]:
    """(value, line) of every int literal and of every constant product/power such as ``10 * 1024 * 1024``."""
    found: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Pow):
            try:
                value = eval(compile(ast.Expression(node), "<limit>", "eval"), {"__builtins__": {}})
            except Exception:
                continue
            if isinstance(value, int):
                found.append((value, node.lineno))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            found.append((node.value, node.lineno))
    return found


def test_cloudflare_limits_are_written_only_in_limits_py() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {value} is {LIMIT_VALUES[value]}"
        for path in SOURCES
        for value, line in _numbers(ast.parse(path.read_text(encoding="utf-8")))
        if value in LIMIT_VALUES
    ]
    assert offenders == [], "import these from cfvariants.limits instead:\n" + "\n".join(offenders)


def test_id_rules_are_written_only_in_limits_py() -> None:
    """The UUID, variant-id and key-name patterns, and the limits by name, are defined nowhere else."""
    own = {"MAX_METADATA_BYTES", "MAX_CUSTOM_ID_LENGTH", "MAX_VARIANTS", "MAX_FILTERS", "MAX_FILTER_DEPTH"}
    offenders = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if "{8}-" in node.value or "{1,99}" in node.value or "{1,20}" in node.value:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: pattern {node.value[:40]!r}")
            elif isinstance(node, ast.Assign) and not isinstance(node.value, ast.Name | ast.Attribute):
                names = {target.id for target in node.targets if isinstance(target, ast.Name)}
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {name} =" for name in names & own]
    assert offenders == [], "use cfvariants.limits:\n" + "\n".join(offenders)
