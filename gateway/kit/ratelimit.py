"""Token buckets over the gateway's shared cache, for the gateway and modules.

A bucket holds up to ``capacity`` tokens and refills continuously at ``refill_per_second``; each
request takes one token (or more, for expensive operations). A burst of ``capacity`` passes at
once, then the sustained rate is the refill rate. With Redis the take is one Lua script, atomic
across every gateway process; in process it is atomic within the event loop. A bucket that
would be full again expires, so idle keys cost nothing.

Example:
    >>> bookings = TokenBucket(cache, "appointments:book", capacity=5, refill_per_second=5 / 60)
    >>> decision = await bookings.take(principal.subject)
    >>> if not decision.allowed:
    ...     raise RateLimited(retry_after=decision.retry_after)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.cache import Cache

__all__ = ["Decision", "TokenBucket"]


@dataclass(frozen=True)
class Decision:
    """The outcome of one take."""

    allowed: bool
    #: Seconds until the request could pass (0 when allowed); round up for a Retry-After header.
    retry_after: float
    #: Tokens left in the bucket after this take.
    remaining: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """``retry_after`` as whole seconds, for an HTTP ``Retry-After`` header."""
        return str(math.ceil(self.retry_after))


class TokenBucket:
    """A named family of buckets, one per key (a user, an IP address, a whole service).

    Args:
        cache: the gateway's shared cache (in-process or Redis).
        name: a namespace owned by the caller, e.g. ``"affairs:search"``.
        capacity: the largest burst, in tokens (> 0).
        refill_per_second: tokens added per second (> 0); e.g. ``10 / 60`` for 10 a minute.
    """

    def __init__(self, cache: Cache, name: str, capacity: float, refill_per_second: float) -> None:
        if not name:
            raise ValueError("name must not be empty")
        if not capacity > 0 or not math.isfinite(capacity):
            raise ValueError("capacity must be a positive number")
        if not refill_per_second > 0 or not math.isfinite(refill_per_second):
            raise ValueError("refill_per_second must be a positive number")
        self.cache = cache
        self.name = name
        self.capacity = float(capacity)
        self.refill_per_second = float(refill_per_second)

    def key(self, key: str) -> str:
        return f"ratelimit:{self.name}:{key}"

    async def take(self, key: str, tokens: float = 1) -> Decision:
        """Take ``tokens`` from ``key``'s bucket if it holds them; otherwise take nothing.

        Raises:
            ValueError: for ``tokens`` that are not positive or exceed the capacity (such a
                request could never pass).
        """
        if not tokens > 0 or not math.isfinite(tokens):
            raise ValueError("tokens must be a positive number")
        if tokens > self.capacity:
            raise ValueError(f"tokens ({tokens}) exceed the bucket's capacity ({self.capacity})")
        allowed, retry_after, remaining = await self.cache.take_tokens(
            self.key(key), self.capacity, self.refill_per_second, float(tokens)
        )
        return Decision(allowed, retry_after, remaining)

    async def reset(self, key: str) -> None:
        """Forget ``key``'s bucket (it is full again), e.g. after a successful login."""
        await self.cache.delete(self.key(key))
