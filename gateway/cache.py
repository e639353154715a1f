"""Shared key-value state: Redis when configured, an in-process equivalent otherwise.

The in-process variant is correct only for a single gateway process; settings
validation refuses several workers without Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

if TYPE_CHECKING:
    from gateway.observability import Metrics
    from gateway.tracing import Tracing

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

    async def take_tokens(
        self, key: str, capacity: float, refill_per_second: float, tokens: float
    ) -> tuple[bool, float, float]:
        """Atomically take ``tokens`` from the token bucket at ``key``.

        A missing bucket is full. Returns ``(allowed, retry_after_seconds, tokens_left)``;
        nothing is taken when not allowed. The bucket expires once it would be full again.
        See gateway.kit.ratelimit.TokenBucket, the interface modules use.
        """
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

    async def take_tokens(
        self, key: str, capacity: float, refill_per_second: float, tokens: float
    ) -> tuple[bool, float, float]:
        # No await between read and write: atomic within the event loop.
        now = time.monotonic()
        entry = self._live(key)
        level, stamp = capacity, now
        if entry is not None:
            stored_level, stored_stamp = entry[0].split(b" ")
            level, stamp = float(stored_level), float(stored_stamp)
        level = min(capacity, level + max(0.0, now - stamp) * refill_per_second)
        allowed = level >= tokens
        retry_after = 0.0 if allowed else (tokens - level) / refill_per_second
        if allowed:
            level -= tokens
        self._sweep()
        expires = now + (capacity - level) / refill_per_second + 1
        self._data[key] = (f"{level!r} {now!r}".encode(), expires)
        return allowed, retry_after, level

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


# One script = one atomic step on the server, whatever the number of gateways. The server's
# clock (TIME) is the only clock, so replicas with skewed clocks agree. Lua numbers returned to
# Redis are truncated to integers, hence the strings.
TAKE_TOKENS_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'stamp')
local level = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
level = math.min(capacity, level + math.max(0, now - stamp) * rate)
local allowed = 0
local retry_after = 0
if level >= wanted then
  level = level - wanted
  allowed = 1
else
  retry_after = (wanted - level) / rate
end
redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level),
           'stamp', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - level) / rate * 1000) + 1000)
return {allowed, string.format('%.17g', retry_after), string.format('%.17g', level)}
"""


P = ParamSpec("P")
R = TypeVar("R")

# Seconds every call fails at once after Redis failed, before one is tried again.
OPEN_AFTER_FAILURE = 1.0
# The Redis command each cache operation sends (a transaction: multi), the metric label.
REDIS_COMMANDS = {
    "get": "get",
    "get_many": "mget",
    "set": "set",
    "set_many": "multi",
    "add": "set",
    "delete": "del",
    "incr": "multi",
    "ttl": "ttl",
    "take_tokens": "evalsha",
    "ping": "ping",
}


def _breaker(
    method: Callable[Concatenate[RedisCache, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[RedisCache, P], Coroutine[Any, Any, R]]:
    """A circuit breaker: once Redis failed, calls fail at once for ``OPEN_AFTER_FAILURE``.

    A stalled Redis makes each call wait for the socket timeout (and its one retry). A
    request makes several calls (token check, rate limit, response cache), so without the
    breaker a catalog read that does not need Redis would still take seconds; with it
    only the first call after each pause pays the timeout.

    Every call that reaches Redis is also timed (``onestop_redis_command_duration_seconds``
    by the Redis command it sends) and, with tracing on, spanned.
    """
    command = REDIS_COMMANDS[method.__name__]

    async def guarded(self: RedisCache, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.open_until and time.monotonic() < self.open_until:
            raise RedisConnectionError("cache circuit open after a recent failure")
        span = self.tracing.redis_call(command) if self.tracing is not None else None
        started = time.perf_counter()
        try:
            result = await method(self, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError):
            self.open_until = time.monotonic() + OPEN_AFTER_FAILURE
            raise
        finally:
            if self.metrics is not None:
                self.metrics.child(self.metrics.redis_commands, command).observe(
                    time.perf_counter() - started
                )
            if span is not None:
                span.end()
        self.open_until = 0.0
        return result

    guarded.__name__ = guarded.__qualname__ = method.__name__
    return guarded


class RedisCache:
    backend = "redis"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._take_tokens = client.register_script(TAKE_TOKENS_LUA)
        #: monotonic time until which calls fail at once (0: closed, calls go through)
        self.open_until = 0.0
        # Set by the gateway's runtime: every call timed, and spanned when tracing is on.
        self.metrics: Metrics | None = None
        self.tracing: Tracing | None = None

    def pool_connections(self) -> tuple[int, int]:
        """Connections of the client's pool: (in use, idle)."""
        pool = self.client.connection_pool
        in_use = getattr(pool, "_in_use_connections", ())
        idle = getattr(pool, "_available_connections", ())
        return len(in_use), len(idle)

    @_breaker
    async def get(self, key: str) -> bytes | None:
        value = await self.client.get(PREFIX + key)
        return value.encode() if isinstance(value, str) else value

    @_breaker
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values = await self.client.mget([PREFIX + key for key in keys])
        return [value.encode() if isinstance(value, str) else value for value in values]

    @_breaker
    async def set(self, key: str, value: bytes | str, ttl: int | None = None) -> None:
        await self.client.set(PREFIX + key, value, ex=ttl or None)

    @_breaker
    async def set_many(self, entries: Mapping[str, tuple[bytes | str, int]]) -> None:
        if not entries:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            for key, (value, ttl) in entries.items():
                pipe.set(PREFIX + key, value, ex=ttl)
            await pipe.execute()

    @_breaker
    async def add(self, key: str, value: bytes | str, ttl: int) -> bool:
        return bool(await self.client.set(PREFIX + key, value, ex=ttl, nx=True))

    @_breaker
    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self.client.delete(*(PREFIX + key for key in keys)))

    @_breaker
    async def incr(self, key: str, ttl: int) -> int:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(PREFIX + key)
            pipe.expire(PREFIX + key, ttl, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    @_breaker
    async def ttl(self, key: str) -> int:
        return int(await self.client.ttl(PREFIX + key))

    @_breaker
    async def take_tokens(
        self, key: str, capacity: float, refill_per_second: float, tokens: float
    ) -> tuple[bool, float, float]:
        allowed, retry_after, level = await self._take_tokens(
            keys=[PREFIX + key], args=[repr(capacity), repr(refill_per_second), repr(tokens)]
        )
        return bool(int(allowed)), float(retry_after), float(level)

    @_breaker
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
