"""How large an upload form may be, and, when a form is refused, whether the file or the form was too large.

Werkzeug refuses a multipart body with 413 for three reasons: the whole body is over ``MAX_CONTENT_LENGTH``, a
text field is over ``MAX_FORM_MEMORY_SIZE``, or there are more than ``MAX_FORM_PARTS`` parts. Its exception does
not say which, so ``UploadRequest`` tells them apart (``FileTooLarge`` or ``FormTooLarge``) for the message.

``MAX_FORM_MEMORY_SIZE`` must stay well above the 64 KiB Werkzeug's parser reads at a time: the parser checks
each chunk plus the few bytes it holds back (a CR or LF near a chunk's end might start the next boundary)
against that limit, even inside a file part. At 64 KiB every noisy photo with such a byte, most real photos
from about 100 KB up, was refused as "too large".
"""

from __future__ import annotations

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream

__all__ = [
    "FORM_FIELD_BYTES",
    "FORM_OVERHEAD_BYTES",
    "MAX_FORM_PARTS",
    "FileTooLarge",
    "FormTooLarge",
    "UploadRequest",
    "file_too_large_message",
    "form_config",
]

FORM_OVERHEAD_BYTES = 256 * 1024
"""What a form may add to its file: the text fields, part headers and boundaries."""
FORM_FIELD_BYTES = 256 * 1024
"""The largest text field (the app's are a title and a token, far smaller; four of Werkzeug's read chunks)."""
MAX_FORM_PARTS = 50
"""The app's forms have fewer than ten fields."""


class FileTooLarge(RequestEntityTooLarge):
    """The request is over ``MAX_CONTENT_LENGTH``: its file is over the upload limit (the rest is bounded)."""


class FormTooLarge(RequestEntityTooLarge):
    """The body is within the limit, but a text field is over ``FORM_FIELD_BYTES`` or it has too many parts."""


def form_config(max_upload_mb: int) -> dict[str, int]:
    """The Flask config keys for a form carrying one file of up to ``max_upload_mb`` MB."""
    return {
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024 + FORM_OVERHEAD_BYTES,
        "MAX_FORM_MEMORY_SIZE": FORM_FIELD_BYTES,
        "MAX_FORM_PARTS": MAX_FORM_PARTS,
    }


def file_too_large_message(max_upload_mb: int) -> str:
    return f"The file is larger than {max_upload_mb} MB."


def form_too_large_message() -> str:
    return (
        f"The form is too large: a text field is over {FORM_FIELD_BYTES // 1024} KB, or it has more than "
        f"{MAX_FORM_PARTS} fields."
    )


class UploadRequest(Request):
    """Flask's request, raising ``FileTooLarge`` or ``FormTooLarge`` instead of a bare 413."""

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except (FileTooLarge, FormTooLarge):
            raise
        except RequestEntityTooLarge:
            raise self._too_large() from None

    def _too_large(self) -> RequestEntityTooLarge:
        limit, length = self.max_content_length, self.content_length
        if limit is not None and length is not None and length > limit:
            return FileTooLarge()
        # A body without a Content-Length (chunked) is read through a stream that stops at the limit.
        stream = self.__dict__.get("stream")
        if length is None and isinstance(stream, LimitedStream) and stream.is_exhausted:
            return FileTooLarge()
        return FormTooLarge()
