"""Helpers of the public packages' ``__init__`` files."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, MutableMapping


def name_public_module(namespace: MutableMapping[str, object], names: Iterable[str]) -> None:
    """Give the classes and functions a public package exports the package as ``__module__`` (as httpx does):
    pickles, reprs, tracebacks and documentation then name ``cfvariants.Delivery``, not the private module it is
    defined in. Objects already named after a public module are left alone."""
    public = str(namespace["__name__"])
    for name in names:
        value = namespace.get(name)  # absent: imported on first use (``__getattr__``)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        module = getattr(value, "__module__", "") or ""
        if any(part.startswith("_") for part in module.split(".")):
            value.__module__ = public
