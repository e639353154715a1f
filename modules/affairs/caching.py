"""Derived catalog data cached per *catalog generation* (gateway.kit.generations).

Every write bumps the generation (a shared counter in the cache, Redis in
production), and every cached value's key includes it, so no replica serves a
count or facet older than the last change — no explicit deletes needed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.cache import Cache
from gateway.kit.generations import Generations

__all__ = ["bump_generation", "cached_json", "catalog_generations"]

NAMESPACE = "affairs:catalog"
# The counter's key from before the kit, so replicas of both versions agree during a deploy.
GENERATION_KEY = "affairs:catalog-generation"
T = TypeVar("T")


def catalog_generations(cache: Cache) -> Generations:
    return Generations(cache, NAMESPACE, counter_key=GENERATION_KEY)


async def bump_generation(cache: Cache) -> None:
    await catalog_generations(cache).bump()


async def cached_json(cache: Cache, key: str, ttl: int, produce: Callable[[], Awaitable[T]]) -> T:
    """Read-through cache of a JSON-able value under the current catalog generation."""
    return await catalog_generations(cache).cached(key, produce, ttl)
