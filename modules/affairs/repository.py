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

from gateway.kit.connections import Key, Keyset
from gateway.registry import IndexSpec
from modules.affairs.vocabulary import FLAG_FIELDS

__all__ = [
    "ATTRIBUTES",
    "DEPARTMENTS",
    "FAQ",
    "INDEXES",
    "ITEMS",
    "LICENSE_TYPES",
    "LIFECYCLE_GROUPS",
    "LOCATIONS",
    "SEARCH_POSTINGS",
    "SEARCH_TERMS",
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
# The catalog index, derived from items on every write (see reindex()):
# filterable attributes of every item, small so filters, counts and facets stay cheap.
ATTRIBUTES = "affairs_item_attributes"
# Inverted index of active items: {_id: "<field>|<term>", codes: [item codes]}.
SEARCH_POSTINGS = "affairs_search_postings"
# What each item contributed to the index: {_id: code, active, n: [...], t: [...], b: [...]}.
SEARCH_TERMS = "affairs_search_terms"
SEARCH_FIELDS = ("n", "t", "b", "k", "p", "i", "x")

INDEXES = (
    IndexSpec(ITEMS, (("updated_at", -1),), name="updated_at"),
    IndexSpec(ATTRIBUTES, (("status", 1), ("department_code", 1)), name="status_department"),
    IndexSpec(ATTRIBUTES, (("theme_codes", 1),), name="themes"),
    IndexSpec(ATTRIBUTES, (("location_codes", 1),), name="locations"),
    IndexSpec(ATTRIBUTES, (("type_code", 1),), name="type"),
    IndexSpec(VERSIONS, (("code", 1), ("version", 1)), name="code_version", unique=True),
    IndexSpec(DEPARTMENTS, (("sort_order", 1),), name="sort_order"),
    IndexSpec(THEMES, (("audience", 1), ("sort_order", 1)), name="audience_order"),
    IndexSpec(LIFECYCLE_GROUPS, (("audience", 1), ("sort_order", 1)), name="audience_order"),
    IndexSpec(LICENSE_TYPES, (("name", 1),), name="name"),
    IndexSpec(LOCATIONS, (("kind", 1), ("street", 1)), name="kind_street"),
    IndexSpec(FAQ, (("item_codes", 1),), name="items"),
    IndexSpec(FAQ, (("sort_order", 1),), name="sort_order"),  # keyset pages
    IndexSpec(FAQ, (("search_terms", 1),), name="search_terms"),
    IndexSpec(SYNONYMS, (("expansions", 1),), name="expansions"),
)

# Stored texts the fallback scorer reads (staff searches over suspended/cancelled items).
RANK_PROJECTION = {"name": 1, "status": 1, "search_name": 1, "search_tags": 1, "search_body": 1}


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
        return query

    @property
    def beyond_active_status(self) -> bool:
        """Anything more than the default "active items" restriction?"""
        return set(self.statuses) != {"active"} or set(self.to_filter()) != {"status"}


ATTRIBUTE_FIELDS = (
    *FLAG_FIELDS,
    "status",
    "department_code",
    "department_order",
    "basic_code",
    "type_code",
    "theme_codes",
    "audiences",
    "handling_type",
    "location_codes",
    "online_depth",
    "legal_limit_days",
    "promised_limit_days",
    "visits",
    "updated_at",
)


def attributes_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog-index record of an item: what filters, sorts, counts and facets read."""
    return {"_id": item["_id"], **{f: item.get(f) for f in ATTRIBUTE_FIELDS}}


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
        self.attributes = db[ATTRIBUTES]

    # -- items ---------------------------------------------------------------------------
    async def item(self, code: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.items.find_one({"_id": code})
        return doc

    async def items_by_codes(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        return await self.items.find({"_id": {"$in": list(codes)}}).to_list()

    async def list_items(
        self, criteria: ItemCriteria, sort: str, skip: int, limit: int
    ) -> list[dict[str, Any]]:
        """A page of items: ids from the small attribute records, then the items by id."""
        cursor = self.attributes.find(criteria.to_filter(), {"_id": 1}).sort(SORTS[sort])
        codes = [doc["_id"] for doc in await cursor.skip(skip).limit(limit).to_list()]
        found = {doc["_id"]: doc for doc in await self.items_by_codes(codes)}
        return [found[code] for code in codes if code in found]

    async def count_items(self, criteria: ItemCriteria) -> int:
        # A $group count, not count_documents(): nx-27017 runs this one in SQL (~10x faster).
        pipeline = [{"$match": criteria.to_filter()}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
        rows = await (await self.attributes.aggregate(pipeline)).to_list()
        return int(rows[0]["n"]) if rows else 0

    async def rank_candidates(self, criteria: ItemCriteria) -> list[dict[str, Any]]:
        return await self.items.find(criteria.to_filter(), RANK_PROJECTION).to_list()

    async def attribute_rows(self, criteria: ItemCriteria) -> list[dict[str, Any]]:
        """Attribute records of every matching item (facets, statistics, re-sorting).

        Facets are counted in Python rather than with ``$facet``: nx-27017 evaluates
        ``$facet`` per cursor batch on some plans and returns partial counts (pinned in
        the conformance tests).
        """
        return await self.attributes.find(criteria.to_filter()).to_list()

    async def counts_by(self, field_name: str, *, unwind: bool = False) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [{"$match": {"status": {"$in": ["active"]}}}]
        if unwind:
            pipeline.append({"$unwind": f"${field_name}"})
        pipeline.append({"$group": {"_id": f"${field_name}", "n": {"$sum": 1}}})
        rows = await (await self.attributes.aggregate(pipeline)).to_list()
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

    async def faq_entries(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        """FAQ entries by code, with what ownership and search need."""
        return await self.by_ids(FAQ, codes, {"department_code": 1, "question": 1})

    async def faq_for_items(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        cursor = self.db[FAQ].find({"item_codes": {"$in": list(codes)}})
        return await cursor.sort([("sort_order", 1), ("_id", 1)]).to_list()

    async def faq_page(
        self, query: Mapping[str, Any], skip: int, limit: int
    ) -> list[dict[str, Any]]:
        cursor = self.db[FAQ].find(dict(query)).sort([("sort_order", 1), ("_id", 1)])
        return await cursor.skip(skip).limit(limit).to_list()

    async def faq_after(
        self, query: Mapping[str, Any], order: Keyset, after: Key | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` FAQ entries matching ``query`` that follow ``after`` in ``order``."""
        seek = order.seek(after)
        condition = {"$and": [dict(query), seek]} if seek else dict(query)
        cursor = self.db[FAQ].find(condition).sort(order.sort())
        return await cursor.limit(limit).to_list()

    async def count(self, collection: str, query: Mapping[str, Any]) -> int:
        return await self.db[collection].count_documents(dict(query))

    async def insert_faq_entry(self, doc: dict[str, Any]) -> None:
        await self.db[FAQ].insert_one(doc)

    async def link_faq(self, faq_codes: Sequence[str], item_code: str) -> None:
        # item_codes is an array of strings: $addToSet of a scalar is safe everywhere.
        await self.db[FAQ].update_many(
            {"_id": {"$in": list(faq_codes)}}, {"$addToSet": {"item_codes": item_code}}
        )

    async def forget_new_item(
        self,
        code: str,
        *,
        terms: Mapping[str, Sequence[str]] | None,
        linked_faq: Sequence[str] | None,
        faq_ids: Sequence[str] | None,
        faq_prefix: str,
    ) -> None:
        """Remove what a create of item ``code`` wrote, except its claim; idempotent.

        The undo of a create (docs/consistency.md), in reverse order of writing. Derived
        records (catalog index) of the code go whole: no index entry may exist for an
        item that is not stored. Source documents go only as far as this create wrote
        them. ``None`` means "not known" — the leftovers of an abandoned attempt — and
        then everything the code's create could have written is looked for.

        Args:
            terms: the search terms indexed (``None``: scan the postings for ``code``).
            linked_faq: existing FAQ entries linked (``None``: every entry naming ``code``).
            faq_ids: FAQ entries inserted (``None``: every ``_id`` with ``faq_prefix``).
        """
        postings = self.db[SEARCH_POSTINGS]
        if terms is None:
            await postings.update_many({"codes": {"$in": [code]}}, {"$pull": {"codes": code}})
        elif keys := sorted(_posting_keys(terms)):
            await postings.bulk_write(
                [UpdateOne({"_id": key}, {"$pull": {"codes": code}}) for key in keys],
                ordered=False,
            )
        await self.db[SEARCH_TERMS].delete_one({"_id": code})
        await self.attributes.delete_one({"_id": code})
        await self.items.delete_one({"_id": code})
        linked_filter: dict[str, Any] = {"item_codes": {"$in": [code]}}
        if linked_faq is not None:
            linked_filter["_id"] = {"$in": list(linked_faq)}
        if linked_faq is None or linked_faq:
            # $pull of a string from an array of strings: safe on every server we support.
            await self.db[FAQ].update_many(linked_filter, {"$pull": {"item_codes": code}})
        if faq_ids is None:
            # The prefix is built from an item code ([0-9A-Z]): nothing to escape.
            await self.db[FAQ].delete_many({"_id": {"$regex": f"^{faq_prefix}"}})
        elif faq_ids:
            await self.db[FAQ].delete_many({"_id": {"$in": list(faq_ids)}})

    async def delete_version(self, version_id: str) -> None:
        await self.versions.delete_one({"_id": version_id})

    async def take_over_version(self, version_id: str, stale_at: Any, doc: dict[str, Any]) -> bool:
        """Replace an abandoned version record by ``doc``, unless someone else did first.

        Matching on the abandoned record's ``changed_at`` makes the takeover atomic: of
        two retries racing for the same abandoned record exactly one gets it. A whole
        replace keeps ``changed_at`` a datetime on nx-27017 (a ``$set`` would not).
        """
        replaced = await self.versions.find_one_and_replace(
            {"_id": version_id, "changed_at": stale_at}, _without_id(doc)
        )
        return replaced is not None

    async def version_record(self, version_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.versions.find_one({"_id": version_id})
        return doc

    # -- search index --------------------------------------------------------------------
    async def postings(self, keys: Sequence[str]) -> dict[str, list[str]]:
        docs = (
            await self.db[SEARCH_POSTINGS]
            .find({"_id": {"$in": list(dict.fromkeys(keys))}})
            .to_list()
        )
        return {doc["_id"]: doc.get("codes", []) for doc in docs}

    async def matching_codes(self, codes: Sequence[str], criteria: ItemCriteria) -> list[str]:
        """The subset of ``codes`` that also satisfies ``criteria``."""
        restricted = ItemCriteria(**{**criteria.__dict__, "codes": list(codes)})
        docs = await self.attributes.find(restricted.to_filter(), {"_id": 1}).to_list()
        return [doc["_id"] for doc in docs]

    async def reindex(self, changes: Sequence[tuple[dict[str, Any], dict[str, list[str]]]]) -> None:
        """Bring the catalog index up to date for items just written.

        Args:
            changes: each written item with its search terms per field (``n``/``t``/``b``).
        """
        if not changes:
            return
        side = self.db[SEARCH_TERMS]
        codes = [item["_id"] for item, _ in changes]
        previous = {d["_id"]: d for d in await side.find({"_id": {"$in": codes}}).to_list()}
        posting_ops: list[Any] = []
        side_ops: list[Any] = []
        attribute_ops: list[Any] = []
        for item, terms in changes:
            code = item["_id"]
            active = item.get("status") == "active"
            old = previous.get(code)
            old_keys = _posting_keys(old) if old and old.get("active") else set()
            new_keys = _posting_keys(terms) if active else set()
            posting_ops.extend(
                UpdateOne({"_id": key}, {"$pull": {"codes": code}}) for key in old_keys - new_keys
            )
            # $addToSet of a string into an array of strings: safe on every server we support.
            posting_ops.extend(
                UpdateOne({"_id": key}, {"$addToSet": {"codes": code}}, upsert=True)
                for key in sorted(new_keys - old_keys)
            )
            record = {"active": active, **{f: terms.get(f, []) for f in SEARCH_FIELDS}}
            attributes = attributes_of(item)
            # Replace/insert, never $set: attributes hold a datetime (see the conformance tests).
            if old:
                side_ops.append(ReplaceOne({"_id": code}, record))
                attribute_ops.append(ReplaceOne({"_id": code}, _without_id(attributes)))
            else:
                side_ops.append(InsertOne({"_id": code, **record}))
                attribute_ops.append(InsertOne(attributes))
        if posting_ops:
            await self.db[SEARCH_POSTINGS].bulk_write(posting_ops, ordered=False)
        await side.bulk_write(side_ops, ordered=False)
        await self.attributes.bulk_write(attribute_ops, ordered=False)

    async def build_index(
        self, changes: Sequence[tuple[dict[str, Any], dict[str, list[str]]]]
    ) -> None:
        """Write the whole catalog index at once (first seeding, or a lost index)."""
        for collection in (SEARCH_POSTINGS, SEARCH_TERMS, ATTRIBUTES):
            await self.db[collection].delete_many({})
        lists: dict[str, list[str]] = {}
        side, attributes = [], []
        for item, terms in changes:
            active = item.get("status") == "active"
            if active:
                for key in _posting_keys(terms):
                    lists.setdefault(key, []).append(item["_id"])
            side.append(
                {
                    "_id": item["_id"],
                    "active": active,
                    **{f: terms.get(f, []) for f in SEARCH_FIELDS},
                }
            )
            attributes.append(attributes_of(item))
        postings = [{"_id": key, "codes": codes} for key, codes in sorted(lists.items())]
        for collection, docs in (
            (SEARCH_POSTINGS, postings),
            (SEARCH_TERMS, side),
            (ATTRIBUTES, attributes),
        ):
            for start in range(0, len(docs), 5000):
                await self.db[collection].insert_many(docs[start : start + 5000])

    async def index_is_empty(self) -> bool:
        return await self.attributes.find_one({}, {"_id": 1}) is None

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
    ) -> list[dict[str, Any]]:
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
        written: list[dict[str, Any]] = []
        for doc in docs:
            snapshot = versions[doc["_id"]]
            current = existing.get(doc["_id"])
            if current is None:
                # Inserts, not upserts: nx-27017's replace-upsert ignores the filter's _id.
                item_ops.append(InsertOne(doc))
                version_ops.append(InsertOne(snapshot))
                written.append(doc)
            elif current.get("version") == 1 and current.get("updated_by") == "seed":
                # Whole-document replace keeps datetimes typed (a $set would not on nx-27017).
                item_ops.append(ReplaceOne({"_id": doc["_id"]}, _without_id(doc)))
                version_ops.append(ReplaceOne({"_id": snapshot["_id"]}, _without_id(snapshot)))
                written.append(doc)
            # else: staff changed it; the seed never overwrites a newer version.
        if item_ops:
            await self.items.bulk_write(item_ops, ordered=False)
            await self.versions.bulk_write(version_ops, ordered=False)
        return written

    async def index_sources(self) -> list[dict[str, Any]]:
        """What the catalog index is derived from, for every item (to rebuild it)."""
        # Everything SearchIndexer.terms reads, or a rebuilt index differs from one kept
        # up to date by writes (keywords and everyday name make the phrase postings).
        derived_from = ("search_name", "search_tags", "search_body", "keywords", "short_name")
        projection = {f: 1 for f in (*ATTRIBUTE_FIELDS, *derived_from, "annual_volume")}
        return await self.items.find({}, projection).to_list()


def _without_id(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


def _posting_keys(terms: Mapping[str, Any]) -> set[str]:
    return {f"{field}|{term}" for field in SEARCH_FIELDS for term in terms.get(field, [])}
