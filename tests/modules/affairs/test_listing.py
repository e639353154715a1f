"""Listing, filters, facets, paging and bad input over HTTP, checked against the seed files."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from harness import GatewayProcess

LIST = """
query List($filter: AffairItemFilter, $first: Int, $after: String) {
  affairItems(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { code name flags { zeroVisit online } departmentCode } }
  }
}
"""


def active(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if item["status"] == "active"]


def total(gateway: GatewayProcess, filter: dict[str, Any]) -> int:
    result: int = gateway.data(LIST, {"filter": filter, "first": 1})["affairItems"]["totalCount"]
    return result


def test_zero_visit_total_matches_the_seed_data(gateway: GatewayProcess, seed_items) -> None:
    expected = sum(1 for item in active(seed_items) if item["visits"] == 0)
    assert total(gateway, {"zeroVisit": True}) == expected
    assert total(gateway, {"zeroVisit": False}) == len(active(seed_items)) - expected


@pytest.mark.parametrize(
    ("flag", "field"),
    [
        ("online", "online"),
        ("instant", "instant"),
        ("districtWide", "district_wide"),
        ("noMeeting", "no_meeting"),
        ("toleratesMissing", "tolerates_missing"),
        ("instantApproval", "instant_approval"),
        ("charged", "charged"),
    ],
)
def test_every_flag_filter_matches_the_seed_data(
    gateway: GatewayProcess, seed_items, flag: str, field: str
) -> None:
    assert total(gateway, {flag: True}) == sum(1 for i in active(seed_items) if i[field])


def test_department_type_and_theme_filters(gateway: GatewayProcess, seed_items) -> None:
    department = Counter(i["department_code"] for i in active(seed_items)).most_common(1)[0][0]
    expected = [i for i in active(seed_items) if i["department_code"] == department]
    assert total(gateway, {"departmentCodes": [department]}) == len(expected)
    licensing = [i for i in expected if i["type_code"] == "01"]
    assert total(gateway, {"departmentCodes": [department], "types": ["LICENSING"]}) == len(
        licensing
    )
    theme = Counter(t for i in active(seed_items) for t in i["theme_codes"]).most_common(1)[0][0]
    assert total(gateway, {"themeCodes": [theme]}) == sum(
        1 for i in active(seed_items) if theme in i["theme_codes"]
    )


def test_can_be_done_at_a_location(gateway: GatewayProcess, seed_items, seed_locations) -> None:
    community = next(p for p in seed_locations if p["kind"] == "community_center")
    active_codes = {i["code"] for i in active(seed_items)}
    expected = len(set(community["item_codes"]) & active_codes)
    assert total(gateway, {"locationCode": community["code"]}) == expected
    assert 0 < expected < len(active_codes)


def test_statuses_filter_shows_suspended_items(gateway: GatewayProcess, seed_items) -> None:
    suspended = sum(1 for i in seed_items if i["status"] == "suspended")
    assert total(gateway, {"statuses": ["SUSPENDED"]}) == suspended


def test_paging_walks_every_item_once(gateway: GatewayProcess, seed_items) -> None:
    department = Counter(i["department_code"] for i in active(seed_items)).most_common(3)[-1][0]
    expected = {i["code"] for i in active(seed_items) if i["department_code"] == department}
    seen: list[str] = []
    after = None
    while True:
        page = gateway.data(
            LIST, {"filter": {"departmentCodes": [department]}, "first": 13, "after": after}
        )["affairItems"]
        seen.extend(edge["node"]["code"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


def test_facets_agree_with_totals(gateway: GatewayProcess, seed_items) -> None:
    result = gateway.data(
        """{ affairItems(filter: {online: true}, first: 1) {
              totalCount
              facets { departments { value label count } types { value label count }
                       themes { value count } flags { flag label count } } } }"""
    )["affairItems"]
    online = [i for i in active(seed_items) if i["online"]]
    facets = result["facets"]
    assert sum(f["count"] for f in facets["departments"]) == result["totalCount"] == len(online)
    assert sum(f["count"] for f in facets["types"]) == len(online)
    by_flag = {f["flag"]: f["count"] for f in facets["flags"]}
    assert by_flag["ONLINE"] == len(online)
    assert by_flag["ZERO_VISIT"] == sum(1 for i in online if i["visits"] == 0)
    assert facets["departments"][0]["label"].startswith("区") or facets["departments"][0]["label"]


def test_search_facets_count_the_search_results(gateway: GatewayProcess) -> None:
    result = gateway.data(
        '{ affairItems(search: "许可证", first: 1) { totalCount facets { departments { count } } } }'
    )["affairItems"]
    assert sum(f["count"] for f in result["facets"]["departments"]) == result["totalCount"]


def test_item_detail_has_the_full_guide(gateway: GatewayProcess, seed_items) -> None:
    seed = next(i for i in seed_items if i["type_code"] == "01" and i["status"] == "active")
    item = gateway.data(
        """query($code: String!) { affairItem(code: $code) {
            code name version typeName statusLabel handlingTypeLabel legalLimitDays promisedLimitDays
            limitCompression materials { name necessity source licenseType { name } }
            results { name } steps { name } faq { question } department { name }
            implementingBody { name natureLabel } themes { name } locations { name }
            versions { version change changedBy } } }""",
        {"code": seed["code"]},
    )["affairItem"]
    assert item["name"] == seed["name"]
    assert item["typeName"] == "行政许可"
    assert item["version"] == 1 and item["versions"][0]["changedBy"] == "seed"
    assert len(item["materials"]) == len(seed["materials"])
    assert item["faq"], "licensing items have at least one FAQ entry"
    assert item["department"]["name"]
    for material, raw in zip(item["materials"], seed["materials"], strict=True):
        if raw["source"] == "government":
            assert material["licenseType"]["name"]


def test_unknown_code_is_not_found(gateway: GatewayProcess) -> None:
    error = gateway.errors('{ affairItem(code: "NOPE") { name } }')[0]
    assert error["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({"departmentCodes": ["NOT-A-DEPT"]}, "filter.departmentCodes.0"),
        ({"themeCodes": ["P99x"]}, "filter.themeCodes.0"),
        ({"locationCode": "NOWHERE"}, "filter.locationCode.0"),
        ({"minOnlineDepth": 9}, "filter.minOnlineDepth"),
    ],
)
def test_invalid_filters_are_bad_user_input(
    gateway: GatewayProcess, filter: dict[str, Any], field: str
) -> None:
    error = gateway.errors(LIST, {"filter": filter})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fieldErrors"][0]["field"] == field


def test_bad_enum_in_filter_is_bad_user_input(gateway: GatewayProcess) -> None:
    error = gateway.errors(LIST, {"filter": {"types": ["NOT_A_TYPE"]}})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
def test_page_size_is_capped_with_a_clear_error(gateway: GatewayProcess, first: int) -> None:
    error = gateway.errors(LIST, {"first": first})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "100" in error["message"]


def test_bad_cursor_is_bad_user_input(gateway: GatewayProcess) -> None:
    error = gateway.errors(LIST, {"after": "bm90LWEtY3Vyc29y"})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_departments_and_themes_with_item_counts(
    gateway: GatewayProcess, seed_items, seed_departments
) -> None:
    departments = gateway.data("{ departments { code name shortName kind itemCount } }")[
        "departments"
    ]
    assert len(departments) == len(seed_departments)
    counts = Counter(i["department_code"] for i in active(seed_items))
    assert {d["code"]: d["itemCount"] for d in departments} == {
        code: counts.get(code, 0) for code in seed_departments
    }
    assert {d["kind"] for d in departments} == {"DISTRICT_DEPARTMENT", "RESIDENT_UNIT"}
    themes = gateway.data(
        "{ themes(audience: PERSON) { code name itemCount lifecycleGroup { name } } }"
    )["themes"]
    assert themes and all(t["code"].startswith("P") for t in themes)
    theme_counts = Counter(t for i in active(seed_items) for t in i["theme_codes"])
    assert all(t["itemCount"] == theme_counts.get(t["code"], 0) for t in themes)
    groups = gateway.data("{ lifecycleGroups { code name audience } }")["lifecycleGroups"]
    assert len(groups) == 16
