"""Input types: list filters and the staff editing inputs."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry

from modules.affairs.flags import FLAGS, SETTABLE_FLAGS
from modules.affairs.types.enums import (
    Audience,
    HandlingForm,
    HandlingScope,
    HandlingType,
    ItemStatus,
    ItemType,
    LocationKind,
    MaterialForm,
    MaterialNecessity,
    MaterialSource,
    ResultType,
)
from modules.affairs.types.flag_fields import with_flag_fields


@strawberry.input(description="Restrict a list of items; every given condition must hold.")
@with_flag_fields(FLAGS, annotation=bool | None, default=lambda flag: None)
class AffairItemFilter:
    department_codes: list[str] | None = strawberry.field(default=None, description="Any of.")
    theme_codes: list[str] | None = strawberry.field(default=None, description="Any of.")
    lifecycle_groups: list[str] | None = strawberry.field(
        default=None, description="Lifecycle group codes (birth, market_entry …), any of."
    )
    types: list[ItemType] | None = strawberry.field(default=None, description="Any of.")
    audiences: list[Audience] | None = strawberry.field(default=None, description="Any of.")
    handling_types: list[HandlingType] | None = strawberry.field(
        default=None, description="Any of."
    )
    statuses: list[ItemStatus] | None = strawberry.field(
        default=None, description="Default: ACTIVE only."
    )
    location_code: str | None = strawberry.field(
        default=None, description="Only items that can be done at this place."
    )
    min_online_depth: int | None = strawberry.field(default=None, description="网办深度 ≥ this.")


@strawberry.input(description="A point (WGS-84).")
class GeoPointInput:
    lat: float = strawberry.field(description="Latitude.")
    lng: float = strawberry.field(description="Longitude.")


@strawberry.input(description="Restrict service locations.")
class ServiceLocationFilter:
    kinds: list[LocationKind] | None = strawberry.field(default=None, description="Any of.")
    street: str | None = strawberry.field(default=None, description="街道, e.g. 东门.")
    item_code: str | None = strawberry.field(default=None, description="Handles this item.")
    open_now: bool | None = strawberry.field(default=None, description="Only places open now.")


@strawberry.input(description="A material the applicant provides.")
class MaterialInput:
    name: str = strawberry.field(description="Material name.")
    form: MaterialForm = strawberry.field(default=MaterialForm.PAPER, description="Form.")
    necessity: MaterialNecessity = strawberry.field(
        default=MaterialNecessity.REQUIRED, description="必要 / 非必要 / 容缺后补."
    )
    source: MaterialSource = strawberry.field(
        default=MaterialSource.APPLICANT, description="Source."
    )
    license_type: str | None = strawberry.field(
        default=None, description="E-license type code (required when source is GOVERNMENT)."
    )
    original_copies: int = strawberry.field(default=1, description="Originals to show.")
    photocopies: int = strawberry.field(default=0, description="Photocopies.")
    has_blank_form: bool = strawberry.field(default=False, description="Blank form provided.")
    has_sample: bool = strawberry.field(default=False, description="Sample provided.")
    notes: str | None = strawberry.field(default=None, description="Remarks.")
    legal_basis: str | None = strawberry.field(default=None, description="Legal basis.")


@strawberry.input(description="A fee item.")
class FeeInput:
    name: str = strawberry.field(description="Fee item.")
    standard: str = strawberry.field(description="Amount or rate.")
    basis: str = strawberry.field(description="Legal basis.")
    reduction: str | None = strawberry.field(default=None, description="Reductions.")


@strawberry.input(description="A result the item issues.")
class ResultInput:
    name: str = strawberry.field(description="Result name.")
    type: ResultType = strawberry.field(default=ResultType.OTHER, description="证照 / 批文 / 其他.")
    license_type: str | None = strawberry.field(default=None, description="E-license type issued.")


@strawberry.input(description="A process step.")
class ProcessStepInput:
    name: str = strawberry.field(description="受理 / 审核 / 审批 / 办结 / 送达.")
    actor: str = strawberry.field(description="Who performs it.")
    limit_days: int = strawberry.field(default=0, description="Working days.")
    description: str = strawberry.field(default="", description="What happens.")


@strawberry.input(description="A new FAQ entry to publish with the item.")
class FaqEntryInput:
    question: str = strawberry.field(description="Question.")
    answer: str = strawberry.field(description="Standard answer.")


@strawberry.input(description="A new service item (staff). Derived flags are computed, not given.")
@with_flag_fields(SETTABLE_FLAGS, annotation=bool, default=lambda flag: flag.default)
class AffairItemInput:
    basic_code: str = strawberry.field(description="基本编码, 12 digits starting with the type.")
    name: str = strawberry.field(description="事项名称.")
    type: ItemType = strawberry.field(description="事项类型.")
    department_code: str = strawberry.field(description="Implementing department (yours).")
    audiences: list[Audience] = strawberry.field(description="服务对象.")
    handling_type: HandlingType = strawberry.field(description="即办件 / 承诺件.")
    legal_limit_days: int = strawberry.field(description="法定办结时限.")
    promised_limit_days: int = strawberry.field(description="承诺办结时限 (0 for 即办件).")
    visits: int = strawberry.field(description="到办事现场次数.")
    online_depth: int = strawberry.field(description="网办深度 1–4.")
    consult_phone: str = strawberry.field(description="咨询电话.")
    complaint_phone: str = strawberry.field(description="监督投诉电话 (must differ).")
    acceptance_conditions: str = strawberry.field(description="受理条件.")
    materials: list[MaterialInput] = strawberry.field(description="申请材料.")
    handling_forms: list[HandlingForm] = strawberry.field(description="办理形式.")
    business_item: str = strawberry.field(default="001", description="业务办理项 (3 digits).")
    short_name: str | None = strawberry.field(default=None, description="Everyday name.")
    visit_reason: str | None = strawberry.field(default=None, description="Required if visits > 0.")
    handling_scope: HandlingScope = strawberry.field(
        default=HandlingScope.NONE, description="通办范围."
    )
    fees: list[FeeInput] = strawberry.field(default_factory=list, description="收费项目.")
    results: list[ResultInput] = strawberry.field(default_factory=list, description="审批结果.")
    steps: list[ProcessStepInput] = strawberry.field(default_factory=list, description="办理流程.")
    legal_basis: list[str] = strawberry.field(default_factory=list, description="设定依据.")
    theme_codes: list[str] = strawberry.field(default_factory=list, description="Themes.")
    keywords: list[str] = strawberry.field(default_factory=list, description="Search words.")
    service_hours: str = strawberry.field(
        default="周一至周五 上午9:00-12:00，下午14:00-18:00（法定节假日除外）",
        description="办理时间.",
    )
    handling_address: str = strawberry.field(default="", description="办理地点.")
    faq_codes: list[str] = strawberry.field(default_factory=list, description="Link FAQ entries.")
    new_faq: list[FaqEntryInput] = strawberry.field(
        default_factory=list, description="Publish new FAQ entries for this item."
    )
    note: str | None = strawberry.field(default=None, description="Change note for the history.")


@strawberry.input(description="Changes to an item; omitted fields keep their value.")
@with_flag_fields(SETTABLE_FLAGS, annotation=bool | None, default=lambda flag: None)
class AffairItemPatch:
    name: str | None = strawberry.field(default=None, description="事项名称.")
    short_name: str | None = strawberry.field(default=None, description="Everyday name.")
    audiences: list[Audience] | None = strawberry.field(default=None, description="服务对象.")
    handling_type: HandlingType | None = strawberry.field(default=None, description="办件类型.")
    legal_limit_days: int | None = strawberry.field(default=None, description="法定办结时限.")
    promised_limit_days: int | None = strawberry.field(default=None, description="承诺办结时限.")
    visits: int | None = strawberry.field(default=None, description="到办事现场次数.")
    visit_reason: str | None = strawberry.field(default=None, description="Reason for visits.")
    online_depth: int | None = strawberry.field(default=None, description="网办深度.")
    handling_scope: HandlingScope | None = strawberry.field(default=None, description="通办范围.")
    handling_forms: list[HandlingForm] | None = strawberry.field(
        default=None, description="办理形式."
    )
    consult_phone: str | None = strawberry.field(default=None, description="咨询电话.")
    complaint_phone: str | None = strawberry.field(default=None, description="监督投诉电话.")
    acceptance_conditions: str | None = strawberry.field(default=None, description="受理条件.")
    materials: list[MaterialInput] | None = strawberry.field(default=None, description="申请材料.")
    fees: list[FeeInput] | None = strawberry.field(default=None, description="收费项目.")
    results: list[ResultInput] | None = strawberry.field(default=None, description="审批结果.")
    steps: list[ProcessStepInput] | None = strawberry.field(default=None, description="办理流程.")
    legal_basis: list[str] | None = strawberry.field(default=None, description="设定依据.")
    theme_codes: list[str] | None = strawberry.field(default=None, description="Themes.")
    keywords: list[str] | None = strawberry.field(default=None, description="Search words.")
    service_hours: str | None = strawberry.field(default=None, description="办理时间.")
    handling_address: str | None = strawberry.field(default=None, description="办理地点.")


def plain(value: Any) -> Any:
    """Strawberry input objects (and enums) as plain stored values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value
