"""Turning request bodies (multipart forms, JSON) into the typed arguments of ``Emulator`` methods.

Multipart fields arrive as text: booleans are ``true``/``false``; ``metadata`` is JSON text, or flattened fields
as form libraries send a dict: the official SDK writes ``metadata.owner=7``, ``metadata.deep.x=y`` and
``metadata.tags[]=a``; PHP/Rails-style clients write ``metadata[owner]=7``. Flattened values stay strings.
JSON bodies are objects whose unknown fields are refused by name (a typo such as ``require_signed_urls`` should
not be silently ignored).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

from cfvariants.emulator._errors import NOT_A_FORM, TOO_LARGE, EmulatorAPIError, bad_request
from cfvariants.limits import MAX_UPLOAD_BYTES

_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[([^\[\]]*)\]")
MAX_JSON_DEPTH = 32
"""Deepest nesting of a JSON body, metadata or flattened metadata key (1 KB of metadata needs nothing deeper);
past it a 5400 error, never a ``RecursionError`` in the parser or the encoder."""


class _NotJSON(ValueError):
    """A JSON constant Cloudflare's JSON does not have (NaN, Infinity): valid for Python, not for JSON."""


def _refuse_constant(name: str) -> object:
    raise _NotJSON(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _NotJSON(f"{text[:40]} is too large for a JSON number")
    return number


def loads_json(raw: str | bytes, what: str) -> Any:
    """Strict JSON (no NaN/Infinity, numbers that fit a double, at most ``MAX_JSON_DEPTH`` deep), or a 5400
    error naming ``what`` and the problem."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotJSON as exc:
        raise bad_request(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise bad_request(f"{what} nests more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an integer of more than 4300 digits
        raise bad_request(f"{what} is not valid JSON") from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise bad_request(f"{what} nests more than {MAX_JSON_DEPTH} levels deep")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` nests lists/objects more than ``limit`` deep (iterative: no recursion to exhaust)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def is_multipart(request: Request) -> bool:
    return request.mimetype == "multipart/form-data"


def multipart_form(request: Request) -> tuple[MultiDict[str, str], MultiDict[str, Any]]:
    """The text fields and files of a ``multipart/form-data`` body (5415 for anything else, 5413 if too big)."""
    if not is_multipart(request):
        raise EmulatorAPIError(
            415,
            NOT_A_FORM,
            "Images must be uploaded as a form (multipart/form-data with a 'file' field), not as raw image data",
        )
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        length, limit = request.content_length, request.max_content_length
        if length is not None and limit is not None and length > limit:
            message = "The request is larger than the 10 MB an image may have"
        else:  # werkzeug's other two form limits; saying "10 MB" for a 700 kB field would mislead
            memory, parts = request.max_form_memory_size or 0, request.max_form_parts or 0
            message = (
                f"A text field of the form is larger than {memory:,} bytes, or the form has more than {parts:,} parts"
            )
        raise EmulatorAPIError(413, TOO_LARGE, message) from None
    if any(not isinstance(name, str) for name in (*form.keys(), *files.keys())):
        raise bad_request('a part of the form has no readable name (Content-Disposition: form-data; name="...")')
    return form, files


def read_upload_file(form: MultiDict[str, str], files: MultiDict[str, Any]) -> tuple[bytes | None, str | None]:
    """The ``file`` field's bytes and file name (a text field named ``file`` counts as its UTF-8 bytes)."""
    storage = files.get("file")
    if storage is not None:
        data = storage.stream.read(MAX_UPLOAD_BYTES + 1)
        return data, storage.filename
    text = form.get("file")
    return (None, None) if text is None else (text.encode("utf-8"), None)


def optional_form(form: MultiDict[str, str], name: str) -> str | None:
    value = form.get(name)
    return None if value is None else value


def form_bool(name: str, value: object, default: bool = False) -> bool:
    """``true``/``false`` (any case) from a form, or a JSON boolean."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"{name} must be true or false, not {str(value)[:40]!r}")


def form_metadata(form: MultiDict[str, str]) -> dict[str, Any] | None:
    """``metadata`` as JSON text, or built from flattened ``metadata.<key>``/``metadata[<key>]`` fields;
    ``None`` when neither is present."""
    text = form.get("metadata")
    flattened = [(key, value) for key, value in form.items(multi=True) if key.startswith(("metadata[", "metadata."))]
    if text is not None and flattened:
        raise bad_request("send metadata either as JSON text or as metadata.<key> fields, not both")
    if text is not None:
        return _metadata_json(text)
    if flattened:
        return _metadata_fields(flattened)
    return None


def _metadata_json(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    value = loads_json(text, 'metadata (a JSON object such as {"owner": 7})')
    if not isinstance(value, dict):
        raise bad_request(f"metadata must be a JSON object, not a JSON {type(value).__name__}")
    return value


def _field_path(key: str) -> list[str]:
    """``metadata.a[b][]`` -> ``["a", "b", ""]`` (``""`` marks a list item); 5400 for anything else."""
    rest = key[len("metadata") :]
    matches = list(_PATH_PART.finditer(rest))
    if not matches or "".join(m.group(0) for m in matches) != rest or matches[0].group(0) == "[]":
        raise bad_request(f"form field {key[:80]!r} is not metadata.<key> (or metadata[<key>]), nested or with []")
    if len(matches) > MAX_JSON_DEPTH:
        raise bad_request(f"form field {key[:80]!r} nests more than {MAX_JSON_DEPTH} levels deep")
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in matches]


def _metadata_fields(fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields:
        path = _field_path(key)
        node: Any = out
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":  # metadata[tags][] = list item
                if not last or not isinstance(node, list):
                    raise bad_request(f"form field {key[:80]!r}: [] must come last")
                node.append(value)
                break
            following_list = not last and path[index + 1] == ""
            if not isinstance(node, dict):
                raise bad_request(f"form field {key[:80]!r} conflicts with another metadata field")
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, [] if following_list else {})
    return out


def json_object(request: Request, *, allowed: Iterable[str], required: Iterable[str] = ()) -> dict[str, Any]:
    """The body as a JSON object with only ``allowed`` fields (an empty body is ``{}``)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        body: Any = {}
    else:
        body = loads_json(raw, "the request body")
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, not a JSON {type(body).__name__}")
    allowed = set(allowed)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = [name for name in required if name not in body]
    if missing:
        raise bad_request(f"missing required field(s): {', '.join(missing)}")
    return body


def json_metadata(value: object) -> Mapping[str, Any] | None:
    """``metadata`` in a JSON body: an object, or JSON text of one (as multipart clients send it)."""
    if value is None:
        return None
    if isinstance(value, str):
        return _metadata_json(value)
    if not isinstance(value, dict):
        raise bad_request(f"metadata must be a JSON object, not {type(value).__name__}")
    return value


def optional_string(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"{name} must be a string, not {type(value).__name__}")
