"""The response cache: whole responses of public queries, served without executing them.

A response is kept only when its operation's cache policy (:mod:`gateway.cache_policy`)
is PUBLIC with a positive ``max_age``, it has no errors and it is not too large. The key
is the document (the sha256 of its text — also the hash Apollo's persisted queries send),
the operation name, the variables, and the *versions* of the data its fields read (e.g.
the catalog generation, bumped by every write): a write makes every response that read
the old data unreachable at once, in every replica (the versions live in the shared
cache), so an edit is visible on the next request. Public means the same for everyone,
so the principal is not part of the key; anything that depends on who asks is PRIVATE
and never kept here.

Redis keeps the responses when configured (shared by all replicas), the process
otherwise. ``onestop_response_cache_total{result}`` counts hits (served from the cache) and misses
(executed, then kept).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from strawberry.http import GraphQLRequestData

from gateway.cache import Cache
from gateway.cache_policy import NO_STORE, CachePolicies, CachePolicy
from gateway.extensions.persisted_queries import document_hash
from gateway.observability import Metrics

__all__ = ["CacheableRequest", "ResponseCache", "cache_headers"]

log = logging.getLogger("onestop.cache")

KEY_PREFIX = "gateway:response:"
CACHE_HEADER = "X-OneStop-Cache"  # hit / miss: what the response cache did


@dataclass(frozen=True)
class CacheableRequest:
    """What identifies a GraphQL request for the response cache."""

    document: str  # document_hash of the query text
    operation: str | None
    variables: str  # canonical JSON

    @classmethod
    def of(cls, data: GraphQLRequestData) -> CacheableRequest | None:
        """From a checked request (a persisted query already resolved to its document)."""
        if not isinstance(data.query, str):
            return None
        canonical = json.dumps(
            data.variables or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return cls(document_hash(data.query), data.operation_name, canonical)


class ResponseCache:
    """Looks responses up before execution and keeps them after it.

    Args:
        cache: where responses live (Redis when configured).
        policies: the schema's cache policies.
        runtime: passed to the hints' data-version functions.
        metrics: hit/miss counters.
        max_bytes: larger responses are not kept.
    """

    def __init__(
        self,
        cache: Cache,
        policies: CachePolicies,
        runtime: Any,
        metrics: Metrics | None,
        *,
        max_bytes: int,
    ) -> None:
        self._cache = cache
        self._policies = policies
        self._runtime = runtime
        self._metrics = metrics
        self._max_bytes = max_bytes
        # (document, operation) -> policy, learned on the first successful execution here.
        self._known: dict[tuple[str, str | None], CachePolicy] = {}

    def policy(self, request: CacheableRequest) -> CachePolicy | None:
        return self._known.get((request.document, request.operation))

    async def lookup(self, request: CacheableRequest) -> bytes | None:
        """The kept response of a request whose policy is known and cacheable."""
        policy = self.policy(request)
        if policy is None or not policy.cacheable:
            return None
        try:
            body = await self._cache.get(await self._key(request, policy))
        except Exception:  # the cache is down: execute, and let the request say so if it must
            log.warning("response cache: lookup failed", exc_info=True)
            return None
        if body is not None:
            self._count("hit")
        return body

    async def learn(self, request: CacheableRequest, document: Any) -> CachePolicy:
        """The policy of an executed, valid document (remembered for later lookups)."""
        key = (request.document, request.operation)
        policy = self._known.get(key)
        if policy is None:
            policy = self._policies.of(document, request.operation)
            if len(self._known) < 4096:  # a bound: documents are few, variables are not here
                self._known[key] = policy
        return policy

    async def keep(
        self, request: CacheableRequest, policy: CachePolicy, response: Response
    ) -> bool:
        """Keep a successful response of a cacheable operation for its max-age."""
        body = bytes(response.body)
        if not policy.cacheable or _failed(response) or len(body) > self._max_bytes:
            return False
        try:
            await self._cache.set(await self._key(request, policy), body, policy.max_age)
        except Exception:  # a cache that cannot keep costs a miss later, never an answer now
            log.warning("response cache: could not keep a response", exc_info=True)
            return False
        self._count("miss")
        return True

    async def _key(self, request: CacheableRequest, policy: CachePolicy) -> str:
        versions = [await version(self._runtime) for version in policy.versions]
        identity = json.dumps(
            [request.document, request.operation, request.variables, versions],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return KEY_PREFIX + hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()

    def _count(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.response_cache.labels(result).inc()


def _failed(response: Response) -> bool:
    # Conservative: "errors" anywhere in the body (even inside a string) counts.
    return response.status_code != 200 or b'"errors"' in bytes(response.body)


def cache_headers(response: Response, policy: CachePolicy | None, outcome: str | None) -> None:
    """``Cache-Control`` on every answer (``no-store`` unless a policy says otherwise), but
    never over one the answer set itself (persisted-query refusals say their own)."""
    if "cache-control" not in response.headers:
        chosen = NO_STORE if policy is None or _failed(response) else policy
        response.headers["Cache-Control"] = chosen.header
    if outcome is not None:
        response.headers[CACHE_HEADER] = outcome
