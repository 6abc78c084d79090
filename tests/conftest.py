"""Shared test configuration."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Shared, noisy machines: no per-example deadlines, and slow generation is not a failure.
settings.register_profile("cfvariants", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("cfvariants")
