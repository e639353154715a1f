"""Two citizens and every field of the cases module: B never sees or touches A's booking,
ticket, case, bundle, rating or notifications; staff-only fields refuse citizens.

Every query, mutation and subscription of the module has a row in ``CHECKS``, and a test
fails when one is added without a row — so a new field is never left unchecked."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from cases_client import BOOK, DATES, SEEDS, citizen, code, slots, socket, upload_pdf
from harness import GatewayProcess
from strawberry.utils.str_converters import to_camel_case

from modules.cases.schema import CasesMutation, CasesQuery, CasesSubscription

LOCATION = "STREET-DH"
SUBMIT = "mutation($input: SubmitCaseInput!) { submitCase(input: $input) { id } }"
BUNDLE = "mutation($input: SubmitBundleInput!) { submitBundle(input: $input) { id } }"
ADVANCE = """mutation($id: ID!, $a: CaseAction!, $t: String) {
  advanceCase(id: $id, action: $a, trackingNumber: $t) { status } }"""
RATE = 'mutation($c: ID!) { rateCase(caseId: $c, score: 1, comment: "慢") { id } }'
CHECK_IN = "mutation($id: ID!) { checkInAppointment(id: $id) { id } }"
NOTES = "{ myNotifications(first: 50) { edges { node { id ref } } } }"


def _fields(kind: type) -> set[str]:
    """The GraphQL names of a root type's fields."""
    fields = kind.__strawberry_definition__.fields  # type: ignore[attr-defined]
    return {f.graphql_name or to_camel_case(f.python_name) for f in fields}


