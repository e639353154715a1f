"""办件统计 over HTTP: a month of committed history loads as cases the API itself would have
written, and the statistics by department and period are computed from them — checked
against the sample file, and on a day of live cases whose every number is known."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from cases_client import SEEDS, citizen, code, upload_pdf
from harness import GatewayProcess, unique_db

from gateway.kit.calendar import today_cst
from modules.cases.supervision import OPEN

OPEN_STATUSES = {status.upper() for status in OPEN}

HISTORY = json.loads((SEEDS.parent / "cases" / "history.json").read_text(encoding="utf-8"))
FIELDS = """departmentCode firstDay lastDay submitted finished finishRate instantRate onlineRate
  zeroVisitRate averageWorkingDays averagePromisedDays finishedLate overdueOpen ratings
  ratingAverage badRatingShare"""
STATS = f"""query($f: Date!, $t: Date!, $d: String) {{
  caseStatistics(from: $f, to: $t, departmentCode: $d) {{ {FIELDS} }} }}"""
BY_DEPARTMENT = f"""query($f: Date!, $t: Date!) {{
  caseStatisticsByDepartment(from: $f, to: $t) {{ {FIELDS} }} }}"""
SUBMIT = """mutation($input: SubmitCaseInput!) { submitCase(input: $input) { id status } }"""
ADVANCE = """mutation($id: ID!, $a: CaseAction!, $o: String) {
  advanceCase(id: $id, action: $a, opinion: $o) { status } }"""


@pytest.fixture(scope="module")
def history(start_gateway: Any) -> GatewayProcess:
    """A gateway whose database holds the committed month of history."""
    gateway: GatewayProcess = start_gateway(
        {"ONESTOP_SEED_HISTORY": "true"}, db=unique_db("history")
    )
    return gateway


def month() -> dict[str, str]:
    first = date.fromisoformat(HISTORY["start"])
    return {"f": first.isoformat(), "t": (first + timedelta(days=HISTORY["days"] - 1)).isoformat()}


def test_a_month_of_history_in_numbers(history: GatewayProcess) -> None:
    admin = history.token("admin-stats", ("admin",))
    district = history.data(STATS, month(), token=admin)["caseStatistics"]
    rows = [dict(zip(HISTORY["fields"], row, strict=True)) for row in HISTORY["cases"]]
    assert district["departmentCode"] is None
    assert district["submitted"] == len(rows) >= 20_000
    assert district["onlineRate"] == round(sum(r["online"] for r in rows) / len(rows), 4)
    assert district["ratings"] == sum(1 for r in rows if r["rating"])
    # The shapes the generator promises (docs in scripts/seedgen/cases_history.py).
    assert 0.9 < district["finishRate"] < 1
    assert 0 < district["instantRate"] < 0.5
    assert 0.5 < district["zeroVisitRate"] < district["onlineRate"]
    assert 0 < district["averageWorkingDays"] < district["averagePromisedDays"]
    assert 0 < district["finishedLate"] < district["finished"] * 0.01
    assert 4.5 < district["ratingAverage"] <= 5 and district["badRatingShare"] < 0.02
    # By department: the busiest first, adding up to the district.
    departments = history.data(BY_DEPARTMENT, month(), token=admin)["caseStatisticsByDepartment"]
    assert sum(d["submitted"] for d in departments) == district["submitted"]
    assert sum(d["ratings"] for d in departments) == district["ratings"]
    counts = [d["submitted"] for d in departments]
    assert counts == sorted(counts, reverse=True)
    # A department's staff see their own; another department, and the district, are refused.
    busiest = departments[0]
    office = history.token("staff-stats", ("staff",), department=busiest["departmentCode"])
    own = history.data(STATS, month(), token=office)["caseStatistics"]
    assert own == busiest
    other = departments[1]["departmentCode"]
    assert code(history.graphql(STATS, {**month(), "d": other}, token=office).json()) == (
        "FORBIDDEN"
    )
    assert code(history.graphql(BY_DEPARTMENT, month(), token=office).json()) == "FORBIDDEN"
    assert code(history.graphql(STATS, month(), token=citizen(history)).json()) == "FORBIDDEN"
    too_long = {"f": "2025-01-01", "t": "2026-06-30"}
    assert code(history.graphql(STATS, too_long, token=admin).json()) == "BAD_USER_INPUT"


def test_a_day_of_live_cases_in_numbers(history: GatewayProcess) -> None:
    """Three cases today — one 秒批, one approved and issued, one refused at intake — give
    statistics that can be worked out by hand."""
    items = {i["code"]: i for i in json.loads((SEEDS / "items.json").read_text())}
    rules = json.loads((SEEDS.parent / "cases" / "instant_rules.json").read_text())
    instant = items[next(r["item_code"] for r in rules if r["rules"][-1]["kind"] == "form_in")]
    promised = next(
        i
        for i in items.values()
        if i["status"] == "active"
        and i["handling_type"] == "promised"
        and i["department_code"] == instant["department_code"]
        and not i.get("instant_approval")
    )

    def submit(item: dict[str, Any], delivery: str, form: dict[str, str]) -> str:
        applicant = history.token(f"citizen-{uuid.uuid4().hex[:8]}", identity_level=3)
        needed = [
            m["name"] for m in item["materials"] if m.get("necessity") in ("required", "tolerated")
        ]
        body = {
            "itemCode": item["code"],
            "form": form,
            "materials": [{"name": n, "fileId": upload_pdf(history, applicant)} for n in needed],
            "delivery": delivery,
            "address": "深圳市罗湖区人民南路3012号" if delivery == "MAIL" else None,
        }
        case: dict[str, Any] = history.data(SUBMIT, {"input": body}, token=applicant)["submitCase"]
        return str(case["id"])

    department = instant["department_code"]
    office = history.token("staff-live", ("staff",), department=department)
    submit(instant, "MAIL", {"户籍所在区": "罗湖区"})  # approved by rules in the request
    issued = submit(promised, "PICKUP", {})
    for action in ("ACCEPT", "APPROVE", "ISSUE_RESULT"):
        history.data(ADVANCE, {"id": issued, "a": action}, token=office)
    refused = submit(promised, "MAIL", {})
    history.data(ADVANCE, {"id": refused, "a": "REFUSE", "o": "不属于本部门受理范围"}, token=office)
    today = today_cst().isoformat()
    day = history.data(STATS, {"f": today, "t": today}, token=office)["caseStatistics"]
    assert day["departmentCode"] == department
    assert (day["submitted"], day["finished"], day["finishRate"]) == (3, 3, 1.0)
    assert day["instantRate"] == round(1 / 3, 4) and day["onlineRate"] == 1.0
    assert day["zeroVisitRate"] == round(2 / 3, 4)  # the picked-up result needs a visit
    assert day["averageWorkingDays"] == 0  # both results came the day they were accepted
    assert (
        day["averagePromisedDays"]
        == (instant["promised_limit_days"] + promised["promised_limit_days"]) / 2
    )
    assert (day["finishedLate"], day["overdueOpen"], day["ratings"]) == (0, 0, 0)


INBOX = """query($o: InboxOrder!, $d: Date, $i: String, $a: String) {
  departmentCases(order: $o, dueBy: $d, itemCode: $i, first: 25, after: $a) {
    totalCount pageInfo { endCursor hasNextPage }
    edges { node { id itemCode status dueDate light } } } }"""


def test_the_inbox_by_deadline_item_and_due_date(history: GatewayProcess) -> None:
    """后台收件箱 over a month of history: the deadlines view orders accepted cases by promised
    date across pages; `dueBy` keeps open cases due by then (the late ones red); `itemCode`
    narrows to one item."""
    departments = history.data(BY_DEPARTMENT, month(), token=history.token("a", ("admin",)))
    busiest = departments["caseStatisticsByDepartment"][0]["departmentCode"]
    office = history.token("staff-inbox", ("staff",), department=busiest)
    first = history.data(INBOX, {"o": "DUE_SOONEST"}, token=office)["departmentCases"]
    after = first["pageInfo"]["endCursor"]
    second = history.data(INBOX, {"o": "DUE_SOONEST", "a": after}, token=office)
    dues = [e["node"]["dueDate"] for e in first["edges"] + second["departmentCases"]["edges"]]
    assert len(dues) == 50 and None not in dues and dues == sorted(dues)
    today = today_cst().isoformat()
    due = history.data(INBOX, {"o": "DUE_SOONEST", "d": today}, token=office)["departmentCases"]
    assert due["totalCount"] > 0  # the month's unfinished cases are all past due by now
    for edge in due["edges"]:
        node = edge["node"]
        assert node["dueDate"] <= today and node["status"] in OPEN_STATUSES
        assert node["light"] == ("RED" if node["dueDate"] < today else node["light"])
    item = first["edges"][0]["node"]["itemCode"]
    narrowed = history.data(INBOX, {"o": "NEWEST", "i": item}, token=office)["departmentCases"]
    assert narrowed["totalCount"] >= 1
    assert {e["node"]["itemCode"] for e in narrowed["edges"]} == {item}
    ids = [e["node"]["id"] for e in narrowed["edges"]]
    assert ids == sorted(ids, reverse=True)  # newest first
