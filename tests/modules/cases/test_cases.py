"""办件 over HTTP: submit with materials, window intake, the department's review with a
supplement, approval, a mailed result, closing — each step by an authorised actor only,
recorded, with the promised date in working days and special procedures pausing it."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from cases_client import SEEDS, citizen, code, next_result, socket, upload_pdf
from harness import GatewayProcess
from wallet_client import POLICE, issue_id_card

from gateway.kit.calendar import CST, add_working_days, working_days_between

#: What an application must carry: required materials, and 容缺后补 ones unless promised.
NEEDED = ("required", "tolerated")
SUBMIT = """mutation($input: SubmitCaseInput!) { submitCase(input: $input) {
  id status version dueDate materials { name } steps { action status } } }"""
ADVANCE = """mutation($id: ID!, $a: CaseAction!, $o: String, $t: String) {
  advanceCase(id: $id, action: $a, opinion: $o, trackingNumber: $t) {
    id status version dueDate trackingNumber steps { action status opinion actorDepartment } } }"""
SUPPLY = """mutation($id: ID!, $m: [CaseMaterialInput!]!) {
  supplyCaseMaterials(id: $id, materials: $m) { status materials { name fileId } } }"""
CASE = "query($id: ID!) { case(id: $id) { id status } }"
MY = "{ myCases(first: 5) { totalCount edges { node { id status } } } }"
INBOX = """query($s: CaseStatus) { departmentCases(status: $s, first: 50) {
  edges { node { id status } } } }"""


@pytest.fixture(scope="module")
def item() -> dict[str, Any]:
    """A promised item (7 working days) with several required materials."""
    for candidate in json.loads((SEEDS / "items.json").read_text()):
        required = [m["name"] for m in candidate["materials"] if m.get("necessity") in NEEDED]
        if (
            candidate["status"] == "active"
            and candidate["handling_type"] == "promised"
            and candidate["promised_limit_days"] >= 5
            and len(required) >= 2
        ):
            return {**candidate, "required": required}
    raise AssertionError("no promised item with two required materials in the seeds")


def application(
    gateway: GatewayProcess, token: str, item: dict[str, Any], skip: int = 0
) -> dict[str, Any]:
    materials = [{"name": n, "fileId": upload_pdf(gateway, token)} for n in item["required"][skip:]]
    return {
        "itemCode": item["code"],
        "form": {
            "企业名称": "深圳市罗湖区示例贸易有限公司",
            "统一社会信用代码": "91440303MA5F000000",
        },
        "materials": materials,
        "delivery": "MAIL",
        "address": "深圳市罗湖区人民南路3012号",
    }


def staff(gateway: GatewayProcess, department: str) -> str:
    return gateway.token(f"staff-{uuid.uuid4().hex[:6]}", ("staff",), department=department)


def advance(
    gateway: GatewayProcess, token: str, case_id: str, action: str, **extra: str
) -> dict[str, Any]:
    variables = {"id": case_id, "a": action, "o": extra.get("opinion"), "t": extra.get("tracking")}
    payload: dict[str, Any] = gateway.graphql(ADVANCE, variables, token=token).json()
    return payload


def test_a_case_from_submission_to_closing(gateway: GatewayProcess, item: dict[str, Any]) -> None:
    applicant = citizen(gateway)
    missing = gateway.graphql(
        SUBMIT, {"input": application(gateway, applicant, item, skip=1)}, token=applicant
    ).json()
    assert code(missing) == "BAD_USER_INPUT"
    assert missing["errors"][0]["extensions"]["fieldErrors"][0]["message"] == item["required"][0]
    # Another citizen's upload is not the applicant's material.
    borrowed = application(gateway, applicant, item)
    borrowed["materials"][0]["fileId"] = upload_pdf(gateway, citizen(gateway))
    refused = gateway.graphql(SUBMIT, {"input": borrowed}, token=applicant).json()
    assert refused["errors"][0]["extensions"]["fieldErrors"][0]["code"] == "not_yours"

    # A retried submit (same Idempotency-Key) makes one case.
    body, key = application(gateway, applicant, item), str(uuid.uuid4())
    first = gateway.graphql(
        SUBMIT, {"input": body}, token=applicant, headers={"Idempotency-Key": key}
    )
    again = gateway.graphql(
        SUBMIT, {"input": body}, token=applicant, headers={"Idempotency-Key": key}
    )
    case = first.json()["data"]["submitCase"]
    assert again.json()["data"]["submitCase"]["id"] == case["id"]
    assert gateway.data(MY, token=applicant)["myCases"]["totalCount"] == 1
    assert case["status"] == "SUBMITTED" and case["dueDate"] is None
    case_id = case["id"]

    # Nobody else sees it.
    assert (
        code(gateway.graphql(CASE, {"id": case_id}, token=citizen(gateway)).json()) == "NOT_FOUND"
    )

    # Any window accepts (here a window of another department); the promise starts.
    window = staff(gateway, "11440303MB2C912345")
    accepted_answer = advance(gateway, window, case_id, "ACCEPT")
    assert accepted_answer.get("data"), accepted_answer
    accepted = accepted_answer["data"]["advanceCase"]
    today = (datetime.utcnow() + timedelta(hours=8)).date()
    assert accepted["status"] == "IN_REVIEW"
    assert accepted["dueDate"] == add_working_days(today, item["promised_limit_days"]).isoformat()

    # Only the owning department reviews, and a supplement request says what.
    outsider = advance(gateway, window, case_id, "REQUEST_SUPPLEMENT", opinion="请补充")
    assert code(outsider) == "FORBIDDEN"
    office = staff(gateway, item["department_code"])
    silent = advance(gateway, office, case_id, "REQUEST_SUPPLEMENT")
    assert code(silent) == "BAD_USER_INPUT"
    asked = advance(
        gateway, office, case_id, "REQUEST_SUPPLEMENT", opinion="清算报告须全体股东签字"
    )
    assert asked["data"]["advanceCase"]["status"] == "SUPPLEMENT_REQUESTED"
    assert code(advance(gateway, office, case_id, "APPROVE")) == "CONFLICT"  # not in review

    # The applicant hands it in (only the applicant).
    fresh = [{"name": item["required"][-1], "fileId": upload_pdf(gateway, applicant)}]
    stranger = citizen(gateway)
    assert (
        code(gateway.graphql(SUPPLY, {"id": case_id, "m": fresh}, token=stranger).json())
        == "NOT_FOUND"
    )
    supplied = gateway.data(SUPPLY, {"id": case_id, "m": fresh}, token=applicant)[
        "supplyCaseMaterials"
    ]
    assert supplied["status"] == "IN_REVIEW"
    assert fresh[0]["fileId"] in {m["fileId"] for m in supplied["materials"]}

    # Two reviewers approve at once: one wins, the other is told the case moved.
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda t: advance(gateway, t, case_id, "APPROVE"),
                (office, staff(gateway, item["department_code"])),
            )
        )
    assert sorted("data" in a and a["data"] is not None for a in answers) == [False, True]
    assert code(next(a for a in answers if a.get("errors"))) == "CONFLICT"

    advance(gateway, office, case_id, "ISSUE_RESULT")
    untracked = advance(gateway, window, case_id, "DELIVER")
    assert untracked["errors"][0]["extensions"]["fieldErrors"][0]["field"] == "trackingNumber"
    delivered = advance(gateway, window, case_id, "DELIVER", tracking="SF1234567890123")["data"][
        "advanceCase"
    ]
    assert delivered["status"] == "DELIVERED" and delivered["trackingNumber"] == "SF1234567890123"
    closed = advance(gateway, window, case_id, "CLOSE")["data"]["advanceCase"]
    assert closed["status"] == "CLOSED"
    assert [s["action"] for s in closed["steps"]] == [
        "submit",
        "accept",
        "request_supplement",
        "supply",
        "approve",
        "issue_result",
        "deliver",
        "close",
    ]
    assert closed["steps"][2]["opinion"] == "清算报告须全体股东签字"
    assert closed["steps"][2]["actorDepartment"] == item["department_code"]
    inbox = gateway.data(INBOX, {"s": "CLOSED"}, token=office)["departmentCases"]["edges"]
    assert case_id in {e["node"]["id"] for e in inbox}
    # The applicant cannot move their own case.
    assert code(advance(gateway, applicant, case_id, "CLOSE")) == "FORBIDDEN"


def test_a_special_procedure_pauses_the_promise(
    gateway: GatewayProcess, item: dict[str, Any], later: Any
) -> None:
    applicant = citizen(gateway)
    case_id = gateway.data(
        SUBMIT, {"input": application(gateway, applicant, item)}, token=applicant
    )["submitCase"]["id"]
    office = staff(gateway, item["department_code"])
    due = date.fromisoformat(
        advance(gateway, office, case_id, "ACCEPT")["data"]["advanceCase"]["dueDate"]
    )
    paused = advance(gateway, office, case_id, "START_SPECIAL_PROCEDURE", opinion="现场核查")
    assert paused["data"]["advanceCase"]["status"] == "SPECIAL_PROCEDURE"
    # A week later (a gateway whose clock is a week on) the procedure ends.
    today = (datetime.utcnow() + timedelta(hours=8)).date()
    week_on = later(datetime.now().astimezone() + timedelta(days=7))
    resumed = advance(week_on, office, case_id, "END_SPECIAL_PROCEDURE")["data"]["advanceCase"]
    assert resumed["status"] == "IN_REVIEW"
    shift = working_days_between(today, today + timedelta(days=7))
    assert resumed["dueDate"] == add_working_days(due, shift).isoformat()
    assert date.fromisoformat(resumed["dueDate"]) > due


def test_the_applicant_hears_the_case_move(gateway: GatewayProcess, item: dict[str, Any]) -> None:
    applicant = citizen(gateway)
    body = application(gateway, applicant, item)
    case_id = gateway.data(SUBMIT, {"input": body}, token=applicant)["submitCase"]["id"]
    query = "subscription { caseUpdated { id status } }"
    with socket(gateway, query, {}, applicant) as updates:
        time.sleep(0.5)  # registered
        advance(gateway, staff(gateway, "11440303MB2C912345"), case_id, "ACCEPT")
        heard = next_result(updates)["data"]["caseUpdated"]
    assert heard == {"id": case_id, "status": "IN_REVIEW"}


LIGHT = "query($id: ID!) { case(id: $id) { light dueDate } }"
SUPERVISION = """query($d: String) { caseSupervision(departmentCode: $d) {
  departmentCode open white yellow red } }"""


def test_the_light_turns_yellow_then_red_as_the_clock_passes_the_promise(
    gateway: GatewayProcess, item: dict[str, Any], later: Any
) -> None:
    applicant = citizen(gateway)
    body = application(gateway, applicant, item)
    case_id = gateway.data(SUBMIT, {"input": body}, token=applicant)["submitCase"]["id"]
    assert gateway.data(LIGHT, {"id": case_id}, token=applicant)["case"]["light"] is None
    office = staff(gateway, item["department_code"])
    due = date.fromisoformat(
        advance(gateway, office, case_id, "ACCEPT")["data"]["advanceCase"]["dueDate"]
    )
    assert gateway.data(LIGHT, {"id": case_id}, token=applicant)["case"]["light"] == "WHITE"

    def at(day: date) -> GatewayProcess:
        """A gateway whose clock says noon of ``day`` in China."""
        return later(datetime(day.year, day.month, day.day, 12, tzinfo=CST))

    on_due_day = at(due)  # no working day left: within 20% of the limit
    assert on_due_day.data(LIGHT, {"id": case_id}, token=applicant)["case"]["light"] == "YELLOW"
    past_day = due + timedelta(days=3)
    past = at(past_day)
    assert past.data(LIGHT, {"id": case_id}, token=applicant)["case"]["light"] == "RED"
    counts = past.data(SUPERVISION, {"d": None}, token=office)["caseSupervision"]
    assert counts["departmentCode"] == item["department_code"]
    assert counts["red"] >= 1 and counts["open"] >= counts["red"]
    # 督办: each process's sweep at start raises the reminder; a second process with a red
    # clock the same day finds it claimed — the applicant is told once.
    also_past = later(datetime(past_day.year, past_day.month, past_day.day, 15, tzinfo=CST))
    assert also_past.data(LIGHT, {"id": case_id}, token=applicant)["case"]["light"] == "RED"
    reminded = wait_for(lambda: overdue_notes(past, applicant), what="an overdue reminder")
    assert reminded[0]["ref"] == case_id and item["name"] in reminded[0]["text"]
    time.sleep(1)  # give a duplicate, if any, the time to arrive
    assert len(overdue_notes(past, applicant)) == 1
    # Another department's staff see only their own.
    other = staff(gateway, "11440303MB2C912345")
    refused = past.graphql(SUPERVISION, {"d": item["department_code"]}, token=other).json()
    assert code(refused) == "FORBIDDEN"
    # Approved is still open (the result not issued); issued is green, whatever the date.
    advance(gateway, office, case_id, "APPROVE")
    assert past.data(LIGHT, {"id": case_id}, token=applicant)["case"]["light"] == "RED"
    advance(gateway, office, case_id, "ISSUE_RESULT")
    assert past.data(LIGHT, {"id": case_id}, token=applicant)["case"]["light"] == "GREEN"


def overdue_notes(gateway: GatewayProcess, token: str) -> list[dict[str, Any]]:
    notes = gateway.data(NOTES, {"u": False}, token=token)["myNotifications"]["edges"]
    return [n["node"] for n in notes if "督办" in n["node"]["text"]]


def wait_for(probe: Any, what: str, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {seconds} s")


RATE = """mutation($c: ID!, $s: Int!, $t: [RatingTag!], $m: String) {
  rateCase(caseId: $c, score: $s, tags: $t, comment: $m) {
    id score tags followUp { status deadline callback } } }"""
ANSWER = """mutation($r: ID!, $c: String!, $f: String!) {
  answerBadRating(ratingId: $r, callback: $c, rectification: $f) { followUp { status callback rectification } } }"""
MY_RATINGS = "{ myRatings(first: 5) { totalCount edges { node { id score followUp { status deadline rectification } } } } }"
FOLLOW_UPS = "{ departmentFollowUps(first: 50) { edges { node { id score } } } }"
STATS = """query($f: Date!, $t: Date!) { ratingStatistics(from: $f, to: $t) {
  total average badShare byScore { score count } } }"""


def finished_case(gateway: GatewayProcess, applicant: str, item: dict[str, Any]) -> str:
    body = {**application(gateway, applicant, item), "delivery": "PICKUP", "address": None}
    case_id: str = gateway.data(SUBMIT, {"input": body}, token=applicant)["submitCase"]["id"]
    office = staff(gateway, item["department_code"])
    for action in ("ACCEPT", "APPROVE", "ISSUE_RESULT", "DELIVER"):
        assert advance(gateway, office, case_id, action).get("data"), action
    return case_id


def test_a_bad_rating_opens_a_follow_up_the_citizen_sees(
    gateway: GatewayProcess, item: dict[str, Any]
) -> None:
    applicant = citizen(gateway)
    open_case = gateway.data(
        SUBMIT, {"input": application(gateway, applicant, item)}, token=applicant
    )["submitCase"]["id"]
    early = gateway.graphql(RATE, {"c": open_case, "s": 5}, token=applicant).json()
    assert early["errors"][0]["extensions"]["reason"] == "not_finished"

    case_id = finished_case(gateway, applicant, item)
    assert (
        code(gateway.graphql(RATE, {"c": case_id, "s": 1}, token=citizen(gateway)).json())
        == "NOT_FOUND"
    )
    assert (
        code(gateway.graphql(RATE, {"c": case_id, "s": 6}, token=applicant).json())
        == "BAD_USER_INPUT"
    )
    rated = gateway.data(
        RATE, {"c": case_id, "s": 2, "t": ["MANY_VISITS", "SLOW"], "m": "跑了三次"}, token=applicant
    )["rateCase"]
    today = (datetime.utcnow() + timedelta(hours=8)).date()
    assert rated["followUp"] == {
        "status": "OPEN",
        "deadline": add_working_days(today, 5).isoformat(),
        "callback": None,
    }
    assert sorted(rated["tags"]) == ["MANY_VISITS", "SLOW"]
    again = gateway.graphql(RATE, {"c": case_id, "s": 5}, token=applicant).json()
    assert again["errors"][0]["extensions"]["reason"] == "already_rated"

    # The citizen sees the task; the department has it to answer.
    mine = gateway.data(MY_RATINGS, token=applicant)["myRatings"]["edges"][0]["node"]
    assert mine["followUp"]["status"] == "OPEN"
    office = staff(gateway, item["department_code"])
    todo = gateway.data(FOLLOW_UPS, token=office)["departmentFollowUps"]["edges"]
    assert rated["id"] in {e["node"]["id"] for e in todo}
    outsider = staff(gateway, "11440303MB2C912345")
    variables = {"r": rated["id"], "c": "电话回访申请人", "f": "材料清单一次告知"}
    assert code(gateway.graphql(ANSWER, variables, token=outsider).json()) == "FORBIDDEN"
    answered = gateway.data(ANSWER, variables, token=office)["answerBadRating"]["followUp"]
    assert answered == {
        "status": "DONE",
        "callback": "电话回访申请人",
        "rectification": "材料清单一次告知",
    }
    mine = gateway.data(MY_RATINGS, token=applicant)["myRatings"]["edges"][0]["node"]
    assert mine["followUp"]["rectification"] == "材料清单一次告知"

    stats = gateway.data(STATS, {"f": today.isoformat(), "t": today.isoformat()}, token=office)
    numbers = stats["ratingStatistics"]
    assert numbers["total"] >= 1 and 0 < numbers["badShare"] <= 1
    assert sum(row["count"] for row in numbers["byScore"]) == numbers["total"]


RULES = json.loads((SEEDS.parent / "cases" / "instant_rules.json").read_text())
INSTANT = """mutation($input: SubmitCaseInput!) { submitCase(input: $input) {
  id status dueDate steps { action status opinion }
  instantApproval { approved rules { rule passed reason } } } }"""


def instant_item(kind: str) -> dict[str, Any]:
    """A 秒批 item whose last rule is of ``kind`` (form_in: personal; license: enterprise)."""
    items = {i["code"]: i for i in json.loads((SEEDS / "items.json").read_text())}
    code_ = next(r["item_code"] for r in RULES if r["rules"][-1]["kind"] == kind)
    item = items[code_]
    return {
        **item,
        "required": [m["name"] for m in item["materials"] if m.get("necessity") in NEEDED],
    }


def test_an_instant_item_is_approved_inside_the_submit_request(gateway: GatewayProcess) -> None:
    item = instant_item("form_in")
    verified = gateway.token(f"citizen-{uuid.uuid4().hex[:8]}", identity_level=3)
    body = {**application(gateway, verified, item), "form": {"户籍所在区": "罗湖区"}}
    case = gateway.data(INSTANT, {"input": body}, token=verified)["submitCase"]
    assert case["status"] == "RESULT_ISSUED"
    assert case["instantApproval"]["approved"] is True
    assert all(r["passed"] for r in case["instantApproval"]["rules"])
    assert [s["action"] for s in case["steps"]] == ["submit", "accept", "approve", "issue_result"]
    assert case["steps"][2]["opinion"].startswith("秒批: ")
    # Not face-verified and living elsewhere: the normal flow, with the reasons shown.
    real_name = citizen(gateway)
    other = {**application(gateway, real_name, item), "form": {"户籍所在区": "福田区"}}
    waiting = gateway.data(INSTANT, {"input": other}, token=real_name)["submitCase"]
    assert waiting["status"] == "SUBMITTED" and waiting["instantApproval"]["approved"] is False
    failed = [r["reason"] for r in waiting["instantApproval"]["rules"] if not r["passed"]]
    assert len(failed) == 2 and any("福田区" in reason for reason in failed)


def test_an_enterprise_instant_item_needs_the_wallet(start_gateway: Any) -> None:
    """Without the wallet module loaded, the e-license rule fails and says why."""
    without: GatewayProcess = start_gateway({"ONESTOP_MODULES": "affairs,cases"})
    item = instant_item("license")
    applicant = citizen(without)
    body = {"input": application(without, applicant, item)}
    case = without.data(INSTANT, body, token=applicant)["submitCase"]
    assert case["status"] == "SUBMITTED"
    (failed,) = [r for r in case["instantApproval"]["rules"] if not r["passed"]]
    assert "wallet is not available" in failed["reason"]


def tolerant_item() -> dict[str, Any]:
    """An item open to 容缺受理 with a 容缺后补 material."""
    for candidate in json.loads((SEEDS / "items.json").read_text()):
        tolerated = [m["name"] for m in candidate["materials"] if m.get("necessity") == "tolerated"]
        if candidate["status"] == "active" and candidate.get("tolerates_missing") and tolerated:
            needed = [m["name"] for m in candidate["materials"] if m.get("necessity") in NEEDED]
            return {**candidate, "required": needed, "tolerated": tolerated}
    raise AssertionError("no item open to 容缺 in the seeds")


PROMISED = """mutation($input: SubmitCaseInput!) { submitCase(input: $input) {
  id status promise { supplyBy materials outstanding } } }"""
PROMISE = "query($id: ID!) { case(id: $id) { status promise { outstanding } } }"


def test_tolerance_a_material_may_follow_on_a_promise(gateway: GatewayProcess, later: Any) -> None:
    item = tolerant_item()
    applicant = citizen(gateway)
    body = application(gateway, applicant, item)
    left_out = item["tolerated"][0]
    body["materials"] = [m for m in body["materials"] if m["name"] != left_out]
    # Without a promise: sign one (the error says where).
    missing = gateway.graphql(PROMISED, {"input": body}, token=applicant).json()
    assert missing["errors"][0]["extensions"]["fieldErrors"][0]["field"] == "promise.supplyBy"
    today = (datetime.utcnow() + timedelta(hours=8)).date()
    limit = add_working_days(today, item["promised_limit_days"])
    too_late = {**body, "promise": {"supplyBy": (limit + timedelta(days=1)).isoformat()}}
    late = gateway.graphql(PROMISED, {"input": too_late}, token=applicant).json()
    assert late["errors"][0]["extensions"]["fieldErrors"][0]["code"] == "range"
    # A required (not 容缺后补) material cannot be promised.
    required_only = next(n for n in item["required"] if n not in item["tolerated"])
    no_required = {
        **application(gateway, applicant, item),
        "promise": {"supplyBy": limit.isoformat()},
    }
    no_required["materials"] = [m for m in no_required["materials"] if m["name"] != required_only]
    assert (
        code(gateway.graphql(PROMISED, {"input": no_required}, token=applicant).json())
        == "BAD_USER_INPUT"
    )

    promised = {**body, "promise": {"supplyBy": limit.isoformat()}}
    case = gateway.data(PROMISED, {"input": promised}, token=applicant)["submitCase"]
    assert case["promise"] == {
        "supplyBy": limit.isoformat(),
        "materials": [left_out],
        "outstanding": [left_out],
    }
    # The decision may come first; the material follows.
    office = staff(gateway, item["department_code"])
    advance(gateway, office, case["id"], "ACCEPT")
    advance(gateway, office, case["id"], "APPROVE")
    supplied = gateway.data(
        SUPPLY,
        {"id": case["id"], "m": [{"name": left_out, "fileId": upload_pdf(gateway, applicant)}]},
        token=applicant,
    )["supplyCaseMaterials"]
    assert supplied["status"] == "APPROVED"
    assert (
        gateway.data(PROMISE, {"id": case["id"]}, token=applicant)["case"]["promise"]["outstanding"]
        == []
    )

    # Another applicant lets the promise lapse: the case ends and 容缺 is barred.
    forgetful = citizen(gateway)
    lapsing = application(gateway, forgetful, item)
    lapsing["materials"] = [m for m in lapsing["materials"] if m["name"] != left_out]
    lapsing["promise"] = {"supplyBy": today.isoformat()}
    lapsed_id = gateway.data(PROMISED, {"input": lapsing}, token=forgetful)["submitCase"]["id"]
    next_week = later(
        datetime(today.year, today.month, today.day, 12, tzinfo=CST) + timedelta(days=7)
    )
    ended = next_week.data(PROMISE, {"id": lapsed_id}, token=forgetful)["case"]
    assert ended["status"] == "PROMISE_LAPSED"
    again = application(gateway, forgetful, item)
    again["materials"] = [m for m in again["materials"] if m["name"] != left_out]
    again["promise"] = {"supplyBy": limit.isoformat()}
    barred = gateway.graphql(PROMISED, {"input": again}, token=forgetful).json()
    assert (
        code(barred) == "FORBIDDEN" and barred["errors"][0]["extensions"]["reason"] == "credit_mark"
    )


BUNDLE = """mutation($input: SubmitBundleInput!) { submitBundle(input: $input) {
  id code status cases { id itemCode status awaiting materials { name fromCase } } } }"""
BUNDLE_STATUS = "query($id: ID!) { bundle(id: $id) { status cases { id status awaiting materials { name fromCase } } } }"


def test_a_bundle_makes_linked_cases_and_passes_a_result_on(gateway: GatewayProcess) -> None:
    bundles = json.loads((SEEDS.parent / "cases" / "bundles.json").read_text())
    newborn = next(b for b in bundles if b["code"] == "NEWBORN")
    items = {i["code"]: i for i in json.loads((SEEDS / "items.json").read_text())}
    first = items[newborn["item_codes"][0]]
    issued = {r["license_type"] for r in first["results"] if r.get("license_type")}
    fed_names = {
        m["name"]
        for code in newborn["item_codes"][1:]
        for m in items[code]["materials"]
        if m.get("license_type") in issued
    }
    needed = sorted(
        {
            m["name"]
            for code in newborn["item_codes"]
            for m in items[code]["materials"]
            if m.get("necessity") in NEEDED and m["name"] not in fed_names
        }
    )
    parent = citizen(gateway)
    body = {
        "bundleCode": "NEWBORN",
        "form": {"新生儿姓名": "王小明"},
        "delivery": "PICKUP",
        "materials": [{"name": n, "fileId": upload_pdf(gateway, parent)} for n in needed],
    }
    # One material short: refused, and no case of the bundle is left behind.
    short = {**body, "materials": body["materials"][1:]}
    assert code(gateway.graphql(BUNDLE, {"input": short}, token=parent).json()) == "BAD_USER_INPUT"
    assert gateway.data(MY, token=parent)["myCases"]["totalCount"] == 0

    bundle = gateway.data(BUNDLE, {"input": body}, token=parent)["submitBundle"]
    assert bundle["status"] == "IN_PROGRESS"
    assert [c["itemCode"] for c in bundle["cases"]] == newborn["item_codes"]
    waiting = [c for c in bundle["cases"] if c["awaiting"]]
    assert waiting and set(waiting[0]["awaiting"]) <= fed_names
    # The 出生医学证明 is issued: the later cases get it as their material.
    office = staff(gateway, first["department_code"])
    head = bundle["cases"][0]["id"]
    for action in ("ACCEPT", "APPROVE", "ISSUE_RESULT"):
        assert advance(gateway, office, head, action).get("data"), action
    after = gateway.data(BUNDLE_STATUS, {"id": bundle["id"]}, token=parent)["bundle"]
    for case in after["cases"][1:]:
        assert case["awaiting"] == []
    fed = [m for c in after["cases"] for m in c["materials"] if m["fromCase"]]
    assert fed and all(m["fromCase"] == head for m in fed)
    # A refused case stops the bundle.
    last = after["cases"][-1]["id"]
    window = staff(gateway, "11440303MB2C912345")
    advance(gateway, window, last, "REFUSE", opinion="不符合申领条件")
    assert (
        gateway.data(BUNDLE_STATUS, {"id": bundle["id"]}, token=parent)["bundle"]["status"]
        == "STOPPED"
    )
    # Not another citizen's to read.
    assert (
        code(gateway.graphql(BUNDLE_STATUS, {"id": bundle["id"]}, token=citizen(gateway)).json())
        == "NOT_FOUND"
    )


NOTES = """query($u: Boolean!) { myNotifications(unreadOnly: $u, first: 10) {
  totalCount edges { node { id kind text ref read } } } }"""
READ = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }"


def test_the_citizen_keeps_a_notification_list(
    gateway: GatewayProcess, item: dict[str, Any]
) -> None:
    applicant = citizen(gateway)
    case_id = gateway.data(
        SUBMIT, {"input": application(gateway, applicant, item)}, token=applicant
    )["submitCase"]["id"]
    advance(gateway, staff(gateway, "11440303MB2C912345"), case_id, "ACCEPT")
    deadline = time.monotonic() + 10  # written by a bus handler, just after the answer
    while (notes := gateway.data(NOTES, {"u": False}, token=applicant)["myNotifications"])[
        "totalCount"
    ] < 2:
        assert time.monotonic() < deadline, notes
        time.sleep(0.2)
    texts = [e["node"]["text"] for e in notes["edges"]]
    assert texts == ["办件已受理", "办件已提交，等待受理"]  # newest first
    assert {e["node"]["ref"] for e in notes["edges"]} == {case_id}
    newest = notes["edges"][0]["node"]["id"]
    assert (
        gateway.data(READ, {"ids": [newest]}, token=citizen(gateway))["markNotificationsRead"] == 0
    )
    assert gateway.data(READ, {"ids": [newest]}, token=applicant)["markNotificationsRead"] == 1
    unread = gateway.data(NOTES, {"u": True}, token=applicant)["myNotifications"]
    assert (
        unread["totalCount"] == 1 and unread["edges"][0]["node"]["text"] == "办件已提交，等待受理"
    )


ISSUE_LICENSE = (
    """mutation($input: IssueLicenseInput!) { issueLicense(input: $input) { id status } }"""
)
#: 区市场监督管理局, which issues business licences.
MARKET_REGULATION = "114403030075452221"


def test_the_wallet_decides_an_enterprise_instant_item(gateway: GatewayProcess) -> None:
    """秒批's e-license rule asks the wallet through wallet.licenses: a holder of a valid
    business licence (issued by the market regulator into their wallet) is approved in the
    submit request; others wait, with the reason."""
    item = instant_item("license")
    form = {"企业名称": "深圳市罗湖区示例贸易有限公司", "统一社会信用代码": "91440303MA5F00000X"}
    subject = f"licensed-{uuid.uuid4().hex[:8]}"
    holder = gateway.token(subject, identity_level=2)
    issuer = gateway.token("market-staff", ("staff",), department=MARKET_REGULATION)
    licence = {
        "typeCode": "BUSINESS_LICENSE",
        "holder": subject,
        "holderName": form["企业名称"],
        "holderIdNumber": form["统一社会信用代码"],
    }
    issued = gateway.data(ISSUE_LICENSE, {"input": licence}, token=issuer)["issueLicense"]
    assert issued["status"] == "VALID"
    body = {**application(gateway, holder, item), "form": form}
    case = gateway.data(INSTANT, {"input": body}, token=holder)["submitCase"]
    assert case["status"] == "RESULT_ISSUED", case["instantApproval"]
    other = citizen(gateway)
    body = {**application(gateway, other, item), "form": form}
    waiting = gateway.data(INSTANT, {"input": body}, token=other)["submitCase"]
    assert waiting["status"] == "SUBMITTED"
    (failed,) = [r for r in waiting["instantApproval"]["rules"] if not r["passed"]]
    assert "BUSINESS_LICENSE" in failed["reason"]


WALLET_AUDIT = """query($l: ID) { myLicenseAudit(licenseId: $l, first: 100) {
  edges { node { action actorOrganisation purpose } } } }"""
REVOKE_LICENSE = "mutation($id: ID!, $r: String) { revokeLicense(id: $id, reason: $r) { status } }"
LICENSED_MATERIALS = """query($id: ID!) { case(id: $id) { status materials { name fileId
  license { licenseId typeCode number holderName authentic status stamp } } } }"""


def license_item() -> dict[str, Any]:
    """A promised item two of whose required materials an e-license replaces (免证办)."""
    for candidate in json.loads((SEEDS / "items.json").read_text()):
        needed = [m for m in candidate["materials"] if m.get("necessity") in NEEDED]
        if (
            candidate["status"] == "active"
            and candidate["handling_type"] == "promised"
            and sum(1 for m in needed if m.get("license_type")) >= 2
            and any(not m.get("license_type") for m in needed)
        ):
            return {**candidate, "needed": needed}
    raise AssertionError("no item with two e-license materials in the seeds")


def test_an_e_license_stands_in_for_a_scan(gateway: GatewayProcess) -> None:
    """免证办: materials an e-license replaces are given as the applicant's licenses; the
    wallet vouches for each (a grant to the department, in the holder's audit list), and the
    department's staff see its verified, masked copy instead of a scan."""
    item = license_item()
    subject = f"licensed-{uuid.uuid4().hex[:8]}"
    holder = gateway.token(subject, identity_level=2)
    licences = {
        "BUSINESS_LICENSE": gateway.data(
            ISSUE_LICENSE,
            {
                "input": {
                    "typeCode": "BUSINESS_LICENSE",
                    "holder": subject,
                    "holderName": "深圳市罗湖区示例贸易有限公司",
                    "holderIdNumber": "91440303MA5F00000X",
                }
            },
            token=staff(gateway, MARKET_REGULATION),
        )["issueLicense"]["id"],
        "ID_CARD": issue_id_card(gateway, subject)["id"],
    }

    def given(m: dict[str, Any], token: str) -> dict[str, str]:
        if m.get("license_type"):
            return {"name": m["name"], "licenseId": licences[m["license_type"]]}
        return {"name": m["name"], "fileId": upload_pdf(gateway, token)}

    body = {
        **application(gateway, holder, {**item, "required": []}),
        "materials": [given(m, holder) for m in item["needed"]],
    }
    case = gateway.data(SUBMIT, {"input": body}, token=holder)["submitCase"]
    assert case["status"] == "SUBMITTED"
    office = staff(gateway, item["department_code"])
    seen = gateway.data(LICENSED_MATERIALS, {"id": case["id"]}, token=office)["case"]
    licensed = [m for m in seen["materials"] if m["license"]]
    assert {m["license"]["typeCode"] for m in licensed} == set(licences)
    for material in licensed:
        copy = material["license"]
        assert material["fileId"] == f"license:{copy['licenseId']}"
        assert copy["authentic"] is True and copy["status"] == "01"
        assert "*" in copy["number"] and "*" in copy["holderName"]  # masked for staff
        assert copy["stamp"].startswith(f"仅供办理{item['name']}使用，有效期至")
    # The holder sees the use in the wallet's audit list: the department, for this item.
    audit = gateway.data(WALLET_AUDIT, {"l": licences["ID_CARD"]}, token=holder)
    uses = [e["node"] for e in audit["myLicenseAudit"]["edges"]]
    assert any(
        u["actorOrganisation"] == item["department_code"] and u["purpose"] == item["name"]
        for u in uses
    ), uses
    # Somebody else's license, a license of the wrong type, both kinds or neither, a license
    # for a material no e-license replaces, a revoked license: each refused and named.
    stranger = citizen(gateway)
    first = next(n for n, m in enumerate(item["needed"]) if m.get("license_type"))
    plain = next(n for n, m in enumerate(item["needed"]) if not m.get("license_type"))
    wrong = [given(m, stranger) for m in item["needed"]]
    wrong[plain] = {"name": item["needed"][plain]["name"], "licenseId": licences["ID_CARD"]}
    refused = gateway.graphql(SUBMIT, {"input": {**body, "materials": wrong}}, token=stranger)
    assert code(refused.json()) == "BAD_USER_INPUT"
    reasons = {
        e["field"]: e["code"] for e in refused.json()["errors"][0]["extensions"]["fieldErrors"]
    }
    assert reasons[f"materials.{first}.licenseId"] == "license_not_found"
    assert reasons[f"materials.{plain}.licenseId"] == "no_license"
    mixed = [given(m, holder) for m in item["needed"]]
    other = next(t for t in licences if t != item["needed"][first]["license_type"])
    mixed[first] = {**mixed[first], "licenseId": licences[other]}
    mixed[plain] = {**mixed[plain], "licenseId": licences["ID_CARD"]}
    swapped = gateway.graphql(SUBMIT, {"input": {**body, "materials": mixed}}, token=holder)
    reasons = {
        e["field"]: e["code"] for e in swapped.json()["errors"][0]["extensions"]["fieldErrors"]
    }
    assert reasons[f"materials.{first}.licenseId"] == "license_type_mismatch"
    assert reasons[f"materials.{plain}"] == "one_of"
    revoked = item["needed"][first]["license_type"]
    gateway.data(
        REVOKE_LICENSE,
        {"id": licences[revoked], "r": "营业执照已注销"},
        token=staff(gateway, MARKET_REGULATION if revoked == "BUSINESS_LICENSE" else POLICE),
    )
    again = gateway.graphql(SUBMIT, {"input": body}, token=holder).json()
    reasons = {e["field"]: e["code"] for e in again["errors"][0]["extensions"]["fieldErrors"]}
    assert reasons == {f"materials.{first}.licenseId": "license_not_valid"}
    assert gateway.data(MY, token=stranger)["myCases"]["totalCount"] == 0
