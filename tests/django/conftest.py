"""The tests of the Django app: storage, fields, template tags, the example project. Fixtures only these tests use
belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the cfvariants.testing plugin."""
