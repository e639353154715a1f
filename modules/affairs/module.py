"""The affairs module value the gateway discovers through the ``onestop.modules`` entry point."""

from __future__ import annotations

from gateway.registry import CacheHint, CacheScope, CostHint, Module
from gateway.runtime import Runtime
from modules.affairs.caching import catalog_generations
from modules.affairs.interface import CATALOG, ITEM_CHANGED
from modules.affairs.permissions import PERMISSIONS
from modules.affairs.repository import INDEX, INDEXES
from modules.affairs.schema import AffairsMutation, AffairsQuery, AffairsSubscription
from modules.affairs.seeds import index_items, load_catalog
from modules.affairs.state import CatalogState
from modules.affairs.types.nodes import NODE_RESOLVERS


async def _warm_catalog(runtime: Runtime) -> None:
    """Load reference data (and teach the segmenter its words) before the first request."""
    state = runtime.state(CatalogState)
    await state.reference.get(force=True)
    # A database seeded before the catalog index existed (or that lost it) is indexed here.
    if await state.repository.index_is_empty() and await state.repository.any_item():
        await index_items(state.repository, [])
    # The first search would otherwise look up the codes of all its matches.
    await state.index.load_keys()
    await state.build_spelling()


# Full-text search is the dearest thing a citizen can ask for (tens of ms against
# microseconds for a field); list sizes are the seeded catalog's typical maxima.
_SEARCH = {"search": 200}
COST_HINTS = {
    "Query.affairItems": CostHint(10, argument_costs=_SEARCH),
    "Query.faq": CostHint(5, argument_costs=_SEARCH),
    "Query.affairSuggestions": CostHint(20),
    "Query.serviceLocations": CostHint(10),
    "Query.affairsCatalogStats": CostHint(5),
    "AffairItem.faq": CostHint(1, list_size=4),
    "AffairItem.locations": CostHint(1, list_size=30),
    "FaqEntry.items": CostHint(1, list_size=20),
}


async def catalog_version(runtime: Runtime) -> str:
    """The catalog generation: every item write and every seeding bumps it."""
    return str(await catalog_generations(runtime.cache).current())


# The catalog is public and changes rarely: responses are reused for five minutes, and at
# once no more after a write (the generation is part of the response cache's key). Opening
# status follows the clock; who changed a version is shown to staff only.
_CATALOG = CacheHint(300, version=catalog_version)
CACHE_HINTS = {
    **{
        f"Query.{field}": _CATALOG
        for field in (
            "affairItem",
            "affairItems",
            "affairSuggestions",
            "departments",
            "themes",
            "lifecycleGroups",
            "faq",
            "affairsCatalogStats",
        )
    },
    "Query.serviceLocations": CacheHint(60, version=catalog_version),
    "ServiceLocation.openStatus": CacheHint(60),
    "AffairItemVersionSummary.changedBy": CacheHint(scope=CacheScope.PRIVATE),
}

module = Module(
    name="affairs",
    version="0.3.0",
    description="政务服务: the service catalog — items, departments, themes, service network, FAQ.",
    query=AffairsQuery,
    mutation=AffairsMutation,
    subscription=AffairsSubscription,
    indexes=INDEXES,
    collections=INDEX.names,
    seeds=(load_catalog,),
    permissions=PERMISSIONS,
    nodes=NODE_RESOLVERS,
    cost_hints=COST_HINTS,
    cache_hints=CACHE_HINTS,
    interfaces=(CATALOG,),
    events=(ITEM_CHANGED,),
    state=CatalogState,
    on_startup=(_warm_catalog,),
)
