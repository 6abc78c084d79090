"""The tests of the reference app (flask_app/) and its production recipe. Fixtures only these tests use belong here;
shared ones are in tests/conftest.py (Redis), the emulator's in the cfvariants.testing plugin."""
