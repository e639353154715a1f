"""Staff editing over HTTP: versions, permissions, consistency rules, concurrency."""

from __future__ import annotations

import concurrent.futures
import uuid
from typing import Any

import pytest
from harness import GatewayProcess

UPDATE = """mutation($code: String!, $patch: AffairItemPatch!, $expected: Int, $note: String) {
  updateAffairItem(code: $code, patch: $patch, expectedVersion: $expected, note: $note) {
    item { code name version updatedAt versions { version change note changedBy } }
  }
}"""
STATUS = """mutation($code: String!, $status: ItemStatus!, $reason: String!) {
  setAffairItemStatus(code: $code, status: $status, reason: $reason) { item { version status statusLabel } }
}"""
CREATE = """mutation($input: AffairItemInput!) {
  createAffairItem(input: $input) { item { code version name flags { zeroVisit instant online toleratesMissing } faq { question } } }
}"""


_used: set[str] = set()


@pytest.fixture(scope="module")
def gateway(start_gateway) -> GatewayProcess:
    """Edits change counts: this module gets its own seeded database."""
    return start_gateway()


@pytest.fixture
def editable(gateway: GatewayProcess, seed_items: list[dict[str, Any]]):
    """A fresh active item (different per test) and a token for its department's staff."""
    used = _used
    item = next(
        i
        for i in seed_items
        if i["status"] == "active"
        and i["type_code"] != "01"
        and i["code"] not in used
        and i["handling_type"] == "promised"
    )
    used.add(item["code"])
    token = gateway.token(
        f"staff-{uuid.uuid4().hex[:6]}",
        ("staff",),
        department=item["department_code"],
        identity_level=3,
    )
    return item, token


def test_staff_edit_creates_version_2_and_search_finds_the_new_name(
    gateway: GatewayProcess, editable
) -> None:
    item, token = editable
    new_name = item["name"] + "（深港通办试点）"
    changed = gateway.data(
        UPDATE,
        {"code": item["code"], "patch": {"name": new_name}, "expected": 1, "note": "名称调整"},
        token=token,
    )["updateAffairItem"]["item"]
    assert changed["version"] == 2
    assert changed["name"] == new_name
    assert [v["version"] for v in changed["versions"]] == [2, 1]
    assert changed["versions"][0]["note"] == "名称调整"

    found = gateway.data(
        '{ affairItems(search: "深港通办试点", first: 3) { edges { node { code name version } } } }'
    )["affairItems"]["edges"]
    assert found[0]["node"] == {"code": item["code"], "name": new_name, "version": 2}
    # The old version stays queryable.
    old = gateway.data(
        "query($c: String!) { affairItem(code: $c, version: 1) { name version } }",
        {"c": item["code"]},
    )["affairItem"]
    assert old == {"name": item["name"], "version": 1}


def test_stale_expected_version_is_conflict(gateway: GatewayProcess, editable) -> None:
    item, token = editable
    gateway.data(UPDATE, {"code": item["code"], "patch": {"keywords": ["一"]}}, token=token)
    error = gateway.errors(
        UPDATE, {"code": item["code"], "patch": {"keywords": ["二"]}, "expected": 1}, token=token
    )[0]
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["currentVersion"] == 2


def test_concurrent_edits_from_one_version_exactly_one_wins(
    gateway: GatewayProcess, editable
) -> None:
    item, token = editable

    def edit(n: int) -> dict[str, Any]:
        return gateway.graphql(
            UPDATE,
            {"code": item["code"], "patch": {"shortName": f"并发{n}"}, "expected": 1},
            token=token,
        ).json()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(edit, range(8)))
    wins = [n for n, r in enumerate(results) if "errors" not in r]
    conflicts = [r for r in results if "errors" in r]
    assert len(wins) == 1
    assert all(r["errors"][0]["extensions"]["code"] == "CONFLICT" for r in conflicts)
    stored = gateway.data(
        "query($c: String!) { affairItem(code: $c) { version shortName versions { version } } }",
        {"c": item["code"]},
    )["affairItem"]
    assert stored["version"] == 2
    assert [v["version"] for v in stored["versions"]] == [2, 1]
    assert stored["shortName"] == f"并发{wins[0]}"


