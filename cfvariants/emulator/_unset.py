"""``UNSET``: marks an argument that was not given, where ``None`` is a meaningful value (``creator=None``)."""

from __future__ import annotations

from enum import Enum
from typing import Final


class Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = Unset.UNSET
