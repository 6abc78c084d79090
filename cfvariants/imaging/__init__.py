"""Facts about an image file, as Cloudflare Images would see them: one implementation shared by upload validation,
the storage and the emulator.

* ``inspect_image(data)``: the format (from the bytes, never the name), size, dimensions as displayed, frames and
  transparency, after Cloudflare's limits (10 MB, 100 megapixels, 12,000 px a side) and a decode check that
  catches truncated files; ``ImageRejected`` names what is wrong. An SVG comes back sanitised.
* ``active_content(svg)`` / ``sanitize_svg(svg)``: what in an SVG would run code or load other files, and the
  drawing without it (what Cloudflare serves after its own ``svg-hush`` filter).
* ``placeholder_metadata(data)``: the size and ThumbHash an upload records in the image's metadata.

Pillow is imported only when a raster image is opened; SVG checks use the standard library alone.
"""

from cfvariants._public import name_public_module as _name_public_module

from ._inspect import (
    CONTENT_TYPES,
    ImageInfo,
    ImageRejected,
    exif_orientation,
    inspect_image,
    open_raster,
    oriented_size,
    sniff_format,
)
from ._placeholder import PLACEHOLDER_KEYS, THUMBNAIL_SIDE, placeholder_metadata, with_placeholder_metadata
from ._svg import SVGError, active_content, looks_like_svg, sanitize_svg, svg_size

__all__ = [
    "CONTENT_TYPES",
    "PLACEHOLDER_KEYS",
    "THUMBNAIL_SIDE",
    "ImageInfo",
    "ImageRejected",
    "SVGError",
    "active_content",
    "exif_orientation",
    "inspect_image",
    "looks_like_svg",
    "open_raster",
    "oriented_size",
    "placeholder_metadata",
    "sanitize_svg",
    "sniff_format",
    "svg_size",
    "with_placeholder_metadata",
]

_name_public_module(globals(), __all__)
