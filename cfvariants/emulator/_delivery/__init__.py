"""Serving images: delivery URLs of stored images (``HostedDelivery``), Image Transformations of files and allowed
origins at ``/cdn-cgi/image/`` (``TransformationServer``), and the transform engine behind both (``render``,
``output_format``: Pillow, the same pipeline for both)."""

from __future__ import annotations
