"""The tests of headless Chromium tests of the reference app, the Django example and layouts (slow). Fixtures only
these tests use belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the cfvariants.testing
plugin."""
