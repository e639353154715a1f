"""The issue's citizen journey in one go, over HTTP and a WebSocket, as the app would drive it:
search → book → check in → called (subscription) → apply with one material left out under a
容缺 promise → accepted at a window → a supplement asked → supplied → approved → the result
issued and mailed → rated 2 → the follow-up task seen by the citizen.

The other "Done when" checks have their own tests: 秒批 inside the submit request
(test_cases: test_an_instant_item_is_approved_inside_the_submit_request), a bundle's linked
cases passing a result on (test_cases: bundles), the light turning red with the configured
clock (test_cases: test_the_light_turns_yellow_then_red…), exactly 10 of 200 concurrent
bookings (test_appointments)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

from cases_client import BOOK, DATES, citizen, next_result, slots, socket, upload_pdf
from harness import GatewayProcess

from gateway.kit.calendar import add_working_days, today_cst

SEARCH = """query($q: String!) { affairItems(search: $q, first: 10) {
  edges { node { code name promisedLimitDays } } } }"""
CHECK_IN = "mutation($id: ID!) { checkInAppointment(id: $id) { id number status position } }"
CALL = """mutation($l: String!, $w: String!) { callNextTicket(locationCode: $l, window: $w) {
  id number window } }"""
SUBMIT = """mutation($input: SubmitCaseInput!) { submitCase(input: $input) {
  id status promise { supplyBy materials outstanding } } }"""
ADVANCE = """mutation($id: ID!, $a: CaseAction!, $o: String, $t: String) {
  advanceCase(id: $id, action: $a, opinion: $o, trackingNumber: $t) { status } }"""
SUPPLY = """mutation($id: ID!, $m: [CaseMaterialInput!]!) {
  supplyCaseMaterials(id: $id, materials: $m) { status promise { outstanding } } }"""
MY_CASE = """query($id: ID!) { case(id: $id) { status deliveryMethod trackingNumber dueDate light
  steps { action status actorDepartment opinion } } }"""
RATE = """mutation($c: ID!, $s: Int!, $t: [RatingTag!], $m: String) {
  rateCase(caseId: $c, score: $s, tags: $t, comment: $m) { id score followUp { status deadline } } }"""
MY_RATINGS = """{ myRatings(first: 5) { edges { node { id score
  followUp { status deadline } } } } }"""
TEACHER = "教师资格认定（幼儿园）"  # promised in 3 working days; 容缺; mailed results
LOCATION = "STREET-DH"


def test_a_citizen_from_search_to_a_rated_result(
    gateway: GatewayProcess, place: dict[str, Any], later: Any
) -> None:
    applicant = citizen(gateway)
    # 1. Search, as the app's search box does.
    found = gateway.data(SEARCH, {"q": "幼儿园教师资格认定"}, token=applicant)["affairItems"]
    item_code = next(e["node"]["code"] for e in found["edges"] if e["node"]["name"] == TEACHER)
    item = place["by_code"][item_code]
    # 2. Book a free slot from 10:00 at the street hall (its check-in opens when the hall does),
    # on a day whose queue no other test calls (test_queues: the first two; the hall's queue
    # is one per place and day).
    day = gateway.data(DATES, {"i": item_code, "l": LOCATION})["appointmentDates"][2]
    slot = next(
        s
        for s in slots(gateway, item_code, LOCATION, day)
        if s["available"] > 0 and s["start"] >= "10:00"
    )
    booked = gateway.graphql(
        BOOK, {"i": item_code, "l": LOCATION, "d": day, "s": slot["start"]}, token=applicant
    ).json()["data"]["bookAppointment"]
    begins = datetime.fromisoformat(booked["cancellableUntil"]) + timedelta(hours=2)
    # 3. That morning in the hall (a process whose clock is there): check in, wait, be called.
    hall = later(begins - timedelta(minutes=20))
    window_staff = gateway.token("journey-window", ("staff",), department=item["department_code"])
    called_sub = "subscription { myTicketCalled { number window status } }"
    with socket(hall, called_sub, {}, applicant) as called:
        time.sleep(0.5)  # the subscription registered
        ticket = hall.data(CHECK_IN, {"id": booked["id"]}, token=applicant)["checkInAppointment"]
        assert ticket["status"] == "WAITING"
        for _ in range(30):  # tickets of other citizens that morning may be ahead
            answer = hall.data(CALL, {"l": LOCATION, "w": "7"}, token=window_staff)
            if answer["callNextTicket"]["id"] == ticket["id"]:
                break
        heard = next_result(called)["data"]["myTicketCalled"]
        assert heard == {"number": ticket["number"], "window": "7", "status": "CALLED"}

    # 4. Apply, leaving out the 容缺后补 material on a promise.
    tolerated = next(m["name"] for m in item["materials"] if m.get("necessity") == "tolerated")
    handed = [
        m["name"]
        for m in item["materials"]
        if m.get("necessity") == "required" and m["name"] != tolerated
    ]
    supply_by = add_working_days(today_cst(), item["promised_limit_days"])
    application = {
        "itemCode": item_code,
        "form": {"申请人姓名": "林小雨", "任教学段": "幼儿园"},
        "materials": [{"name": n, "fileId": upload_pdf(gateway, applicant)} for n in handed],
        "delivery": "MAIL",
        "address": "深圳市罗湖区东门街道解放路1001号",
        "promise": {"supplyBy": supply_by.isoformat()},
    }
    case = gateway.data(SUBMIT, {"input": application}, token=applicant)["submitCase"]
    assert case["status"] == "SUBMITTED"
    assert case["promise"]["outstanding"] == [tolerated]
    case_id = case["id"]

    # 5. Any window accepts; the owning department asks for a supplement.
    def move(token: str, action: str, **extra: str) -> str:
        variables = {"id": case_id, "a": action, "o": extra.get("o"), "t": extra.get("t")}
        status: str = gateway.data(ADVANCE, variables, token=token)["advanceCase"]["status"]
        return status

    any_window = gateway.token("journey-intake", ("staff",), department="11440303MB2C912345")
    office = gateway.token("journey-office", ("staff",), department=item["department_code"])
    assert move(any_window, "ACCEPT") == "IN_REVIEW"
    assert move(office, "REQUEST_SUPPLEMENT", o="请补交教师资格考试合格证明") == (
        "SUPPLEMENT_REQUESTED"
    )
    # 6. The citizen supplies it (which also keeps the promise).
    supplied = gateway.data(
        SUPPLY,
        {"id": case_id, "m": [{"name": tolerated, "fileId": upload_pdf(gateway, applicant)}]},
        token=applicant,
    )["supplyCaseMaterials"]
    assert supplied == {"status": "IN_REVIEW", "promise": {"outstanding": []}}
    # 7. Approved, the result issued and mailed with its tracking number.
    assert move(office, "APPROVE") == "APPROVED"
    assert move(office, "ISSUE_RESULT") == "RESULT_ISSUED"
    assert move(any_window, "DELIVER", t="SF1400012345678") == "DELIVERED"
    mine = gateway.data(MY_CASE, {"id": case_id}, token=applicant)["case"]
    assert (mine["deliveryMethod"], mine["trackingNumber"]) == ("MAIL", "SF1400012345678")
    assert mine["light"] == "GREEN"
    assert [s["action"] for s in mine["steps"]] == [
        "submit",
        "accept",
        "request_supplement",
        "supply",
        "approve",
        "issue_result",
        "deliver",
    ]
    # 8. Rated 2: a follow-up task for the department, seen by the citizen with its deadline.
    rated = gateway.data(
        RATE, {"c": case_id, "s": 2, "t": ["SLOW"], "m": "补正来回两次"}, token=applicant
    )["rateCase"]
    assert rated["followUp"]["status"] == "OPEN"
    deadline = date.fromisoformat(rated["followUp"]["deadline"])
    assert deadline > today_cst()
    seen = gateway.data(MY_RATINGS, token=applicant)["myRatings"]["edges"][0]["node"]
    assert seen == {"id": rated["id"], "score": 2, "followUp": rated["followUp"]}
