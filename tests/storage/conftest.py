"""The tests of cfvariants.storage.ImageStore. Fixtures only these tests use belong here; shared ones are in
tests/conftest.py (Redis), the emulator's in the cfvariants.testing plugin."""
