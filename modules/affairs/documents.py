"""Building stored item documents: derived flags, denormalised fields, search fields.

Shared by the seed loader and staff editing so both store exactly the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from modules.affairs.flags import SETTABLE_FLAGS, derive_flags
from modules.affairs.repository import ATTRIBUTE_FIELD, attribute_terms
from modules.affairs.search import SearchIndexer, normalize, terms_of

__all__ = [
    "ItemContext",
    "build_item",
    "faq_search_fields",
    "implementation_code",
    "index_terms",
    "version_snapshot",
]

DISTRICT_CODE = "440303"  # 罗湖区 行政区划代码

# Fields a staff member edits; everything else (derived flags too) is derived or bookkeeping.
EDITABLE_FIELDS = (
    "basic_code",
    "name",
    "short_name",
    "type_code",
    "department_code",
    "implementing_body",
    "entrusted_department",
    "power_source",
    "exercise_level",
    "audiences",
    "handling_type",
    "legal_limit_days",
    "promised_limit_days",
    "visits",
    "visit_reason",
    "online_depth",
    "handling_scope",
    "handling_forms",
    *(flag.name for flag in SETTABLE_FLAGS),
    "acceptance_conditions",
    "materials",
    "fees",
    "results",
    "steps",
    "special_procedures",
    "legal_basis",
    "theme_codes",
    "consult_phone",
    "complaint_phone",
    "service_hours",
    "handling_address",
    "keywords",
    "status",
)


# Carried into every version but never edited by staff: the yearly number of cases
# (seeded), which search uses as a small ranking prior.
CARRIED_FIELDS = ("annual_volume",)


def implementation_code(basic_code: str, department_code: str, business_item: str) -> str:
    """实施编码 = 基本编码 + 行政区划 + 实施主体统一社会信用代码 + 业务办理项."""
    return f"{basic_code}{DISTRICT_CODE}{department_code}{business_item}"


class ItemContext:
    """Reference data an item document is built against."""

    def __init__(
        self,
        departments: Mapping[str, Mapping[str, Any]],
        themes: Mapping[str, Mapping[str, Any]],
        license_types: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self.departments = departments
        self.themes = themes
        self.license_type_names = {code: str(doc["name"]) for code, doc in license_types.items()}


def build_item(
    fields: Mapping[str, Any],
    context: ItemContext,
    *,
    code: str,
    version: int,
    revision: int,
    location_codes: Iterable[str],
    faq_questions: Iterable[str],
    updated_at: datetime,
    updated_by: str,
) -> dict[str, Any]:
    kept = (*EDITABLE_FIELDS, *CARRIED_FIELDS)
    item: dict[str, Any] = {key: fields[key] for key in kept if key in fields}
    derive_flags(item)
    department = context.departments.get(item["department_code"], {})
    theme_names = [
        str(context.themes[t]["name"]) for t in item.get("theme_codes", []) if t in context.themes
    ]
    item.update(
        SearchIndexer.fields(
            item,
            department_name=str(department.get("short_name", "")),
            theme_names=theme_names,
            faq_questions=faq_questions,
            license_type_names=context.license_type_names,
        )
    )
    item.update(
        _id=code,
        version=version,
        revision=revision,
        department_order=int(department.get("sort_order", 999)),
        location_codes=sorted(set(location_codes)),
        updated_at=updated_at,
        updated_by=updated_by,
    )
    return item


def version_snapshot(item: Mapping[str, Any], *, change: str, note: str | None) -> dict[str, Any]:
    """The history record of one version: the item as it was, without search fields."""
    snapshot = {k: v for k, v in item.items() if not k.startswith("search_") and k != "_id"}
    snapshot.update(
        _id=f"{item['_id']}@{item['version']}",
        code=item["_id"],
        change=change,
        note=note,
        changed_at=item["updated_at"],
        changed_by=item["updated_by"],
    )
    return snapshot


def faq_search_fields(question: str, answer: str, keywords: list[str]) -> dict[str, Any]:
    """FAQ entries rank with the item scorer: question ~ name, keywords ~ tags, answer ~ body."""
    return {
        "search_name": normalize(question),
        "search_tags": " ".join(normalize(k) for k in keywords),
        "search_body": normalize(answer),
        "search_terms": sorted(terms_of([question, answer, *keywords])),
    }


def index_terms(item: Mapping[str, Any]) -> dict[str, list[str]]:
    """What the catalog index holds for an item: its search terms while it is active
    (suspended and cancelled items are not found by citizens), and its attribute values
    always (staff count and filter items of every status)."""
    terms = SearchIndexer.terms(item) if item.get("status") == "active" else {}
    return {**terms, ATTRIBUTE_FIELD: attribute_terms(item)}
