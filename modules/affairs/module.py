"""The affairs module value the gateway discovers through the ``onestop.modules`` entry point."""

from __future__ import annotations

from gateway.registry import Module
from gateway.runtime import Runtime
from modules.affairs.loaders import ALL_LOADERS
from modules.affairs.permissions import PERMISSIONS
from modules.affairs.repository import (
    INDEXES,
    SEARCH_POSTINGS,
    SEARCH_TERMS,
    CatalogRepository,
)
from modules.affairs.schema import AffairsMutation, AffairsQuery
from modules.affairs.seeds import index_items, load_catalog
from modules.affairs.service import CatalogDirectory


async def _warm_catalog(runtime: Runtime) -> None:
    await runtime.interface("affairs.catalog", CatalogDirectory).warm()
    repository = CatalogRepository(runtime.db)
    # A database seeded before the catalog index existed (or that lost it) is indexed here.
    if await repository.index_is_empty() and await repository.items.find_one({}, {"_id": 1}):
        await index_items(repository, [])


module = Module(
    name="affairs",
    version="0.2.0",
    description="政务服务: the service catalog — items, departments, themes, service network, FAQ.",
    query=AffairsQuery,
    mutation=AffairsMutation,
    loaders=ALL_LOADERS,
    indexes=INDEXES,
    collections=(SEARCH_POSTINGS, SEARCH_TERMS),
    seeds=(load_catalog,),
    permissions=PERMISSIONS,
    cost_hints={"Query.affairItems": 10, "Query.affairsCatalogStats": 5},
    interfaces={"affairs.catalog": CatalogDirectory},
    on_startup=(_warm_catalog,),
)
