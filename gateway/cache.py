"""Shared key-value state: Redis when configured, an in-process equivalent otherwise.

The in-process variant is correct only for a single gateway process; settings
validation refuses several workers without Redis.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Protocol

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

__all__ = ["Cache", "MemoryCache", "RedisCache", "connect_cache"]

PREFIX = "onestop:"


class Cache(Protocol):
    """The operations the gateway and modules need; every key is namespaced."""

    backend: str

    async def get(self, key: str) -> bytes | None: ...
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Several keys in one round trip, in order (None for a missing key)."""
        ...

    async def set(self, key: str, value: bytes | str, ttl: int | None = None) -> None: ...
    async def set_many(self, entries: Mapping[str, tuple[bytes | str, int]]) -> None:
        """Set ``key -> (value, ttl)`` pairs atomically, in one round trip."""
        ...

    async def add(self, key: str, value: bytes | str, ttl: int) -> bool:
        """Set only if absent (atomic); True when this call created the key."""
        ...

    async def delete(self, *keys: str) -> int: ...
    async def incr(self, key: str, ttl: int) -> int:
        """Increment a counter that expires ``ttl`` seconds after its first increment."""
        ...

    async def ttl(self, key: str) -> int:
        """Seconds left; -2 when the key does not exist, -1 when it never expires."""
        ...

    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class MemoryCache:
    backend = "memory"

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= time.monotonic():
            del self._data[key]
            return None
        return entry

    def _sweep(self) -> None:
        # Amortised clean-up so forgotten keys do not grow memory without bound.
        if len(self._data) > 10_000:
            now = time.monotonic()
            for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
                del self._data[key]

    @staticmethod
    def _expiry(ttl: int | None) -> float | None:
        return time.monotonic() + ttl if ttl else None

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set_many(self, entries: Mapping[str, tuple[bytes | str, int]]) -> None:
        for key, (value, ttl) in entries.items():
            await self.set(key, value, ttl)

    async def set(self, key: str, value: bytes | str, ttl: int | None = None) -> None:
        self._sweep()
        data = value.encode() if isinstance(value, str) else value
        self._data[key] = (data, self._expiry(ttl))

    async def add(self, key: str, value: bytes | str, ttl: int) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, *keys: str) -> int:
        return sum(1 for key in keys if self._data.pop(key, None) is not None)

    async def incr(self, key: str, ttl: int) -> int:
        entry = self._live(key)
        if entry is None:
            await self.set(key, b"1", ttl)
            return 1
        count = int(entry[0]) + 1
        self._data[key] = (str(count).encode(), entry[1])
        return count

    async def ttl(self, key: str) -> int:
        entry = self._live(key)
        if entry is None:
            return -2
        if entry[1] is None:
            return -1
        return max(0, round(entry[1] - time.monotonic()))

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    backend = "redis"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    async def get(self, key: str) -> bytes | None:
        value = await self.client.get(PREFIX + key)
        return value.encode() if isinstance(value, str) else value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values = await self.client.mget([PREFIX + key for key in keys])
        return [value.encode() if isinstance(value, str) else value for value in values]

    async def set(self, key: str, value: bytes | str, ttl: int | None = None) -> None:
        await self.client.set(PREFIX + key, value, ex=ttl or None)

    async def set_many(self, entries: Mapping[str, tuple[bytes | str, int]]) -> None:
        if not entries:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            for key, (value, ttl) in entries.items():
                pipe.set(PREFIX + key, value, ex=ttl)
            await pipe.execute()

    async def add(self, key: str, value: bytes | str, ttl: int) -> bool:
        return bool(await self.client.set(PREFIX + key, value, ex=ttl, nx=True))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self.client.delete(*(PREFIX + key for key in keys)))

    async def incr(self, key: str, ttl: int) -> int:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(PREFIX + key)
            pipe.expire(PREFIX + key, ttl, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def ttl(self, key: str) -> int:
        return int(await self.client.ttl(PREFIX + key))

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


def connect_cache(redis_url: str | None, *, timeout: float = 1.0) -> Cache:
    """Redis when a URL is given, otherwise the in-process cache.

    Short timeouts and a single quick retry: a dead or frozen Redis must turn into
    UNAVAILABLE within about ``2 * timeout`` seconds, not hang the request.
    """
    if not redis_url:
        return MemoryCache()
    client = redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), retries=1),
        health_check_interval=30,
    )
    return RedisCache(client)
