"""Reference data of the catalog: departments, themes, lifecycle groups, e-license types."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.kit.nodes import Node
from modules.affairs import loaders
from modules.affairs.types.enums import DepartmentKind, ThemeAudience

__all__ = ["CatalogInfo", "Department", "LicenseType", "LifecycleGroup", "Theme"]

CatalogInfo = Info[Context, None]
Doc = dict[str, Any]


@strawberry.type(description="实施部门: a district department or resident unit.")
class Department(Node):
    code: str = strawberry.field(description="统一社会信用代码 of the department.")
    name: str = strawberry.field(description="Full name, e.g. 深圳市罗湖区民政局.")
    short_name: str = strawberry.field(description="Short name, e.g. 区民政局.")
    kind: DepartmentKind = strawberry.field(description="District department or resident unit.")
    phone: str = strawberry.field(description="Consultation phone.")
    complaint_phone: str = strawberry.field(description="Supervision and complaint phone.")
    address: str = strawberry.field(description="Office address.")
    description: str = strawberry.field(description="Main responsibilities.")

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_doc(cls, doc: Doc) -> Department:
        return cls(
            code=doc["_id"],
            name=doc["name"],
            short_name=str(doc.get("short_name") or doc["name"]),
            kind=DepartmentKind(doc.get("kind", "district_department")),
            phone=doc.get("phone", ""),
            complaint_phone=doc.get("complaint_phone", ""),
            address=doc.get("address", ""),
            description=doc.get("description", ""),
        )

    @strawberry.field(description="Number of active items this department implements.")
    async def item_count(self, info: CatalogInfo) -> int:
        counts = await info.context.loader(loaders.item_counts_by).load("department")
        return counts.get(self.code, 0)


@strawberry.type(description="生命周期分组 (2025 national list): 出生, 教育 … 准入准营 … 注销退出.")
class LifecycleGroup(Node):
    code: str = strawberry.field(description="Stable code, e.g. birth, market_entry.")
    name: str = strawberry.field(description="Chinese name.")
    audience: ThemeAudience = strawberry.field(description="Persons or legal persons.")

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_doc(cls, doc: Doc) -> LifecycleGroup:
        return cls(code=doc["_id"], name=doc["name"], audience=ThemeAudience(doc["audience"]))


@strawberry.type(description="主题: a life-event theme such as 生育收养 or 设立变更.")
class Theme(Node):
    code: str = strawberry.field(description="P01… for persons, L01… for legal persons.")
    name: str = strawberry.field(description="Chinese name.")
    audience: ThemeAudience = strawberry.field(description="Persons or legal persons.")
    description: str = strawberry.field(description="What the theme covers.")
    lifecycle_group_code: str = strawberry.field(description="Code of its lifecycle group.")

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_doc(cls, doc: Doc) -> Theme:
        return cls(
            code=doc["_id"],
            name=doc["name"],
            audience=ThemeAudience(doc["audience"]),
            description=doc.get("description", ""),
            lifecycle_group_code=doc.get("lifecycle_group", ""),
        )

    @strawberry.field(description="The lifecycle group this theme belongs to.")
    async def lifecycle_group(self, info: CatalogInfo) -> LifecycleGroup | None:
        doc = await info.context.loader(loaders.lifecycle_group_by_code).load(
            self.lifecycle_group_code
        )
        return LifecycleGroup.from_doc(doc) if doc else None

    @strawberry.field(description="Number of active items in this theme.")
    async def item_count(self, info: CatalogInfo) -> int:
        counts = await info.context.loader(loaders.item_counts_by).load("theme")
        return counts.get(self.code, 0)


@strawberry.type(
    description="电子证照类型 (GB/T 36901–36906): an e-license that can replace paper."
)
class LicenseType(Node):
    code: str = strawberry.field(description="Stable code, e.g. BUSINESS_LICENSE.")
    name: str = strawberry.field(description="Chinese name, e.g. 营业执照.")
    issuer_kind: str = strawberry.field(description="Who issues it, e.g. 市场监督管理部门.")

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_doc(cls, doc: Doc) -> LicenseType:
        return cls(code=doc["_id"], name=doc["name"], issuer_kind=doc.get("issuer_kind", ""))
