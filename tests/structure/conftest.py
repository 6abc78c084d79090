"""The tests of the structure: the public names of each package, pickles and reprs by public path, and layering.
Fixtures only these tests use belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the
cfvariants.testing plugin."""
