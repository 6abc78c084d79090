"""What an emulated account keeps: records in SQLite, originals and rendered variants as files.

``Storage.open(data_dir)`` opens all three; the rest of the emulator reads and writes through it.
"""

from __future__ import annotations
