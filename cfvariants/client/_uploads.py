"""Preparing an upload: the multipart fields, the file part, and the marker that makes retries safe.

Why a marker: a POST that fails after it may have reached Cloudflare (a 5xx, a dropped connection, a read
timeout) may or may not have stored the image. Sending it again blindly can store it twice. So, unless the caller
turns it off, every upload carries a random token in its metadata under ``cfv_upload``; before repeating an
uncertain upload, the client looks for an image with that token (a custom id is looked up directly) and returns
it instead of uploading again. See ``_flow.upload``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from cfvariants._urls import redact_userinfo

from ._checks import check_custom_id, encode_metadata
from ._errors import ValidationError
from ._requests import Request
from ._sources import FileInput, UploadSource, check_content_type, open_source

MARKER_KEY = "cfv_upload"
"""The metadata key of the idempotency marker (a 16-character random token per upload call)."""


@dataclass
class PreparedUpload:
    """A validated upload, ready to be sent (again, if need be). Close it to release an opened file."""

    source: UploadSource | None
    form: list[tuple[str, str]]
    custom_id: str | None
    marker: str | None

    @property
    def verifiable(self) -> bool:
        """Whether the client can find out if an earlier attempt stored the image."""
        return self.custom_id is not None or self.marker is not None

    def request(self) -> Request:
        source = self.source
        file = None if source is None else (source.filename, source.stream, source.content_type)
        return Request("POST", "/images/v1", form=self.form, file=file)

    def close(self) -> None:
        if self.source is not None:
            self.source.close()

    def __enter__(self) -> PreparedUpload:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def prepare_upload(
    file: FileInput | None,
    *,
    url: str | None,
    id: str | None,
    metadata: Mapping[str, Any] | None,
    require_signed_urls: bool | None,
    creator: str | None,
    filename: str | None,
    content_type: str | None,
    marker: bool,
) -> PreparedUpload:
    """Check every argument, then open the file; ``ValidationError`` before anything is sent."""
    if (file is None) == (url is None):
        raise ValidationError("pass either a file (path, bytes or file object) or url=, not both and not neither")
    if require_signed_urls is not None and not isinstance(require_signed_urls, bool):
        raise ValidationError(f"require_signed_urls must be True or False, not {require_signed_urls!r}")
    private = bool(require_signed_urls)
    form: list[tuple[str, str]] = []
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            shown = repr(redact_userinfo(url)) if isinstance(url, str) else type(url).__name__
            raise ValidationError(f"url must be an http(s) URL for Cloudflare to fetch, not {shown}")
        form.append(("url", url))
    if id is not None:
        form.append(("id", check_custom_id(id, private=private)))
    if require_signed_urls is not None:
        form.append(("requireSignedURLs", "true" if private else "false"))
    if creator is not None:
        if not isinstance(creator, str):
            raise ValidationError(f"creator must be a string, not {type(creator).__name__}")
        form.append(("creator", creator))
    if content_type is not None:
        check_content_type(content_type)  # before a file is opened
    metadata_text, token = _metadata_with_marker(metadata, marker)
    if metadata_text is not None:
        form.append(("metadata", metadata_text))
    source = None if file is None else open_source(file, filename=filename, content_type=content_type)
    return PreparedUpload(source=source, form=form, custom_id=id, marker=token)


def _metadata_with_marker(metadata: Mapping[str, Any] | None, marker: bool) -> tuple[str | None, str | None]:
    """The metadata JSON to send and the marker token in it. The caller's metadata alone must fit in 1,024
    bytes; when the marker would not fit too, the upload goes without it (and is not repeated when uncertain)."""
    text = None if metadata is None else encode_metadata(metadata)
    if not marker:
        return text, None
    token = secrets.token_urlsafe(12)
    try:
        return encode_metadata({**(metadata or {}), MARKER_KEY: token}), token
    except ValidationError:  # the caller's metadata fits; with the marker it would not
        return text, None
