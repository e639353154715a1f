"""All MongoDB access of the affairs module.

Conventions forced by the database subset we support (see the conformance
tests): array fields are matched with ``$in`` (never plain equality), arrays of
sub-documents are written whole with ``$set``, projections name top-level
fields only, and upserts use ``update_one`` rather than ``find_one_and_update``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import InsertOne, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from gateway.registry import IndexSpec

__all__ = [
    "DEPARTMENTS",
    "FAQ",
    "INDEXES",
    "ITEMS",
    "LICENSE_TYPES",
    "LIFECYCLE_GROUPS",
    "LOCATIONS",
    "SYNONYMS",
    "THEMES",
    "VERSIONS",
    "CatalogRepository",
    "ItemCriteria",
]

ITEMS = "affairs_items"
VERSIONS = "affairs_item_versions"
DEPARTMENTS = "affairs_departments"
THEMES = "affairs_themes"
LIFECYCLE_GROUPS = "affairs_lifecycle_groups"
LICENSE_TYPES = "affairs_license_types"
LOCATIONS = "affairs_locations"
FAQ = "affairs_faq"
SYNONYMS = "affairs_synonyms"

INDEXES = (
    IndexSpec(ITEMS, (("search_terms", 1),), name="search_terms"),
    IndexSpec(ITEMS, (("status", 1), ("department_order", 1), ("basic_code", 1)), name="listing"),
    IndexSpec(ITEMS, (("department_code", 1),), name="department"),
    IndexSpec(ITEMS, (("theme_codes", 1),), name="themes"),
    IndexSpec(ITEMS, (("location_codes", 1),), name="locations"),
    IndexSpec(ITEMS, (("type_code", 1),), name="type"),
    IndexSpec(VERSIONS, (("code", 1), ("version", 1)), name="code_version", unique=True),
    IndexSpec(DEPARTMENTS, (("sort_order", 1),), name="sort_order"),
    IndexSpec(THEMES, (("audience", 1), ("sort_order", 1)), name="audience_order"),
    IndexSpec(LIFECYCLE_GROUPS, (("audience", 1), ("sort_order", 1)), name="audience_order"),
    IndexSpec(LICENSE_TYPES, (("name", 1),), name="name"),
    IndexSpec(LOCATIONS, (("kind", 1), ("street", 1)), name="kind_street"),
    IndexSpec(FAQ, (("item_codes", 1),), name="items"),
    IndexSpec(FAQ, (("search_terms", 1),), name="search_terms"),
    IndexSpec(SYNONYMS, (("expansions", 1),), name="expansions"),
)

# Fields a list page or a ranking needs; the heavy guide fields load only on detail.
LIST_PROJECTION = None  # items are small enough (a few KB) to load whole on a page
RANK_PROJECTION = {
    "name": 1,
    "status": 1,
    "search_name": 1,
    "search_tags": 1,
    "search_body": 1,
    "department_code": 1,
    "theme_codes": 1,
    "type_code": 1,
    "zero_visit": 1,
    "online": 1,
    "instant": 1,
    "max_one_visit": 1,
    "district_wide": 1,
    "no_meeting": 1,
    "tolerates_missing": 1,
    "instant_approval": 1,
    "appointment": 1,
    "mail_delivery": 1,
    "self_service": 1,
    "charged": 1,
    "in_hall": 1,
    "no_photocopy": 1,
    "department_order": 1,
    "basic_code": 1,
    "promised_limit_days": 1,
    "updated_at": 1,
}
FLAG_FIELDS = (
    "online",
    "zero_visit",
    "max_one_visit",
    "instant",
    "instant_approval",
    "tolerates_missing",
    "no_meeting",
    "district_wide",
    "appointment",
    "mail_delivery",
    "self_service",
    "charged",
    "in_hall",
    "no_photocopy",
)


@dataclass
class ItemCriteria:
    """What a list of items is restricted to (all conditions must hold)."""

    statuses: Sequence[str] = ("active",)
    department_codes: Sequence[str] = ()
    theme_codes: Sequence[str] = ()
    type_codes: Sequence[str] = ()
    audiences: Sequence[str] = ()
    handling_types: Sequence[str] = ()
    location_codes: Sequence[str] = ()
    min_online_depth: int | None = None
    flags: Mapping[str, bool] = field(default_factory=dict)
    codes: Sequence[str] | None = None
    search_terms: Sequence[str] = ()

    def to_filter(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.statuses:
            query["status"] = {"$in": list(self.statuses)}
        if self.department_codes:
            query["department_code"] = {"$in": list(self.department_codes)}
        if self.theme_codes:
            query["theme_codes"] = {"$in": list(self.theme_codes)}
        if self.type_codes:
            query["type_code"] = {"$in": list(self.type_codes)}
        if self.audiences:
            query["audiences"] = {"$in": list(self.audiences)}
        if self.handling_types:
            query["handling_type"] = {"$in": list(self.handling_types)}
        if self.location_codes:
            query["location_codes"] = {"$in": list(self.location_codes)}
        if self.min_online_depth is not None:
            query["online_depth"] = {"$gte": self.min_online_depth}
        for flag, wanted in self.flags.items():
            query[flag] = wanted
        if self.codes is not None:
            query["_id"] = {"$in": list(self.codes)}
        if self.search_terms:
            query["search_terms"] = {"$in": list(self.search_terms)}
        return query


SORTS: dict[str, list[tuple[str, int]]] = {
    "DEPARTMENT": [("department_order", 1), ("basic_code", 1), ("_id", 1)],
    "PROMISED_DAYS": [("promised_limit_days", 1), ("department_order", 1), ("_id", 1)],
    "RECENTLY_UPDATED": [("updated_at", -1), ("_id", 1)],
    "CODE": [("_id", 1)],
}


class CatalogRepository:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.db = db
        self.items = db[ITEMS]
        self.versions = db[VERSIONS]

    # -- items ---------------------------------------------------------------------------
    async def item(self, code: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.items.find_one({"_id": code})
        return doc

    async def items_by_codes(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        return await self.items.find({"_id": {"$in": list(codes)}}).to_list()

    async def list_items(
        self, criteria: ItemCriteria, sort: str, skip: int, limit: int
    ) -> list[dict[str, Any]]:
        cursor = self.items.find(criteria.to_filter(), LIST_PROJECTION)
        return await cursor.sort(SORTS[sort]).skip(skip).limit(limit).to_list()

    async def count_items(self, criteria: ItemCriteria) -> int:
        # A $group count, not count_documents(): nx-27017 runs this one in SQL (~10x faster).
        pipeline = [{"$match": criteria.to_filter()}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
        rows = await (await self.items.aggregate(pipeline)).to_list()
        return int(rows[0]["n"]) if rows else 0

    async def rank_candidates(self, criteria: ItemCriteria) -> list[dict[str, Any]]:
        return await self.items.find(criteria.to_filter(), RANK_PROJECTION).to_list()

    async def facet_rows(self, criteria: ItemCriteria) -> list[dict[str, Any]]:
        """The fields facets count, for every matching item.

        Counted in Python rather than with ``$facet``: nx-27017 evaluates ``$facet``
        per cursor batch on some plans and returns partial counts (pinned in the
        conformance tests).
        """
        projection = {f: 1 for f in (*FLAG_FIELDS, "department_code", "theme_codes", "type_code")}
        return await self.items.find(criteria.to_filter(), projection).to_list()

    async def stats_rows(self) -> list[dict[str, Any]]:
        projection = {
            f: 1
            for f in (
                *FLAG_FIELDS,
                "status",
                "type_code",
                "department_code",
                "legal_limit_days",
                "promised_limit_days",
                "handling_type",
                "visits",
            )
        }
        return await self.items.find({}, projection).to_list()

    async def counts_by(self, field_name: str, *, unwind: bool = False) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [{"$match": {"status": {"$in": ["active"]}}}]
        if unwind:
            pipeline.append({"$unwind": f"${field_name}"})
        pipeline.append({"$group": {"_id": f"${field_name}", "n": {"$sum": 1}}})
        rows = await (await self.items.aggregate(pipeline)).to_list()
        return {str(row["_id"]): int(row["n"]) for row in rows if row["_id"] is not None}

    async def insert_item(self, doc: dict[str, Any]) -> None:
        await self.items.insert_one(doc)

    async def replace_item_if_revision(
        self, code: str, revision: int, doc: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Replace the item only if nobody changed it since ``revision`` was read.

        A whole-document replace, not ``$set``: nx-27017 stores a ``$set`` top-level
        datetime (``updated_at``) as text.
        """
        fields = {k: v for k, v in doc.items() if k != "_id"}
        updated: dict[str, Any] | None = await self.items.find_one_and_replace(
            {"_id": code, "revision": revision},
            fields,
            return_document=ReturnDocument.AFTER,
        )
        return updated

    async def item_names_like(self, pattern: str, limit: int) -> list[dict[str, Any]]:
        cursor = self.items.find(
            {"name": {"$regex": pattern}, "status": {"$in": ["active"]}},
            {"name": 1, "short_name": 1},
        )
        return await cursor.limit(limit).to_list()

    # -- versions ------------------------------------------------------------------------
    async def insert_version(self, doc: dict[str, Any]) -> None:
        await self.versions.insert_one(doc)

    async def version(self, code: str, version: int) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.versions.find_one(
            {"code": code, "version": version}
        )
        return doc

    async def versions_of(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        cursor = self.versions.find(
            {"code": {"$in": list(codes)}},
            {
                "code": 1,
                "version": 1,
                "change": 1,
                "note": 1,
                "changed_at": 1,
                "changed_by": 1,
                "name": 1,
                "status": 1,
            },
        )
        return await cursor.sort([("code", 1), ("version", -1)]).to_list()

    # -- reference data ------------------------------------------------------------------
    async def all(
        self,
        collection: str,
        query: Mapping[str, Any] | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        cursor = self.db[collection].find(dict(query or {}), projection)
        return await cursor.sort([("sort_order", 1), ("_id", 1)]).to_list()

    async def by_ids(
        self, collection: str, ids: Iterable[str], projection: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return await self.db[collection].find({"_id": {"$in": list(ids)}}, projection).to_list()

    async def faq_for_items(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        cursor = self.db[FAQ].find({"item_codes": {"$in": list(codes)}})
        return await cursor.sort([("sort_order", 1), ("_id", 1)]).to_list()

    async def faq_page(
        self, query: Mapping[str, Any], skip: int, limit: int
    ) -> list[dict[str, Any]]:
        cursor = self.db[FAQ].find(dict(query)).sort([("sort_order", 1), ("_id", 1)])
        return await cursor.skip(skip).limit(limit).to_list()

    async def count(self, collection: str, query: Mapping[str, Any]) -> int:
        return await self.db[collection].count_documents(dict(query))

    async def insert_faq(self, docs: Sequence[dict[str, Any]]) -> None:
        if docs:
            await self.db[FAQ].insert_many(list(docs))

    async def link_faq(self, faq_codes: Sequence[str], item_code: str) -> None:
        # item_codes is an array of strings: $addToSet of a scalar is safe everywhere.
        await self.db[FAQ].update_many(
            {"_id": {"$in": list(faq_codes)}}, {"$addToSet": {"item_codes": item_code}}
        )

    # -- seeding -------------------------------------------------------------------------
    async def upsert_reference(self, collection: str, docs: Sequence[dict[str, Any]]) -> int:
        """Reference data always follows the seed files (staff do not edit it here)."""
        if not docs:
            return 0
        operations = [
            UpdateOne(
                {"_id": doc["_id"]},
                {"$set": {k: v for k, v in doc.items() if k != "_id"}},
                upsert=True,
            )
            for doc in docs
        ]
        await self.db[collection].bulk_write(operations, ordered=False)
        return len(docs)

    async def seed_items(
        self, docs: Sequence[dict[str, Any]], versions: Mapping[str, dict[str, Any]]
    ) -> int:
        """Insert missing items; refresh those never edited by staff; keep edited ones.

        Args:
            docs: item documents (``_id`` = code), each at version 1.
            versions: the version-1 snapshot for each code.
        """
        existing = {
            doc["_id"]: doc
            for doc in await self.items.find({}, {"version": 1, "updated_by": 1}).to_list()
        }
        item_ops: list[Any] = []
        version_ops: list[Any] = []
        for doc in docs:
            snapshot = versions[doc["_id"]]
            current = existing.get(doc["_id"])
            if current is None:
                # Inserts, not upserts: nx-27017's replace-upsert ignores the filter's _id.
                item_ops.append(InsertOne(doc))
                version_ops.append(InsertOne(snapshot))
            elif current.get("version") == 1 and current.get("updated_by") == "seed":
                # Whole-document replace keeps datetimes typed (a $set would not on nx-27017).
                item_ops.append(ReplaceOne({"_id": doc["_id"]}, _without_id(doc)))
                version_ops.append(ReplaceOne({"_id": snapshot["_id"]}, _without_id(snapshot)))
            # else: staff changed it; the seed never overwrites a newer version.
        if item_ops:
            await self.items.bulk_write(item_ops, ordered=False)
            await self.versions.bulk_write(version_ops, ordered=False)
        return len(item_ops)


def _without_id(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}
