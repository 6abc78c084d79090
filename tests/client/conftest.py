"""Fixtures of the tests of the API clients (sync and async) against respx-mocked Cloudflare.

``api`` runs a test once per client (sync and async); ``cf`` mocks the account's API URL with respx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx
from client_helpers import API, Side


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Side]:
    side = Side(request.param)
    yield side
    await side.close()


@pytest.fixture
def cf() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router
