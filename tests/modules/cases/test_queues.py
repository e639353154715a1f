"""排队叫号 over HTTP and a WebSocket: a booking checked in becomes a ticket, walk-ins and the
green channel queue too, staff call tickets to windows in order (two windows at once never
get the same ticket), the citizen hears their number called and the hall screen hears the
queue move — on a gateway process whose clock is moved into the booking's morning."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from cases_client import DATES, book, citizen, code, next_result, slots, socket
from harness import GatewayProcess

CHECK_IN = "mutation($id: ID!) { checkInAppointment(id: $id) { id number kind status position estimatedWaitMinutes } }"
WALK_IN = """mutation($i: String!, $l: String!) { takeQueueTicket(itemCode: $i, locationCode: $l) {
  id number kind position estimatedWaitMinutes } }"""
GREEN = """mutation($i: String!, $l: String!) {
  issueGreenChannelTicket(itemCode: $i, locationCode: $l) { id number kind } }"""
CALL = """mutation($l: String!, $w: String!) { callNextTicket(locationCode: $l, window: $w) {
  id number kind status window } }"""
FINISH = "mutation($id: ID!) { finishTicket(id: $id) { status } }"
MINE = "{ myQueueTickets { number status position } }"
HALL = "query($l: String!) { hallQueue(locationCode: $l) { waiting recentlyCalled { number window } } }"


def test_a_booked_citizen_checks_in_and_is_called(
    gateway: GatewayProcess, place: dict[str, Any], later: Any
) -> None:
    location, item = place["location"], place["items"][6]
    day = gateway.data(DATES, {"i": item, "l": location})["appointmentDates"][0]
    ten = next(s for s in slots(gateway, item, location, day) if s["start"] == "10:00")
    token = citizen(gateway)
    booking = book(gateway, token, item, location, day, ten["start"])["data"]["bookAppointment"]
    begins = datetime.fromisoformat(booking["cancellableUntil"]) + timedelta(hours=2)
    hall = later(begins - timedelta(minutes=30))  # 9:30 that morning, the hall open
    staff = gateway.token(
        "window-staff", ("staff",), department=place["by_code"][item]["department_code"]
    )

    mine_called = "subscription { myTicketCalled { number window status } }"
    hall_moved = "subscription($l: String!) { hallQueueChanged(locationCode: $l) { waiting } }"
    with (
        socket(hall, mine_called, {}, token) as called,
        socket(hall, hall_moved, {"l": location}) as screen,
    ):
        time.sleep(0.5)  # both subscriptions registered
        ticket = hall.data(CHECK_IN, {"id": booking["id"]}, token=token)["checkInAppointment"]
        assert ticket["kind"] == "BOOKED" and ticket["number"].startswith("B")
        assert ticket["status"] == "WAITING" and ticket["position"] == 1
        assert ticket["estimatedWaitMinutes"] == 0
        assert next_result(screen)["data"]["hallQueueChanged"]["waiting"] == 1
        # Checked in: the booking is used (a second check-in is refused).
        again = hall.graphql(CHECK_IN, {"id": booking["id"]}, token=token).json()
        assert code(again) == "CONFLICT"

        walker = citizen(gateway)
        walk_in = hall.data(WALK_IN, {"i": item, "l": location}, token=walker)["takeQueueTicket"]
        assert walk_in["kind"] == "WALK_IN" and walk_in["position"] == 2
        assert walk_in["estimatedWaitMinutes"] == 2  # one ahead, 12 minutes, 10 windows
        twice = hall.graphql(WALK_IN, {"i": item, "l": location}, token=walker).json()
        assert twice["errors"][0]["extensions"]["reason"] == "already_waiting"
        green = hall.data(GREEN, {"i": item, "l": location}, token=staff)["issueGreenChannelTicket"]
        assert green["kind"] == "GREEN_CHANNEL"
        # The green channel goes first: the booked citizen is now second.
        assert hall.data(MINE, token=token)["myQueueTickets"][0]["position"] == 2
        # A citizen cannot call tickets.
        assert (
            code(hall.graphql(CALL, {"l": location, "w": "1"}, token=walker).json()) == "FORBIDDEN"
        )

        # Two windows call at once: two different tickets, green then booked.
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(
                    lambda w: hall.data(CALL, {"l": location, "w": w}, token=staff)[
                        "callNextTicket"
                    ],
                    ("11", "12"),
                )
            )
        assert sorted(a["number"] for a in answers) == sorted([green["number"], ticket["number"]])
        mine = next(a for a in answers if a["number"] == ticket["number"])
        heard = next_result(called)["data"]["myTicketCalled"]
        assert heard == {"number": ticket["number"], "window": mine["window"], "status": "CALLED"}
        queue = hall.data(HALL, {"l": location})["hallQueue"]
        assert queue["waiting"] == 1
        assert {c["number"] for c in queue["recentlyCalled"]} == {green["number"], ticket["number"]}
        assert (
            hall.data(FINISH, {"id": mine["id"]}, token=staff)["finishTicket"]["status"]
            == "FINISHED"
        )
        last = hall.data(CALL, {"l": location, "w": "11"}, token=staff)["callNextTicket"]
        assert last["number"] == walk_in["number"]
        assert hall.data(CALL, {"l": location, "w": "11"}, token=staff)["callNextTicket"] is None


def test_check_in_only_around_the_slot_and_only_ones_own(
    gateway: GatewayProcess, place: dict[str, Any], later: Any
) -> None:
    location, item = place["location"], place["items"][7]
    days = gateway.data(DATES, {"i": item, "l": location})["appointmentDates"]
    token = citizen(gateway)
    slot = next(s for s in slots(gateway, item, location, days[1]) if s["start"] == "10:00")
    booking = book(gateway, token, item, location, days[1], slot["start"])["data"][
        "bookAppointment"
    ]
    begins = datetime.fromisoformat(booking["cancellableUntil"]) + timedelta(hours=2)
    too_early = later(begins - timedelta(hours=3))
    early = too_early.graphql(CHECK_IN, {"id": booking["id"]}, token=token).json()
    assert early["errors"][0]["extensions"]["reason"] == "outside_check_in"
    at_hall = later(begins - timedelta(minutes=30))
    other = at_hall.graphql(CHECK_IN, {"id": booking["id"]}, token=citizen(gateway)).json()
    assert code(other) == "NOT_FOUND"
    assert (
        at_hall.data(CHECK_IN, {"id": booking["id"]}, token=token)["checkInAppointment"]["kind"]
        == "BOOKED"
    )
