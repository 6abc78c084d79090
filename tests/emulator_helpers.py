"""Helpers for the emulator's tests: API paths, envelope assertions, data-directory snapshots, schema checks."""

from __future__ import annotations

import copy
import json
import sqlite3
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from cfvariants.emulator import DEV_ACCOUNT_ID

API = f"/client/v4/accounts/{DEV_ACCOUNT_ID}/images"
OPENAPI = Path(__file__).resolve().parent / "fixtures" / "openapi" / "cloudflare-images-openapi.json"
_SCHEMA_URI = "urn:cloudflare-images-openapi"


def ok(response: httpx.Response) -> Any:
    """The ``result`` of a successful v4 envelope (asserting its shape)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == [], body
    return body["result"]


def fails(response: httpx.Response, status: int, code: int) -> str:
    """The message of a failed v4 envelope with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["result"] is None, body
    assert [error["code"] for error in body["errors"]] == [code], body
    message: str = body["errors"][0]["message"]
    return message


def upload(
    http: httpx.Client, data: bytes | None = None, *, filename: str = "photo.jpg", **fields: Any
) -> httpx.Response:
    """POST /images/v1 with ``file`` (when ``data``) and form ``fields`` (dicts become JSON text)."""
    form = {name: json.dumps(value) if isinstance(value, dict) else str(value) for name, value in fields.items()}
    files = {"file": (filename, data, "application/octet-stream")} if data is not None else None
    if files is None:
        return http.post(f"{API}/v1", data=form, files={"_": ("", b"")})  # still multipart
    return http.post(f"{API}/v1", data=form, files=files)


def snapshot(data_dir: Path) -> tuple[frozenset[str], dict[str, int]]:
    """What a data directory holds: every file except SQLite's own, and the row count of every table."""
    files = frozenset(
        str(path.relative_to(data_dir))
        for path in data_dir.rglob("*")
        if path.is_file() and not path.name.startswith("emulator.sqlite3")
    )
    with sqlite3.connect(data_dir / "emulator.sqlite3") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}
    return files, counts


# -- OpenAPI ----------------------------------------------------------------------------------------------------


@cache
def _document() -> dict[str, Any]:
    """The OpenAPI subset with its known defects corrected, in this one place (each would reject Cloudflare's own
    answers): image ids are UUIDs (36 characters) although ``maxLength`` says 32 (twice); a variant id pattern
    ``^[a-zA-Z0-9]$`` allows one character although ids are up to 99; and every ``4XX`` response is an ``allOf`` of
    the success and the failure envelope, which no body can satisfy (``success`` cannot be both true and false),
    so it is replaced by the common failure envelope."""
    document: dict[str, Any] = json.loads(OPENAPI.read_text())
    schemas = document["components"]["schemas"]
    del schemas["images_image_identifier"]["maxLength"]
    schemas["images_image_variant_identifier"]["pattern"] = "^[a-zA-Z0-9]+$"
    direct = schemas["images_image_direct_upload_response_v2"]["allOf"][1]["properties"]["result"]["properties"]
    del direct["id"]["maxLength"]
    failure = {"$ref": "#/components/schemas/images_api-response-common-failure"}
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "4XX" in operation.get("responses", {}):
                operation["responses"]["4XX"]["content"] = {"application/json": {"schema": failure}}
    return document


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the corrected document (schemathesis adapts the dict it is given)."""
    return copy.deepcopy(_document())


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(_document(), default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(_SCHEMA_URI, resource)
    return registry


def schema_errors(path: str, method: str, response: httpx.Response) -> list[str]:
    """Validation errors of ``response`` against the operation's schema (200: its success schema; 4xx: the
    common failure schema, which ``_document`` puts in place of the subset's unsatisfiable 4XX schemas)."""
    operation = _document()["paths"][path][method.lower()]
    if response.status_code == 200:
        pointer = _pointer_to(operation["responses"]["200"]["content"]["application/json"]["schema"])
    else:
        pointer = "#/components/schemas/images_api-response-common-failure"
    validator = OAS30ReadValidator({"$ref": f"{_SCHEMA_URI}{pointer}"}, registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())]


def _pointer_to(schema: dict[str, Any]) -> str:
    ref: str = schema["$ref"]
    return ref


class FakeClock:
    """A clock the test moves by hand (``EmulatorConfig(clock=...)``): expiries without sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def in_process(app: Any, *, token: str | None = None, base_url: str = "http://cfimages.test") -> httpx.Client:
    """An httpx client on ``app`` with no socket; sends ``token`` as the Bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=base_url, headers=headers)


def slow_uploads(app: Any, seconds: float) -> Callable[..., Any]:
    """The emulator's WSGI app with each upload taking ``seconds``: keeps uploads in flight when a worker stops."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/images/v1"):
            time.sleep(seconds)
        return app(environ, start_response)

    return wrapped
