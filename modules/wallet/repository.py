"""All of the wallet module's MongoDB access.

Holders appear only as keyed hashes (``holder_key``, :mod:`modules.wallet.keys`); personal
data lives only inside each license's signed document. The audit collection is append-only:
this repository inserts and reads it, nothing else (in production give the gateway's database
user no update or delete right on it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.kit.connections import Keyset, Listing, SortKey
from gateway.registry import IndexSpec

__all__ = [
    "AUDIT",
    "COLLECTIONS",
    "INDEXES",
    "WalletRepository",
]

ISSUERS = "wallet_issuers"
ISSUER_KEYS = "wallet_issuer_keys"
LICENSES = "wallet_licenses"
VERSIONS = "wallet_license_versions"
COUNTERS = "wallet_counters"
PRESENTATIONS = "wallet_presentations"
GRANTS = "wallet_grants"
AUDIT = "wallet_audit"
HOLDERS = "wallet_holders"
REMINDERS = "wallet_reminders"

#: Presentations are kept an hour past their 180 s, so a late second try is told "used" or
#: "expired" rather than "no such code"; then MongoDB drops them.
PRESENTATION_KEEP_SECONDS = 3600

INDEXES = (
    IndexSpec(
        ISSUER_KEYS, (("issuer", 1), ("generation", 1)), name="one_per_generation", unique=True
    ),
    IndexSpec(LICENSES, (("holder_key", 1), ("position", 1)), name="holder_order"),
    IndexSpec(LICENSES, (("identifier", 1),), name="identifier", unique=True),
    IndexSpec(LICENSES, (("source_key", 1),), name="one_per_source", unique=True, sparse=True),
    IndexSpec(LICENSES, (("issuer_code", 1), ("type_code", 1)), name="issuer_type"),
    IndexSpec(LICENSES, (("status", 1), ("valid_until", 1)), name="status_until"),
    IndexSpec(VERSIONS, (("license_id", 1),), name="license"),
    IndexSpec(
        PRESENTATIONS,
        (("expires_at", 1),),
        name="expires_at_ttl",
        expire_after_seconds=PRESENTATION_KEEP_SECONDS,
    ),
    IndexSpec(PRESENTATIONS, (("numeric_key", 1),), name="numeric", unique=True, sparse=True),
    IndexSpec(GRANTS, (("license_id", 1),), name="license"),
    IndexSpec(GRANTS, (("holder_key", 1),), name="holder"),
    IndexSpec(AUDIT, (("holder_key", 1),), name="holder"),
)
COLLECTIONS = (ISSUERS, COUNTERS, HOLDERS, REMINDERS)

#: A holder's licenses in the holder's own order (positions), then by id.
HOLDER_ORDER = Keyset("wallet.licenses.mine", (SortKey("position", "int"), SortKey("_id", "str")))
#: Audit entries and grants, newest first (ids start with the time).
NEWEST_FIRST = Keyset("wallet.newest", (SortKey("_id", "str", descending=True),))


class WalletRepository:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.issuers = db[ISSUERS]
        self.keys = db[ISSUER_KEYS]
        self.licenses = db[LICENSES]
        self.versions = db[VERSIONS]
        self.counters = db[COUNTERS]
        self.presentations = db[PRESENTATIONS]
        self.grants = db[GRANTS]
        self.audit = db[AUDIT]
        self.holders = db[HOLDERS]
        self.reminders = db[REMINDERS]

    # -- issuers and keys ------------------------------------------------------------------
    async def upsert_issuer(self, doc: dict[str, Any]) -> None:
        await self.issuers.update_one({"_id": doc["_id"]}, {"$set": doc}, upsert=True)

    async def issuer(self, code: str) -> dict[str, Any] | None:
        return await self.issuers.find_one({"_id": code})

    async def all_issuers(self) -> list[dict[str, Any]]:
        return await self.issuers.find({}).sort("_id", 1).to_list()

    async def issuer_keys(self, codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        query = {"issuer": {"$in": list(codes)}} if codes is not None else {}
        return await self.keys.find(query).sort([("issuer", 1), ("generation", 1)]).to_list()

    async def insert_key(self, doc: dict[str, Any]) -> bool:
        """False when that generation of the issuer's key exists already (another process)."""
        try:
            await self.keys.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def retire_keys(self, issuer: str, before_generation: int, at: int) -> None:
        await self.keys.update_many(
            {"issuer": issuer, "generation": {"$lt": before_generation}, "not_after": None},
            {"$set": {"not_after": at}},
        )

    # -- licenses ----------------------------------------------------------------------------
    async def next_serial(self, type_code: str, issuer_code: str) -> int:
        doc = await self.counters.find_one_and_update(
            {"_id": f"serial|{type_code}|{issuer_code}"},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["seq"]) if doc is not None else 1

    async def insert_license(self, doc: dict[str, Any]) -> bool:
        """False when a license from the same source (case, seed) exists already."""
        try:
            await self.licenses.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def license(self, license_id: str) -> dict[str, Any] | None:
        return await self.licenses.find_one({"_id": license_id})

    async def licenses_by_ids(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        return await self.licenses.find({"_id": {"$in": list(ids)}}).to_list()

    async def by_source(self, source_key: str) -> dict[str, Any] | None:
        return await self.licenses.find_one({"source_key": source_key})

    async def held(self, holder_key: str, type_code: str) -> list[dict[str, Any]]:
        return await self.licenses.find(
            {"holder_key": holder_key, "type_code": type_code}
        ).to_list()

    def mine(self, holder_key: str, include_hidden: bool) -> Listing[dict[str, Any]]:
        query: dict[str, Any] = {"holder_key": holder_key}
        if not include_hidden:
            query["hidden"] = False
        return HOLDER_ORDER.listing(self.licenses, query)

    async def holder_license_ids(self, holder_key: str) -> list[str]:
        docs = await self.licenses.find({"holder_key": holder_key}, {"_id": 1}).to_list()
        return [str(d["_id"]) for d in docs]

    async def set_positions(self, holder_key: str, ids: Sequence[str]) -> None:
        for position, license_id in enumerate(ids):
            await self.licenses.update_one(
                {"_id": license_id, "holder_key": holder_key}, {"$set": {"position": position}}
            )

    async def set_hidden(self, holder_key: str, license_id: str, hidden: bool) -> bool:
        result = await self.licenses.update_one(
            {"_id": license_id, "holder_key": holder_key}, {"$set": {"hidden": hidden}}
        )
        return bool(result.matched_count)

    async def change(
        self, license_id: str, revision: int, changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Apply ``changes`` if the license is still at ``revision`` (None: it moved)."""
        return await self.licenses.find_one_and_update(
            {"_id": license_id, "revision": revision},
            {"$set": {**changes, "revision": revision + 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def archive_version(self, doc: dict[str, Any]) -> None:
        archived = {k: v for k, v in doc.items() if k != "_id"}
        archived |= {"_id": f"{doc['_id']}.v{doc['version']}", "license_id": doc["_id"]}
        with contextlib.suppress(DuplicateKeyError):
            await self.versions.insert_one(archived)

    async def expiring(self, until: str, after: str) -> list[dict[str, Any]]:
        """Valid licenses whose validity ends between ``after`` and ``until`` (ISO dates)."""
        query = {"status": "01", "valid_until": {"$gte": after, "$lte": until}}
        return await self.licenses.find(query).to_list()

    # -- holders' profiles -------------------------------------------------------------------
    async def upsert_holder(self, doc: dict[str, Any]) -> None:
        await self.holders.update_one({"_id": doc["_id"]}, {"$set": doc}, upsert=True)

    async def holder(self, holder_key: str) -> dict[str, Any] | None:
        return await self.holders.find_one({"_id": holder_key})

    # -- presentations -----------------------------------------------------------------------
    async def insert_presentation(self, doc: dict[str, Any]) -> bool:
        """False when the numeric code collides with a live one (draw another)."""
        try:
            await self.presentations.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def presentation(self, token_id: str) -> dict[str, Any] | None:
        return await self.presentations.find_one({"_id": token_id})

    async def presentation_by_numeric(self, numeric_key: str) -> dict[str, Any] | None:
        return await self.presentations.find_one({"numeric_key": numeric_key})

    async def use_presentation(self, token_id: str, by: str, at: str) -> bool:
        """Mark a presentation used; exactly one of any number of concurrent calls wins."""
        result = await self.presentations.update_one(
            {"_id": token_id, "used": False}, {"$set": {"used": True, "used_by": by, "used_at": at}}
        )
        return bool(result.modified_count)

    # -- grants ------------------------------------------------------------------------------
    async def insert_grant(self, doc: dict[str, Any]) -> None:
        await self.grants.insert_one(doc)

    async def grant(self, grant_id: str) -> dict[str, Any] | None:
        return await self.grants.find_one({"_id": grant_id})

    async def revoke_grant(self, grant_id: str, holder_key: str, at: str) -> dict[str, Any] | None:
        return await self.grants.find_one_and_update(
            {"_id": grant_id, "holder_key": holder_key, "revoked": False},
            {"$set": {"revoked": True, "revoked_at": at}},
            return_document=ReturnDocument.AFTER,
        )

    def grants_of(self, holder_key: str) -> Listing[dict[str, Any]]:
        return NEWEST_FIRST.listing(self.grants, {"holder_key": holder_key})

    # -- audit (append-only) -------------------------------------------------------------------
    async def append_audit(self, doc: dict[str, Any]) -> None:
        await self.audit.insert_one(doc)

    def audit_of(self, holder_key: str, license_id: str | None) -> Listing[dict[str, Any]]:
        query: dict[str, Any] = {"holder_key": holder_key}
        if license_id is not None:
            query["license_id"] = license_id
        return NEWEST_FIRST.listing(self.audit, query)

    # -- reminders ---------------------------------------------------------------------------
    async def remind_once(self, key: str, at: datetime) -> bool:
        """True the first time ``key`` is seen (one reminder per license, date and lead)."""
        try:
            await self.reminders.insert_one({"_id": key, "at": at})
        except DuplicateKeyError:
            return False
        return True
