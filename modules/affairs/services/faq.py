"""The FAQ library (常见业务问题库): editorial order, or a relevance ranking when searching."""

from __future__ import annotations

from typing import Any

from gateway.context import Context
from gateway.kit.connections import Key, Keyset, Listing, Ranking, SortKey
from modules.affairs import search
from modules.affairs.state import catalog_repository, reference

__all__ = ["FAQ_ORDER", "faq_listing"]

Doc = dict[str, Any]
FAQ_ORDER = Keyset("affairs.faq", (SortKey("sort_order", "int"), SortKey("_id", "str")))


async def faq_listing(
    ctx: Context, search_text: str | None, item_code: str | None, department_code: str | None
) -> Listing[Doc]:
    """FAQ entries about an item or of a department, optionally searched."""
    repository = catalog_repository(ctx)
    query: dict[str, Any] = {}
    if item_code:
        query["item_codes"] = {"$in": [item_code]}
    if department_code:
        query["department_code"] = department_code
    parsed = search.parse_query(search_text or "", (await reference(ctx)).synonyms)
    if parsed.is_empty:

        async def fetch(after: Key | None, limit: int) -> list[Doc]:
            return await repository.faq_after(query, FAQ_ORDER, after, limit)

        async def count() -> int:
            return await repository.count_faq(query)

        return Listing(FAQ_ORDER, fetch, count)
    # Relevance has no sort key the database could seek on: the ranking is computed per
    # request over every matching entry (a few hundred at most). It is deterministic for
    # the same query and data (ties broken by code), so a cursor is the position in it;
    # an entry added meanwhile may shift later pages by one — acceptable for search
    # results, which a client re-runs rather than resumes.
    query["search_terms"] = {"$in": list(parsed.terms)}
    ranked = [s.doc for s in search.rank(parsed, await repository.faq_matching(query))]
    return Ranking("affairs.faq.search", ranked).listing()
