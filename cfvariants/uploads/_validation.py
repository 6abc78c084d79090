"""What an app checks before it accepts a file for upload: the bytes must be an image Cloudflare will take.

The file type comes from the bytes (never from the name or the browser's content type), the image is decoded
far enough to catch truncated and corrupt files, Cloudflare's limits apply (10 MB, 100 megapixels, 12,000 px),
and an SVG that carries scripts, event handlers or external references is refused rather than silently changed.
The checks are ``cfvariants.imaging``'s, which the emulator uses too, so dev and production refuse the same files.
"""

from __future__ import annotations

from pathlib import Path

from cfvariants.imaging import ImageInfo, ImageRejected, active_content, inspect_image

from ._records import UploadsError

ACCEPTED_FORMATS = ("jpeg", "png", "gif", "webp", "avif", "svg")
"""The image formats uploads accept (what Cloudflare Images stores)."""


class UploadRejected(UploadsError):
    """The file is not an image Cloudflare will take; the message is written for the person who chose it."""


def check_image_file(path: str | Path, *, formats: tuple[str, ...] = ACCEPTED_FORMATS) -> tuple[str, str]:
    """Check a staged file; returns ``(format, content type)`` or raises ``UploadRejected``."""
    info = check_image_bytes(Path(path).read_bytes(), formats=formats)
    return info.format, info.content_type


def check_image_bytes(data: bytes, *, formats: tuple[str, ...] = ACCEPTED_FORMATS) -> ImageInfo:
    """Check an image in memory; returns what it is (format, content type, width, height...) or raises
    ``UploadRejected``."""
    if not data:
        raise UploadRejected("The file is empty.")
    try:
        info, _stored = inspect_image(data)
    except ImageRejected as exc:
        raise UploadRejected(_sentence(exc.message)) from None
    if info.format not in formats:
        raise UploadRejected(f"{info.format.upper()} files are not accepted here; use {', '.join(formats)}.")
    if info.format == "svg":
        active = active_content(data)  # parses as inspect_image just did: it cannot fail where that passed
        if active:
            raise UploadRejected(
                f"This SVG contains {', '.join(active[:3])}. Images may not run code or load other files; "
                "remove them and upload again."
            )
    return info


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def check_image_content_type(path: Path) -> str:
    """``check_image_file`` as ``UploadStore.stage`` wants it: the content type found in the bytes."""
    return check_image_file(path)[1]
