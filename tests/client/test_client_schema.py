"""The response bodies our tests serve (tests/fixtures/api) match Cloudflare's OpenAPI subset, so the client
is tested against what Cloudflare says it sends. ``$ref``s are resolved inside the schema file.

The 2024 schema has a few defects that would reject Cloudflare's own examples; they are patched here, each
with its reason, and ``test_the_patched_defects_are_real`` keeps the list honest.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from client_helpers import FIXTURES, fixture
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

# Cloudflare's OpenAPI subset for the Images endpoints (cloudflare/api-schemas, 2024-08-06), kept in the repository
# so a clean checkout tests against it.
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "openapi" / "cloudflare-images-openapi.json"
ROOT = "urn:cloudflare-images-openapi"
ACCOUNT = "/accounts/{account_id}"

# fixture -> the operations whose 200 response it must satisfy
OPERATIONS: dict[str, list[tuple[str, str]]] = {
    **{
        name: [("post", "/images/v1"), ("get", "/images/v1/{image_id}"), ("patch", "/images/v1/{image_id}")]
        for name in ("image", "image_private", "image_custom_id", "image_metadata_key", "image_draft")
    },
    "images_v1": [("get", "/images/v1")],
    "images_v2_first": [("get", "/images/v2")],
    "images_v2_last": [("get", "/images/v2")],
    "deleted": [("delete", "/images/v1/{image_id}"), ("delete", "/images/v1/variants/{variant_id}")],
    "direct_upload": [("post", "/images/v2/direct_upload")],
    "stats": [("get", "/images/v1/stats")],
    "variants": [("get", "/images/v1/variants")],
    "variant": [
        ("post", "/images/v1/variants"),
        ("get", "/images/v1/variants/{variant_id}"),
        ("patch", "/images/v1/variants/{variant_id}"),
    ],
    "keys": [
        ("get", "/images/v1/keys"),
        ("put", "/images/v1/keys/{signing_key_name}"),
        ("delete", "/images/v1/keys/{signing_key_name}"),
    ],
    # Absent from Cloudflare's schema (documented only): GET/PATCH /images/v1/config and
    # GET /images/v1/batch_token. These fixtures follow the documented examples and are checked against the
    # common envelope only.
    "config": [],
    "batch_token": [],
}
ERROR_FIXTURES = sorted(path.stem for path in FIXTURES.glob("error_*.json"))


def _load() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return document


def _patched(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    schemas = document["components"]["schemas"]
    # Image ids: maxLength 32 contradicts the schema's own 36-character UUID examples and 1,024-char custom ids.
    del schemas["images_image_identifier"]["maxLength"]
    direct = schemas["images_image_direct_upload_response_v2"]["allOf"][1]["properties"]["result"]["properties"]
    del direct["id"]["maxLength"]
    # Continuation tokens: maxLength 32, yet the schema's example token has 43 characters.
    del schemas["images_images_list_continuation_token"]["maxLength"]
    # Variant ids and key names: "^[a-zA-Z0-9]$" allows exactly one character (a schema defect: ids of up to 99
    # letters and digits are documented); meant "+".
    schemas["images_image_variant_identifier"]["pattern"] = "^[a-zA-Z0-9]+$"
    schemas["images_signing_key_identifier"]["pattern"] = "^[a-zA-Z0-9]+$"
    # Error codes: "minimum: 1000", yet the API's rate-limit answer is code 971 ("Please wait and consider
    # throttling your request speed", e.g. github.com/cloudflare/workers-sdk/issues/10025).
    del schemas["images_messages"]["items"]["properties"]["code"]["minimum"]
    return document


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    registry: Registry[Any] = Registry().with_resource(ROOT, Resource.from_contents(document, DRAFT4))
    return OAS30Validator(_absolute(schema), registry=registry)


def _absolute(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its document-relative ``$ref`` made absolute, so it resolves inside the schema file."""
    return {"$ref": ROOT + schema["$ref"]} if "$ref" in schema else schema


def _response_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    response = document["paths"][ACCOUNT + path][method]["responses"]["200"]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def _cases() -> Iterator[tuple[str, str, str]]:
    for name, operations in OPERATIONS.items():
        for method, path in operations:
            yield name, method, path


DOCUMENT = _patched(_load())


@pytest.mark.parametrize(("name", "method", "path"), list(_cases()))
def test_fixture_matches_the_operations_response_schema(name: str, method: str, path: str) -> None:
    _validator(DOCUMENT, _response_schema(DOCUMENT, method, path)).validate(fixture(name))


@pytest.mark.parametrize("name", ERROR_FIXTURES)
def test_error_fixture_matches_the_failure_envelope(name: str) -> None:
    # Every 4XX in the schema is allOf(<success response>, failure envelope): success must then be both true
    # and false, which nothing satisfies; the failure envelope alone is what error bodies follow.
    _validator(DOCUMENT, {"$ref": "#/components/schemas/images_api-response-common-failure"}).validate(fixture(name))


@pytest.mark.parametrize("name", ["config", "batch_token"])
def test_docs_only_fixtures_use_the_common_envelope(name: str) -> None:
    _validator(DOCUMENT, {"$ref": "#/components/schemas/images_api-response-common"}).validate(fixture(name))


def test_every_fixture_is_checked_and_every_json_operation_has_a_fixture() -> None:
    assert {path.stem for path in FIXTURES.glob("*.json")} == set(OPERATIONS) | set(ERROR_FIXTURES)
    covered = {(method, ACCOUNT + path) for operations in OPERATIONS.values() for method, path in operations}
    json_operations = {
        (method, path)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation["responses"]["200"]["content"]
    }
    assert json_operations == covered  # (the blob endpoint answers image/*, not JSON)


def test_the_validator_resolves_refs_and_rejects_wrong_bodies() -> None:
    schema = _response_schema(DOCUMENT, "get", "/images/v1/{image_id}")
    broken = fixture("image")
    broken["result"]["variants"] = "https://imagedelivery.net/h/id/public"  # must be an array
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'array'"):
        _validator(DOCUMENT, schema).validate(broken)
    failed = fixture("error_not_found")
    del failed["errors"][0]["message"]  # every error has a code and a message
    with pytest.raises(jsonschema.ValidationError, match="'message' is a required property"):
        _validator(DOCUMENT, {"$ref": "#/components/schemas/images_api-response-common-failure"}).validate(failed)


def test_the_patched_defects_are_real() -> None:
    original = _load()
    with pytest.raises(jsonschema.ValidationError, match="is too long"):  # 36-character UUID id
        _validator(original, _response_schema(original, "get", "/images/v1/{image_id}")).validate(fixture("image"))
    with pytest.raises(jsonschema.ValidationError, match="does not match"):  # variant id "hero"
        _validator(original, _response_schema(original, "get", "/images/v1/variants/{variant_id}")).validate(
            fixture("variant")
        )
    with pytest.raises(jsonschema.ValidationError, match="less than the minimum of 1000"):  # code 971
        _validator(original, {"$ref": "#/components/schemas/images_api-response-common-failure"}).validate(
            fixture("error_rate_limited")
        )
    four_xx = original["paths"][ACCOUNT + "/images/v1/{image_id}"]["get"]["responses"]["4XX"]
    with pytest.raises(jsonschema.ValidationError):
        _validator(original, four_xx["content"]["application/json"]["schema"]["allOf"][0]).validate(
            fixture("error_not_found")
        )
