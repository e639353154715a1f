"""The catalog's closed value sets as GraphQL enums, every value described.

The code lists themselves are plain enums in ``vocabulary.py`` (and the flags in
``flags.py``); this file only gives them their GraphQL shape.
"""

from __future__ import annotations

from enum import Enum

from gateway.kit.enums import graphql_enum
from modules.affairs.flags import FLAGS
from modules.affairs.vocabulary import (
    AUDIENCE_LABELS,
    BODY_NATURE_LABELS,
    EXERCISE_LEVEL_LABELS,
    HANDLING_SCOPE_LABELS,
    HANDLING_TYPE_LABELS,
    ITEM_TYPE_NAMES,
    LOCATION_KIND_LABELS,
    POWER_SOURCE_LABELS,
    STATUS_LABELS,
    Audience,
    BodyNature,
    DepartmentKind,
    ExerciseLevel,
    HandlingForm,
    HandlingScope,
    HandlingType,
    ItemStatus,
    ItemType,
    LocationKind,
    MaterialForm,
    MaterialNecessity,
    MaterialSource,
    PowerSource,
    ResultType,
    ThemeAudience,
    VersionChange,
)

__all__ = [
    "AffairFlag",
    "AffairItemSort",
    "AffairSuggestionKind",
    "Audience",
    "BodyNature",
    "DepartmentKind",
    "ExerciseLevel",
    "HandlingForm",
    "HandlingScope",
    "HandlingType",
    "ItemStatus",
    "ItemType",
    "LocationKind",
    "MatchField",
    "MaterialForm",
    "MaterialNecessity",
    "MaterialSource",
    "PowerSource",
    "ResultType",
    "ThemeAudience",
    "VersionChange",
]


def _labelled(cls: type[Enum], labels: dict[str, str]) -> dict[Enum, str]:
    return {member: f"{member.value} {labels[member.value]}" for member in cls}


def _literal(cls: type[Enum]) -> dict[Enum, str]:
    """Values whose stored form is already the Chinese word (版本变更: 新增 …)."""
    return {member: str(member.value) for member in cls}


graphql_enum(
    ItemType, "事项类型: the national item type code list.", _labelled(ItemType, ITEM_TYPE_NAMES)
)
graphql_enum(ItemStatus, "事项状态: 在用 / 暂停 / 取消.", _labelled(ItemStatus, STATUS_LABELS))
graphql_enum(Audience, "服务对象: who may apply.", _labelled(Audience, AUDIENCE_LABELS))
graphql_enum(
    HandlingType,
    "办件类型: 即办件 (on the spot) or 承诺件 (within a promised limit).",
    _labelled(HandlingType, HANDLING_TYPE_LABELS),
)
graphql_enum(
    HandlingForm,
    "办理形式.",
    {
        HandlingForm.WINDOW: "窗口办理: at a service window.",
        HandlingForm.ONLINE: "网上办理: online.",
        HandlingForm.MAIL: "快递办理: by post.",
    },
)
graphql_enum(
    HandlingScope,
    "通办范围: where else the item can be handled.",
    _labelled(HandlingScope, HANDLING_SCOPE_LABELS),
)
graphql_enum(
    PowerSource,
    "权力来源: where the power comes from.",
    _labelled(PowerSource, POWER_SOURCE_LABELS),
)
graphql_enum(
    ExerciseLevel,
    "行使层级: the level of government exercising the power.",
    _labelled(ExerciseLevel, EXERCISE_LEVEL_LABELS),
)
graphql_enum(
    BodyNature,
    "实施主体性质: nature of the implementing body.",
    _labelled(BodyNature, BODY_NATURE_LABELS),
)
graphql_enum(
    MaterialForm,
    "材料形式.",
    {
        MaterialForm.PAPER: "纸质: on paper.",
        MaterialForm.ELECTRONIC: "电子: electronic.",
        MaterialForm.PAPER_AND_ELECTRONIC: "纸质和电子: either.",
    },
)
graphql_enum(
    MaterialNecessity,
    "材料必要性: 必要 / 非必要 / 容缺后补.",
    {
        MaterialNecessity.REQUIRED: "必要: required.",
        MaterialNecessity.OPTIONAL: "非必要: optional.",
        MaterialNecessity.TOLERATED: "容缺后补: may follow under a signed promise (容缺受理).",
    },
)
graphql_enum(
    MaterialSource,
    "材料来源: 申请人自备 / 政府部门核发 (can be an e-license: 免证办).",
    {
        MaterialSource.APPLICANT: "申请人自备: the applicant provides it.",
        MaterialSource.GOVERNMENT: "政府部门核发: issued by a body; an e-license may replace it.",
    },
)
graphql_enum(
    ResultType,
    "审批结果类型: 证照 / 批文 / 其他.",
    {
        ResultType.LICENSE: "证照: a licence or certificate.",
        ResultType.APPROVAL: "批文: an approval document.",
        ResultType.OTHER: "其他: anything else.",
    },
)
graphql_enum(
    LocationKind,
    "Kinds of places in the service network (1+4+10+83, banks, terminals).",
    _labelled(LocationKind, LOCATION_KIND_LABELS),
)
graphql_enum(
    DepartmentKind,
    "Department kinds: district departments and resident (垂管/派驻) units.",
    {
        DepartmentKind.DISTRICT_DEPARTMENT: "区直部门: a district department.",
        DepartmentKind.RESIDENT_UNIT: "进驻单位: a resident unit (垂直管理或派驻).",
    },
)
graphql_enum(
    ThemeAudience,
    "Whose life events a theme covers.",
    {
        ThemeAudience.PERSON: "个人: natural persons.",
        ThemeAudience.LEGAL_PERSON: "法人: enterprises and other organisations.",
    },
)
graphql_enum(
    VersionChange, "What a version did to the item (版本变更类型).", _literal(VersionChange)
)

