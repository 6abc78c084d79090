"""The tests of template adapters (Jinja, Flask, Django filters on Transformations) and the template checker. Fixtures
only these tests use belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the
cfvariants.testing plugin."""
