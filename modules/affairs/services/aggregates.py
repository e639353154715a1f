"""Counts over the catalog: per department and theme, facets of a result set, statistics.

Every aggregate reads many records, so each is cached under the current *catalog
generation* (``caching.py``): a write bumps the generation and no reader ever sees
counts older than the last change. Values are plain data; the GraphQL types label them.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from gateway.context import Context
from gateway.kit.textsearch.index import DocIds
from modules.affairs.caching import cached_json
from modules.affairs.flags import FLAG_FIELDS
from modules.affairs.repository import ItemCriteria
from modules.affairs.state import catalog_repository, reference
from modules.affairs.vocabulary import ItemType

__all__ = [
    "CatalogStats",
    "FacetCounts",
    "ResultSet",
    "catalog_counts",
    "catalog_stats",
    "count_items",
    "facet_counts",
]

Row = dict[str, Any]


@dataclass(frozen=True)
class ResultSet:
    """What a list of items is, for its totals and facets (computed lazily)."""

    criteria: ItemCriteria
    cache_key: str  # identifies the result set (query and filter) for cached aggregates
    ids: DocIds | None = None  # the matches' catalog-index numbers, when searching

    @classmethod
    def of(
        cls, criteria: ItemCriteria, query_text: str = "", ids: DocIds | None = None
    ) -> ResultSet:
        key = json.dumps(criteria.to_filter(), sort_keys=True, ensure_ascii=False)
        return cls(criteria, f"{query_text}|{key}" if query_text else key, ids)

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.cache_key.encode(), usedforsecurity=False).hexdigest()


async def count_items(ctx: Context, result: ResultSet) -> int:
    """How many items a result set holds (set operations on postings, no scan)."""
    if result.ids is not None:
        return int(result.ids.size)
    return await catalog_repository(ctx).count_items(result.criteria)


async def catalog_counts(ctx: Context, facet: str) -> dict[str, int]:
    """Active items per department (``department``) or theme (``theme``)."""
    data = await reference(ctx)
    values = {"department": data.departments, "theme": data.themes}[facet]
    repository = catalog_repository(ctx)

    async def produce() -> dict[str, int]:
        active = await repository.matching_ids(ItemCriteria())
        counted = await repository.count_by_value(active, {facet: list(values)})
        return counted[facet]

    counts: dict[str, int] = await cached_json(ctx.cache, f"affairs:counts:{facet}", 3600, produce)
    return counts


@dataclass(frozen=True)
class FacetCounts:
    """Counts over a whole result set, by value code (labels are the types' business)."""

    departments: dict[str, int]
    themes: dict[str, int]
    types: dict[str, int]
    flags: dict[str, int]


async def facet_counts(ctx: Context, result: ResultSet) -> FacetCounts:
    """Counts by department, theme, type and flag over a whole result set.

    Each count is the size of the result set's intersection with one attribute posting
    (``a|department:…``), so a facet over 100,000 matches reads ~110 posting lists and
    never an item or attribute record.
    """
    data = await reference(ctx)
    repository = catalog_repository(ctx)
    facets = {
        "department": list(data.departments),
        "theme": list(data.themes),
        "type": [t.value for t in ItemType],
        "flag": list(FLAG_FIELDS),
    }

    async def produce() -> dict[str, dict[str, int]]:
        ids = result.ids
        if ids is None:
            ids = await repository.matching_ids(result.criteria)
        counted = await repository.count_by_value(ids, facets)
        flags = counted["flag"]
        return {
            "departments": counted["department"],
            "themes": counted["theme"],
            "types": counted["type"],
            "flags": {flag: flags.get(flag, 0) for flag in FLAG_FIELDS},
        }

    counted = await cached_json(ctx.cache, f"affairs:facets:2:{result.digest}", 600, produce)
    return FacetCounts(**counted)


@dataclass(frozen=True)
class CatalogStats:
    """Catalog figures as published (ratios are shares of active items)."""

    total_items: int
    active_items: int
    suspended_items: int
    cancelled_items: int
    flags: dict[str, int]  # active items with each flag
    average_legal_limit_days: float
    average_promised_limit_days: float
    limit_compression: float
    licensing_limit_compression: float
    by_type: dict[str, int]
    by_department: dict[str, int]


def _average(rows: list[Row], field: str) -> float:
    return round(sum(int(r[field]) for r in rows) / (len(rows) or 1), 2)


def _compression(rows: list[Row]) -> float:
    """1 − Σpromised/Σlegal: how much the promised limits cut the legal ones."""
    legal = sum(int(r["legal_limit_days"]) for r in rows)
    promised = sum(int(r["promised_limit_days"]) for r in rows)
    return round(1 - promised / legal, 4) if legal else 0.0


def compute_stats(rows: list[Row]) -> CatalogStats:
    active = [r for r in rows if r.get("status") == "active"]
    promised = [
        r
        for r in active
        if r.get("handling_type") == "promised" and int(r.get("legal_limit_days") or 0) > 0
    ]
    statuses = Counter(r.get("status") for r in rows)
    return CatalogStats(
        total_items=len(rows),
        active_items=len(active),
        suspended_items=statuses["suspended"],
        cancelled_items=statuses["cancelled"],
        flags={flag: sum(1 for r in active if r.get(flag)) for flag in FLAG_FIELDS},
        average_legal_limit_days=_average(promised, "legal_limit_days"),
        average_promised_limit_days=_average(promised, "promised_limit_days"),
        limit_compression=_compression(promised),
        licensing_limit_compression=_compression([r for r in promised if r["type_code"] == "01"]),
        by_type=dict(Counter(r["type_code"] for r in active)),
        by_department=dict(Counter(r["department_code"] for r in active)),
    )


async def catalog_stats(ctx: Context) -> CatalogStats:
    repository = catalog_repository(ctx)

    async def produce() -> dict[str, Any]:
        stats = compute_stats(await repository.attribute_rows(ItemCriteria(statuses=())))
        return stats.__dict__

    return CatalogStats(**await cached_json(ctx.cache, "affairs:stats:2", 3600, produce))