# Generated from the one definition of the flags (flags.py); members are the stored names.
AffairFlag = Enum("AffairFlag", {flag.name.upper(): flag.name for flag in FLAGS})  # type: ignore[misc]
graphql_enum(
    AffairFlag,
    "Convenience flags (便民标识) that can be filtered and counted.",
    {AffairFlag(flag.name): flag.description for flag in FLAGS},
)


class AffairItemSort(Enum):
    RELEVANCE = "RELEVANCE"
    DEPARTMENT = "DEPARTMENT"
    PROMISED_DAYS = "PROMISED_DAYS"
    RECENTLY_UPDATED = "RECENTLY_UPDATED"
    CODE = "CODE"


graphql_enum(
    AffairItemSort,
    "Orders for item lists.",
    {
        AffairItemSort.RELEVANCE: "Best match first (needs `search`; the default when searching).",
        AffairItemSort.DEPARTMENT: "By department (display order), then 基本编码.",
        AffairItemSort.PROMISED_DAYS: "Shortest promised time limit first.",
        AffairItemSort.RECENTLY_UPDATED: "Most recently changed first.",
        AffairItemSort.CODE: "By 实施编码 (the default without `search`).",
    },
)


class MatchField(Enum):
    NAME = "NAME"
    KEYWORDS = "KEYWORDS"
    MATERIALS_OR_FAQ = "MATERIALS_OR_FAQ"


graphql_enum(
    MatchField,
    "Where a search matched.",
    {
        MatchField.NAME: "In the item's name or everyday name.",
        MatchField.KEYWORDS: "In keywords, results, themes, department, or by sound (pinyin).",
        MatchField.MATERIALS_OR_FAQ: "Only in material names or FAQ questions (a fallback).",
    },
)


class AffairSuggestionKind(Enum):
    ITEM = "ITEM"
    EVERYDAY_WORD = "EVERYDAY_WORD"


graphql_enum(
    AffairSuggestionKind,
    "What an autocomplete suggestion is.",
    {
        AffairSuggestionKind.ITEM: "An item name (the suggestion carries its code).",
        AffairSuggestionKind.EVERYDAY_WORD: "An everyday word search understands (开公司).",
    },
    name="AffairSuggestionKind",
)
