"""Derived data cached per *data generation*, for any namespace: bump on write, never delete.

A namespace (e.g. ``affairs:catalog``) has a generation counter in the shared cache (Redis in
production). Every write to the namespace's data calls :meth:`Generations.bump`; every cached
value's key includes the generation it was computed under, so after a write no replica reads a
count, facet or statistic older than that write — no list of keys to delete, and a value
computed while a write lands is stored under the old generation, which nobody reads any more.
Old entries simply expire with their TTL.

Example:
    >>> catalog = Generations(cache, "affairs:catalog")
    >>> stats = await catalog.cached("stats", compute_stats, ttl=3600)  # read-through
    >>> await catalog.bump()  # after any write: the next read computes afresh
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.cache import Cache

__all__ = ["GENERATION_TTL", "Generations"]

T = TypeVar("T")

#: The counter outlives every cached value by far; if it ever expires it restarts at 1, and
#: values from a year ago under the same number expired long before.
GENERATION_TTL = 365 * 86_400


class Generations:
    """The generation counter of one namespace and a read-through JSON cache keyed by it.

    Args:
        cache: the gateway's shared cache.
        namespace: a prefix owned by one module, e.g. ``"affairs:catalog"``.
        counter_key: override the counter's key (default ``"<namespace>:generation"``), for a
            namespace that already had a counter under another name.
    """

    def __init__(self, cache: Cache, namespace: str, *, counter_key: str | None = None) -> None:
        if not namespace:
            raise ValueError("namespace must not be empty")
        self.cache = cache
        self.namespace = namespace
        self.counter_key = counter_key or f"{namespace}:generation"

    async def current(self) -> int:
        """The current generation; 0 before the first write."""
        raw = await self.cache.get(self.counter_key)
        return int(raw) if raw is not None else 0

    async def bump(self) -> int:
        """Start a new generation (call after every write); returns it."""
        return await self.cache.incr(self.counter_key, GENERATION_TTL)

    def key(self, key: str, generation: int) -> str:
        """The cache key of ``key`` under ``generation``."""
        return f"{self.namespace}:{key}:g{generation}"

    async def cached(self, key: str, compute: Callable[[], Awaitable[T]], ttl: int) -> T:
        """``compute()``'s JSON-able result, cached for ``ttl`` seconds in this generation.

        The value goes through JSON even when computed: callers see the same types (lists, not
        tuples; string keys) whether it was cached or not.
        """
        full_key = self.key(key, await self.current())
        raw = await self.cache.get(full_key)
        if raw is not None:
            value: T = json.loads(raw)
            return value
        encoded = json.dumps(await compute(), ensure_ascii=False)
        await self.cache.set(full_key, encoded, ttl)
        produced: T = json.loads(encoded)
        return produced
