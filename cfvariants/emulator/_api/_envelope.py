"""Cloudflare's v4 response envelope (success, errors, messages, result) as JSON bytes.

Success: ``{"success": true, "errors": [], "messages": [], "result": ..., "result_info": ...}``; failure:
``{"success": false, "errors": [{"code": ..., "message": ...}], "messages": [], "result": null}``.
"""

from __future__ import annotations

import json
from typing import Any

from cfvariants.emulator._errors import EmulatorAPIError


def _dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def success(result: Any, *, result_info: dict[str, Any] | None = None) -> bytes:
    return _dump({"success": True, "errors": [], "messages": [], "result": result, "result_info": result_info})


def failure(*errors: EmulatorAPIError) -> bytes:
    return _dump(
        {
            "success": False,
            "errors": [{"code": error.code, "message": error.message} for error in errors],
            "messages": [],
            "result": None,
        }
    )
