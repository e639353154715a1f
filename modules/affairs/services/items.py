"""Reading items: one by code, and lists — browsed in a stable order or searched.

A list is returned as an :class:`ItemList`: a kit ``Listing`` of :class:`ItemHit` rows
(what the page shows) and the :class:`ResultSet` its totals and facets are computed
over. Browsing pages by keyset over the catalog index (``affairs_item_attributes``);
searching ranks active items from the inverted index and pages by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, NotFound
from gateway.kit.connections import Key, Keyset, Listing, Ranking, SortKey
from gateway.kit.textsearch.index import DocIds
from modules.affairs import search
from modules.affairs.flags import FLAG_FIELDS
from modules.affairs.reference import ReferenceData
from modules.affairs.repository import CatalogRepository, ItemCriteria
from modules.affairs.services.aggregates import ResultSet, count_items
from modules.affairs.state import catalog_repository, reference, spelling
from modules.affairs.types.inputs import AffairItemFilter

__all__ = ["BROWSE_ORDERS", "ItemHit", "ItemList", "criteria_from_filter", "get_item", "list_items"]

Doc = dict[str, Any]

# Browsing orders: keysets over the catalog index, each ending in the unique code.
BROWSE_ORDERS: dict[str, Keyset] = {
    "CODE": Keyset("affairs.items.code", (SortKey("_id", "str"),)),
    "DEPARTMENT": Keyset(
        "affairs.items.department",
        (SortKey("department_order", "int"), SortKey("basic_code", "str"), SortKey("_id", "str")),
    ),
    "PROMISED_DAYS": Keyset(
        "affairs.items.promised_days",
        (
            SortKey("promised_limit_days", "int"),
            SortKey("department_order", "int"),
            SortKey("_id", "str"),
        ),
    ),
    "RECENTLY_UPDATED": Keyset(
        "affairs.items.recently_updated",
        (SortKey("updated_at", "datetime", descending=True), SortKey("_id", "str")),
    ),
}
SEARCH_NAMESPACE = "affairs.items.search"
# The exact-name bonus needs names: it is added to this fixed head of the ranking, the
# same for every page, so paging stays consistent.
RERANK_WINDOW = 60


@dataclass(frozen=True)
class ItemHit:
    """An item on a page, with why it matched when searching."""

    doc: Doc
    score: float | None = None
    highlight: search.Highlight | None = None
    position: int | None = None  # in the ranking, when searching


@dataclass(frozen=True)
class ItemList:
    """A list of items: how to page it, what its totals and facets count, and — when
    the search text looks mistyped — what the citizen probably meant."""

    listing: Listing[ItemHit]
    result: ResultSet
    did_you_mean: str | None = None


async def get_item(ctx: Context, code: str, version: int | None = None) -> Doc:
    """The current item, or one of its versions; NOT_FOUND otherwise."""
    repository = catalog_repository(ctx)
    if version is None:
        doc = await repository.item(code.strip())
    else:
        snapshot = await repository.version(code.strip(), version)
        doc = {**snapshot, "_id": snapshot["code"]} if snapshot else None
    if doc is None:
        detail = f"{code} 第 {version} 版" if version else code
        raise NotFound(f"未找到事项 {detail} (no such service item)")
    return doc


def criteria_from_filter(data: ReferenceData, given: AffairItemFilter | None) -> ItemCriteria:
    """Translate and validate a filter; unknown codes are field errors, not empty results."""
    if given is None:
        return ItemCriteria()
    errors: list[FieldError] = []

    def known(field: str, values: Sequence[str] | None, codes: dict[str, Any]) -> list[str]:
        for index, value in enumerate(values or []):
            if value not in codes:
                errors.append(
                    FieldError(f"filter.{field}.{index}", f"未知的编码 {value}", "unknown_code")
                )
        return list(values or [])

    theme_codes = known("themeCodes", given.theme_codes, data.themes)
    groups = known("lifecycleGroups", given.lifecycle_groups, data.lifecycle_groups)
    if groups:
        group_themes = [
            code for code, theme in data.themes.items() if theme.get("lifecycle_group") in groups
        ]
        theme_codes = sorted(set(theme_codes) & set(group_themes)) if theme_codes else group_themes
        if not theme_codes:
            theme_codes = ["-"]  # the groups have no themes: match nothing, not everything
    locations = known(
        "locationCode", [given.location_code] if given.location_code else [], data.locations
    )
    if given.min_online_depth is not None and not 1 <= given.min_online_depth <= 4:
        errors.append(FieldError("filter.minOnlineDepth", "须在 1–4 之间", "range"))
    criteria = ItemCriteria(
        statuses=[s.value for s in given.statuses] if given.statuses else ("active",),
        department_codes=known("departmentCodes", given.department_codes, data.departments),
        theme_codes=theme_codes,
        type_codes=[t.value for t in given.types or []],
        audiences=[a.value for a in given.audiences or []],
        handling_types=[h.value for h in given.handling_types or []],
        location_codes=locations,
        min_online_depth=given.min_online_depth,
        flags={flag: value for flag in FLAG_FIELDS if (value := getattr(given, flag)) is not None},
    )
    if errors:
        raise BadUserInput("筛选条件无效 (invalid filter)", errors)
    return criteria


async def list_items(
    ctx: Context, *, search_text: str | None, given: AffairItemFilter | None, sort: str | None
) -> ItemList:
    """Items matching a filter, searched when ``search_text`` is given.

    Relevance order when searching (``sort`` may ask for another order of the
    matches), code order otherwise.
    """
    data = await reference(ctx)
    criteria = criteria_from_filter(data, given)
    repository = catalog_repository(ctx)
    query = search.parse_query(search_text or "", data.synonyms)
    if sort == "RELEVANCE" and query.is_empty:
        raise BadUserInput(
            "按相关度排序需要搜索词 (RELEVANCE needs a search)",
            [FieldError("sort", "RELEVANCE needs search", "sort_needs_search")],
        )
    if query.is_empty:
        return _browse(ctx, repository, criteria, sort or "CODE")
    found = await _search(repository, query, criteria, sort)
    return replace(found, did_you_mean=spelling(ctx).suggest(query.text))


def _browse(
    ctx: Context, repository: CatalogRepository, criteria: ItemCriteria, sort: str
) -> ItemList:
    order = BROWSE_ORDERS[sort]
    result = ResultSet.of(criteria)

    async def fetch(after: Key | None, limit: int) -> list[ItemHit]:
        docs = await repository.list_items_after(criteria, order, after, limit)
        return [ItemHit(doc) for doc in docs]

    async def count() -> int:
        return await count_items(ctx, result)

    return ItemList(Listing(order, fetch, count, key_of=lambda hit: order.key_of(hit.doc)), result)


@dataclass
class _Ranked:
    code: str
    score: float
    highlight: search.Highlight | None = None  # known already when scored from stored texts
    number: int | None = None  # the item's number in the catalog index, when scored there
    follow_up: bool = False  # a follow-up (补领, 注销 …) the query did not ask for


async def _search(
    repository: CatalogRepository,
    query: search.ParsedQuery,
    criteria: ItemCriteria,
    sort: str | None,
) -> ItemList:
    scores: search.Scores | None = None
    if list(criteria.statuses) == ["active"]:
        ranked, scores = await _search_index(repository, query, criteria)
    else:  # staff looking at suspended/cancelled items: not in the index, score stored texts
        scan = search.rank(query, await repository.rank_candidates(criteria))
        ranked = [_Ranked(s.doc["_id"], s.score, s.highlight) for s in scan]
    known: dict[str, Doc] = {}
    if sort and sort != "RELEVANCE":
        ranked = await _resort(repository, ranked, BROWSE_ORDERS[sort])
    else:
        ranked, known = await _rerank_head(repository, query, ranked)
    positions = Ranking(SEARCH_NAMESPACE, ranked)

    async def fetch(after: Key | None, limit: int) -> list[ItemHit]:
        window = positions.window(after, limit)
        missing = [entry.code for _, entry in window if entry.code not in known]
        docs = dict(known)
        if missing:
            docs |= {d["_id"]: d for d in await repository.items_by_codes(missing)}
        reasons = (
            scores.explain(e.number for _, e in window if e.number is not None) if scores else {}
        )
        return [
            _hit(
                entry,
                docs[entry.code],
                at,
                reasons.get(entry.number) if entry.number is not None else None,
            )
            for at, entry in window
            if entry.code in docs
        ]

    result = ResultSet.of(criteria, query.text, await _numbers(repository, ranked))
    return ItemList(
        Listing(positions.order, fetch, positions.count, key_of=lambda hit: (hit.position or 0,)),
        result,
    )


def _hit(
    entry: _Ranked, doc: Doc, position: int, reason: tuple[list[str], set[str]] | None
) -> ItemHit:
    highlight = entry.highlight
    if highlight is None and reason is not None:
        highlight = search.highlight(doc["name"], *reason)
    return ItemHit(doc, round(entry.score, 3), highlight, position)


async def _rerank_head(
    repository: CatalogRepository, query: search.ParsedQuery, ranked: list[_Ranked]
) -> tuple[list[_Ranked], dict[str, Doc]]:
    """Add the exact-name bonus (it needs names) to the head of the ranking.

    Returns the new ranking and the head's items (the first page is among them).
    """
    head = ranked[:RERANK_WINDOW]
    by_code = {d["_id"]: d for d in await repository.items_by_codes([r.code for r in head])}
    docs = [by_code.get(r.code, {}) for r in head]
    names = [str(doc.get("name", "")) for doc in docs]
    issued = [[str(r.get("name", "")) for r in doc.get("results") or []] for doc in docs]
    factors = search.demote_follow_ups(query, names, issued, [r.follow_up for r in head])
    for entry, name, factor in zip(head, names, factors, strict=True):
        if entry.number is not None:  # stored-text scores include the bonus already
            entry.score += search.exact_bonus(query, name)
        entry.score *= factor
    head.sort(
        key=lambda r: (-round(r.score, 6), len(by_code.get(r.code, {}).get("name", "")), r.code)
    )
    return head + ranked[RERANK_WINDOW:], by_code


async def _search_index(
    repository: CatalogRepository, query: search.ParsedQuery, criteria: ItemCriteria
) -> tuple[list[_Ranked], search.Scores]:
    """Active items matching a query, by relevance, from the inverted index."""
    scores = await _scored(repository, query, body=False)
    if not len(scores):  # nothing by name or keywords: materials and FAQ questions too
        scores = await _scored(repository, query, body=True)
    numbers, values, follow_up = scores.ids, scores.scores, scores.follow_up
    if numbers.size and criteria.beyond_active_status:
        kept = np.isin(numbers, await repository.matching_ids(criteria), assume_unique=True)
        numbers, values, follow_up = numbers[kept], values[kept], follow_up[kept]
    codes = await repository.codes_of(numbers.tolist())
    ranked = [
        _Ranked(code, value, number=number, follow_up=flag)
        for number, value, flag, code in zip(
            numbers.tolist(), values.tolist(), follow_up.tolist(), codes, strict=True
        )
        if code is not None
    ]
    ranked.sort(key=lambda r: (-round(r.score, 6), r.code))
    return ranked, scores


async def _scored(
    repository: CatalogRepository, query: search.ParsedQuery, *, body: bool
) -> search.Scores:
    return search.score_postings(
        query, await repository.postings(search.posting_keys(query, body=body))
    )


async def _numbers(repository: CatalogRepository, ranked: Sequence[_Ranked]) -> DocIds:
    """The catalog-index numbers of ranked items (what facets and counts intersect)."""
    numbers = [r.number for r in ranked if r.number is not None]
    if len(numbers) < len(ranked):  # ranked from stored texts (staff searches)
        known = await repository.index.ids_of([r.code for r in ranked if r.number is None])
        numbers.extend(known.values())
    return np.unique(np.asarray(numbers, dtype=np.uint32))


async def _resort(
    repository: CatalogRepository, ranked: list[_Ranked], order: Keyset
) -> list[_Ranked]:
    """Search results in a browsing order (only the matching items, in that order)."""
    rows = {
        d["_id"]: d
        for d in await repository.attribute_rows(
            ItemCriteria(statuses=(), codes=[r.code for r in ranked])
        )
    }
    return sorted((r for r in ranked if r.code in rows), key=lambda r: order.sort_key(rows[r.code]))
