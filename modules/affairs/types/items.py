"""A service item (政务服务事项) with its full guide, its versions and its FAQ.

Built from stored documents; relations load through per-request DataLoaders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gateway.auth import Role
from gateway.kit.connections import Connection
from gateway.kit.nodes import Node
from modules.affairs import loaders
from modules.affairs.flags import FLAGS
from modules.affairs.types.enums import (
    Audience,
    BodyNature,
    ExerciseLevel,
    HandlingForm,
    HandlingScope,
    HandlingType,
    ItemStatus,
    ItemType,
    MaterialForm,
    MaterialNecessity,
    MaterialSource,
    PowerSource,
    ResultType,
    VersionChange,
)
from modules.affairs.types.flag_fields import with_flag_fields
from modules.affairs.types.network import ServiceLocation
from modules.affairs.types.reference import CatalogInfo, Department, LicenseType, Theme
from modules.affairs.vocabulary import (
    AUDIENCE_LABELS,
    BODY_NATURE_LABELS,
    EXERCISE_LEVEL_LABELS,
    HANDLING_SCOPE_LABELS,
    HANDLING_TYPE_LABELS,
    ITEM_TYPE_NAMES,
    ONLINE_DEPTH_LABELS,
    POWER_SOURCE_LABELS,
    STATUS_LABELS,
)

__all__ = [
    "AffairItem",
    "AffairItemFlags",
    "AffairItemVersionSummary",
    "FaqConnection",
    "FaqEntry",
    "Material",
]

Doc = dict[str, Any]
SEED_EDITOR = "seed"  # changed_by of versions loaded from the seed files


@strawberry.type(
    description="申请材料: one document the applicant provides (or the office fetches)."
)
class Material:
    name: str = strawberry.field(description="Material name.")
    form: MaterialForm = strawberry.field(description="Paper, electronic or both.")
    necessity: MaterialNecessity = strawberry.field(
        description="必要 / 非必要 / 容缺后补 (may be supplied later under a signed promise)."
    )
    source: MaterialSource = strawberry.field(description="Applicant or a government body.")
    license_type_code: str | None = strawberry.field(
        description="E-license type that replaces it (免证办), when issued by a government body."
    )
    original_copies: int = strawberry.field(description="Originals to show.")
    photocopies: int = strawberry.field(description="Photocopies to hand in.")
    has_blank_form: bool = strawberry.field(description="A blank form is provided.")
    has_sample: bool = strawberry.field(description="A filled sample is provided.")
    notes: str | None = strawberry.field(description="Remarks.")
    legal_basis: str | None = strawberry.field(description="Legal basis of the requirement.")

    @classmethod
    def from_doc(cls, doc: Doc) -> Material:
        return cls(
            name=doc["name"],
            form=MaterialForm(doc.get("form", "paper")),
            necessity=MaterialNecessity(doc.get("necessity", "required")),
            source=MaterialSource(doc.get("source", "applicant")),
            license_type_code=doc.get("license_type"),
            original_copies=int(doc.get("original_copies", 0)),
            photocopies=int(doc.get("photocopies", 0)),
            has_blank_form=bool(doc.get("has_blank_form")),
            has_sample=bool(doc.get("has_sample")),
            notes=doc.get("notes"),
            legal_basis=doc.get("legal_basis"),
        )

    @strawberry.field(description="The replacing e-license type, resolved.")
    async def license_type(self, info: CatalogInfo) -> LicenseType | None:
        if not self.license_type_code:
            return None
        doc = await info.context.loader(loaders.license_type_by_code).load(self.license_type_code)
        return LicenseType.from_doc(doc) if doc else None


@strawberry.type(description="收费项目.")
class Fee:
    name: str = strawberry.field(description="Fee item.")
    standard: str = strawberry.field(description="Amount or rate.")
    basis: str = strawberry.field(description="Legal basis of the fee.")
    reduction: str | None = strawberry.field(description="Reductions and exemptions.")


@strawberry.type(description="审批结果.")
class ItemResult:
    name: str = strawberry.field(description="Result name, e.g. 营业执照.")
    type: ResultType = strawberry.field(description="证照 / 批文 / 其他.")
    license_type_code: str | None = strawberry.field(description="E-license type issued.")


@strawberry.type(description="办理流程 step.")
class ProcessStep:
    name: str = strawberry.field(description="受理 / 审核 / 审批 / 办结 / 送达.")
    actor: str = strawberry.field(description="Who performs it.")
    limit_days: int = strawberry.field(description="Working days allotted.")
    description: str = strawberry.field(description="What happens.")


@strawberry.type(description="特别程序 (pauses the clock): 现场勘查, 专家评审, 听证 ….")
class SpecialProcedure:
    name: str = strawberry.field(description="Procedure name.")
    limit_days: int = strawberry.field(description="Working days it may take.")
    description: str = strawberry.field(description="What happens.")


@strawberry.type(description="实施主体.")
class ImplementingBody:
    name: str = strawberry.field(description="Name.")
    code: str = strawberry.field(description="统一社会信用代码.")
    nature: BodyNature = strawberry.field(description="Nature of the body.")

    @strawberry.field(description="法定机关 / 授权组织 / 受委托组织.")
    def nature_label(self) -> str:
        return BODY_NATURE_LABELS[self.nature.value]


@strawberry.type(description="Service-convenience flags of an item (便民标识).")
@with_flag_fields(FLAGS, annotation=bool, default=None)
class AffairItemFlags:
    """One boolean per flag of ``flags.FLAGS``, generated."""


@strawberry.type(description="One recorded version of an item (every change makes a new one).")
class AffairItemVersionSummary(Node):
    item_code: str = strawberry.field(description="实施编码 of the item.")
    version: int = strawberry.field(description="Version number, 1 = as first published.")
    change: VersionChange = strawberry.field(description="新增 / 变更 / 暂停 / 取消 / 恢复.")
    note: str | None = strawberry.field(description="Why it changed.")
    name: str = strawberry.field(description="Item name in that version.")
    status: ItemStatus = strawberry.field(description="Status in that version.")
    changed_at: datetime = strawberry.field(description="When.")
    editor: strawberry.Private[str]

    @strawberry.field(
        description="Who: `seed` for the imported catalog, else the staff member's subject id "
        "— shown to staff and admins only, null for everyone else."
    )
    def changed_by(self, info: CatalogInfo) -> str | None:
        # Subject ids identify individual civil servants: not for the public. `seed` is
        # no one's identity, so the public still sees where version 1 came from.
        if self.editor == SEED_EDITOR or info.context.principal.has_role(
            Role.STAFF.value, Role.ADMIN.value
        ):
            return self.editor
        return None

    def node_key(self) -> str:
        return f"{self.item_code}@{self.version}"

    @classmethod
    def from_doc(cls, doc: Doc) -> AffairItemVersionSummary:
        return cls(
            item_code=doc["code"],
            version=doc["version"],
            change=VersionChange(doc.get("change", VersionChange.CHANGED.value)),
            note=doc.get("note"),
            name=doc["name"],
            status=ItemStatus(doc["status"]),
            changed_at=doc["changed_at"],
            editor=doc.get("changed_by", ""),
        )


@strawberry.type(description="政务服务事项: a government service item with its full guide.")
class AffairItem(Node):
    code: str = strawberry.field(description="实施编码 (unique).")
    basic_code: str = strawberry.field(description="基本编码 (12 digits; shared by variants).")
    name: str = strawberry.field(description="事项名称.")
    short_name: str | None = strawberry.field(description="Everyday name.")
    version: int = strawberry.field(description="Current version number.")
    status: ItemStatus = strawberry.field(description="在用 / 暂停 / 取消.")
    type: ItemType = strawberry.field(description="事项类型.")
    department_code: str = strawberry.field(description="Implementing department's code.")

    @strawberry.field(description="实施主体.")
    def implementing_body(self) -> ImplementingBody:
        body = self.doc.get("implementing_body") or {}
        return ImplementingBody(
            name=body.get("name", ""),
            code=body.get("code", ""),
            nature=BodyNature(body.get("nature") or BodyNature.STATUTORY_ORGAN.value),
        )

    entrusted_department: str | None = strawberry.field(description="委托部门.")
    power_source: PowerSource = strawberry.field(description="权力来源.")
    exercise_level: ExerciseLevel = strawberry.field(description="行使层级.")
    audiences: list[Audience] = strawberry.field(description="服务对象.")
    handling_type: HandlingType = strawberry.field(description="即办件 / 承诺件.")
    legal_limit_days: int = strawberry.field(description="法定办结时限 (working days).")
    promised_limit_days: int = strawberry.field(
        description="承诺办结时限 (working days; 0 = on the spot)."
    )
    visits: int = strawberry.field(description="到办事现场次数.")
    visit_reason: str | None = strawberry.field(description="Why a visit is needed.")
    online_depth: int = strawberry.field(description="网办深度 1–4.")
    handling_scope: HandlingScope = strawberry.field(description="通办范围.")
    handling_forms: list[HandlingForm] = strawberry.field(description="办理形式.")

    @strawberry.field(description="Convenience flags.")
    def flags(self) -> AffairItemFlags:
        return AffairItemFlags(**{flag.name: bool(self.doc.get(flag.name)) for flag in FLAGS})

    acceptance_conditions: str = strawberry.field(description="受理条件.")

    @strawberry.field(description="申请材料.")
    def materials(self) -> list[Material]:
        return [Material.from_doc(m) for m in self.doc.get("materials", [])]

    @strawberry.field(description="收费项目 (empty when free).")
    def fees(self) -> list[Fee]:
        return [
            Fee(
                name=f["name"],
                standard=f.get("standard", ""),
                basis=f.get("basis", ""),
                reduction=f.get("reduction"),
            )
            for f in self.doc.get("fees", [])
        ]

    @strawberry.field(description="审批结果.")
    def results(self) -> list[ItemResult]:
        return [
            ItemResult(
                name=r["name"],
                type=ResultType(r.get("type", "other")),
                license_type_code=r.get("license_type"),
            )
            for r in self.doc.get("results", [])
        ]

    @strawberry.field(description="办理流程.")
    def steps(self) -> list[ProcessStep]:
        return [
            ProcessStep(
                name=s["name"],
                actor=s.get("actor", ""),
                limit_days=int(s.get("limit_days", 0)),
                description=s.get("description", ""),
            )
            for s in self.doc.get("steps", [])
        ]

    @strawberry.field(description="特别程序.")
    def special_procedures(self) -> list[SpecialProcedure]:
        return [
            SpecialProcedure(
                name=p["name"],
                limit_days=int(p.get("limit_days", 0)),
                description=p.get("description", ""),
            )
            for p in self.doc.get("special_procedures", [])
        ]

    legal_basis: list[str] = strawberry.field(description="设定依据.")
    theme_codes: list[str] = strawberry.field(description="Theme codes.")
    location_codes: list[str] = strawberry.field(description="Places that handle the item.")
    consult_phone: str = strawberry.field(description="咨询电话.")
    complaint_phone: str = strawberry.field(description="监督投诉电话.")
    service_hours: str = strawberry.field(description="办理时间.")
    handling_address: str = strawberry.field(description="办理地点.")
    keywords: list[str] = strawberry.field(description="Everyday search words.")
    updated_at: datetime = strawberry.field(description="When the current version was made.")
    # The stored document: the nested parts (materials, steps …) are built from it only
    # when a query selects them — a list of items rarely does.
    doc: strawberry.Private[Doc]
    # A version read through `affairItem(version:)` is a snapshot: its own global id
    # (code@version), so a client cache never mixes it up with the current item.
    snapshot: strawberry.Private[bool] = False

    def node_key(self) -> str:
        return f"{self.code}@{self.version}" if self.snapshot else self.code

    @classmethod
    def from_doc(cls, doc: Doc, *, snapshot: bool = False) -> AffairItem:
        """An item from its stored document, or (``snapshot``) from a version record."""
        return cls(
            doc=doc,
            snapshot=snapshot,
            code=str(doc.get("code") or doc["_id"]),
            basic_code=doc["basic_code"],
            name=doc["name"],
            short_name=doc.get("short_name"),
            version=int(doc.get("version", 1)),
            status=ItemStatus(doc["status"]),
            type=ItemType(doc["type_code"]),
            department_code=doc["department_code"],
            entrusted_department=doc.get("entrusted_department"),
            power_source=PowerSource(doc.get("power_source", PowerSource.STATUTORY.value)),
            exercise_level=ExerciseLevel(doc.get("exercise_level", ExerciseLevel.DISTRICT.value)),
            audiences=[Audience(a) for a in doc.get("audiences", [])],
            handling_type=HandlingType(doc["handling_type"]),
            legal_limit_days=int(doc.get("legal_limit_days", 0)),
            promised_limit_days=int(doc.get("promised_limit_days", 0)),
            visits=int(doc.get("visits", 0)),
            visit_reason=doc.get("visit_reason"),
            online_depth=int(doc.get("online_depth", 1)),
            handling_scope=HandlingScope(doc.get("handling_scope", "none")),
            handling_forms=[HandlingForm(f) for f in doc.get("handling_forms", [])],
            acceptance_conditions=doc.get("acceptance_conditions", ""),
            legal_basis=list(doc.get("legal_basis", [])),
            theme_codes=list(doc.get("theme_codes", [])),
            location_codes=list(doc.get("location_codes", [])),
            consult_phone=doc.get("consult_phone", ""),
            complaint_phone=doc.get("complaint_phone", ""),
            service_hours=doc.get("service_hours", ""),
            handling_address=doc.get("handling_address", ""),
            keywords=list(doc.get("keywords", [])),
            updated_at=doc["updated_at"],
        )

    @strawberry.field(description="在用 / 暂停 / 取消.")
    def status_label(self) -> str:
        return STATUS_LABELS[self.status.value]

    @strawberry.field(description="事项类型 name, e.g. 行政许可.")
    def type_name(self) -> str:
        return ITEM_TYPE_NAMES[self.type.value]

    @strawberry.field(description="服务对象 in Chinese.")
    def audience_labels(self) -> list[str]:
        return [AUDIENCE_LABELS[a.value] for a in self.audiences]

    @strawberry.field(description="即办件 / 承诺件.")
    def handling_type_label(self) -> str:
        return HANDLING_TYPE_LABELS[self.handling_type.value]

    @strawberry.field(description="网办深度 in Chinese.")
    def online_depth_label(self) -> str:
        return ONLINE_DEPTH_LABELS.get(self.online_depth, "")

    @strawberry.field(description="通办范围 in Chinese.")
    def handling_scope_label(self) -> str:
        return HANDLING_SCOPE_LABELS[self.handling_scope.value]

    @strawberry.field(description="权力来源 in Chinese.")
    def power_source_label(self) -> str:
        return POWER_SOURCE_LABELS[self.power_source.value]

    @strawberry.field(description="行使层级 in Chinese.")
    def exercise_level_label(self) -> str:
        return EXERCISE_LEVEL_LABELS[self.exercise_level.value]

    @strawberry.field(
        description="How much shorter the promised limit is than the legal one (0–1)."
    )
    def limit_compression(self) -> float | None:
        if self.legal_limit_days <= 0:
            return None
        return round(1 - self.promised_limit_days / self.legal_limit_days, 4)

    @strawberry.field(description="The implementing department.")
    async def department(self, info: CatalogInfo) -> Department | None:
        doc = await info.context.loader(loaders.department_by_code).load(self.department_code)
        return Department.from_doc(doc) if doc else None

    @strawberry.field(description="Life-event themes.")
    async def themes(self, info: CatalogInfo) -> list[Theme]:
        docs = await info.context.loader(loaders.theme_by_code).load_many(self.theme_codes)
        return [Theme.from_doc(d) for d in docs if d]

    @strawberry.field(description="Places in the service network that handle this item.")
    async def locations(self, info: CatalogInfo) -> list[ServiceLocation]:
        docs = await info.context.loader(loaders.location_by_code).load_many(self.location_codes)
        return [ServiceLocation.from_doc(d) for d in docs if d]

    @strawberry.field(description="常见问题 about this item.")
    async def faq(self, info: CatalogInfo) -> list[FaqEntry]:
        docs = await info.context.loader(loaders.faq_by_item_code).load(self.code)
        return [FaqEntry.from_doc(d) for d in docs]

    @strawberry.field(description="Every recorded version, newest first.")
    async def versions(self, info: CatalogInfo) -> list[AffairItemVersionSummary]:
        docs = await info.context.loader(loaders.versions_by_item_code).load(self.code)
        return [AffairItemVersionSummary.from_doc(d) for d in docs]


@strawberry.type(description="常见问题 with its standard answer.")
class FaqEntry(Node):
    code: str = strawberry.field(description="Stable code.")
    question: str = strawberry.field(description="Question.")
    answer: str = strawberry.field(description="Standard answer.")
    department_code: str | None = strawberry.field(description="Answering department.")
    item_codes: list[str] = strawberry.field(description="Related items.")
    keywords: list[str] = strawberry.field(description="Keywords.")

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_doc(cls, doc: Doc) -> FaqEntry:
        return cls(
            code=doc["_id"],
            question=doc["question"],
            answer=doc["answer"],
            department_code=doc.get("department_code"),
            item_codes=list(doc.get("item_codes", [])),
            keywords=list(doc.get("keywords", [])),
        )

    @strawberry.field(description="The answering department.")
    async def department(self, info: CatalogInfo) -> Department | None:
        if not self.department_code:
            return None
        doc = await info.context.loader(loaders.department_by_code).load(self.department_code)
        return Department.from_doc(doc) if doc else None

    @strawberry.field(description="Related items (active ones).")
    async def items(self, info: CatalogInfo) -> list[AffairItem]:
        docs = await info.context.loader(loaders.item_by_code).load_many(self.item_codes)
        return [AffairItem.from_doc(d) for d in docs if d and d.get("status") == "active"]


@strawberry.type(
    description="A page of FAQ entries (Relay connection): in editorial order, or by relevance "
    "when searching."
)
class FaqConnection(Connection[FaqEntry]):
    pass
