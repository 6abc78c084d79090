"""The tests of the documentation site: every page's settings, figures and examples agree with the code. Fixtures only
these tests use belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the cfvariants.testing
plugin."""
