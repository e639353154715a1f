"""预约取号 over HTTP against a real gateway: slots from opening hours and the calendar,
capacity exact under 200 concurrent bookings, real name only, one live booking per item
and day, cancelling until 2 hours before, no-shows and the block they bring — the last
two through a second gateway process on the same database whose clock is moved."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from cases_client import BOOK, CANCEL, DATES, MINE, NO_SHOW, SLOTS, book, citizen, code, slots
from harness import GatewayProcess

from gateway.kit.calendar import is_working_day

CST_OFFSET = timedelta(hours=8)


def test_slots_follow_the_hall_and_the_working_days(
    gateway: GatewayProcess, place: dict[str, Any]
) -> None:
    item, location = place["items"][0], place["location"]
    days = gateway.data(DATES, {"i": item, "l": location})["appointmentDates"]
    assert 1 <= len(days) <= 5
    today = (datetime.utcnow() + CST_OFFSET).date()
    assert all(date.fromisoformat(d) > today for d in days)
    assert all(is_working_day(date.fromisoformat(d)) for d in days)  # holidays and 调休 known
    day_slots = slots(gateway, item, location, days[0])
    assert day_slots, "an open day has slots"
    assert all(s["capacity"] == 10 for s in day_slots)
    starts = [s["start"] for s in day_slots]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # Half-hour slots inside the opening hours (a street hall opens at 9).
    assert starts[0] >= "08:30" and all(s["start"][3:] in ("00", "30") for s in day_slots)
    # Today and the sixth working day are outside the window.
    for day in (today.isoformat(), (date.fromisoformat(days[-1]) + timedelta(days=7)).isoformat()):
        response = gateway.graphql(SLOTS, {"i": item, "l": location, "d": day}).json()
        assert code(response) == "BAD_USER_INPUT"
        assert response["errors"][0]["extensions"]["fieldErrors"][0]["code"] == "outside_window"


def test_exactly_the_capacity_of_200_concurrent_bookings_succeeds(
    gateway: GatewayProcess, place: dict[str, Any]
) -> None:
    item, location = place["items"][1], place["location"]
    day = gateway.data(DATES, {"i": item, "l": location})["appointmentDates"][-1]
    slot = slots(gateway, item, location, day)[-1]
    assert (slot["capacity"], slot["available"]) == (10, 10)
    tokens = [citizen(gateway) for _ in range(200)]
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(
            pool.map(lambda t: book(gateway, t, item, location, day, slot["start"]), tokens)
        )
    outcomes = Counter("booked" if a.get("data") else code(a) for a in answers)
    assert outcomes == {"booked": 10, "SLOT_FULL": 190}, outcomes
    numbers = {a["data"]["bookAppointment"]["number"] for a in answers if a.get("data")}
    assert len(numbers) == 10  # every place its own number
    full = next(a for a in answers if not a.get("data"))
    assert "约满" in full["errors"][0]["message"]
    assert slots(gateway, item, location, day)[-1]["available"] == 0


def test_real_name_only_and_one_live_booking_per_item_and_day(
    gateway: GatewayProcess, place: dict[str, Any]
) -> None:
    item, location = place["items"][2], place["location"]
    day = gateway.data(DATES, {"i": item, "l": location})["appointmentDates"][0]
    first, second = (s["start"] for s in slots(gateway, item, location, day)[:2])
    phone_only = book(gateway, citizen(gateway, level=1), item, location, day, first)
    assert code(phone_only) == "FORBIDDEN"
    assert phone_only["errors"][0]["extensions"]["requiredIdentityLevel"] == 2
    anonymous = gateway.graphql(BOOK, {"i": item, "l": location, "d": day, "s": first}).json()
    assert code(anonymous) == "UNAUTHENTICATED"

    token = citizen(gateway)
    booked = book(gateway, token, item, location, day, first)["data"]["bookAppointment"]
    assert booked["status"] == "BOOKED" and booked["start"] == first
    again = book(gateway, token, item, location, day, second)
    assert code(again) == "CONFLICT"
    assert again["errors"][0]["extensions"]["reason"] == "already_booked"
    # The refused second booking gave its place back.
    assert (
        next(s for s in slots(gateway, item, location, day) if s["start"] == second)["available"]
        == 10
    )
    # Another citizen cannot cancel it (it is not theirs: not found).
    other = gateway.graphql(CANCEL, {"id": booked["id"]}, token=citizen(gateway)).json()
    assert code(other) == "NOT_FOUND"
    assert gateway.data(CANCEL, {"id": booked["id"]}, token=token)["cancelAppointment"] == {
        "status": "CANCELLED"
    }
    assert (
        next(s for s in slots(gateway, item, location, day) if s["start"] == first)["available"]
        == 10
    )
    rebooked = book(gateway, token, item, location, day, second)
    assert rebooked["data"]["bookAppointment"]["status"] == "BOOKED"
    mine = gateway.data(MINE, token=token)["myAppointments"]
    assert mine["totalCount"] == 2
    assert [e["node"]["status"] for e in mine["edges"]] == ["BOOKED", "CANCELLED"]  # newest first


def test_bad_slots_and_items(gateway: GatewayProcess, place: dict[str, Any]) -> None:
    item, location = place["items"][0], place["location"]
    day = gateway.data(DATES, {"i": item, "l": location})["appointmentDates"][0]
    token = citizen(gateway)
    odd = book(gateway, token, item, location, day, "09:10")
    assert odd["errors"][0]["extensions"]["fieldErrors"][0]["code"] == "no_slot"
    no_booking = next(
        c for c, i in place["by_code"].items() if not i["appointment"] and i["status"] == "active"
    )
    refused = gateway.graphql(DATES, {"i": no_booking, "l": location}).json()
    assert code(refused) == "BAD_USER_INPUT"
    assert code(gateway.graphql(DATES, {"i": "nope", "l": location}).json()) == "NOT_FOUND"


def test_cancel_until_two_hours_before_and_no_shows_block_booking(
    gateway: GatewayProcess, place: dict[str, Any], later: Any
) -> None:
    location = place["location"]
    item_a, item_b, item_c = place["items"][3:6]
    token = citizen(gateway)
    days = gateway.data(DATES, {"i": item_a, "l": location})["appointmentDates"]
    made = []
    for item in (item_a, item_b):
        start = slots(gateway, item, location, days[0])[4]["start"]
        made.append(book(gateway, token, item, location, days[0], start)["data"]["bookAppointment"])
    begins = datetime.fromisoformat(made[0]["cancellableUntil"]) + timedelta(hours=2)

    # An hour before it begins, cancelling is too late.
    hour_before = later(begins - timedelta(hours=1))
    late = hour_before.graphql(CANCEL, {"id": made[0]["id"]}, token=token).json()
    assert code(late) == "CONFLICT" and late["errors"][0]["extensions"]["reason"] == "too_late"
    # Staff cannot call it a no-show before it begins.
    staff = gateway.token(
        "staff-appt", ("staff",), department=place["by_code"][item_a]["department_code"]
    )
    early = hour_before.graphql(NO_SHOW, {"id": made[0]["id"]}, token=staff).json()
    assert code(early) == "CONFLICT"

    # Twenty minutes in, both are missed: staff of each item's department record them.
    after_start = later(begins + timedelta(minutes=20))
    for booking, item in zip(made, (item_a, item_b), strict=True):
        department = place["by_code"][item]["department_code"]
        outsider = "11440303000000000X" if department != "11440303000000000X" else "X"
        refused = after_start.graphql(
            NO_SHOW,
            {"id": booking["id"]},
            token=gateway.token("s-x", ("staff",), department=outsider),
        ).json()
        assert code(refused) == "FORBIDDEN"
        own = gateway.token("s-own", ("staff",), department=department)
        recorded = after_start.data(NO_SHOW, {"id": booking["id"]}, token=own)
        assert recorded["recordAppointmentNoShow"]["status"] == "NO_SHOW"

    # Two no-shows within 30 days: booking is blocked, with the date it ends.
    blocked = book(
        gateway,
        token,
        item_c,
        location,
        days[-1],
        slots(gateway, item_c, location, days[-1])[0]["start"],
    )
    assert code(blocked) == "FORBIDDEN"
    extensions = blocked["errors"][0]["extensions"]
    assert extensions["reason"] == "no_show_block"
    assert (
        extensions["blockedUntil"] == (date.fromisoformat(days[0]) + timedelta(days=30)).isoformat()
    )
