"""The affairs module's own per-process state: reference data, the search index and
its spelling hints.

Declared as ``Module(state=CatalogState)``; services reach it through
:func:`catalog_repository`, :func:`reference` and :func:`spelling` rather than building
their own, so every request shares one copy of the reference data, one cache of the
index's document numbers and one vocabulary for "did you mean".
"""

from __future__ import annotations

import asyncio
import logging
import time

from gateway.background import spawn
from gateway.context import Context
from gateway.kit.textsearch import Spelling
from gateway.kit.textsearch.index import InvertedIndex
from gateway.runtime import Runtime
from modules.affairs import search
from modules.affairs.caching import catalog_generations
from modules.affairs.reference import CatalogReference, ReferenceData
from modules.affairs.repository import INDEX_NAMESPACE, CatalogRepository

__all__ = ["CatalogState", "catalog_repository", "reference", "spelling"]

log = logging.getLogger("onestop.affairs")

# The spelling vocabulary follows the catalog's words; a few minutes late is harmless
# (it only suggests), and rebuilding it reads every index term: checked every 10 minutes,
# rebuilt only when the catalog generation moved.
SPELLING_TTL = 600.0
VOCABULARY_FIELDS = ("n", "t", "k")  # names, tags, whole keywords


class CatalogState:
    """Built once per process from the runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.index = InvertedIndex(runtime.db, INDEX_NAMESPACE)
        self.repository = CatalogRepository(runtime.db, self.index)
        self._generations = catalog_generations(runtime.cache)
        self.reference = CatalogReference(self.repository, self._generations)
        self._spelling = Spelling((), is_word=search.is_word)
        self._spelling_at = 0.0
        self._spelling_generation = -1
        self._rebuilding: asyncio.Task[None] | None = None

    async def build_spelling(self) -> None:
        """Rebuild the "did you mean" vocabulary now (at start and after seeding)."""
        self._spelling_generation = await self._generations.current()
        data = await self.reference.get()
        words = [*await self.index.terms(VOCABULARY_FIELDS), *data.vocabulary()]
        # Pure-Python pinyin of every word (~0.15 s for the seeded catalog): in a thread,
        # so requests keep being served in between.
        self._spelling = await asyncio.to_thread(Spelling, words, is_word=search.is_word)
        self._spelling_at = time.monotonic()

    def spelling(self) -> Spelling:
        """The current vocabulary; when it is old, a rebuild starts in the background and
        this request still gets the old one (never waits for it)."""
        stale = time.monotonic() - self._spelling_at >= SPELLING_TTL
        if stale and (self._rebuilding is None or self._rebuilding.done()):
            self._rebuilding = spawn(self._rebuild())  # not under this request's deadline
        return self._spelling

    async def _rebuild(self) -> None:
        try:
            if await self._generations.current() == self._spelling_generation:
                self._spelling_at = time.monotonic()  # the catalog has not changed
                return
            await self.build_spelling()
        except Exception:  # a hint, not an answer: keep the old vocabulary
            log.warning("affairs: could not rebuild the spelling vocabulary", exc_info=True)
            self._spelling_at = time.monotonic()


def catalog_repository(ctx: Context) -> CatalogRepository:
    """The module's repository (all its MongoDB access), for a request."""
    return ctx.state(CatalogState).repository


async def reference(ctx: Context) -> ReferenceData:
    """The reference data, for a request."""
    return await ctx.state(CatalogState).reference.get()


def spelling(ctx: Context) -> Spelling:
    """The "did you mean" vocabulary, for a request."""
    return ctx.state(CatalogState).spelling()
