"""What an upload records about its image, so pages can lay it out without fetching it: size and ThumbHash.

``placeholder_metadata(data)`` gives ``{"cfv_width": ..., "cfv_height": ..., "cfv_thumbhash": ...}`` for the
bytes of an image about to be uploaded: the size as displayed (EXIF orientation applied, as Cloudflare does) and
the ThumbHash of a copy at most 64 pixels a side. Every upload path adds it to the image's metadata (the
background worker, ``cfvariants upload``, ``ImageStore.save``); ``cfvariants.Original.of(image.meta)``
reads it back. It costs about 60 ms of CPU per image, once, and 70 of Cloudflare's 1,024 metadata bytes.

It never fails an upload: an image Pillow cannot read as pixels (SVG), or Pillow missing, gives ``{}``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from cfvariants._layouts import HEIGHT_KEY, THUMBHASH_KEY, WIDTH_KEY
from cfvariants.limits import MAX_METADATA_BYTES
from cfvariants.thumbhash import encode

PLACEHOLDER_KEYS = (WIDTH_KEY, HEIGHT_KEY, THUMBHASH_KEY)
"""The metadata keys placeholders read: width, height and ThumbHash of the original."""
THUMBNAIL_SIDE = 64
"""The ThumbHash is computed from a copy this many pixels on its longer side (the hash keeps 7 terms a side)."""
_ROTATED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
_ORIENTATION = 0x0112

log = logging.getLogger("cfvariants.imaging")


def placeholder_metadata(source: bytes | IO[bytes] | str | Path) -> dict[str, Any]:
    """``{cfv_width, cfv_height, cfv_thumbhash}`` of an image (bytes, a path, or a binary file, which is read
    from where it is and left where it was); ``{}`` when it is not a raster image Pillow can read."""
    try:
        from PIL import Image, ImageOps  # noqa: PLC0415 - Pillow only where uploads happen
    except ImportError:  # pragma: no cover - installed with every upload extra
        return {}
    stream = _stream(source)
    try:
        with Image.open(stream) as image:
            width, height = image.size
            if image.getexif().get(_ORIENTATION) in _ROTATED:
                width, height = height, width
            image.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))  # JPEG: decode at a fraction of the size
            small = ImageOps.exif_transpose(image).convert("RGBA")
            small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BOX)
            thumbhash = encode(small.width, small.height, small.tobytes())
    except Exception as exc:
        log.debug("no placeholder metadata: %s", exc)
        return {}
    return {WIDTH_KEY: width, HEIGHT_KEY: height, THUMBHASH_KEY: base64.b64encode(thumbhash).decode("ascii")}


def with_placeholder_metadata(
    metadata: Mapping[str, Any] | None, source: bytes | IO[bytes] | str | Path
) -> dict[str, Any]:
    """``metadata`` plus ``placeholder_metadata(source)`` (keys the caller set win), for an upload. When the
    additions would take the JSON past Cloudflare's 1,024 bytes they are left out, never the caller's keys."""
    given = dict(metadata or {})
    if all(key in given for key in PLACEHOLDER_KEYS):
        return given
    merged = {**placeholder_metadata(source), **given}
    try:
        size = len(json.dumps(merged, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError):  # the caller's metadata is not JSON: the upload reports that, not us
        return given
    return merged if size <= MAX_METADATA_BYTES else given


def _stream(source: bytes | IO[bytes] | str | Path) -> IO[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source)
    if isinstance(source, str | Path):
        return io.BytesIO(Path(source).read_bytes())
    position = source.tell()
    data = source.read()  # from here: Pillow would rewind a file to its start
    source.seek(position)
    return io.BytesIO(data)
