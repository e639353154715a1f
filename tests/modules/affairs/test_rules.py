"""Consistency rules and derived flags, as pure functions (no server needed)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from modules.affairs.documents import EDITABLE_FIELDS
from modules.affairs.flags import DERIVED_FLAGS, FLAG_FIELDS, SETTABLE_FLAGS, derive_flags
from modules.affairs.rules import validate_item
from modules.affairs.schema import AffairsMutation, AffairsQuery
from modules.affairs.types.enums import AffairFlag

DEPARTMENTS = ["11440303MB2C00001X"]
THEMES = {"P01": "person", "L01": "legal_person"}
LICENSES = ["ID_CARD"]


def item(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": "070001200100440303" + DEPARTMENTS[0] + "001",
        "basic_code": "070001200100",
        "type_code": "07",
        "name": "出生登记",
        "department_code": DEPARTMENTS[0],
        "audiences": ["natural_person"],
        "handling_type": "promised",
        "legal_limit_days": 20,
        "promised_limit_days": 5,
        "visits": 0,
        "visit_reason": None,
        "online_depth": 4,
        "consult_phone": "0755-25660001",
        "complaint_phone": "0755-12345",
        "materials": [{"name": "出生医学证明", "source": "applicant"}],
        "theme_codes": ["P01"],
        "fees": [],
        "charged": False,
    }
    return base | overrides


def errors_of(doc: dict[str, Any], has_faq: bool = True) -> set[str]:
    return {
        e.field
        for e in validate_item(
            doc, departments=DEPARTMENTS, themes=THEMES, license_types=LICENSES, has_faq=has_faq
        )
    }


def test_a_consistent_item_passes() -> None:
    assert errors_of(item()) == set()


def test_instant_items_promise_zero_days() -> None:
    assert "promisedLimitDays" in errors_of(item(handling_type="instant", promised_limit_days=2))
    assert errors_of(item(handling_type="instant", promised_limit_days=0)) == set()


def test_visits_need_a_reason() -> None:
    assert "visitReason" in errors_of(item(visits=1))
    assert errors_of(item(visits=1, visit_reason="现场核验原件")) == set()


def test_charged_items_need_fees_with_a_basis() -> None:
    assert "fees" in errors_of(item(charged=True))
    assert "fees.0.basis" in errors_of(
        item(charged=True, fees=[{"name": "工本费", "standard": "10元", "basis": ""}])
    )
    assert "fees" in errors_of(item(fees=[{"name": "x", "standard": "1", "basis": "y"}]))


def test_licensing_items_need_an_faq() -> None:
    licensing = item(type_code="01", basic_code="010001200100")
    assert "faq" in errors_of(licensing, has_faq=False)
    assert errors_of(licensing, has_faq=True) == set()


def test_phones_must_differ_and_themes_must_fit_the_audience() -> None:
    assert "complaintPhone" in errors_of(item(complaint_phone="0755-25660001"))
    assert "themeCodes.0" in errors_of(item(theme_codes=["L01"]))
    assert "themeCodes.0" in errors_of(item(theme_codes=["NOPE"]))


def test_government_materials_name_their_e_license() -> None:
    assert "materials.0.licenseType" in errors_of(
        item(materials=[{"name": "户口簿", "source": "government"}])
    )
    assert (
        errors_of(
            item(materials=[{"name": "身份证", "source": "government", "license_type": "ID_CARD"}])
        )
        == set()
    )


def test_no_meeting_and_instant_approval_constraints() -> None:
    assert "noMeeting" in errors_of(item(no_meeting=True, online_depth=3))
    assert "instantApproval" in errors_of(item(instant_approval=True))
    assert (
        errors_of(item(instant_approval=True, handling_type="instant", promised_limit_days=0))
        == set()
    )


def test_derived_flags() -> None:
    flags = derive_flags(
        item(
            visits=0,
            handling_type="instant",
            online_depth=3,
            handling_scope="district",
            materials=[{"name": "a", "necessity": "tolerated"}],
        )
    )
    assert flags["zero_visit"] and flags["max_one_visit"] and flags["instant"]
    assert flags["online"] and flags["district_wide"] and flags["tolerates_missing"]
    flags = derive_flags(item(visits=2, online_depth=2))
    assert not (flags["zero_visit"] or flags["max_one_visit"] or flags["online"])


def test_every_flag_representation_is_generated_from_the_one_definition() -> None:
    schema = strawberry.Schema(query=AffairsQuery, mutation=AffairsMutation)
    graphql = schema._schema
    camel = [to_camel_case(name) for name in FLAG_FIELDS]
    settable = [to_camel_case(flag.name) for flag in SETTABLE_FLAGS]
    assert [flag.value for flag in AffairFlag] == list(FLAG_FIELDS)
    assert list(graphql.type_map["AffairItemFlags"].fields) == camel
    assert set(camel) <= set(graphql.type_map["AffairItemFilter"].fields)
    assert set(camel) <= set(graphql.type_map["AffairsCatalogStats"].fields)
    for name in ("AffairItemInput", "AffairItemPatch"):
        inputs = set(graphql.type_map[name].fields)
        assert set(settable) <= inputs
        assert not {to_camel_case(f.name) for f in DERIVED_FLAGS} & inputs  # computed, never given
    assert {flag.name for flag in SETTABLE_FLAGS} <= set(EDITABLE_FIELDS)
