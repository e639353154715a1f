"""Derived catalog data cached per *catalog generation*.

Every write bumps the generation (a shared counter in the cache, Redis in
production), and every cached value's key includes it, so no replica serves a
count or facet older than the last change — no explicit deletes needed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.cache import Cache

__all__ = ["bump_generation", "cached_json"]

GENERATION_KEY = "affairs:catalog-generation"
T = TypeVar("T")


async def bump_generation(cache: Cache) -> None:
    await cache.incr(GENERATION_KEY, 365 * 86_400)


async def cached_json(cache: Cache, key: str, ttl: int, produce: Callable[[], Awaitable[T]]) -> T:
    """Read-through cache of a JSON-able value under the current catalog generation."""
    generation = await cache.get(GENERATION_KEY)
    full_key = f"{key}:{generation.decode() if generation else '0'}"
    raw = await cache.get(full_key)
    if raw is not None:
        value: T = json.loads(raw)
        return value
    produced = await produce()
    await cache.set(full_key, json.dumps(produced, ensure_ascii=False), ttl)
    return produced