@pytest.fixture(scope="module")
def owned(gateway: GatewayProcess, place: dict[str, Any], later: Any) -> dict[str, Any]:
    """Citizen A's things: a booking, a ticket from another booking, a finished and badly
    rated case, a bundle, notifications; and citizen B's token."""
    a, b = citizen(gateway), citizen(gateway)
    item = next(
        place["by_code"][c]
        for c in place["items"]
        if place["by_code"][c]["handling_type"] == "promised"
    )
    code_ = item["code"]
    days = gateway.data(DATES, {"i": code_, "l": LOCATION})["appointmentDates"]
    bookings = []
    # One booking a day per item; days whose queue no other test calls (test_queues: the
    # first two, test_journey: the third).
    for day in days[3:5]:
        free = slots(gateway, code_, LOCATION, day)
        start = next(s for s in free if s["available"] and s["start"] >= "10:00")["start"]
        answer = gateway.graphql(BOOK, {"i": code_, "l": LOCATION, "d": day, "s": start}, token=a)
        bookings.append(answer.json()["data"]["bookAppointment"])
    checked = bookings[1]
    hall = later(
        datetime.fromisoformat(checked["cancellableUntil"]) + timedelta(hours=2, minutes=-20)
    )
    ticket = hall.data(CHECK_IN, {"id": checked["id"]}, token=a)["checkInAppointment"]
    needed = [
        m["name"] for m in item["materials"] if m.get("necessity") in ("required", "tolerated")
    ]
    application = {
        "itemCode": code_,
        "form": {"申请人姓名": "甲"},
        "materials": [{"name": n, "fileId": upload_pdf(gateway, a)} for n in needed],
        "delivery": "MAIL",
        "address": "深圳市罗湖区桂园街道1号",
    }
    case_id = gateway.data(SUBMIT, {"input": application}, token=a)["submitCase"]["id"]
    office = gateway.token(
        f"o-{uuid.uuid4().hex[:6]}", ("staff",), department=item["department_code"]
    )
    for action in ("ACCEPT", "APPROVE", "ISSUE_RESULT", "DELIVER"):
        gateway.data(ADVANCE, {"id": case_id, "a": action, "t": "SF1"}, token=office)
    rating = gateway.data(RATE, {"c": case_id}, token=a)["rateCase"]["id"]
    bundles = json.loads((SEEDS.parent / "cases" / "bundles.json").read_text())
    items = {i["code"]: i for i in json.loads((SEEDS / "items.json").read_text())}
    newborn = next(x for x in bundles if x["code"] == "NEWBORN")
    issued = {r["license_type"] for r in items[newborn["item_codes"][0]]["results"]}
    names = sorted(  # every material but those the first case issues (fed to the later ones)
        {
            m["name"]
            for c in newborn["item_codes"]
            for m in items[c]["materials"]
            if m.get("necessity") in ("required", "tolerated")
            and (c == newborn["item_codes"][0] or m.get("license_type") not in issued)
        }
    )
    bundle_input = {
        "bundleCode": "NEWBORN",
        "form": {"新生儿姓名": "甲小宝"},
        "delivery": "PICKUP",
        "materials": [{"name": n, "fileId": upload_pdf(gateway, a)} for n in names],
    }
    bundle = gateway.data(BUNDLE, {"input": bundle_input}, token=a)["submitBundle"]
    deadline = time.monotonic() + 10
    while not gateway.data(NOTES, token=a)["myNotifications"]["edges"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return {
        "a": a,
        "b": b,
        "item": item,
        "booking": bookings[0],
        "ticket": ticket,
        "hall": hall,
        "case": case_id,
        "rating": rating,
        "bundle": bundle["id"],
        "notes": [
            e["node"]["id"] for e in gateway.data(NOTES, token=a)["myNotifications"]["edges"]
        ],
        "a_upload": upload_pdf(gateway, a),
        "application": application,
    }


def refused(gateway: GatewayProcess, token: str, query: str, variables: dict[str, Any]) -> str:
    return code(gateway.graphql(query, variables, token=token).json())


def never_lists(gateway: GatewayProcess, token: str, query: str, ids: set[str]) -> bool:
    """B's answer to one of the 'my…' queries contains none of A's ids."""
    text = json.dumps(gateway.data(query, token=token))
    return not any(i and i in text for i in ids)


# field → check(gateway, A's things) -> bool; a check returns True when B is kept out.
def _public(_: GatewayProcess, __: dict[str, Any]) -> bool:
    return True  # no personal data: dates, slots, hall counts, bundle types


def _staff_only(query: str, variables: dict[str, Any] | None = None) -> Any:
    def check(g: GatewayProcess, o: dict[str, Any]) -> bool:
        return refused(g, o["b"], query, variables or {}) == "FORBIDDEN"

    return check


def _mine(query: str) -> Any:
    def check(g: GatewayProcess, o: dict[str, Any]) -> bool:
        ids = {o["booking"]["id"], o["ticket"]["id"], o["case"], o["rating"], *o["notes"]}
        return never_lists(g, o["b"], query, ids) and never_lists(o["hall"], o["b"], query, ids)

    return check


def _not_found(query: str, key: str, name: str = "id") -> Any:
    def check(g: GatewayProcess, o: dict[str, Any]) -> bool:
        return refused(g, o["b"], query, {name: o[key]}) in {"NOT_FOUND", "FORBIDDEN"}

    return check


def _creates_own(g: GatewayProcess, o: dict[str, Any]) -> bool:
    """Creating mutations act for the caller only: no argument names another person, and the
    one that could carry another's data — an upload as a material — is refused."""
    first = o["application"]["materials"][0]["name"]
    borrowed = {**o["application"], "materials": [{"name": first, "fileId": o["a_upload"]}]}
    answer = g.graphql(SUBMIT, {"input": borrowed}, token=o["b"]).json()
    codes = {e["code"] for e in answer["errors"][0]["extensions"].get("fieldErrors", [])}
    return code(answer) == "BAD_USER_INPUT" and "not_yours" in codes


def _bundle(g: GatewayProcess, o: dict[str, Any]) -> bool:
    query = "query($id: ID!) { bundle(id: $id) { id } }"
    return refused(g, o["b"], query, {"id": o["bundle"]}) in {"NOT_FOUND", "FORBIDDEN"}


def _mark_read(g: GatewayProcess, o: dict[str, Any]) -> bool:
    query = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }"
    return bool(g.data(query, {"ids": o["notes"]}, token=o["b"])["markNotificationsRead"] == 0)


def _ticket_hidden(g: GatewayProcess, o: dict[str, Any]) -> bool:
    """B's ticket subscription hears nothing when A's ticket is called."""
    staff = g.token("w", ("staff",), department=o["item"]["department_code"])
    call = """mutation($l: String!, $w: String!) {
      callNextTicket(locationCode: $l, window: $w) { id } }"""
    with socket(o["hall"], "subscription { myTicketCalled { number } }", {}, o["b"]) as heard:
        time.sleep(0.5)
        for _ in range(30):
            called = o["hall"].data(call, {"l": LOCATION, "w": "9"}, token=staff)
            if called["callNextTicket"]["id"] == o["ticket"]["id"]:
                break
        try:
            heard.recv(timeout=1.5)
        except TimeoutError:
            return True
    return False


