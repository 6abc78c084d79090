"""What Django 4.2 LTS lacks and 5.x has, for the storage (Django 5.1 added ``Storage.is_name_available``)."""

from __future__ import annotations

import os
import pathlib

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name

HAS_IS_NAME_AVAILABLE = hasattr(Storage, "is_name_available")


def available_name(storage: Storage, name: str, max_length: int | None) -> str:
    """Django 5.1's ``Storage.get_available_name``, asking ``storage.is_name_available`` (so the same names
    are refused on Django 4.2, whose loop asks only ``exists``)."""
    dir_name, file_name = os.path.split(name)
    if ".." in pathlib.PurePath(dir_name).parts:
        raise SuspiciousFileOperation(f"Detected path traversal attempt in '{dir_name}'")
    validate_file_name(file_name)
    file_ext = "".join(pathlib.PurePath(file_name).suffixes)
    file_root = file_name.removesuffix(file_ext)
    while not storage.is_name_available(name, max_length=max_length):
        name = os.path.join(dir_name, storage.get_alternative_name(file_root, file_ext))
        if max_length is None:
            continue
        truncation = len(name) - max_length
        if truncation > 0:
            file_root = file_root[:-truncation]
            if not file_root:
                raise SuspiciousFileOperation(
                    f'Storage can not find an available filename for "{name}". Please make sure that the '
                    'corresponding file field allows sufficient "max_length".'
                )
            name = os.path.join(dir_name, storage.get_alternative_name(file_root, file_ext))
    return name
