"""The emulated account's rules and state changes, free of HTTP: ``Images`` (uploads, direct uploads, lists) and
``Account`` (settings, named variants, signing keys, batch tokens), with the checks Cloudflare documents."""

from __future__ import annotations
