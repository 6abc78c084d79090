"""The tests of the pure core: options, delivery URLs, signing, html/srcset/layouts, Transformations, settings.
Fixtures only these tests use belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the
cfvariants.testing plugin."""
