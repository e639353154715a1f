"""Per-request DataLoaders: one ``$in`` query per type per request, whatever the page size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.context import Context
from modules.affairs.repository import (
    DEPARTMENTS,
    FAQ,
    LICENSE_TYPES,
    LIFECYCLE_GROUPS,
    LOCATIONS,
    THEMES,
)
from modules.affairs.services.aggregates import catalog_counts
from modules.affairs.state import catalog_repository

__all__ = [
    "department_by_code",
    "faq_by_code",
    "faq_by_item_code",
    "item_by_code",
    "item_counts_by",
    "license_type_by_code",
    "lifecycle_group_by_code",
    "location_by_code",
    "theme_by_code",
    "version_by_id",
    "versions_by_item_code",
]

Doc = dict[str, Any]


def _by_id(collection: str) -> Callable[[Context], DataLoader[str, Doc | None]]:
    def factory(ctx: Context) -> DataLoader[str, Doc | None]:
        repository = catalog_repository(ctx)

        async def load(codes: Sequence[str]) -> list[Doc | None]:
            found = {doc["_id"]: doc for doc in await repository.by_ids(collection, codes)}
            return [found.get(code) for code in codes]

        return DataLoader(load_fn=load)

    factory.__name__ = f"{collection}_by_code"
    return factory


department_by_code = _by_id(DEPARTMENTS)
theme_by_code = _by_id(THEMES)
lifecycle_group_by_code = _by_id(LIFECYCLE_GROUPS)
license_type_by_code = _by_id(LICENSE_TYPES)
location_by_code = _by_id(LOCATIONS)
faq_by_code = _by_id(FAQ)


def item_by_code(ctx: Context) -> DataLoader[str, Doc | None]:
    repository = catalog_repository(ctx)

    async def load(codes: Sequence[str]) -> list[Doc | None]:
        found = {doc["_id"]: doc for doc in await repository.items_by_codes(codes)}
        return [found.get(code) for code in codes]

    return DataLoader(load_fn=load)


def faq_by_item_code(ctx: Context) -> DataLoader[str, list[Doc]]:
    repository = catalog_repository(ctx)

    async def load(codes: Sequence[str]) -> list[list[Doc]]:
        grouped: dict[str, list[Doc]] = defaultdict(list)
        wanted = set(codes)
        for entry in await repository.faq_for_items(codes):
            for code in entry.get("item_codes", []):
                if code in wanted:
                    grouped[code].append(entry)
        return [grouped.get(code, []) for code in codes]

    return DataLoader(load_fn=load)


def version_by_id(ctx: Context) -> DataLoader[str, Doc | None]:
    """Version records by their id, ``<code>@<version>``."""
    repository = catalog_repository(ctx)

    async def load(ids: Sequence[str]) -> list[Doc | None]:
        found = {doc["_id"]: doc for doc in await repository.versions_by_ids(ids)}
        return [found.get(one) for one in ids]

    return DataLoader(load_fn=load)


def versions_by_item_code(ctx: Context) -> DataLoader[str, list[Doc]]:
    repository = catalog_repository(ctx)

    async def load(codes: Sequence[str]) -> list[list[Doc]]:
        grouped: dict[str, list[Doc]] = defaultdict(list)
        for version in await repository.versions_of(codes):
            grouped[version["code"]].append(version)
        return [grouped.get(code, []) for code in codes]

    return DataLoader(load_fn=load)


def item_counts_by(ctx: Context) -> DataLoader[str, dict[str, int]]:
    """Active-item counts per department (``department``) or theme (``theme``)."""

    async def load(fields: Sequence[str]) -> list[dict[str, int]]:
        return [await catalog_counts(ctx, field) for field in fields]

    return DataLoader(load_fn=load)
