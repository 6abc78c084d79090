"""Serving images: delivery URLs of stored images (``HostedDelivery``), Image Transformations of files and allowed
origins at ``/cdn-cgi/image/`` (``TransformationServer``), and the transform engine behind both (``render``,
``output_format``: Pillow, the same pipeline for both)."""

from __future__ import annotations

from ._hosted import IGNORED_HEADER, DeliveryResponse, HostedDelivery
from ._transform import OUTPUT_FORMATS, Rendered, output_format, render
from ._transformations import DEFAULT_MAX_SOURCE_BYTES, TransformationServer, TransformationsMiddleware

__all__ = [
    "DEFAULT_MAX_SOURCE_BYTES",
    "IGNORED_HEADER",
    "OUTPUT_FORMATS",
    "DeliveryResponse",
    "HostedDelivery",
    "Rendered",
    "TransformationServer",
    "TransformationsMiddleware",
    "output_format",
    "render",
]
