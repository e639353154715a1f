"""Reading items: one by code, and lists — browsed in a stable order or searched.

A list is returned as an :class:`ItemList`: a kit ``Listing`` of :class:`ItemHit` rows
(what the page shows) and the :class:`ResultSet` its totals and facets are computed
over. Browsing pages by keyset over the catalog index (``affairs_item_attributes``);
searching ranks active items from the inverted index and pages by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, NotFound
from gateway.kit.connections import Key, Keyset, Listing, Ranking, SortKey
from gateway.kit.textsearch.index import DocIds as Numbers
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
    # A browse parses nothing: the lexicon scan is the dearest part of a query's parse.
    query = search.parse_query(search_text, data.synonyms) if search_text else search.NO_QUERY
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
class _Hits:
    """Search matches in rank order, as arrays over item numbers.

    Only the head of the ranking and the page asked for ever become Python objects: a
    query matching thousands of items ranks them with numpy (ties broken by item number,
    which follows the code order of the seeded catalog) instead of an object and a sort
    key per match.
    """

    numbers: Numbers  # in rank order
    scores: npt.NDArray[np.float64]
    follow_up: npt.NDArray[np.bool_]  # a follow-up (补领, 注销 …) the query did not ask for
    highlights: dict[int, search.Highlight] = field(default_factory=dict)  # stored-text scans

    def __len__(self) -> int:
        return int(self.numbers.size)

    def ranked(self) -> _Hits:
        order = np.lexsort((self.numbers, -np.round(self.scores, 6)))
        return _Hits(
            self.numbers[order], self.scores[order], self.follow_up[order], self.highlights
        )

    def keep(self, chosen: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> _Hits:
        return _Hits(
            self.numbers[chosen], self.scores[chosen], self.follow_up[chosen], self.highlights
        )


async def _search(
    repository: CatalogRepository,
    query: search.ParsedQuery,
    criteria: ItemCriteria,
    sort: str | None,
) -> ItemList:
    scores: search.Scores | None = None
    if list(criteria.statuses) == ["active"]:
        hits, scores = await _search_index(repository, query, criteria)
    else:  # staff looking at suspended/cancelled items: not searchable, score stored texts
        hits = await _scan(repository, query, criteria)
    known: dict[int, Doc] = {}
    if sort and sort != "RELEVANCE":
        hits = await _resort(repository, hits, BROWSE_ORDERS[sort])
    elif scores is not None:
        hits, known = await _rerank_head(repository, query, hits)
    positions = Ranking(SEARCH_NAMESPACE, range(len(hits)))

    async def fetch(after: Key | None, limit: int) -> list[ItemHit]:
        window = [
            (at, int(hits.numbers[i]), float(hits.scores[i]))
            for at, i in positions.window(after, limit)
        ]
        docs = dict(known)
        missing = [n for _, n, _ in window if n not in docs]
        if missing:
            codes = await repository.codes_of(missing)
            numbers = {code: n for n, code in zip(missing, codes, strict=True) if code}
            for found in await repository.items_by_codes(list(numbers)):
                docs[numbers[found["_id"]]] = found
        reasons = scores.explain(n for _, n, _ in window) if scores else {}
        page = []
        for at, number, score in window:
            if (doc := docs.get(number)) is None:
                continue
            highlight = hits.highlights.get(number)
            if highlight is None and number in reasons:
                highlight = search.highlight(doc["name"], *reasons[number])
            page.append(ItemHit(doc, round(score, 3), highlight, at))
        return page

    result = ResultSet.of(criteria, query.text, np.unique(hits.numbers))
    return ItemList(
        Listing(positions.order, fetch, positions.count, key_of=lambda hit: (hit.position or 0,)),
        result,
    )


async def _rerank_head(
    repository: CatalogRepository, query: search.ParsedQuery, hits: _Hits
) -> tuple[_Hits, dict[int, Doc]]:
    """Add the exact-name bonus (it needs names) and the follow-up rule to the head.

    Returns the new ranking and the head's items by number (the first page is among them).
    """
    size = min(RERANK_WINDOW, len(hits))
    head = hits.numbers[:size].tolist()
    codes = await repository.codes_of(head)
    by_code = {d["_id"]: d for d in await repository.items_by_codes([c for c in codes if c])}
    docs = [by_code.get(code or "", {}) for code in codes]
    names = [str(doc.get("name", "")) for doc in docs]
    issued = [[str(r.get("name", "")) for r in doc.get("results") or []] for doc in docs]
    factors = search.demote_follow_ups(query, names, issued, hits.follow_up[:size].tolist())
    scores = hits.scores.copy()
    for i, (name, factor) in enumerate(zip(names, factors, strict=True)):
        scores[i] = (scores[i] + search.exact_bonus(query, name)) * factor
    final = scores[:size].tolist()
    order = sorted(range(size), key=lambda i: (-round(final[i], 6), len(names[i]), head[i]))
    ranked = np.concatenate([np.asarray(order, dtype=np.intp), np.arange(size, len(hits))])
    reranked = _Hits(hits.numbers, scores, hits.follow_up, hits.highlights).keep(ranked)
    return reranked, {n: d for n, d in zip(head, docs, strict=True) if d}


async def _search_index(
    repository: CatalogRepository, query: search.ParsedQuery, criteria: ItemCriteria
) -> tuple[_Hits, search.Scores]:
    """Active items matching a query, by relevance, from the inverted index."""
    scores = await _scored(repository, query, body=False)
    if not len(scores):  # nothing by name or keywords: materials and FAQ questions too
        scores = await _scored(repository, query, body=True)
    hits = _Hits(scores.ids, scores.scores, scores.follow_up)
    if len(hits) and criteria.beyond_active_status:
        allowed = await repository.matching_ids(criteria)
        hits = hits.keep(np.isin(hits.numbers, allowed, assume_unique=True))
    return hits.ranked(), scores


async def _scored(
    repository: CatalogRepository, query: search.ParsedQuery, *, body: bool
) -> search.Scores:
    return search.score_postings(
        query, await repository.postings(search.posting_keys(query, body=body))
    )


async def _scan(
    repository: CatalogRepository, query: search.ParsedQuery, criteria: ItemCriteria
) -> _Hits:
    """Score stored texts (suspended and cancelled items are not in the search postings)."""
    scanned = search.rank(query, await repository.rank_candidates(criteria))
    numbers = await repository.index.ids_of([s.doc["_id"] for s in scanned])
    kept = [s for s in scanned if s.doc["_id"] in numbers]
    order = [numbers[s.doc["_id"]] for s in kept]
    return _Hits(
        np.asarray(order, dtype=np.uint32),
        np.asarray([s.score for s in kept], dtype=np.float64),
        np.zeros(len(kept), dtype=np.bool_),
        {numbers[s.doc["_id"]]: s.highlight for s in kept},
    )


async def _resort(repository: CatalogRepository, hits: _Hits, order: Keyset) -> _Hits:
    """Search results in a browsing order (only the matching items, in that order)."""
    codes = await repository.codes_of(hits.numbers.tolist())
    rows = {
        d["_id"]: d
        for d in await repository.attribute_rows(
            ItemCriteria(statuses=(), codes=[c for c in codes if c])
        )
    }
    present = [i for i, code in enumerate(codes) if code in rows]
    present.sort(key=lambda i: order.sort_key(rows[codes[i] or ""]))
    return hits.keep(np.asarray(present, dtype=np.intp))