def test_consistency_rules_give_field_errors_and_store_nothing(
    gateway: GatewayProcess, editable
) -> None:
    item, token = editable
    error = gateway.errors(
        UPDATE,
        {
            "code": item["code"],
            "patch": {
                "visits": 1,
                "visitReason": "",
                "promisedLimitDays": item["legal_limit_days"] + 5,
                "complaintPhone": item["consult_phone"],
                "charged": True,
                "fees": [],
            },
        },
        token=token,
    )[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    fields = {e["field"] for e in error["extensions"]["fieldErrors"]}
    assert {"visitReason", "promisedLimitDays", "complaintPhone", "fees"} <= fields
    stored = gateway.data(
        "query($c: String!) { affairItem(code: $c) { version visits } }", {"c": item["code"]}
    )["affairItem"]
    assert stored == {"version": 1, "visits": item["visits"]}


def test_other_departments_and_citizens_cannot_edit(gateway: GatewayProcess, editable) -> None:
    item, _ = editable
    outsider = gateway.token("staff-x", ("staff",), department="11440303000000000X")
    error = gateway.errors(
        UPDATE, {"code": item["code"], "patch": {"keywords": ["x"]}}, token=outsider
    )[0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    citizen = gateway.token("c-1", ("citizen",))
    assert (
        gateway.errors(UPDATE, {"code": item["code"], "patch": {"keywords": ["x"]}}, token=citizen)[
            0
        ]["extensions"]["code"]
        == "FORBIDDEN"
    )
    assert (
        gateway.errors(UPDATE, {"code": item["code"], "patch": {"keywords": ["x"]}})[0][
            "extensions"
        ]["code"]
        == "UNAUTHENTICATED"
    )
    admin = gateway.token("admin-1", ("admin",))
    assert (
        gateway.data(
            UPDATE, {"code": item["code"], "patch": {"keywords": ["管理员"]}}, token=admin
        )["updateAffairItem"]["item"]["version"]
        == 2
    )


def test_suspend_and_restore(gateway: GatewayProcess, editable) -> None:
    item, token = editable
    suspended = gateway.data(
        STATUS,
        {"code": item["code"], "status": "SUSPENDED", "reason": "系统升级暂停受理"},
        token=token,
    )
    assert suspended["setAffairItemStatus"]["item"] == {
        "version": 2,
        "status": "SUSPENDED",
        "statusLabel": "暂停",
    }
    listed = gateway.data(
        "query($c: [String!]) { affairItems(filter: {departmentCodes: $c}, first: 100) { edges { node { code } } } }",
        {"c": [item["department_code"]]},
    )["affairItems"]["edges"]
    assert item["code"] not in {e["node"]["code"] for e in listed}
    restored = gateway.data(
        STATUS, {"code": item["code"], "status": "ACTIVE", "reason": "恢复"}, token=token
    )
    assert restored["setAffairItemStatus"]["item"]["version"] == 3
    cancelled = gateway.data(
        STATUS, {"code": item["code"], "status": "CANCELLED", "reason": "依法取消"}, token=token
    )
    assert cancelled["setAffairItemStatus"]["item"]["statusLabel"] == "取消"
    error = gateway.errors(
        STATUS, {"code": item["code"], "status": "ACTIVE", "reason": "x"}, token=token
    )[0]
    assert error["extensions"]["code"] == "CONFLICT"


def test_stats_follow_edits(gateway: GatewayProcess, editable) -> None:
    item, token = editable
    query = "{ affairsCatalogStats { activeItems } }"
    before = gateway.data(query)["affairsCatalogStats"]["activeItems"]
    gateway.data(
        STATUS, {"code": item["code"], "status": "SUSPENDED", "reason": "整改"}, token=token
    )
    assert gateway.data(query)["affairsCatalogStats"]["activeItems"] == before - 1


def new_item_input(department: str, theme: str | None, **overrides: Any) -> dict[str, Any]:
    base = {
        "basicCode": "200099900100",
        "businessItem": f"{uuid.uuid4().int % 1000:03d}",
        "name": "长者食堂就餐补贴申领",
        "type": "PUBLIC_SERVICE",
        "departmentCode": department,
        "audiences": ["NATURAL_PERSON"],
        "handlingType": "INSTANT",
        "legalLimitDays": 5,
        "promisedLimitDays": 0,
        "visits": 0,
        "onlineDepth": 4,
        "consultPhone": "0755-25666001",
        "complaintPhone": "0755-12345",
        "acceptanceConditions": "本区户籍或持居住证的60周岁以上老年人",
        "handlingForms": ["ONLINE"],
        "materials": [
            {"name": "居民身份证", "source": "GOVERNMENT", "licenseType": "ID_CARD"},
            {
                "name": "居住证",
                "source": "GOVERNMENT",
                "licenseType": "RESIDENCE_PERMIT",
                "necessity": "TOLERATED",
            },
        ],
        "themeCodes": [theme] if theme else [],
        "keywords": ["老年人吃饭", "长者饭堂"],
    }
    return base | overrides


def test_create_item_derives_flags_and_is_searchable(
    gateway: GatewayProcess, seed_departments, seed_items
) -> None:
    department = next(code for code, d in seed_departments.items() if "民政" in d["name"])
    token = gateway.token("staff-mz", ("staff",), department=department)
    person_theme = next(t for i in seed_items for t in i["theme_codes"] if t.startswith("P"))
    created = gateway.data(
        CREATE, {"input": new_item_input(department, person_theme)}, token=token
    )["createAffairItem"]["item"]
    assert created["version"] == 1
    assert created["flags"] == {
        "zeroVisit": True,
        "instant": True,
        "online": True,
        "toleratesMissing": True,
    }
    assert created["code"].startswith("200099900100440303" + department)
    found = gateway.data('{ affairItems(search: "长者饭堂") { edges { node { code } } } }')
    assert found["affairItems"]["edges"][0]["node"]["code"] == created["code"]
    again = gateway.errors(
        CREATE,
        {"input": new_item_input(department, person_theme, businessItem=created["code"][-3:])},
        token=token,
    )[0]
    assert again["extensions"]["code"] == "CONFLICT"


def test_create_licensing_item_needs_an_faq(gateway: GatewayProcess, seed_departments) -> None:
    department = next(iter(seed_departments))
    token = gateway.token("staff-lic", ("staff",), department=department)
    licensing = new_item_input(
        department,
        None,
        type="LICENSING",
        basicCode="010099900100",
        handlingType="PROMISED",
        legalLimitDays=20,
        promisedLimitDays=5,
    )
    error = gateway.errors(CREATE, {"input": licensing}, token=token)[0]
    assert {
        "field": "faq",
        "message": error["extensions"]["fieldErrors"][0]["message"],
        "code": "faq_required",
    } in error["extensions"]["fieldErrors"]
    licensing["newFaq"] = [{"question": "办理需要多长时间？", "answer": "承诺5个工作日内办结。"}]
    created = gateway.data(CREATE, {"input": licensing}, token=token)["createAffairItem"]["item"]
    assert created["faq"] == [{"question": "办理需要多长时间？"}]


def test_create_rejects_inconsistent_items(gateway: GatewayProcess, seed_departments) -> None:
    department = next(iter(seed_departments))
    token = gateway.token("staff-bad", ("staff",), department=department)
    bad = new_item_input(
        department,
        None,
        basicCode="070099900100",
        promisedLimitDays=3,
        noMeeting=True,
        visits=1,
        visitReason="核验原件",
        materials=[{"name": "户口簿", "source": "GOVERNMENT"}],
    )
    error = gateway.errors(CREATE, {"input": bad}, token=token)[0]
    fields = {e["field"] for e in error["extensions"]["fieldErrors"]}
    assert {"basicCode", "promisedLimitDays", "noMeeting", "materials.0.licenseType"} <= fields


def test_search_follows_status_changes(gateway: GatewayProcess, editable) -> None:
    item, token = editable
    query = "query($q: String) { affairItems(search: $q, first: 50) { edges { node { code } } } }"

    def found() -> bool:
        edges = gateway.data(query, {"q": item["name"]})["affairItems"]["edges"]
        return item["code"] in {e["node"]["code"] for e in edges}

    assert found()
    gateway.data(
        STATUS, {"code": item["code"], "status": "SUSPENDED", "reason": "暂停"}, token=token
    )
    assert not found()
    # Staff can still find it among suspended items (scored from stored texts).
    suspended = gateway.data(
        "query($q: String) { affairItems(search: $q, filter: {statuses: [SUSPENDED]}) { edges { node { code } } } }",
        {"q": item["name"]},
    )["affairItems"]["edges"]
    assert item["code"] in {e["node"]["code"] for e in suspended}
    gateway.data(STATUS, {"code": item["code"], "status": "ACTIVE", "reason": "恢复"}, token=token)
    assert found()
