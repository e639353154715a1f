"""The catalog's reference data held in memory: the affairs module's own state.

Departments, themes, lifecycle groups, e-license types, the service network and the
synonyms are small and read on nearly every request (filters, labels, the network
list, query expansion), so each process keeps a copy (part of ``CatalogState``),
refreshed every ``REFERENCE_TTL`` seconds and at once after seeding.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from gateway.background import spawn
from gateway.kit.generations import Generations
from modules.affairs import search
from modules.affairs.repository import (
    DEPARTMENTS,
    LICENSE_TYPES,
    LIFECYCLE_GROUPS,
    LOCATIONS,
    SYNONYMS,
    THEMES,
    CatalogRepository,
)

__all__ = ["REFERENCE_TTL", "CatalogReference", "ReferenceData"]

REFERENCE_TTL = 60.0  # seconds a replica trusts its copy of reference data
log = logging.getLogger("onestop.affairs")
Docs = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ReferenceData:
    """One consistent copy of the reference collections, by code."""

    departments: Docs
    themes: Docs
    lifecycle_groups: Docs
    license_types: Docs
    locations: Docs
    synonym_docs: Docs

    @cached_property
    def synonyms(self) -> dict[str, list[str]]:
        """Everyday word → official words, for query expansion (built once per copy)."""
        return {str(s["term"]): list(s.get("expansions", [])) for s in self.synonym_docs.values()}

    def vocabulary(self) -> list[str]:
        """Words the catalog's segmenter must keep whole (营业执照, 居住证签注 …)."""
        words: list[str] = []
        for synonym in self.synonym_docs.values():
            words.append(str(synonym["term"]))
            words.extend(str(w) for w in synonym.get("expansions", []))
        words.extend(str(d["name"]) for d in self.license_types.values())
        words.extend(str(d["name"]) for d in self.themes.values())
        return words

    def sorted_docs(self, docs: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Documents in display order (``sort_order``, then code)."""
        return sorted(docs.values(), key=lambda d: (d.get("sort_order", 0), d["_id"]))


_COLLECTIONS = {
    "departments": DEPARTMENTS,
    "themes": THEMES,
    "lifecycle_groups": LIFECYCLE_GROUPS,
    "license_types": LICENSE_TYPES,
    "locations": LOCATIONS,
    "synonym_docs": SYNONYMS,
}


class CatalogReference:
    """The per-process copy of the reference data.

    Only the first load (and ``force``, after seeding) makes a request wait; when the copy
    is older than the TTL, a request still gets it while a check runs in the background
    (stale-while-revalidate). The check reads the catalog generation (one cache read) and
    reloads the six collections only if it moved — seeding bumps it — so a steady catalog
    is never reread, and no request pays for it.
    """

    def __init__(self, repository: CatalogRepository, generations: Generations) -> None:
        self._repository = repository
        self._generations = generations
        self._generation = -1
        self._data: ReferenceData | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        self._reloading: asyncio.Task[None] | None = None

    async def get(self, *, force: bool = False) -> ReferenceData:
        """The reference data; ``force`` reloads it now (after seeding)."""
        if self._data is None or force:
            async with self._lock:
                if self._data is None or force:
                    await self._load()
        elif time.monotonic() - self._loaded_at >= REFERENCE_TTL and not self._reloading_now:
            self._reloading = spawn(self._reload())  # not under this request's deadline
        assert self._data is not None
        return self._data

    @property
    def _reloading_now(self) -> bool:
        return self._reloading is not None and not self._reloading.done()

    async def _reload(self) -> None:
        async with self._lock:
            try:
                if await self._generations.current() == self._generation:
                    self._loaded_at = time.monotonic()
                else:
                    await self._load()
            except Exception:  # keep serving the copy we have; try again after the TTL
                log.warning("affairs: reference data reload failed", exc_info=True)
                self._loaded_at = time.monotonic()

    async def _load(self) -> None:
        self._generation = await self._generations.current()
        loaded = {
            field: {str(d["_id"]): d for d in await self._repository.all(collection)}
            for field, collection in _COLLECTIONS.items()
        }
        self._data = ReferenceData(**loaded)
        self._loaded_at = time.monotonic()
        search.add_words(self._data.vocabulary())
