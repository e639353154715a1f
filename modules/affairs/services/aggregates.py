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
from modules.affairs.caching import cached_json
from modules.affairs.flags import FLAG_FIELDS
from modules.affairs.repository import CatalogRepository, ItemCriteria

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

    criteria: ItemCriteria  # restricted to the matching codes when searching
    cache_key: str  # identifies the result set (query and filter) for cached aggregates
    total: int | None = None  # known already when searching

    @classmethod
    def of(
        cls, criteria: ItemCriteria, query_text: str = "", total: int | None = None
    ) -> ResultSet:
        key = json.dumps(criteria.to_filter(), sort_keys=True, ensure_ascii=False)
        return cls(criteria, f"{query_text}|{key}" if query_text else key, total)

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.cache_key.encode(), usedforsecurity=False).hexdigest()


async def count_items(ctx: Context, result: ResultSet) -> int:
    """How many items a result set holds (a filtered count reads every match: cached)."""
    if result.total is not None:
        return result.total
    repository = CatalogRepository(ctx.db)

    async def produce() -> int:
        return await repository.count_items(result.criteria)

    count: int = await cached_json(ctx.cache, f"affairs:count:{result.digest}", 600, produce)
    return count


async def catalog_counts(ctx: Context, field: str) -> dict[str, int]:
    """Active items per value of ``department_code`` or ``theme_codes``."""
    repository = CatalogRepository(ctx.db)

    async def produce() -> dict[str, int]:
        return await repository.counts_by(field, unwind=field == "theme_codes")

    counts: dict[str, int] = await cached_json(ctx.cache, f"affairs:counts:{field}", 3600, produce)
    return counts


@dataclass(frozen=True)
class FacetCounts:
    """Counts over a whole result set, by value code (labels are the types' business)."""

    departments: dict[str, int]
    themes: dict[str, int]
    types: dict[str, int]
    flags: dict[str, int]


def _facets_of(rows: list[Row]) -> dict[str, dict[str, int]]:
    return {
        "departments": dict(Counter(r["department_code"] for r in rows)),
        "themes": dict(Counter(t for r in rows for t in r.get("theme_codes") or [])),
        "types": dict(Counter(r["type_code"] for r in rows)),
        "flags": {flag: sum(1 for r in rows if r.get(flag)) for flag in FLAG_FIELDS},
    }


async def facet_counts(ctx: Context, result: ResultSet) -> FacetCounts:
    repository = CatalogRepository(ctx.db)

    async def produce() -> dict[str, dict[str, int]]:
        if result.total == 0:
            return _facets_of([])
        return _facets_of(await repository.attribute_rows(result.criteria))

    counted = await cached_json(ctx.cache, f"affairs:facets:{result.digest}", 600, produce)
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
    repository = CatalogRepository(ctx.db)

    async def produce() -> dict[str, Any]:
        stats = compute_stats(await repository.attribute_rows(ItemCriteria(statuses=())))
        return stats.__dict__

    return CatalogStats(**await cached_json(ctx.cache, "affairs:stats:2", 3600, produce))
