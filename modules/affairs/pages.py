"""Result shapes of catalog queries: item connections with facets and highlights, statistics."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry

from gateway.pagination import PageInfo
from modules.affairs import loaders
from modules.affairs.caching import cached_json
from modules.affairs.repository import CatalogRepository, ItemCriteria
from modules.affairs.types import AffairItem, CatalogInfo
from modules.affairs.vocabulary import FLAG_FIELDS, FLAG_LABELS, ITEM_TYPE_NAMES, ItemType


@strawberry.enum(description="Convenience flags that can be filtered and counted.")
class AffairFlag(Enum):
    ONLINE = "online"
    ZERO_VISIT = "zero_visit"
    MAX_ONE_VISIT = "max_one_visit"
    INSTANT = "instant"
    INSTANT_APPROVAL = "instant_approval"
    TOLERATES_MISSING = "tolerates_missing"
    NO_MEETING = "no_meeting"
    DISTRICT_WIDE = "district_wide"
    APPOINTMENT = "appointment"
    MAIL_DELIVERY = "mail_delivery"
    SELF_SERVICE = "self_service"
    CHARGED = "charged"
    IN_HALL = "in_hall"
    NO_PHOTOCOPY = "no_photocopy"


@strawberry.enum(description="Where a search matched.")
class MatchField(Enum):
    NAME = "NAME"
    KEYWORDS = "KEYWORDS"
    MATERIALS_OR_FAQ = "MATERIALS_OR_FAQ"


@strawberry.type(description="A [start, end) character range in the item name.")
class TextRange:
    start: int = strawberry.field(description="First character (0-based).")
    end: int = strawberry.field(description="One past the last character.")


@strawberry.type(description="Why an item matched a search.")
class SearchHighlight:
    name: str = strawberry.field(
        description="The name, HTML-escaped, with matches wrapped in <em>…</em>."
    )
    ranges: list[TextRange] = strawberry.field(description="Matched ranges in the plain name.")
    matched_terms: list[str] = strawberry.field(description="Query words (and synonyms) that hit.")
    matched_in: list[MatchField] = strawberry.field(description="Where they hit.")


@strawberry.type(description="An item in a result list.")
class AffairItemEdge:
    cursor: str = strawberry.field(description="Opaque cursor for `after`.")
    node: AffairItem = strawberry.field(description="The item.")
    score: float | None = strawberry.field(description="Relevance, when searching.")
    highlight: SearchHighlight | None = strawberry.field(description="Matches, when searching.")


@strawberry.type(description="How many results share a value.")
class FacetCount:
    value: str = strawberry.field(description="Code.")
    label: str = strawberry.field(description="Chinese label.")
    count: int = strawberry.field(description="Results with this value.")


@strawberry.type(description="How many results carry a flag.")
class FlagCount:
    flag: AffairFlag = strawberry.field(description="The flag.")
    label: str = strawberry.field(description="Chinese label.")
    count: int = strawberry.field(description="Results with the flag set.")


@strawberry.type(description="Counts over the whole result set, for filter chips.")
class AffairItemFacets:
    departments: list[FacetCount] = strawberry.field(description="By department, largest first.")
    themes: list[FacetCount] = strawberry.field(description="By theme, largest first.")
    types: list[FacetCount] = strawberry.field(description="By item type.")
    flags: list[FlagCount] = strawberry.field(description="By convenience flag.")


@dataclass
class ResultSet:
    """What a connection needs to answer totals and facets lazily."""

    criteria: ItemCriteria  # restricted to the matching codes when searching
    cache_key: str  # identifies the result set (query and filter) for cached aggregates
    total: int | None = None  # known already when searching

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.cache_key.encode(), usedforsecurity=False).hexdigest()


@strawberry.type(description="A page of service items (Relay connection).")
class AffairItemConnection:
    edges: list[AffairItemEdge] = strawberry.field(description="Items on this page.")
    page_info: PageInfo = strawberry.field(description="Paging.")
    result: strawberry.Private[ResultSet]

    @strawberry.field(description="Results over all pages.")
    async def total_count(self, info: CatalogInfo) -> int:
        if self.result.total is not None:
            return self.result.total
        repository = CatalogRepository(info.context.db)

        async def produce() -> int:
            return await repository.count_items(self.result.criteria)

        # A filtered count reads every matching record: cache it until the catalog changes.
        count: int = await cached_json(
            info.context.cache, f"affairs:count:{self.result.digest}", 600, produce
        )
        return count

    @strawberry.field(description="Counts by department, theme, type and flag over all results.")
    async def facets(self, info: CatalogInfo) -> AffairItemFacets:
        repository = CatalogRepository(info.context.db)

        async def produce() -> dict[str, Any]:
            if self.result.total == 0:
                return _facets_of([])
            return _facets_of(await repository.attribute_rows(self.result.criteria))

        # Facets read every matching record: cache them until the catalog next changes.
        counted = await cached_json(
            info.context.cache, f"affairs:facets:{self.result.digest}", 600, produce
        )
        raw = {k: Counter(v) if k != "flags" else v for k, v in counted.items()}
        departments = await info.context.loader(loaders.department_by_code).load_many(
            list(raw["departments"])
        )
        themes = await info.context.loader(loaders.theme_by_code).load_many(list(raw["themes"]))
        names = {str(d["_id"]): str(d.get("short_name") or d["name"]) for d in departments if d}
        names |= {str(t["_id"]): str(t["name"]) for t in themes if t}

        def counts(values: Counter[str], labels: dict[str, str]) -> list[FacetCount]:
            return [
                FacetCount(value=v, label=labels.get(v, v), count=n)
                for v, n in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
            ]

        return AffairItemFacets(
            departments=counts(raw["departments"], names),
            themes=counts(raw["themes"], names),
            types=counts(raw["types"], ITEM_TYPE_NAMES),
            flags=[
                FlagCount(flag=AffairFlag(f), label=FLAG_LABELS[f], count=raw["flags"][f])
                for f in FLAG_FIELDS
            ],
        )


def _facets_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "departments": dict(Counter(d["department_code"] for d in docs)),
        "themes": dict(Counter(t for d in docs for t in d.get("theme_codes") or [])),
        "types": dict(Counter(d["type_code"] for d in docs)),
        "flags": {f: sum(1 for d in docs if d.get(f)) for f in FLAG_FIELDS},
    }


@strawberry.type(description="A count and its share of active items.")
class Ratio:
    count: int = strawberry.field(description="Active items with the property.")
    ratio: float = strawberry.field(description="Share of active items (0–1).")


@strawberry.type(description="Items of one type.")
class TypeCount:
    type: ItemType = strawberry.field(description="Item type.")
    name: str = strawberry.field(description="Type name.")
    count: int = strawberry.field(description="Active items.")


@strawberry.type(description="Catalog statistics computed from the data (published ratios).")
class AffairsCatalogStats:
    total_items: int = strawberry.field(description="All items, any status.")
    active_items: int = strawberry.field(description="在用 items (the base of every ratio).")
    suspended_items: int = strawberry.field(description="暂停 items.")
    cancelled_items: int = strawberry.field(description="取消 items.")
    online: Ratio = strawberry.field(description="可网办.")
    zero_visit: Ratio = strawberry.field(description="零跑动.")
    max_one_visit: Ratio = strawberry.field(description="最多跑一次.")
    instant: Ratio = strawberry.field(description="即办件 (即来即办).")
    instant_approval: Ratio = strawberry.field(description="秒批.")
    district_wide: Ratio = strawberry.field(description="区内通办.")
    no_meeting: Ratio = strawberry.field(description="不见面审批.")
    tolerates_missing: Ratio = strawberry.field(description="容缺受理.")
    no_photocopy: Ratio = strawberry.field(description="免复印.")
    appointment: Ratio = strawberry.field(description="支持预约.")
    charged: Ratio = strawberry.field(description="收费.")
    average_legal_limit_days: float = strawberry.field(
        description="Mean 法定办结时限 of active 承诺件 (working days)."
    )
    average_promised_limit_days: float = strawberry.field(
        description="Mean 承诺办结时限 of active 承诺件 (working days)."
    )
    limit_compression: float = strawberry.field(
        description="1 − Σpromised/Σlegal over active 承诺件: how much the promise cuts the law."
    )
    licensing_limit_compression: float = strawberry.field(
        description="The same, over 行政许可 items only."
    )
    by_type: list[TypeCount] = strawberry.field(description="Active items by type.")
    by_department: list[FacetCount] = strawberry.field(description="Active items by department.")


def compute_stats(
    rows: list[dict[str, Any]], department_names: dict[str, str]
) -> AffairsCatalogStats:
    active = [r for r in rows if r.get("status") == "active"]
    base = len(active) or 1

    def ratio(flag: str) -> Ratio:
        count = sum(1 for r in active if r.get(flag))
        return Ratio(count=count, ratio=round(count / base, 4))

    promised = [
        r
        for r in active
        if r.get("handling_type") == "promised" and int(r.get("legal_limit_days") or 0) > 0
    ]
    licensing = [r for r in promised if r.get("type_code") == "01"]

    def compression(group: list[dict[str, Any]]) -> float:
        legal = sum(int(r["legal_limit_days"]) for r in group)
        return (
            round(1 - sum(int(r["promised_limit_days"]) for r in group) / legal, 4)
            if legal
            else 0.0
        )

    types = Counter(r["type_code"] for r in active)
    departments = Counter(r["department_code"] for r in active)
    return AffairsCatalogStats(
        total_items=len(rows),
        active_items=len(active),
        suspended_items=sum(1 for r in rows if r.get("status") == "suspended"),
        cancelled_items=sum(1 for r in rows if r.get("status") == "cancelled"),
        online=ratio("online"),
        zero_visit=ratio("zero_visit"),
        max_one_visit=ratio("max_one_visit"),
        instant=ratio("instant"),
        instant_approval=ratio("instant_approval"),
        district_wide=ratio("district_wide"),
        no_meeting=ratio("no_meeting"),
        tolerates_missing=ratio("tolerates_missing"),
        no_photocopy=ratio("no_photocopy"),
        appointment=ratio("appointment"),
        charged=ratio("charged"),
        average_legal_limit_days=round(
            sum(int(r["legal_limit_days"]) for r in promised) / (len(promised) or 1), 2
        ),
        average_promised_limit_days=round(
            sum(int(r["promised_limit_days"]) for r in promised) / (len(promised) or 1), 2
        ),
        limit_compression=compression(promised),
        licensing_limit_compression=compression(licensing),
        by_type=[
            TypeCount(type=ItemType(code), name=ITEM_TYPE_NAMES[code], count=n)
            for code, n in sorted(types.items())
        ],
        by_department=[
            FacetCount(value=code, label=department_names.get(code, code), count=n)
            for code, n in sorted(departments.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    )
