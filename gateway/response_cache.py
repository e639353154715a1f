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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.cache import Cache
from gateway.cache_policy import NO_STORE, CachePolicies, CachePolicy
from gateway.extensions.persisted_queries import document_hash
from gateway.http_body import RequestRejected, check_request, decode_json_object
from gateway.observability import Metrics

__all__ = ["CacheableRequest", "ResponseCache", "cache_headers"]

log = logging.getLogger("onestop.cache")

KEY_PREFIX = "gateway:response:"
CACHE_HEADER = "X-OneStop-Cache"  # hit / miss: what the response cache did
DEBUG_HEADER = "x-onestop-debug"  # asks for execution details: never from the cache


@dataclass(frozen=True)
class CacheableRequest:
    """What identifies a GraphQL request for the response cache."""

    document: str  # document_hash of the query text
    operation: str | None
    variables: str  # canonical JSON

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CacheableRequest | None:
        """From a request's JSON (body or query parameters); None when it cannot be cached."""
        query = data.get("query")
        operation = data.get("operationName")
        variables = data.get("variables") or {}
        if isinstance(query, str):
            document = document_hash(query)
        elif (persisted := _persisted_hash(data.get("extensions"))) is not None:
            document = persisted
        else:
            return None
        if not isinstance(variables, dict) or not (operation is None or isinstance(operation, str)):
            return None
        canonical = json.dumps(variables, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return cls(document, operation, canonical)


def _persisted_hash(extensions: Any) -> str | None:
    if not isinstance(extensions, dict):
        return None
    persisted = extensions.get("persistedQuery")
    value = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    return value if isinstance(value, str) and len(value) == 64 else None


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
        max_string_length: int,
    ) -> None:
        self._max_string_length = max_string_length
        self._cache = cache
        self._policies = policies
        self._runtime = runtime
        self._metrics = metrics
        self._max_bytes = max_bytes
        # (document, operation) -> policy, learned on the first successful execution here.
        self._known: dict[tuple[str, str | None], CachePolicy] = {}

    async def request_of(self, request: Request) -> CacheableRequest | None:
        """The request's cache identity; None for anything that is not a plain query call."""
        if request.headers.get(DEBUG_HEADER):
            return None
        try:
            if request.method == "GET":
                data: Mapping[str, Any] = _query_parameters(request)
            elif request.method == "POST" and "json" in request.headers.get("content-type", ""):
                data = decode_json_object(await request.body())
            else:
                return None
            # The same checks as for an executed request: a malformed one is answered with
            # its error by the GraphQL view, never with a kept response.
            check_request(
                data.get("query"),
                data.get("variables"),
                data.get("operationName"),
                data.get("extensions"),
                max_string_length=self._max_string_length,
            )
        except (RequestRejected, UnicodeError, ValueError):
            return None
        return CacheableRequest.of(data)

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


def _query_parameters(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if isinstance(data.get(name), str) and data[name] not in ("", "null"):
            data[name] = decode_json_object(data[name], f"`{name}` query parameter")
        else:
            data[name] = None
    return data


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