def _case_updates_hidden(g: GatewayProcess, o: dict[str, Any]) -> bool:
    """B's caseUpdated hears nothing when A submits another case."""
    fresh = [
        {"name": m["name"], "fileId": upload_pdf(g, o["a"])} for m in o["application"]["materials"]
    ]
    with socket(g, "subscription { caseUpdated { id } }", {}, o["b"]) as heard:
        time.sleep(0.5)
        g.data(SUBMIT, {"input": {**o["application"], "materials": fresh}}, token=o["a"])
        try:
            heard.recv(timeout=1.5)
        except TimeoutError:
            return True
    return False


STATS = 'query { caseStatistics(from: "2026-11-01", to: "2026-11-30") { submitted } }'
CHECKS: dict[str, Any] = {
    # queries
    "appointmentDates": _public,
    "appointmentSlots": _public,
    "hallQueue": _public,
    "lifeEventBundles": _public,
    "myAppointments": _mine("{ myAppointments(first: 50) { edges { node { id } } } }"),
    "myQueueTickets": _mine("{ myQueueTickets { id } }"),
    "myCases": _mine("{ myCases(first: 50) { edges { node { id } } } }"),
    "myRatings": _mine("{ myRatings(first: 50) { edges { node { id } } } }"),
    "myNotifications": _mine(NOTES),
    "case": _not_found("query($id: ID!) { case(id: $id) { id } }", "case"),
    "bundle": _bundle,
    "departmentCases": _staff_only("{ departmentCases(first: 5) { totalCount } }"),
    "caseSupervision": _staff_only("{ caseSupervision { open } }"),
    "departmentFollowUps": _staff_only("{ departmentFollowUps(first: 5) { totalCount } }"),
    "ratingStatistics": _staff_only(
        'query { ratingStatistics(from: "2026-11-01", to: "2026-11-30") { total } }'
    ),
    "caseStatistics": _staff_only(STATS),
    "caseStatisticsByDepartment": _staff_only(
        'query { caseStatisticsByDepartment(from: "2026-11-01", to: "2026-11-30") { submitted } }'
    ),
    # mutations
    "bookAppointment": _creates_own,
    "takeQueueTicket": _creates_own,
    "submitCase": _creates_own,
    "submitBundle": _creates_own,
    "cancelAppointment": _not_found(
        "mutation($id: ID!) { cancelAppointment(id: $id) { status } }", "booking_id"
    ),
    "recordAppointmentNoShow": _staff_only(
        'mutation { recordAppointmentNoShow(id: "x") { status } }'
    ),
    "checkInAppointment": _not_found(CHECK_IN, "booking_id"),
    "issueGreenChannelTicket": _staff_only(
        f'mutation {{ issueGreenChannelTicket(itemCode: "x", locationCode: "{LOCATION}") {{ id }} }}'
    ),
    "callNextTicket": _staff_only(
        f'mutation {{ callNextTicket(locationCode: "{LOCATION}", window: "1") {{ id }} }}'
    ),
    "finishTicket": _staff_only('mutation { finishTicket(id: "x") { status } }'),
    "advanceCase": _not_found(
        "mutation($id: ID!) { advanceCase(id: $id, action: ACCEPT) { status } }", "case"
    ),
    "supplyCaseMaterials": _not_found(
        """mutation($id: ID!) {
          supplyCaseMaterials(id: $id, materials: [{name: "x", fileId: "y"}]) { status } }""",
        "case",
    ),
    "rateCase": _not_found("mutation($id: ID!) { rateCase(caseId: $id, score: 5) { id } }", "case"),
    "answerBadRating": _staff_only(
        'mutation { answerBadRating(ratingId: "x", callback: "x", rectification: "x") { id } }'
    ),
    "markNotificationsRead": _mark_read,
    # subscriptions
    "caseUpdated": _case_updates_hidden,
    "myTicketCalled": _ticket_hidden,
    "hallQueueChanged": _public,
}


def test_every_field_of_the_module_has_a_check() -> None:
    names = _fields(CasesQuery) | _fields(CasesMutation) | _fields(CasesSubscription)
    assert set(CHECKS) == names


@pytest.mark.parametrize("field", sorted(CHECKS))
def test_citizen_b_is_kept_out(field: str, gateway: GatewayProcess, owned: dict[str, Any]) -> None:
    things = {**owned, "booking_id": owned["booking"]["id"]}
    assert CHECKS[field](gateway, things), field
