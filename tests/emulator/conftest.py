"""The tests of the local Cloudflare Images emulator, its CLI, cfvariants.local and the pytest plugin. Fixtures only
these tests use belong here; shared ones are in tests/conftest.py (Redis), the emulator's in the cfvariants.testing
plugin."""
