"""The affairs module's Query and Mutation parts."""

from __future__ import annotations

from enum import Enum

import strawberry

from gateway.permissions import requires
from modules.affairs import editing, service
from modules.affairs.inputs import (
    AffairItemFilter,
    AffairItemInput,
    AffairItemPatch,
    GeoPointInput,
    ServiceLocationFilter,
)
from modules.affairs.pages import AffairItemConnection, AffairsCatalogStats
from modules.affairs.permissions import ITEM_WRITE
from modules.affairs.repository import DEPARTMENTS, LIFECYCLE_GROUPS, THEMES
from modules.affairs.service import AffairSuggestion
from modules.affairs.types import (
    AffairItem,
    CatalogInfo,
    Department,
    DepartmentKind,
    FaqConnection,
    LifecycleGroup,
    ServiceLocationConnection,
    Theme,
    ThemeAudience,
)
from modules.affairs.vocabulary import ItemStatus


@strawberry.enum(description="Orders for item lists.")
class AffairItemSort(Enum):
    RELEVANCE = "RELEVANCE"
    DEPARTMENT = "DEPARTMENT"
    PROMISED_DAYS = "PROMISED_DAYS"
    RECENTLY_UPDATED = "RECENTLY_UPDATED"
    CODE = "CODE"


@strawberry.type(description="The item after a change.")
class AffairItemPayload:
    item: AffairItem = strawberry.field(description="The item as now stored.")


@strawberry.type
class AffairsQuery:
    @strawberry.field(description="One item by 实施编码; `version` reads an older version.")
    async def affair_item(
        self, info: CatalogInfo, code: str, version: int | None = None
    ) -> AffairItem:
        return await service.get_item(info.context, code, version)

    @strawberry.field(
        description=(
            "Find items: Chinese full-text `search` (synonyms: 开公司 → 企业设立 …), `filter`, "
            "paging (`first` ≤ 100). Relevance order when searching, code order otherwise."
        )
    )
    async def affair_items(
        self,
        info: CatalogInfo,
        search: str | None = None,
        filter: AffairItemFilter | None = None,
        sort: AffairItemSort | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> AffairItemConnection:
        return await service.list_items(
            info.context,
            search_text=search,
            given=filter,
            sort=sort.value if sort else None,
            first=first,
            after=after,
        )

    @strawberry.field(description="Autocomplete: item names and everyday words for a prefix.")
    async def affair_suggestions(
        self, info: CatalogInfo, prefix: str, first: int = 10
    ) -> list[AffairSuggestion]:
        return await service.suggestions(info.context, prefix, first)

    @strawberry.field(description="Departments (实施部门), in display order.")
    async def departments(
        self, info: CatalogInfo, kind: DepartmentKind | None = None
    ) -> list[Department]:
        reference = await service.directory(info.context).reference()
        docs = sorted(
            reference[DEPARTMENTS].values(), key=lambda d: (d.get("sort_order", 0), d["_id"])
        )
        return [Department.from_doc(d) for d in docs if kind is None or d.get("kind") == kind.value]

    @strawberry.field(description="Life-event themes (主题), optionally for one audience or group.")
    async def themes(
        self,
        info: CatalogInfo,
        audience: ThemeAudience | None = None,
        lifecycle_group: str | None = None,
    ) -> list[Theme]:
        reference = await service.directory(info.context).reference()
        docs = sorted(reference[THEMES].values(), key=lambda d: (d.get("sort_order", 0), d["_id"]))
        return [
            Theme.from_doc(d)
            for d in docs
            if (audience is None or d["audience"] == audience.value)
            and (lifecycle_group is None or d.get("lifecycle_group") == lifecycle_group)
        ]

    @strawberry.field(description="Lifecycle groups (出生 … 身后; 准入准营 … 注销退出).")
    async def lifecycle_groups(
        self, info: CatalogInfo, audience: ThemeAudience | None = None
    ) -> list[LifecycleGroup]:
        reference = await service.directory(info.context).reference()
        docs = sorted(
            reference[LIFECYCLE_GROUPS].values(), key=lambda d: (d.get("sort_order", 0), d["_id"])
        )
        return [
            LifecycleGroup.from_doc(d)
            for d in docs
            if audience is None or d["audience"] == audience.value
        ]

    @strawberry.field(
        description="Places of the service network (a Relay connection: page through all of "
        "them with `first`/`after`), nearest first when `near` is given, with their opening "
        "status now."
    )
    async def service_locations(
        self,
        info: CatalogInfo,
        near: GeoPointInput | None = None,
        filter: ServiceLocationFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> ServiceLocationConnection:
        return await service.list_locations(info.context, near, filter, first, after)

    @strawberry.field(
        description="常见问题库 (a Relay connection): search (by relevance), or filter by item or "
        "department (editorial order)."
    )
    async def faq(
        self,
        info: CatalogInfo,
        search: str | None = None,
        item_code: str | None = None,
        department_code: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> FaqConnection:
        return await service.faq_page(
            info.context, search, item_code, department_code, first, after
        )

    @strawberry.field(
        description="Counts and ratios computed from the catalog (published figures)."
    )
    async def affairs_catalog_stats(self, info: CatalogInfo) -> AffairsCatalogStats:
        return await service.catalog_stats(info.context)


@strawberry.type
class AffairsMutation:
    @strawberry.mutation(
        description="Create a service item (version 1). Staff: own department only.",
        extensions=[requires(ITEM_WRITE.name)],
    )
    async def create_affair_item(
        self, info: CatalogInfo, input: AffairItemInput
    ) -> AffairItemPayload:
        stored = await editing.create_item(info.context, input)
        return AffairItemPayload(item=AffairItem.from_doc(stored))

    @strawberry.mutation(
        description="Change an item: makes a new version (the old one stays queryable). "
        "`expectedVersion` guards against overwriting someone else's change.",
        extensions=[requires(ITEM_WRITE.name)],
    )
    async def update_affair_item(
        self,
        info: CatalogInfo,
        code: str,
        patch: AffairItemPatch,
        expected_version: int | None = None,
        note: str | None = None,
    ) -> AffairItemPayload:
        stored = await editing.update_item(info.context, code, patch, expected_version, note)
        return AffairItemPayload(item=AffairItem.from_doc(stored))

    @strawberry.mutation(
        description="暂停 / 取消 / 恢复 an item (a new version with the reason).",
        extensions=[requires(ITEM_WRITE.name)],
    )
    async def set_affair_item_status(
        self, info: CatalogInfo, code: str, status: ItemStatus, reason: str
    ) -> AffairItemPayload:
        stored = await editing.set_item_status(info.context, code, status, reason)
        return AffairItemPayload(item=AffairItem.from_doc(stored))
