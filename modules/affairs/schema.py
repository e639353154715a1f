"""The affairs module's Query and Mutation parts: arguments in, services, GraphQL types out."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from gateway.errors import BadUserInput, FieldError
from gateway.kit.connections import After, First, keyset_page
from gateway.permissions import requires
from gateway.subscriptions import events
from modules.affairs.interface import ITEM_CHANGED
from modules.affairs.permissions import ITEM_WRITE
from modules.affairs.services import aggregates, editing, faq, items, network, suggestions
from modules.affairs.state import reference
from modules.affairs.types.enums import AffairItemSort, DepartmentKind, ItemStatus, ThemeAudience
from modules.affairs.types.events import AffairItemChange
from modules.affairs.types.inputs import (
    AffairItemFilter,
    AffairItemInput,
    AffairItemPatch,
    GeoPointInput,
    ServiceLocationFilter,
)
from modules.affairs.types.items import AffairItem, FaqConnection, FaqEntry
from modules.affairs.types.network import ServiceLocation, ServiceLocationConnection
from modules.affairs.types.reference import CatalogInfo, Department, LifecycleGroup, Theme
from modules.affairs.types.results import (
    AffairItemConnection,
    AffairItemEdge,
    AffairItemPayload,
    AffairsCatalogStats,
    AffairSuggestion,
)

__all__ = ["AffairsMutation", "AffairsQuery", "AffairsSubscription"]

DEFAULT_PAGE = 20
# Items one subscription may watch by code (more: subscribe to all and filter).
MAX_WATCHED_CODES = 100


@strawberry.type
class AffairsQuery:
    @strawberry.field(description="One item by 实施编码; `version` reads an older version.")
    async def affair_item(
        self,
        info: CatalogInfo,
        code: Annotated[str, strawberry.argument(description="实施编码 of the item.")],
        version: Annotated[
            int | None,
            strawberry.argument(description="An older version's number (default: current)."),
        ] = None,
    ) -> AffairItem:
        doc = await items.get_item(info.context, code, version)
        return AffairItem.from_doc(doc, snapshot=version is not None)

    @strawberry.field(
        description=(
            "Find items: Chinese full-text `search` (everyday words, traditional characters, "
            "pinyin and homophone typos: 开公司, 駕駛證, shebao, 公鸡金 …), `filter`, `sort`, "
            "paging (`first` ≤ the page limit). Relevance order when searching, code order "
            "otherwise; browsing orders page by keyset, search results by position."
        )
    )
    async def affair_items(
        self,
        info: CatalogInfo,
        search: Annotated[
            str | None, strawberry.argument(description="What the citizen typed (any form).")
        ] = None,
        filter: Annotated[
            AffairItemFilter | None, strawberry.argument(description="Conditions on items.")
        ] = None,
        sort: Annotated[
            AffairItemSort | None,
            strawberry.argument(description="Order (default: RELEVANCE when searching, CODE)."),
        ] = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> AffairItemConnection:
        found = await items.list_items(
            info.context, search_text=search, given=filter, sort=sort.value if sort else None
        )
        return await keyset_page(
            AffairItemConnection,
            found.listing,
            first=first,
            after=after,
            default=DEFAULT_PAGE,
            maximum=info.context.settings.max_page_size,
            node=lambda hit: AffairItem.from_doc(hit.doc),
            edge=AffairItemEdge.of,
            result=found.result,
            did_you_mean=found.did_you_mean,
        )

    @strawberry.field(description="Autocomplete: everyday words and item names for a prefix.")
    async def affair_suggestions(
        self,
        info: CatalogInfo,
        prefix: Annotated[str, strawberry.argument(description="What has been typed so far.")],
        first: Annotated[int, strawberry.argument(description="How many suggestions (1–20).")] = 10,
    ) -> list[AffairSuggestion]:
        found = await suggestions.suggestions(info.context, prefix, first)
        return [AffairSuggestion.of(s) for s in found]

    @strawberry.field(description="Departments (实施部门), in display order.")
    async def departments(
        self,
        info: CatalogInfo,
        kind: Annotated[
            DepartmentKind | None, strawberry.argument(description="Only departments of a kind.")
        ] = None,
    ) -> list[Department]:
        data = await reference(info.context)
        return [
            Department.from_doc(d)
            for d in data.sorted_docs(data.departments)
            if kind is None or d.get("kind") == kind.value
        ]

    @strawberry.field(description="Life-event themes (主题), optionally for one audience or group.")
    async def themes(
        self,
        info: CatalogInfo,
        audience: Annotated[
            ThemeAudience | None, strawberry.argument(description="Only themes for them.")
        ] = None,
        lifecycle_group: Annotated[
            str | None, strawberry.argument(description="Only themes of this group (code).")
        ] = None,
    ) -> list[Theme]:
        data = await reference(info.context)
        return [
            Theme.from_doc(d)
            for d in data.sorted_docs(data.themes)
            if (audience is None or d["audience"] == audience.value)
            and (lifecycle_group is None or d.get("lifecycle_group") == lifecycle_group)
        ]

    @strawberry.field(description="Lifecycle groups (出生 … 身后; 准入准营 … 注销退出).")
    async def lifecycle_groups(
        self,
        info: CatalogInfo,
        audience: Annotated[
            ThemeAudience | None, strawberry.argument(description="Only groups for them.")
        ] = None,
    ) -> list[LifecycleGroup]:
        data = await reference(info.context)
        return [
            LifecycleGroup.from_doc(d)
            for d in data.sorted_docs(data.lifecycle_groups)
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
        near: Annotated[
            GeoPointInput | None,
            strawberry.argument(description="The citizen's position: nearest places first."),
        ] = None,
        filter: Annotated[
            ServiceLocationFilter | None, strawberry.argument(description="Conditions on places.")
        ] = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> ServiceLocationConnection:
        return await keyset_page(
            ServiceLocationConnection,
            await network.list_locations(info.context, near, filter),
            first=first,
            after=after,
            default=DEFAULT_PAGE,
            maximum=info.context.settings.max_page_size,
            node=lambda row: ServiceLocation.from_doc(row.doc, row.distance),
        )

    @strawberry.field(
        description="常见问题库 (a Relay connection): search (by relevance), or filter by item or "
        "department (editorial order)."
    )
    async def faq(
        self,
        info: CatalogInfo,
        search: Annotated[
            str | None, strawberry.argument(description="Words of the question (any form).")
        ] = None,
        item_code: Annotated[
            str | None, strawberry.argument(description="Only entries about this item.")
        ] = None,
        department_code: Annotated[
            str | None, strawberry.argument(description="Only this department's entries.")
        ] = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> FaqConnection:
        return await keyset_page(
            FaqConnection,
            await faq.faq_listing(info.context, search, item_code, department_code),
            first=first,
            after=after,
            default=DEFAULT_PAGE,
            maximum=info.context.settings.max_page_size,
            node=FaqEntry.from_doc,
        )

    @strawberry.field(
        description="Counts and ratios computed from the catalog (published figures)."
    )
    async def affairs_catalog_stats(self, info: CatalogInfo) -> AffairsCatalogStats:
        return await AffairsCatalogStats.of(info, await aggregates.catalog_stats(info.context))


@strawberry.type
class AffairsMutation:
    @strawberry.mutation(
        description="Create a service item (version 1). Staff: own department only.",
        extensions=[requires(ITEM_WRITE.name)],
    )
    async def create_affair_item(
        self,
        info: CatalogInfo,
        input: Annotated[AffairItemInput, strawberry.argument(description="The new item.")],
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
        code: Annotated[str, strawberry.argument(description="实施编码 of the item.")],
        patch: Annotated[AffairItemPatch, strawberry.argument(description="The fields to change.")],
        expected_version: Annotated[
            int | None,
            strawberry.argument(
                description="Refuse (CONFLICT) unless this is the current version."
            ),
        ] = None,
        note: Annotated[
            str | None, strawberry.argument(description="Why, for the version history.")
        ] = None,
    ) -> AffairItemPayload:
        stored = await editing.update_item(info.context, code, patch, expected_version, note)
        return AffairItemPayload(item=AffairItem.from_doc(stored))

    @strawberry.mutation(
        description="暂停 / 取消 / 恢复 an item (a new version with the reason).",
        extensions=[requires(ITEM_WRITE.name)],
    )
    async def set_affair_item_status(
        self,
        info: CatalogInfo,
        code: Annotated[str, strawberry.argument(description="实施编码 of the item.")],
        status: Annotated[ItemStatus, strawberry.argument(description="The new status.")],
        reason: Annotated[str, strawberry.argument(description="Why (required, published).")],
    ) -> AffairItemPayload:
        stored = await editing.set_item_status(info.context, code, status, reason)
        return AffairItemPayload(item=AffairItem.from_doc(stored))


@strawberry.type
class AffairsSubscription:
    @strawberry.subscription(
        description="Items getting new versions (新增 / 变更 / 暂停 / 取消 / 恢复), as they are "
        "stored, from every gateway replica. Public: the catalog is."
    )
    async def catalog_item_changed(
        self,
        info: CatalogInfo,
        codes: Annotated[
            list[str] | None,
            strawberry.argument(
                description=f"Only these items (实施编码, at most {MAX_WATCHED_CODES}); "
                "default: every item."
            ),
        ] = None,
    ) -> AsyncGenerator[AffairItemChange, None]:
        if codes is not None and not 1 <= len(codes) <= MAX_WATCHED_CODES:
            raise BadUserInput(
                f"codes 须为 1–{MAX_WATCHED_CODES} 个 (1 to {MAX_WATCHED_CODES} codes)",
                [FieldError("codes", f"1 to {MAX_WATCHED_CODES} codes", "count")],
            )
        watched = frozenset(codes) if codes is not None else None
        async for change in events(
            info.context, ITEM_CHANGED, lambda c: watched is None or c.code in watched
        ):
            yield AffairItemChange.of(change)
