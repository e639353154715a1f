"""Both cache backends for kit tests: the in-process one and a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.cache import Cache, MemoryCache, connect_cache


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        memory = MemoryCache()
        yield memory
        await memory.close()
        return
    redis_cache = connect_cache(request.getfixturevalue("redis_url"))
    yield redis_cache
    await redis_cache.close()


@pytest.fixture
def namespace() -> str:
    """A fresh namespace, so tests sharing one Redis never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:12]}"
