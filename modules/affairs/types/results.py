"""Result shapes of catalog queries: item connections with facets and highlights,
statistics, autocomplete suggestions and mutation payloads."""

from __future__ import annotations

import strawberry

from gateway.kit.connections import Connection, Edge
from modules.affairs import loaders
from modules.affairs.flags import FLAGS
from modules.affairs.search import Highlight
from modules.affairs.services import aggregates
from modules.affairs.services.aggregates import CatalogStats, FacetCounts, ResultSet
from modules.affairs.services.items import ItemHit
from modules.affairs.services.suggestions import Suggestion
from modules.affairs.types.enums import AffairFlag, AffairSuggestionKind, ItemType, MatchField
from modules.affairs.types.flag_fields import with_flag_fields
from modules.affairs.types.items import AffairItem
from modules.affairs.types.reference import CatalogInfo
from modules.affairs.vocabulary import ITEM_TYPE_NAMES

__all__ = [
    "AffairItemConnection",
    "AffairItemEdge",
    "AffairItemFacets",
    "AffairItemPayload",
    "AffairSuggestion",
    "AffairsCatalogStats",
]


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

    @classmethod
    def of(cls, highlight: Highlight) -> SearchHighlight:
        return cls(
            name=highlight.name,
            ranges=[TextRange(start=s, end=e) for s, e in highlight.ranges],
            matched_terms=highlight.matched_terms,
            matched_in=[MatchField(m) for m in highlight.matched_in],
        )


@strawberry.type(description="An item in a result list.")
class AffairItemEdge(Edge[AffairItem]):
    score: float | None = strawberry.field(description="Relevance, when searching.")
    highlight: SearchHighlight | None = strawberry.field(description="Matches, when searching.")

    @classmethod
    def of(cls, cursor: str, hit: ItemHit) -> AffairItemEdge:
        return cls(
            cursor=cursor,
            node=AffairItem.from_doc(hit.doc),
            score=hit.score,
            highlight=SearchHighlight.of(hit.highlight) if hit.highlight else None,
        )


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


def _counted(values: dict[str, int], labels: dict[str, str]) -> list[FacetCount]:
    """Largest first, then by code."""
    return [
        FacetCount(value=value, label=labels.get(value, value), count=count)
        for value, count in sorted(values.items(), key=lambda vc: (-vc[1], vc[0]))
    ]


@strawberry.type(description="Counts over the whole result set, for filter chips.")
class AffairItemFacets:
    departments: list[FacetCount] = strawberry.field(description="By department, largest first.")
    themes: list[FacetCount] = strawberry.field(description="By theme, largest first.")
    types: list[FacetCount] = strawberry.field(description="By item type.")
    flags: list[FlagCount] = strawberry.field(description="By convenience flag.")

    @classmethod
    async def of(cls, info: CatalogInfo, counts: FacetCounts) -> AffairItemFacets:
        departments = await info.context.loader(loaders.department_by_code).load_many(
            list(counts.departments)
        )
        themes = await info.context.loader(loaders.theme_by_code).load_many(list(counts.themes))
        names = {str(d["_id"]): str(d.get("short_name") or d["name"]) for d in departments if d}
        names |= {str(t["_id"]): str(t["name"]) for t in themes if t}
        return cls(
            departments=_counted(counts.departments, names),
            themes=_counted(counts.themes, names),
            types=_counted(counts.types, ITEM_TYPE_NAMES),
            flags=[
                FlagCount(flag=AffairFlag(f.name), label=f.label, count=counts.flags.get(f.name, 0))
                for f in FLAGS
            ],
        )


@strawberry.type(description="A page of service items (Relay connection).")
class AffairItemConnection(Connection[AffairItem]):
    # Narrows the kit's edge type to one that also carries the search score (a list is
    # invariant for mypy, but every edge built here is an AffairItemEdge).
    edges: list[AffairItemEdge] = strawberry.field(  # type: ignore[assignment]
        description="Items on this page."
    )
    did_you_mean: str | None = strawberry.field(
        description="When the search text looks mistyped (a pinyin-keyboard homophone, or "
        "pinyin typed as it is), the text with the catalog's own words: 公鸡金 → 公积金, "
        "shebao → 社保. Show it as 您是不是要找…; null otherwise."
    )
    result: strawberry.Private[ResultSet]

    @strawberry.field(description="Counts by department, theme, type and flag over all results.")
    async def facets(self, info: CatalogInfo) -> AffairItemFacets:
        return await AffairItemFacets.of(
            info, await aggregates.facet_counts(info.context, self.result)
        )


@strawberry.type(description="A count and its share of active items.")
class Ratio:
    count: int = strawberry.field(description="Active items with the property.")
    ratio: float = strawberry.field(description="Share of active items (0–1).")


@strawberry.type(description="Items of one type.")
class TypeCount:
    type: ItemType = strawberry.field(description="Item type.")
    name: str = strawberry.field(description="Type name.")
    count: int = strawberry.field(description="Active items.")


@strawberry.type(
    description="Catalog statistics computed from the data (published ratios); one ratio per "
    "convenience flag."
)
@with_flag_fields(FLAGS, annotation=Ratio, default=None)
class AffairsCatalogStats:
    total_items: int = strawberry.field(description="All items, any status.")
    active_items: int = strawberry.field(description="在用 items (the base of every ratio).")
    suspended_items: int = strawberry.field(description="暂停 items.")
    cancelled_items: int = strawberry.field(description="取消 items.")
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

    @classmethod
    async def of(cls, info: CatalogInfo, stats: CatalogStats) -> AffairsCatalogStats:
        base = stats.active_items or 1
        departments = await info.context.loader(loaders.department_by_code).load_many(
            list(stats.by_department)
        )
        names = {str(d["_id"]): str(d.get("short_name") or d["name"]) for d in departments if d}
        ratios = {
            flag: Ratio(count=count, ratio=round(count / base, 4))
            for flag, count in stats.flags.items()
        }
        return cls(
            total_items=stats.total_items,
            active_items=stats.active_items,
            suspended_items=stats.suspended_items,
            cancelled_items=stats.cancelled_items,
            average_legal_limit_days=stats.average_legal_limit_days,
            average_promised_limit_days=stats.average_promised_limit_days,
            limit_compression=stats.limit_compression,
            licensing_limit_compression=stats.licensing_limit_compression,
            by_type=[
                TypeCount(type=ItemType(code), name=ITEM_TYPE_NAMES[code], count=count)
                for code, count in sorted(stats.by_type.items())
            ],
            by_department=_counted(stats.by_department, names),
            **ratios,
        )


@strawberry.type(description="An autocomplete suggestion.")
class AffairSuggestion:
    text: str = strawberry.field(description="What to show and search for.")
    item_code: str | None = strawberry.field(description="The item, when the text is an item name.")
    kind: AffairSuggestionKind = strawberry.field(description="An item name or an everyday word.")

    @classmethod
    def of(cls, suggestion: Suggestion) -> AffairSuggestion:
        kind = (
            AffairSuggestionKind.ITEM
            if suggestion.item_code
            else AffairSuggestionKind.EVERYDAY_WORD
        )
        return cls(text=suggestion.text, item_code=suggestion.item_code, kind=kind)


@strawberry.type(description="The item after a change.")
class AffairItemPayload:
    item: AffairItem = strawberry.field(description="The item as now stored.")
