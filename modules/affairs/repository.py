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

import numpy as np
from pymongo import InsertOne, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from gateway.kit.connections import Key, Keyset, count_matching
from gateway.kit.textsearch.index import DocIds, IndexCollections, InvertedIndex, Terms
from gateway.registry import IndexSpec
from modules.affairs.flags import FLAG_FIELDS

__all__ = [
    "ATTRIBUTES",
    "DEPARTMENTS",
    "FAQ",
    "INDEX",
    "INDEXES",
    "INDEX_NAMESPACE",
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
# The catalog index, derived from items on every write (see reindex()):
# filterable attributes of every item, small, for browsing pages in a sort order;
ATTRIBUTES = "affairs_item_attributes"
# and the inverted index (gateway.kit.textsearch.index): search terms of active items by
# field, and the attribute values of every item under ``a|<facet>:<value>`` so that
# counts and facets of any result set are set operations on posting lists.
INDEX_NAMESPACE = "affairs"
INDEX = IndexCollections.of(INDEX_NAMESPACE)
ATTRIBUTE_FIELD = "a"

# Filterable attributes, one definition: criteria field, stored field, posting facet.
FACETS: tuple[tuple[str, str, str], ...] = (
    ("statuses", "status", "status"),
    ("department_codes", "department_code", "department"),
    ("theme_codes", "theme_codes", "theme"),
    ("type_codes", "type_code", "type"),
    ("audiences", "audiences", "audience"),
    ("handling_types", "handling_type", "handling"),
    ("location_codes", "location_codes", "location"),
)
ONLINE_DEPTHS = (1, 2, 3, 4)


def attribute_key(facet: str, value: object) -> str:
    """The posting key of one attribute value, e.g. ``a|department:1144…``."""
    return f"{ATTRIBUTE_FIELD}|{facet}:{value}"


def attribute_terms(item: Mapping[str, Any]) -> list[str]:
    """An item's attribute values as index terms (every item, whatever its status)."""
    terms: list[str] = []
    for _, stored, facet in FACETS:
        value = item.get(stored)
        values = value if isinstance(value, list) else [value]
        terms.extend(f"{facet}:{v}" for v in values if v is not None)
    terms.append(f"depth:{int(item.get('online_depth') or 1)}")
    terms.extend(f"flag:{flag}" for flag in FLAG_FIELDS if item.get(flag))
    return terms


INDEXES = (
    *INDEX.indexes,
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
        """The MongoDB filter over attribute records (arrays matched with ``$in``)."""
        query: dict[str, Any] = {}
        for criterion, stored, _ in FACETS:
            if values := getattr(self, criterion):
                query[stored] = {"$in": list(values)}
        if self.min_online_depth is not None:
            query["online_depth"] = {"$gte": self.min_online_depth}
        for flag, wanted in self.flags.items():
            query[flag] = wanted
        if self.codes is not None:
            query["_id"] = {"$in": list(self.codes)}
        return query

    def posting_groups(self) -> list[list[str]]:
        """The criteria as posting lists to intersect: each group is a union of keys.

        ``flag=False`` criteria are left to :meth:`excluded_keys`; ``codes`` to the caller.
        """
        groups = [
            [attribute_key(facet, v) for v in values]
            for criterion, _, facet in FACETS
            if (values := getattr(self, criterion))
        ]
        if self.min_online_depth is not None:
            groups.append(
                [attribute_key("depth", d) for d in ONLINE_DEPTHS if d >= self.min_online_depth]
            )
        groups.extend([attribute_key("flag", f)] for f, wanted in self.flags.items() if wanted)
        return groups

    def excluded_keys(self) -> list[str]:
        """Postings whose items must not be in the result (flags wanted false)."""
        return [attribute_key("flag", f) for f, wanted in self.flags.items() if not wanted]

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


class CatalogRepository:
    """Every MongoDB access of the module; one per process (``CatalogState``)."""

    def __init__(self, db: AsyncDatabase[Any], index: InvertedIndex) -> None:
        self.db = db
        self.index = index
        self.items = db[ITEMS]
        self.versions = db[VERSIONS]
        self.attributes = db[ATTRIBUTES]

    # -- items ---------------------------------------------------------------------------
    async def item(self, code: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.items.find_one({"_id": code})
        return doc

    async def items_by_codes(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        return await self.items.find({"_id": {"$in": list(codes)}}).to_list()

    async def list_items_after(
        self, criteria: ItemCriteria, order: Keyset, after: Key | None, limit: int
    ) -> list[dict[str, Any]]:
        """A page of items in a browsing order: keys from the small attribute records
        (seek and sort there), then the items themselves by id."""
        projection = {key.field: 1 for key in order.keys}
        rows = await order.find_after(
            self.attributes, criteria.to_filter(), after, limit, projection
        )
        codes = [row["_id"] for row in rows]
        found = {doc["_id"]: doc for doc in await self.items_by_codes(codes)}
        return [found[code] for code in codes if code in found]

    async def any_item(self) -> bool:
        return await self.items.find_one({}, {"_id": 1}) is not None

    async def matching_ids(self, criteria: ItemCriteria) -> DocIds:
        """The index numbers of every item meeting ``criteria`` (``codes`` aside).

        Set operations on attribute postings: no attribute record is read, so a count
        or facets over 100,000 items cost a few posting reads (docs/affairs-catalog.md).
        """
        groups = criteria.posting_groups()
        excluded = criteria.excluded_keys()
        lists = await self.index.lookup(
            [key for group in groups for key in group]
            + excluded
            + [attribute_key("status", s) for s in ("active", "suspended", "cancelled")]
        )
        empty = np.zeros(0, dtype=np.uint32)
        if groups:
            unions = [_union([lists.get(k, empty) for k in group]) for group in groups]
            ids = unions[0]
            for other in unions[1:]:
                ids = np.intersect1d(ids, other, assume_unique=True)
        else:  # every item: all statuses together
            ids = _union([v for k, v in lists.items() if k.startswith(attribute_key("status", ""))])
        for key in excluded:
            ids = np.setdiff1d(ids, lists.get(key, empty), assume_unique=True)
        return ids

    async def count_items(self, criteria: ItemCriteria) -> int:
        return int((await self.matching_ids(criteria)).size)

    async def count_by_value(
        self, ids: DocIds, facets: Mapping[str, Sequence[str]]
    ) -> dict[str, dict[str, int]]:
        """How many of ``ids`` carry each value of each facet (``{facet: [values]}``)."""
        keys = {
            facet: {v: attribute_key(facet, v) for v in values} for facet, values in facets.items()
        }
        lists = await self.index.lookup(k for by_value in keys.values() for k in by_value.values())
        if not ids.size:
            return {facet: {} for facet in facets}
        member = np.zeros(int(ids.max()) + 1, dtype=bool)
        member[ids] = True
        counts: dict[str, dict[str, int]] = {}
        for facet, by_value in keys.items():
            counts[facet] = {}
            for value, key in by_value.items():
                posting = lists.get(key)
                if posting is None:
                    continue
                inside = posting[posting < member.size]
                if n := int(member[inside].sum()):
                    counts[facet][value] = n
        return counts

    async def rank_candidates(self, criteria: ItemCriteria) -> list[dict[str, Any]]:
        return await self.items.find(criteria.to_filter(), RANK_PROJECTION).to_list()

    async def attribute_rows(self, criteria: ItemCriteria) -> list[dict[str, Any]]:
        """Attribute records of every matching item (facets, statistics, re-sorting).

        Facets are counted in Python rather than with ``$facet``: nx-27017 evaluates
        ``$facet`` per cursor batch on some plans and returns partial counts (pinned in
        the conformance tests).
        """
        return await self.attributes.find(criteria.to_filter()).to_list()

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

    async def versions_by_ids(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Version records by ``<code>@<version>`` (their ``_id``)."""
        return await self.versions.find({"_id": {"$in": list(ids)}}).to_list()

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

    async def faq_matching(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every FAQ entry matching ``query`` (a search's candidates: a few hundred at most)."""
        return await self.db[FAQ].find(dict(query)).to_list()

    async def faq_after(
        self, query: Mapping[str, Any], order: Keyset, after: Key | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` FAQ entries matching ``query`` that follow ``after`` in ``order``."""
        return await order.find_after(self.db[FAQ], query, after, limit)

    async def count_faq(self, query: Mapping[str, Any]) -> int:
        return await count_matching(self.db[FAQ], query)

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
            linked_faq: existing FAQ entries linked (``None``: every entry naming ``code``).
            faq_ids: FAQ entries inserted (``None``: every ``_id`` with ``faq_prefix``).
        """
        await self.index.remove([code])  # the index knows what it posted for the code
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

    # -- the catalog index ----------------------------------------------------------------
    async def postings(self, keys: Sequence[str]) -> dict[str, DocIds]:
        """Posting lists (index numbers of items) by ``"<field>|<term>"`` key."""
        return await self.index.lookup(keys)

    async def codes_of(self, ids: Sequence[int]) -> list[str | None]:
        """Item codes of index numbers (``None`` for one no longer indexed)."""
        return await self.index.keys_of(ids)

    async def reindex(self, changes: Sequence[tuple[dict[str, Any], Terms]]) -> None:
        """Bring the catalog index up to date for items just written.

        Args:
            changes: each written item with its index terms by field
                (``documents.index_terms``).
        """
        if not changes:
            return
        codes = [item["_id"] for item, _ in changes]
        indexed = await self.index.ids_of(codes)  # before the update: new items are not yet
        await self.index.update([(item["_id"], terms) for item, terms in changes])
        # Replace/insert, never $set: attributes hold a datetime (see the conformance tests).
        # A new item's record is inserted: a stray one of the same code fails the write
        # (and the create is undone) rather than being silently overwritten.
        operations: list[Any] = [
            ReplaceOne({"_id": item["_id"]}, _without_id(attributes_of(item)))
            if item["_id"] in indexed
            else InsertOne(attributes_of(item))
            for item, _ in changes
        ]
        await self.attributes.bulk_write(operations, ordered=False)

    async def build_index(self, changes: Sequence[tuple[dict[str, Any], Terms]]) -> None:
        """Write the whole catalog index at once (first seeding, or a lost index)."""
        await self.index.rebuild((item["_id"], terms) for item, terms in changes)
        await self.attributes.delete_many({})
        attributes = [attributes_of(item) for item, _ in changes]
        for start in range(0, len(attributes), 5000):
            await self.attributes.insert_many(attributes[start : start + 5000])

    async def index_is_empty(self) -> bool:
        return await self.index.is_empty() or await self.attributes.find_one({}, {"_id": 1}) is None

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
        derived_from = (
            "name",
            "search_name",
            "search_tags",
            "search_body",
            "keywords",
            "short_name",
        )
        projection = {f: 1 for f in (*ATTRIBUTE_FIELDS, *derived_from, "annual_volume")}
        # In code order: the index numbers items in this order, and search breaks ties by
        # number — so ties fall in code order.
        return await self.items.find({}, projection).sort("_id", 1).to_list()


def _without_id(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


def _union(lists: Sequence[DocIds]) -> DocIds:
    if not lists:
        return np.zeros(0, dtype=np.uint32)
    return np.unique(np.concatenate(lists)) if len(lists) > 1 else lists[0]
