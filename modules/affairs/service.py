"""Read side of the catalog: lookups, listing and search, facets, statistics, places, FAQ.

Per-process state (synonyms, reference code sets, jieba vocabulary) lives in
``CatalogDirectory``, published to other modules as the ``affairs.catalog``
interface. Derived aggregates are cached under a *catalog generation* that
every write bumps, so no reader ever sees counts older than the last change.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import strawberry

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, NotFound
from gateway.kit.connections import Key, Keyset, SortKey, keyset_page, page_size, ranked_page
from gateway.kit.opening_hours import opening_state
from gateway.pagination import PageRequest, page_request
from gateway.runtime import Runtime
from modules.affairs import search
from modules.affairs.caching import bump_generation, cached_json
from modules.affairs.geo import distance_meters
from modules.affairs.inputs import (
    AffairItemFilter,
    GeoPointInput,
    ServiceLocationFilter,
)
from modules.affairs.pages import (
    AffairItemConnection,
    AffairItemEdge,
    AffairsCatalogStats,
    FacetCount,
    MatchField,
    Ratio,
    ResultSet,
    SearchHighlight,
    TextRange,
    TypeCount,
    compute_stats,
)
from modules.affairs.repository import (
    DEPARTMENTS,
    FAQ,
    LICENSE_TYPES,
    LIFECYCLE_GROUPS,
    LOCATIONS,
    SYNONYMS,
    THEMES,
    CatalogRepository,
    ItemCriteria,
)
from modules.affairs.types import (
    AffairItem,
    FaqConnection,
    FaqEntry,
    ServiceLocation,
    ServiceLocationConnection,
)
from modules.affairs.vocabulary import FLAG_FIELDS, ItemType

__all__ = ["CatalogDirectory", "catalog_counts", "catalog_stats", "directory", "list_items"]

REFERENCE_TTL = 60.0  # seconds a replica trusts its copy of reference data


class CatalogDirectory:
    """Per-process catalog state and the ``affairs.catalog`` published interface."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.repository = CatalogRepository(runtime.db)
        self._reference: dict[str, dict[str, dict[str, Any]]] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def warm(self) -> None:
        """Load reference data and teach jieba the catalogue's vocabulary."""
        await self.reference(force=True)

    async def reference(self, *, force: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
        if not force and time.monotonic() - self._loaded_at < REFERENCE_TTL and self._reference:
            return self._reference
        async with self._lock:
            if force or time.monotonic() - self._loaded_at >= REFERENCE_TTL or not self._reference:
                loaded = {}
                for collection in (
                    DEPARTMENTS,
                    THEMES,
                    LIFECYCLE_GROUPS,
                    LICENSE_TYPES,
                    LOCATIONS,
                    SYNONYMS,
                ):
                    docs = await self.repository.all(collection)
                    loaded[collection] = {str(d["_id"]): d for d in docs}
                self._reference = loaded
                self._loaded_at = time.monotonic()
                search.add_words(self._vocabulary(loaded))
        return self._reference

    @staticmethod
    def _vocabulary(reference: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[str]:
        words: list[str] = []
        for synonym in reference[SYNONYMS].values():
            words.append(str(synonym["term"]))
            words.extend(str(w) for w in synonym.get("expansions", []))
        words.extend(str(d["name"]) for d in reference[LICENSE_TYPES].values())
        words.extend(str(d["name"]) for d in reference[THEMES].values())
        return words

    async def synonyms(self) -> dict[str, list[str]]:
        reference = await self.reference()
        return {str(s["term"]): list(s.get("expansions", [])) for s in reference[SYNONYMS].values()}

    # -- the published interface ---------------------------------------------------------
    async def item(self, code: str) -> dict[str, Any] | None:
        """A current item document (for other modules: appointments, cases …)."""
        return await self.repository.item(code)

    async def bump_generation(self) -> None:
        await bump_generation(self.runtime.cache)


def directory(ctx: Context) -> CatalogDirectory:
    return ctx.interface("affairs.catalog", CatalogDirectory)


# -- items ------------------------------------------------------------------------------
async def get_item(ctx: Context, code: str, version: int | None = None) -> AffairItem:
    repository = CatalogRepository(ctx.db)
    if version is None:
        doc = await repository.item(code.strip())
    else:
        snapshot = await repository.version(code.strip(), version)
        doc = {**snapshot, "_id": snapshot["code"]} if snapshot else None
    if doc is None:
        detail = f"{code} 第 {version} 版" if version else code
        raise NotFound(f"未找到事项 {detail} (no such service item)")
    return AffairItem.from_doc(doc)


async def criteria_from_filter(ctx: Context, given: AffairItemFilter | None) -> ItemCriteria:
    """Translate and validate a filter; unknown codes are field errors, not empty results."""
    if given is None:
        return ItemCriteria()
    reference = await directory(ctx).reference()
    errors: list[FieldError] = []

    def known(field: str, values: Sequence[str] | None, collection: str) -> list[str]:
        for index, value in enumerate(values or []):
            if value not in reference[collection]:
                errors.append(
                    FieldError(f"filter.{field}.{index}", f"未知的编码 {value}", "unknown_code")
                )
        return list(values or [])

    theme_codes = known("themeCodes", given.theme_codes, THEMES)
    groups = known("lifecycleGroups", given.lifecycle_groups, LIFECYCLE_GROUPS)
    if groups:
        group_themes = [
            code
            for code, theme in reference[THEMES].items()
            if theme.get("lifecycle_group") in groups
        ]
        theme_codes = sorted(set(theme_codes) & set(group_themes)) if theme_codes else group_themes
        if not theme_codes:
            theme_codes = ["-"]  # the groups have no themes: match nothing, not everything
    locations = known(
        "locationCode", [given.location_code] if given.location_code else [], LOCATIONS
    )
    if given.min_online_depth is not None and not 1 <= given.min_online_depth <= 4:
        errors.append(FieldError("filter.minOnlineDepth", "须在 1–4 之间", "range"))
    criteria = ItemCriteria(
        statuses=[s.value for s in given.statuses] if given.statuses else ("active",),
        department_codes=known("departmentCodes", given.department_codes, DEPARTMENTS),
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


def _highlight(h: search.Highlight) -> SearchHighlight:
    return SearchHighlight(
        name=h.name,
        ranges=[TextRange(start=s, end=e) for s, e in h.ranges],
        matched_terms=h.matched_terms,
        matched_in=[MatchField(m) for m in h.matched_in],
    )


async def list_items(
    ctx: Context,
    *,
    search_text: str | None,
    given: AffairItemFilter | None,
    sort: str | None,
    first: int | None,
    after: str | None,
) -> AffairItemConnection:
    page = page_request(
        "affairs.items", first, after, default=20, maximum=ctx.settings.max_page_size
    )
    criteria = await criteria_from_filter(ctx, given)
    repository = CatalogRepository(ctx.db)
    query = search.parse_query(search_text or "", await directory(ctx).synonyms())
    if sort == "RELEVANCE" and query.is_empty:
        raise BadUserInput(
            "按相关度排序需要搜索词 (RELEVANCE needs a search)",
            [FieldError("sort", "RELEVANCE needs search", "sort_needs_search")],
        )
    if query.is_empty:
        return await _browse(repository, criteria, sort or "CODE", page)
    return await _search(repository, query, criteria, sort, page)


async def _browse(
    repository: CatalogRepository, criteria: ItemCriteria, sort: str, page: PageRequest
) -> AffairItemConnection:
    """A plain list. Code order by default: the primary key, so no page sorts every match."""
    docs = await repository.list_items(criteria, sort, page.offset, page.limit + 1)
    edges = [
        AffairItemEdge(
            cursor=page.cursor(i), node=AffairItem.from_doc(d), score=None, highlight=None
        )
        for i, d in enumerate(docs[: page.limit])
    ]
    return AffairItemConnection(
        edges=edges,
        page_info=page.page_info(len(edges), len(docs) > page.limit),
        result=ResultSet(criteria=criteria, cache_key=_filter_key(criteria)),
    )


async def _search(
    repository: CatalogRepository,
    query: search.ParsedQuery,
    criteria: ItemCriteria,
    sort: str | None,
    page: PageRequest,
) -> AffairItemConnection:
    if list(criteria.statuses) == ["active"]:
        ranked = await _search_index(repository, query, criteria)
    else:  # staff looking at suspended/cancelled items: not in the index, score stored texts
        scan = search.rank(query, await repository.rank_candidates(criteria))
        ranked = [_Ranked(s.doc["_id"], s.score, s.highlight) for s in scan]
    by_code: dict[str, dict[str, Any]] = {}
    if sort and sort != "RELEVANCE":
        ranked = await _resort(repository, ranked, sort)
    else:
        ranked, by_code = await _rerank_head(repository, query, ranked)
    window = ranked[page.offset : page.offset + page.limit]
    missing = [r.code for r in window if r.code not in by_code]
    if missing:
        by_code |= {d["_id"]: d for d in await repository.items_by_codes(missing)}
    edges = []
    for i, entry in enumerate(window):
        doc = by_code.get(entry.code)
        if doc is None:
            continue
        if entry.highlight is None and entry.hit is not None:
            entry.highlight = search.highlight(doc["name"], entry.hit.matched, entry.hit.places)
        edges.append(
            AffairItemEdge(
                cursor=page.cursor(i),
                node=AffairItem.from_doc(doc),
                score=round(entry.score, 3),
                highlight=_highlight(entry.highlight) if entry.highlight else None,
            )
        )
    matched = ItemCriteria(**{**criteria.__dict__, "codes": [r.code for r in ranked]})
    return AffairItemConnection(
        edges=edges,
        page_info=page.page_info(len(edges), len(ranked)),
        result=ResultSet(
            criteria=matched,
            cache_key=f"{query.text}|{_filter_key(criteria)}",
            total=len(ranked),
        ),
    )


def _filter_key(criteria: ItemCriteria) -> str:
    return json.dumps(criteria.to_filter(), sort_keys=True, ensure_ascii=False)


async def _rerank_head(
    repository: CatalogRepository, query: search.ParsedQuery, ranked: list[_Ranked]
) -> tuple[list[_Ranked], dict[str, dict[str, Any]]]:
    """Add the exact-name bonus (it needs names) to a fixed head of the ranking.

    The head is the same for every page, so paging stays consistent; its items are
    returned too, since the first page is among them.
    """
    head = ranked[:RERANK_WINDOW]
    by_code = {d["_id"]: d for d in await repository.items_by_codes([r.code for r in head])}
    for entry in head:
        doc = by_code.get(entry.code)
        if doc is not None and entry.hit is not None:
            entry.score += search.exact_bonus(query, doc["name"])
    head.sort(
        key=lambda r: (-round(r.score, 6), len(by_code.get(r.code, {}).get("name", "")), r.code)
    )
    return head + ranked[RERANK_WINDOW:], by_code


RERANK_WINDOW = 60


@dataclass
class _Ranked:
    code: str
    score: float
    highlight: search.Highlight | None = None
    hit: search.PostingHit | None = None


async def _search_index(
    repository: CatalogRepository, query: search.ParsedQuery, criteria: ItemCriteria
) -> list[_Ranked]:
    """Active items matching a query, by relevance, from the inverted index."""
    hits = search.score_postings(
        query, await repository.postings(search.posting_keys(query, body=False))
    )
    if not hits:  # nothing by name or keywords: materials and FAQ questions too
        hits = search.score_postings(
            query, await repository.postings(search.posting_keys(query, body=True))
        )
    codes = list(hits)
    if codes and criteria.beyond_active_status:
        codes = await repository.matching_codes(codes, criteria)
    ranked = [_Ranked(code, hits[code].score, hit=hits[code]) for code in codes]
    ranked.sort(key=lambda r: (-round(r.score, 6), r.code))
    return ranked


_SORT_KEYS: dict[str, Any] = {
    "CODE": lambda d: (d["_id"],),
    "DEPARTMENT": lambda d: (d.get("department_order", 999), d.get("basic_code", ""), d["_id"]),
    "PROMISED_DAYS": lambda d: (
        d.get("promised_limit_days", 0),
        d.get("department_order", 999),
        d["_id"],
    ),
    "RECENTLY_UPDATED": lambda d: (-d["updated_at"].timestamp(), d["_id"]),
}


async def _resort(repository: CatalogRepository, ranked: list[_Ranked], sort: str) -> list[_Ranked]:
    """Search results in a non-relevance order (only matching items, in that order)."""
    rows = {
        d["_id"]: d
        for d in await repository.attribute_rows(
            ItemCriteria(statuses=(), codes=[r.code for r in ranked])
        )
    }
    key = _SORT_KEYS[sort]
    return sorted((r for r in ranked if r.code in rows), key=lambda r: key(rows[r.code]))


# -- aggregates -------------------------------------------------------------------------
async def catalog_counts(ctx: Context, field: str) -> dict[str, int]:
    """Active items per department or theme, cached per catalog generation."""
    repository = CatalogRepository(ctx.db)

    async def produce() -> dict[str, int]:
        return await repository.counts_by(field, unwind=field == "theme_codes")

    counts: dict[str, int] = await cached_json(ctx.cache, f"affairs:counts:{field}", 3600, produce)
    return counts


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


async def catalog_stats(ctx: Context) -> AffairsCatalogStats:
    repository = CatalogRepository(ctx.db)

    async def produce() -> dict[str, Any]:
        reference = await directory(ctx).reference()
        names = {
            code: str(d.get("short_name", d["name"])) for code, d in reference[DEPARTMENTS].items()
        }
        stats = compute_stats(await repository.attribute_rows(ItemCriteria(statuses=())), names)
        return dict(_jsonable(asdict(stats)))

    raw = await cached_json(ctx.cache, "affairs:stats", 3600, produce)
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "by_type":
            fields[key] = [
                TypeCount(type=ItemType(t["type"]), name=t["name"], count=t["count"]) for t in value
            ]
        elif key == "by_department":
            fields[key] = [FacetCount(**d) for d in value]
        elif isinstance(value, dict):
            fields[key] = Ratio(**value)
        else:
            fields[key] = value
    return AffairsCatalogStats(**fields)


# -- service network --------------------------------------------------------------------
# The network is small (145 places) and already held in memory as reference data, so both
# orders are keysets computed here rather than in the database: the listing order on
# (sort_order, code), and — when `near` is given — the distance from that point on
# (distance, code). A cursor carries the last place's key; the next page is every place
# after it, so places added to the network never shift a page boundary.
LOCATION_ORDER = Keyset("affairs.locations", (SortKey("sort_order", "int"), SortKey("_id", "str")))
NEAREST_ORDER = Keyset(
    "affairs.locations.near", (SortKey("distance", "float"), SortKey("_id", "str"))
)


async def list_locations(
    ctx: Context,
    near: GeoPointInput | None,
    given: ServiceLocationFilter | None,
    first: int | None,
    after: str | None,
) -> ServiceLocationConnection:
    maximum = ctx.settings.max_page_size
    page_size(first, default=20, maximum=maximum)  # refuse a bad page before any work
    if near is not None and not (-90 <= near.lat <= 90 and -180 <= near.lng <= 180):
        raise BadUserInput("坐标无效 (invalid coordinates)", [FieldError("near", "out of range")])
    reference = await directory(ctx).reference()
    places = list(reference[LOCATIONS].values())
    given = given or ServiceLocationFilter()
    if given.item_code:
        item = await CatalogRepository(ctx.db).item(given.item_code)
        if item is None:
            raise NotFound(f"未找到事项 {given.item_code}")
        handled = set(item.get("location_codes", []))
        places = [p for p in places if p["_id"] in handled]
    if given.kinds:
        kinds = {k.value for k in given.kinds}
        places = [p for p in places if p["kind"] in kinds]
    if given.street:
        street = given.street.removesuffix("街道")
        places = [p for p in places if p.get("street") == street]
    if given.open_now:
        places = [
            p
            for p in places
            if opening_state(p.get("opening_hours", []), bool(p.get("always_open"))).is_open
        ]
    order = LOCATION_ORDER
    rows: list[tuple[Key, dict[str, Any], float | None]] = [
        ((int(p.get("sort_order", 0)), p["_id"]), p, None) for p in places
    ]
    if near is not None:
        order = NEAREST_ORDER
        rows = []
        for p in places:
            distance = distance_meters(near.lat, near.lng, p["lat"], p["lng"])
            rows.append(((distance, p["_id"]), p, distance))
    rows.sort(key=lambda row: row[0])  # both orders ascending on every key

    async def fetch(after_key: Key | None, limit: int) -> list[tuple[Key, Any, float | None]]:
        following = (r for r in rows if after_key is None or order.follows(r[0], after_key))
        return list(itertools.islice(following, limit))

    async def count() -> int:
        return len(rows)

    return await keyset_page(
        ServiceLocationConnection,
        order,
        first=first,
        after=after,
        default=20,
        maximum=maximum,
        fetch=fetch,
        node=lambda row: ServiceLocation.from_doc(row[1], row[2]),
        count=count,
        key_of=lambda row: row[0],
    )


# -- FAQ --------------------------------------------------------------------------------
FAQ_ORDER = Keyset("affairs.faq", (SortKey("sort_order", "int"), SortKey("_id", "str")))


async def faq_page(
    ctx: Context,
    search_text: str | None,
    item_code: str | None,
    department_code: str | None,
    first: int | None,
    after: str | None,
) -> FaqConnection:
    """The FAQ library: keyset pages in editorial order, or a relevance ranking when searching."""
    maximum = ctx.settings.max_page_size
    page_size(first, default=20, maximum=maximum)
    repository = CatalogRepository(ctx.db)
    query: dict[str, Any] = {}
    if item_code:
        query["item_codes"] = {"$in": [item_code]}
    if department_code:
        query["department_code"] = department_code
    parsed = search.parse_query(search_text or "", await directory(ctx).synonyms())
    if parsed.is_empty:

        async def fetch(after_key: Key | None, limit: int) -> list[dict[str, Any]]:
            return await repository.faq_after(query, FAQ_ORDER, after_key, limit)

        async def count() -> int:
            return await repository.count(FAQ, query)

        return await keyset_page(
            FaqConnection,
            FAQ_ORDER,
            first=first,
            after=after,
            default=20,
            maximum=maximum,
            fetch=fetch,
            node=FaqEntry.from_doc,
            count=count,
        )
    # Relevance has no sort key the database could seek on: the ranking is computed per
    # request over every matching entry (a few hundred at most). It is deterministic for
    # the same query and data (ties broken by code), so a cursor is the position in it;
    # an entry added meanwhile may shift later pages by one — acceptable for search
    # results, which a client re-runs rather than resumes.
    query["search_terms"] = {"$in": list(parsed.terms)}
    ranked = [s.doc for s in search.rank(parsed, await repository.faq_page(query, 0, 10_000))]
    return await ranked_page(
        FaqConnection,
        "affairs.faq.search",
        ranked,
        first=first,
        after=after,
        default=20,
        maximum=maximum,
        node=FaqEntry.from_doc,
    )


# -- suggestions ------------------------------------------------------------------------
@strawberry.type(description="An autocomplete suggestion.")
class AffairSuggestion:
    text: str = strawberry.field(description="What to show and search for.")
    item_code: str | None = strawberry.field(description="The item, when the text is an item name.")
    kind: str = strawberry.field(description="ITEM / EVERYDAY_WORD.")


async def suggestions(ctx: Context, prefix: str, first: int) -> list[AffairSuggestion]:
    if not 1 <= first <= 20:
        raise BadUserInput(
            "first 须在 1–20 之间", [FieldError("first", "out of range", "page_size")]
        )
    text = search.normalize(prefix)[:20]
    if not text:
        return []
    found: dict[str, AffairSuggestion] = {}
    for term in sorted(await directory(ctx).synonyms(), key=len):
        if term.startswith(text):
            found.setdefault(
                term, AffairSuggestion(text=term, item_code=None, kind="EVERYDAY_WORD")
            )
    pattern = re.escape(text)
    repository = CatalogRepository(ctx.db)
    starts = await repository.item_names_like("^" + pattern, first)
    contains = await repository.item_names_like(pattern, first * 3) if len(starts) < first else []
    for doc in sorted(starts, key=lambda d: len(d["name"])) + sorted(
        contains, key=lambda d: len(d["name"])
    ):
        found.setdefault(
            doc["name"], AffairSuggestion(text=doc["name"], item_code=doc["_id"], kind="ITEM")
        )
    return list(found.values())[:first]
