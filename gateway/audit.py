"""Audit trail: who did what to whose data, for security events and personal-data access.

Entries never hold personal data in clear (phones are masked by the caller);
they expire after ``RETENTION_DAYS`` through a TTL index.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from gateway.kit.connections import Key, Keyset, SortKey, count_matching
from gateway.observability import current_request_id
from gateway.registry import IndexSpec

__all__ = ["AUDIT", "AUDIT_INDEXES", "AUDIT_ORDER", "AuditOutcome", "AuditTrail"]

log = logging.getLogger("onestop.audit")

AUDIT = "gateway_audit"
RETENTION_DAYS = 180
# Newest first; the random ``_id`` breaks ties between entries of the same millisecond.
AUDIT_ORDER = Keyset(
    "gateway.audit", (SortKey("at", "datetime", descending=True), SortKey("_id", "str"))
)
AUDIT_INDEXES = (
    IndexSpec(AUDIT, (("at", 1),), name="at_ttl", expire_after_seconds=RETENTION_DAYS * 86_400),
    IndexSpec(AUDIT, (("subject", 1), ("at", -1)), name="subject_at"),
    IndexSpec(AUDIT, (("actor", 1), ("at", -1)), name="actor_at"),
)


class AuditOutcome(StrEnum):
    """How an audited action ended."""

    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


class AuditTrail:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.entries = db[AUDIT]

    async def record(
        self,
        action: str,
        *,
        actor: str | None,
        subject: str | None = None,
        outcome: AuditOutcome = AuditOutcome.OK,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write one entry; an audit failure is logged but never fails the request."""
        entry = {
            "_id": uuid.uuid4().hex,
            "at": datetime.now(UTC),
            "action": action,
            "actor": actor,
            "subject": subject,
            "outcome": outcome.value,
            "request_id": current_request_id(),
            "detail": detail or {},
        }
        try:
            await self.entries.insert_one(entry)
        except Exception:
            log.exception("audit entry not written", extra={"action": action})

    async def page(
        self,
        *,
        actor: str | None,
        subject: str | None,
        action: str | None,
        after: Key | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` entries after the key ``after`` in :data:`AUDIT_ORDER`."""
        return await AUDIT_ORDER.find_after(
            self.entries, _query(actor, subject, action), after, limit
        )

    async def by_ids(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The entries with these ids that still exist (expired ones are gone), by id."""
        return {doc["_id"]: doc async for doc in self.entries.find({"_id": {"$in": list(ids)}})}

    async def count(self, *, actor: str | None, subject: str | None, action: str | None) -> int:
        return await count_matching(self.entries, _query(actor, subject, action))


def _query(actor: str | None, subject: str | None, action: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if actor:
        query["actor"] = actor
    if subject:
        query["subject"] = subject
    if action:
        query["action"] = action
    return query
