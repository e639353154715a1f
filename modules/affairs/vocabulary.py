"""Code lists of the national service-item data elements, with their Chinese labels.

Stored documents hold the stable ASCII codes; labels are derived here so a
wording change never needs a data migration. These are plain Python enums (the
domain's vocabulary); ``types/enums.py`` exposes them to GraphQL with descriptions.
The convenience flags have their own single definition in ``flags.py``.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "AUDIENCE_LABELS",
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
    "MaterialForm",
    "MaterialNecessity",
    "MaterialSource",
    "PowerSource",
    "ResultType",
    "ThemeAudience",
    "VersionChange",
]


class ItemType(Enum):
    LICENSING = "01"  # 行政许可
    PENALTY = "02"  # 行政处罚
    ENFORCEMENT = "03"  # 行政强制
    LEVY = "04"  # 行政征收
    BENEFIT = "05"  # 行政给付
    INSPECTION = "06"  # 行政检查
    CONFIRMATION = "07"  # 行政确认
    REWARD = "08"  # 行政奖励
    ADJUDICATION = "09"  # 行政裁决
    OTHER_POWER = "10"  # 其他行政权力
    PUBLIC_SERVICE = "20"  # 公共服务


ITEM_TYPE_NAMES = {
    "01": "行政许可",
    "02": "行政处罚",
    "03": "行政强制",
    "04": "行政征收",
    "05": "行政给付",
    "06": "行政检查",
    "07": "行政确认",
    "08": "行政奖励",
    "09": "行政裁决",
    "10": "其他行政权力",
    "20": "公共服务",
}


class ItemStatus(Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


STATUS_LABELS = {"active": "在用", "suspended": "暂停", "cancelled": "取消"}


class Audience(Enum):
    NATURAL_PERSON = "natural_person"
    ENTERPRISE_LEGAL_PERSON = "enterprise_legal_person"
    PUBLIC_INSTITUTION_LEGAL_PERSON = "public_institution_legal_person"
    SOCIAL_ORGANIZATION_LEGAL_PERSON = "social_organization_legal_person"
    UNINCORPORATED_ENTERPRISE = "unincorporated_enterprise"
    ADMINISTRATIVE_ORGAN = "administrative_organ"
    OTHER_ORGANIZATION = "other_organization"


AUDIENCE_LABELS = {
    "natural_person": "自然人",
    "enterprise_legal_person": "企业法人",
    "public_institution_legal_person": "事业法人",
    "social_organization_legal_person": "社会组织法人",
    "unincorporated_enterprise": "非法人企业",
    "administrative_organ": "行政机关",
    "other_organization": "其他组织",
}


class HandlingType(Enum):
    INSTANT = "instant"
    PROMISED = "promised"


HANDLING_TYPE_LABELS = {"instant": "即办件", "promised": "承诺件"}


class HandlingForm(Enum):
    WINDOW = "window"
    ONLINE = "online"
    MAIL = "mail"


class HandlingScope(Enum):
    NONE = "none"
    DISTRICT = "district"
    CITY = "city"
    PROVINCE = "province"
    CROSS_PROVINCE = "cross_province"
    NATIONAL = "national"


HANDLING_SCOPE_LABELS = {
    "none": "不通办",
    "district": "区内通办",
    "city": "全市通办",
    "province": "全省通办",
    "cross_province": "跨省通办",
    "national": "全国通办",
}

ONLINE_DEPTH_LABELS = {
    1: "一级（在线咨询）",
    2: "二级（在线预约/表格下载）",
    3: "三级（网上预审/受理）",
    4: "四级（全程网办）",
}


class PowerSource(Enum):
    STATUTORY = "statutory"
    DELEGATED_FROM_HIGHER = "delegated_from_higher"
    AUTHORIZED_BY_HIGHER = "authorized_by_higher"
    ENTRUSTED_BY_PEER = "entrusted_by_peer"
    ENTRUSTED_BY_HIGHER = "entrusted_by_higher"


POWER_SOURCE_LABELS = {
    "statutory": "法定本级行使",
    "delegated_from_higher": "上级下放",
    "authorized_by_higher": "上级授权",
    "entrusted_by_peer": "同级委托",
    "entrusted_by_higher": "上级委托",
}


class ExerciseLevel(Enum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    DISTRICT = "district"
    STREET = "street"


EXERCISE_LEVEL_LABELS = {
    "national": "国家级",
    "provincial": "省级",
    "municipal": "市级",
    "district": "县级（区级）",
    "street": "镇（乡、街道）级",
}


class BodyNature(Enum):
    STATUTORY_ORGAN = "statutory_organ"
    AUTHORIZED_ORGANIZATION = "authorized_organization"
    ENTRUSTED_ORGANIZATION = "entrusted_organization"


BODY_NATURE_LABELS = {
    "statutory_organ": "法定机关",
    "authorized_organization": "法律法规授权组织",
    "entrusted_organization": "受委托组织",
}


class MaterialForm(Enum):
    PAPER = "paper"
    ELECTRONIC = "electronic"
    PAPER_AND_ELECTRONIC = "paper_and_electronic"


class MaterialNecessity(Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    TOLERATED = "tolerated"


class MaterialSource(Enum):
    APPLICANT = "applicant"
    GOVERNMENT = "government"


class ResultType(Enum):
    LICENSE = "license"
    APPROVAL = "approval"
    OTHER = "other"


class LocationKind(Enum):
    DISTRICT_HALL = "district_hall"
    SUB_HALL = "sub_hall"
    STREET_HALL = "street_hall"
    COMMUNITY_CENTER = "community_center"
    BANK_BRANCH = "bank_branch"
    SELF_SERVICE_TERMINAL = "self_service_terminal"


LOCATION_KIND_LABELS = {
    "district_hall": "区政务服务中心",
    "sub_hall": "专业分厅",
    "street_hall": "街道政务服务大厅",
    "community_center": "社区党群服务中心",
    "bank_branch": "银行网点",
    "self_service_terminal": "24小时自助终端",
}


class DepartmentKind(Enum):
    DISTRICT_DEPARTMENT = "district_department"
    RESIDENT_UNIT = "resident_unit"


class ThemeAudience(Enum):
    PERSON = "person"
    LEGAL_PERSON = "legal_person"


class VersionChange(Enum):
    """What a version record did to the item (stored as the Chinese word)."""

    CREATED = "新增"
    CHANGED = "变更"
    SUSPENDED = "暂停"
    CANCELLED = "取消"
    RESTORED = "恢复"
