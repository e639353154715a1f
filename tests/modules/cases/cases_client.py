"""What the cases tests send: documents and small helpers (a citizen's token, a booking)."""

from __future__ import annotations

import uuid
from typing import Any

from harness import GatewayProcess

DATES = "query($i: String!, $l: String!) { appointmentDates(itemCode: $i, locationCode: $l) }"
SLOTS = """query($i: String!, $l: String!, $d: Date!) {
  appointmentSlots(itemCode: $i, locationCode: $l, date: $d) { start end capacity available } }"""
BOOK = """mutation($i: String!, $l: String!, $d: Date!, $s: String!) {
  bookAppointment(input: {itemCode: $i, locationCode: $l, date: $d, start: $s}) {
    id number status date start cancellableUntil itemName locationName } }"""
CANCEL = "mutation($id: ID!) { cancelAppointment(id: $id) { status } }"
NO_SHOW = "mutation($id: ID!) { recordAppointmentNoShow(id: $id) { status } }"
MINE = "{ myAppointments(first: 10) { totalCount edges { node { id status } } } }"


def citizen(gateway: GatewayProcess, level: int = 2) -> str:
    return gateway.token(f"citizen-{uuid.uuid4().hex[:10]}", identity_level=level)


def slots(gateway: GatewayProcess, item: str, location: str, day: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = gateway.data(SLOTS, {"i": item, "l": location, "d": day})[
        "appointmentSlots"
    ]
    return found


def book(
    gateway: GatewayProcess, token: str, item: str, location: str, day: str, start: str
) -> dict[str, Any]:
    response = gateway.graphql(BOOK, {"i": item, "l": location, "d": day, "s": start}, token=token)
    payload: dict[str, Any] = response.json()
    return payload


def code(payload: dict[str, Any]) -> str:
    return str(payload["errors"][0]["extensions"]["code"])
