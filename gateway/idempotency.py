"""Idempotent mutations: a retried request with the same ``Idempotency-Key`` gets the first
answer instead of running again.

A citizen on a flaky mobile network taps "submit", the answer is lost, the app retries: without
this the retry books a second slot, files a second case, sends a second SMS. With a key (any
string of 8–128 URL-safe characters the app makes once per intended action, a UUID say) the
gateway runs the mutation once and keeps its answer for :data:`KEPT_SECONDS`:

* the same key and the same request again → the kept answer, with ``Idempotent-Replayed: true``;
* the same key while the first is still running → HTTP 409 ``CONFLICT`` and ``Retry-After: 1``
  (concurrent duplicates never both run);
* the same key with another document or other variables → HTTP 422 ``BAD_REQUEST``: a key
  names one action.

Keys are scoped to the principal (a signed-in subject, or anonymous), and a kept answer is only
given back for the same document and variables, so knowing someone's key gives nothing. The
state lives in the shared cache (Redis when configured), so a retry that reaches another replica
is recognised too. Queries ignore the header: they are safe to repeat. Follows the IETF draft
"The Idempotency-Key HTTP Header Field".
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from gateway.cache import Cache
from gateway.errors import ErrorCode
from gateway.http_body import RequestRejected

__all__ = ["IDEMPOTENCY_HEADER", "REPLAYED_HEADER", "Claim", "Idempotency", "Replay"]

IDEMPOTENCY_HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
KEPT_SECONDS = 24 * 3600  # a day covers any retry an app makes
RUNNING_SECONDS = 60  # a claim whose holder died is released after this
_KEY = re.compile(r"[A-Za-z0-9._:\-]{8,128}")
_RUNNING = b"running"


@dataclass(frozen=True)
class Claim:
    """This request runs the mutation; :meth:`Idempotency.keep` stores its answer."""

    cache_key: str
    fingerprint: str


@dataclass(frozen=True)
class Replay:
    """The kept answer of an earlier run."""

    status: int
    body: bytes


class Idempotency:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def claim(
        self, key: str, principal: str, document: str, variables: Any, operation: str | None
    ) -> Claim | Replay:
        """Run (a :class:`Claim`) or replay; raises :class:`RequestRejected` otherwise."""
        if not _KEY.fullmatch(key):
            raise RequestRejected(
                400,
                ErrorCode.BAD_REQUEST,
                "Idempotency-Key 无效 (8–128 characters: letters, digits and . _ : -)",
            )
        scope = hashlib.sha256(f"{principal}\0{key}".encode()).hexdigest()
        cache_key = f"idem:{scope}"
        fingerprint = hashlib.sha256(
            json.dumps([document, operation, variables], sort_keys=True, default=str).encode()
        ).hexdigest()
        if await self.cache.add(cache_key, _RUNNING, RUNNING_SECONDS):
            return Claim(cache_key, fingerprint)
        kept = await self.cache.get(cache_key)
        if kept is None or kept == _RUNNING:  # (None: released this instant; retry too)
            raise RequestRejected(
                409,
                ErrorCode.CONFLICT,
                "同一请求正在处理中，请稍后重试 (a request with this Idempotency-Key is running)",
                headers={"Retry-After": "1"},
            )
        record = json.loads(kept)
        if record["fingerprint"] != fingerprint:
            raise RequestRejected(
                422,
                ErrorCode.BAD_REQUEST,
                "Idempotency-Key 已用于另一请求 (the key was used for a different request)",
            )
        return Replay(int(record["status"]), base64.b64decode(record["body"]))

    async def keep(self, claim: Claim, status: int, body: bytes) -> None:
        """Store the answer; an unavailable dependency's answer (503) releases the key
        instead, so the retry runs (the mutation may not have happened)."""
        if status == 503:
            await self.release(claim)
            return
        record = {
            "fingerprint": claim.fingerprint,
            "status": status,
            "body": base64.b64encode(body).decode(),
        }
        await self.cache.set(claim.cache_key, json.dumps(record), KEPT_SECONDS)

    async def release(self, claim: Claim) -> None:
        await self.cache.delete(claim.cache_key)
