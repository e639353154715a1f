"""Consistency rules for service items, as provinces check them, plus derived flags.

Pure functions over item documents so the seed generator's checker, the staff
mutations and the tests agree on one definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.errors import FieldError

__all__ = ["validate_item"]

_CODE = re.compile(r"^[0-9A-Z]{12,64}$")
_BASIC_CODE = re.compile(r"^\d{12}$")
_PHONE = re.compile(r"^[0-9\-—－()（） ]{5,20}$")


def validate_item(
    item: Mapping[str, Any],
    *,
    departments: Iterable[str],
    themes: Mapping[str, str],
    license_types: Iterable[str],
    has_faq: bool,
) -> list[FieldError]:
    """Every violated rule as a field-level error (empty list: the item is consistent).

    Args:
        departments: known department codes.
        themes: theme code -> audience ("person" / "legal_person").
        license_types: known e-license type codes.
        has_faq: whether some FAQ entry covers this item (required for licensing).
    """
    errors: list[FieldError] = []

    def fail(field: str, message: str, code: str = "invalid") -> None:
        errors.append(FieldError(field, message, code))

    name = str(item.get("name") or "").strip()
    if not 2 <= len(name) <= 100:
        fail("name", "事项名称须为 2–100 个字符", "length")
    if not _CODE.match(str(item.get("code") or "")):
        fail("code", "实施编码须为 12–64 位数字或大写字母", "format")
    if not _BASIC_CODE.match(str(item.get("basic_code") or "")):
        fail("basicCode", "基本编码须为 12 位数字", "format")
    elif str(item.get("type_code")) != str(item["basic_code"])[:2]:
        fail("basicCode", "基本编码前两位须与事项类型一致", "type_mismatch")
    if item.get("department_code") not in set(departments):
        fail("departmentCode", "未知的实施部门", "unknown_department")
    if not item.get("audiences"):
        fail("audiences", "至少选择一类服务对象", "required")

    legal = int(item.get("legal_limit_days", 0))
    promised = int(item.get("promised_limit_days", 0))
    if legal < 0 or legal > 365:
        fail("legalLimitDays", "法定办结时限须在 0–365 个工作日之间", "range")
    if item.get("handling_type") == "instant":
        if promised != 0:
            fail("promisedLimitDays", "即办件的承诺办结时限须为 0", "instant_limit")
    elif not 1 <= promised <= max(legal, 1):
        fail("promisedLimitDays", "承诺件的承诺时限须为 1 天至法定时限", "promised_range")

    visits = int(item.get("visits", 0))
    if visits < 0 or visits > 5:
        fail("visits", "到办事现场次数须在 0–5 之间", "range")
    if visits > 0 and not str(item.get("visit_reason") or "").strip():
        fail("visitReason", "需到现场办理的事项须说明理由", "reason_required")

    depth = int(item.get("online_depth", 0))
    if depth not in (1, 2, 3, 4):
        fail("onlineDepth", "网办深度须为 1–4", "range")
    if item.get("no_meeting") and (visits != 0 or depth != 4):
        fail("noMeeting", "不见面审批须零跑动且全程网办", "no_meeting")
    if item.get("instant_approval") and (
        item.get("handling_type") != "instant" or depth != 4 or visits != 0
    ):
        fail("instantApproval", "秒批事项须为即办件、全程网办、零跑动", "instant_approval")

    fees = item.get("fees") or []
    if item.get("charged"):
        if not fees:
            fail("fees", "收费事项须列明收费项目", "fees_required")
        for index, fee in enumerate(fees):
            if not str(fee.get("basis") or "").strip():
                fail(f"fees.{index}.basis", "收费项目须注明收费依据", "basis_required")
    elif fees:
        fail("fees", "不收费事项不得列明收费项目", "fees_not_charged")

    consult = str(item.get("consult_phone") or "")
    complaint = str(item.get("complaint_phone") or "")
    if not _PHONE.match(consult):
        fail("consultPhone", "咨询电话格式不正确", "format")
    if not _PHONE.match(complaint):
        fail("complaintPhone", "监督投诉电话格式不正确", "format")
    if consult and consult == complaint:
        fail("complaintPhone", "监督投诉电话须与咨询电话不同", "same_phone")

    materials = item.get("materials") or []
    known_licenses = set(license_types)
    for index, material in enumerate(materials):
        if not str(material.get("name") or "").strip():
            fail(f"materials.{index}.name", "材料名称不能为空", "required")
        if (
            material.get("source") == "government"
            and material.get("license_type") not in known_licenses
        ):
            fail(
                f"materials.{index}.licenseType",
                "政府部门核发的材料须注明可替代的电子证照类型",
                "license_type_required",
            )

    audiences = set(item.get("audiences") or [])
    for index, code in enumerate(item.get("theme_codes") or []):
        audience = themes.get(code)
        if audience is None:
            fail(f"themeCodes.{index}", "未知的主题", "unknown_theme")
        elif audience == "person" and "natural_person" not in audiences:
            fail(f"themeCodes.{index}", "个人主题只适用于自然人事项", "theme_audience")
        elif audience == "legal_person" and audiences <= {"natural_person"}:
            fail(f"themeCodes.{index}", "法人主题只适用于面向组织的事项", "theme_audience")

    if item.get("type_code") == "01" and not has_faq:
        fail("faq", "行政许可事项须至少关联一条常见问题", "faq_required")
    return errors
