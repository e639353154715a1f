"""The affairs module's own per-process state: reference data and the search index.

Declared as ``Module(state=CatalogState)``; services reach it through
:func:`catalog_repository` and :func:`reference` rather than building their own, so
every request shares one copy of the reference data and one cache of the index's
document numbers.
"""

from __future__ import annotations

from gateway.context import Context
from gateway.kit.textsearch.index import InvertedIndex
from gateway.runtime import Runtime
from modules.affairs.reference import CatalogReference, ReferenceData
from modules.affairs.repository import INDEX_NAMESPACE, CatalogRepository

__all__ = ["CatalogState", "catalog_repository", "reference"]


class CatalogState:
    """Built once per process from the runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.index = InvertedIndex(runtime.db, INDEX_NAMESPACE)
        self.repository = CatalogRepository(runtime.db, self.index)
        self.reference = CatalogReference(self.repository)


def catalog_repository(ctx: Context) -> CatalogRepository:
    """The module's repository (all its MongoDB access), for a request."""
    return ctx.state(CatalogState).repository


async def reference(ctx: Context) -> ReferenceData:
    """The reference data, for a request."""
    return await ctx.state(CatalogState).reference.get()
