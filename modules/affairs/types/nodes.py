"""Node resolvers: every catalog entity refetchable by its global id (``node(id:)``).

Each resolver gets all keys of one type in one request and answers through the
per-request DataLoaders, so ``nodes(ids:)`` costs one database query per type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.context import Context
from gateway.registry import NodeResolver
from modules.affairs import loaders
from modules.affairs.types.items import AffairItem, AffairItemVersionSummary, FaqEntry
from modules.affairs.types.network import ServiceLocation
from modules.affairs.types.reference import Department, LicenseType, LifecycleGroup, Theme

__all__ = ["NODE_RESOLVERS"]

Doc = dict[str, Any]


def _by_key(
    loader: Callable[[Context], DataLoader[str, Doc | None]], build: Callable[[Doc], object]
) -> Callable[[Context, Sequence[str]], Awaitable[list[object | None]]]:
    async def resolve(ctx: Context, keys: Sequence[str]) -> list[object | None]:
        docs = await ctx.loader(loader).load_many(list(keys))
        return [build(doc) if doc else None for doc in docs]

    return resolve


async def _affair_items(ctx: Context, keys: Sequence[str]) -> list[object | None]:
    """Current items by code; ``code@version`` keys are snapshots of older versions."""
    current = [key for key in keys if "@" not in key]
    versions = [key for key in keys if "@" in key]
    items = dict(
        zip(current, await ctx.loader(loaders.item_by_code).load_many(current), strict=True)
    )
    records = dict(
        zip(versions, await ctx.loader(loaders.version_by_id).load_many(versions), strict=True)
    )
    found: list[object | None] = []
    for key in keys:
        if key in items:
            doc = items[key]
            found.append(AffairItem.from_doc(doc) if doc else None)
        else:
            record = records[key]
            snapshot = {**record, "_id": record["code"]} if record else None
            found.append(AffairItem.from_doc(snapshot, snapshot=True) if snapshot else None)
    return found


NODE_RESOLVERS: dict[str, NodeResolver] = {
    "AffairItem": _affair_items,
    "AffairItemVersionSummary": _by_key(loaders.version_by_id, AffairItemVersionSummary.from_doc),
    "Department": _by_key(loaders.department_by_code, Department.from_doc),
    "Theme": _by_key(loaders.theme_by_code, Theme.from_doc),
    "LifecycleGroup": _by_key(loaders.lifecycle_group_by_code, LifecycleGroup.from_doc),
    "LicenseType": _by_key(loaders.license_type_by_code, LicenseType.from_doc),
    "ServiceLocation": _by_key(loaders.location_by_code, ServiceLocation.from_doc),
    "FaqEntry": _by_key(loaders.faq_by_code, FaqEntry.from_doc),
}
