"""Request rate limits for the whole API: per signed-in principal, else per client address.

Every HTTP request to ``/graphql`` takes one token from a bucket (gateway.kit.ratelimit):
the principal's own when a valid token came with it, the client address's otherwise. The
buckets live in the shared cache, so with Redis a client gets the same allowance whichever
gateway process answers. Over the limit the request is refused before anything parses it:
HTTP 429, ``Retry-After``, and a GraphQL-shaped ``RATE_LIMITED`` error with ``retryAfter``.

A process leases tokens ~5% of the burst at a time and remembers a refusal until it could
pass (``LeasedBuckets``): a Redis round trip per request cost more CPU than the rest of a
``{ __typename }`` request. Measured with wrk against one Redis: one EVALSHA per 50 requests,
and ~12 µs of CPU per request for the limiter (150 → 162 µs).

Addresses get a far larger allowance than principals: mobile carriers put thousands of
subscribers behind one address (CGNAT) and a service hall's Wi-Fi is one address too.
Sensitive operations have their own, tighter limits on top (login codes and wrong codes in
gateway/accounts.py).

If the shared cache cannot answer, requests pass: rate limits protect the service, and
refusing everyone because Redis is down would be the outage they exist to prevent. After
a failure the limiter stays out of the way for ``PAUSE_AFTER_FAILURE`` seconds instead of
making every request wait for the cache's timeout.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import Principal
from gateway.cache import Cache
from gateway.errors import ErrorCode
from gateway.kit.ratelimit import LeasedBuckets, TokenBucket, client_key
from gateway.middleware import send_error

__all__ = ["RateLimit", "RateLimitMiddleware"]

log = logging.getLogger("onestop.ratelimit")

# Seconds the limiter lets requests through unchecked after the cache failed.
PAUSE_AFTER_FAILURE = 5.0


@dataclass(frozen=True)
class RateLimit:
    """A burst and a sustained rate (``ONESTOP_RATE_LIMIT_*``)."""

    burst: int
    per_minute: int

    def buckets(self, cache: Cache, name: str) -> LeasedBuckets:
        """The shared buckets, leased to this process ~5% of the burst at a time."""
        bucket = TokenBucket(cache, name, self.burst, self.per_minute / 60)
        return LeasedBuckets(bucket, lease=max(1, min(self.burst // 20, 50)))


class RateLimitMiddleware:
    """Take a token per ``/graphql`` request; 429 with ``Retry-After`` when none is left.

    Runs after the token check, so a signed-in caller is limited as themselves and an
    anonymous one by address. WebSocket connections are counted when they open.
    """

    def __init__(self, app: ASGIApp, principal: RateLimit, address: RateLimit) -> None:
        self.app = app
        self.limits = {"principal": principal, "address": address}
        self._buckets: dict[str, LeasedBuckets] = {}
        self._paused_until = 0.0

    def _bucket(self, scope: Scope, kind: str) -> LeasedBuckets:
        bucket = self._buckets.get(kind)
        if bucket is None:
            cache = scope["app"].state.runtime.cache
            bucket = self._buckets[kind] = self.limits[kind].buckets(cache, f"gateway:{kind}")
        return bucket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") != "/graphql":
            await self.app(scope, receive, send)
            return
        if time.monotonic() < self._paused_until:
            await self.app(scope, receive, send)
            return
        principal: Principal | None = scope.get("state", {}).get("principal")
        if principal is not None and principal.is_authenticated:
            kind, key = "principal", str(principal.subject)
        else:
            client = scope.get("client")
            kind, key = "address", client_key(client[0] if client else None)
        try:
            decision = await self._bucket(scope, kind).take(key)
        except Exception as exc:  # the cache is down or stalled: let the request through
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
            log.warning("rate limit skipped: shared cache failed (%s)", type(exc).__name__)
            await self.app(scope, receive, send)
            return
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        metrics = getattr(scope["app"].state, "metrics", None)
        if metrics is not None:
            metrics.child(metrics.rate_limited, kind).inc()
        if scope["type"] == "websocket":
            # Before the handshake the only answer is a refusal (HTTP 403 to the client).
            await send({"type": "websocket.close", "code": 1008})
            return
        wait = decision.retry_after_header
        await send_error(
            send,
            429,
            f"请求过于频繁，请 {wait} 秒后再试 (too many requests; retry in {wait}s)",
            ErrorCode.RATE_LIMITED,
            ((b"retry-after", wait.encode()),),
            extensions={"retryAfter": int(wait)},
        )
