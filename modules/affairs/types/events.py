"""What subscribers of the catalog hear: an item got a new version."""

from __future__ import annotations

import strawberry

from modules.affairs import loaders
from modules.affairs.interface import ItemChanged
from modules.affairs.types.enums import VersionChange
from modules.affairs.types.items import AffairItem
from modules.affairs.types.reference import CatalogInfo


@strawberry.type(description="A service item got a new version (it is already stored).")
class AffairItemChange:
    code: str = strawberry.field(description="实施编码 of the item.")
    version: int = strawberry.field(description="The version the change made.")
    change: VersionChange = strawberry.field(description="What the version did to the item.")

    @strawberry.field(
        description="The item as it is now (null if it cannot be read); "
        "its `version` may be newer than the event's when changes follow closely."
    )
    async def item(self, info: CatalogInfo) -> AffairItem | None:
        doc = await info.context.loader(loaders.item_by_code).load(self.code)
        return AffairItem.from_doc(doc) if doc is not None else None

    @classmethod
    def of(cls, event: ItemChanged) -> AffairItemChange:
        return cls(code=event.code, version=event.version, change=VersionChange(event.change))
