"""What the cases tests send: documents and small helpers (a citizen's token, a booking)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import GatewayProcess
from websockets.sync.client import connect

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


UPLOAD = (
    """mutation($file: Upload!) { uploadFile(file: $file, purpose: CASE_MATERIAL) { fileId } }"""
)


def upload_pdf(gateway: GatewayProcess, token: str) -> str:
    """A small PDF uploaded by the token's holder; its file id."""
    content = b"%PDF-1.7\n" + uuid.uuid4().hex.encode() * 20 + b"\n%%EOF\n"
    operations = {"query": UPLOAD, "variables": {"file": None}}
    response = gateway.client.post(
        "/graphql",
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("材料.pdf", content, "application/pdf")},
    )
    file_id: str = response.json()["data"]["uploadFile"]["fileId"]
    return file_id


@contextmanager
def socket(
    gateway: GatewayProcess, query: str, variables: dict[str, Any], token: str | None = None
) -> Iterator[Any]:
    """A graphql-transport-ws socket running one subscription."""
    url = gateway.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:  # type: ignore[list-item]
        params = {"Authorization": f"Bearer {token}"} if token else {}
        ws.send(json.dumps({"type": "connection_init", "payload": params}))
        assert json.loads(ws.recv(timeout=5))["type"] == "connection_ack"
        payload = {"query": query, "variables": variables}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield ws


def next_result(ws: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == "next":
            result: dict[str, Any] = message["payload"]
            return result


SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "affairs"


def hall_taking_bookings() -> dict[str, Any]:
    """From the committed seeds: a 10-window street hall (10 places a slot), the active items
    it takes bookings for, and every item by code. The tests and bench/bookings.py use it."""
    items = {i["code"]: i for i in json.loads((SEEDS / "items.json").read_text())}
    for location in json.loads((SEEDS / "locations.json").read_text()):
        if location["kind"] == "street_hall" and location["window_count"] == 10:
            codes = [
                c
                for c in location["item_codes"]
                if items[c]["appointment"] and items[c]["status"] == "active"
            ]
            if len(codes) >= 3:
                return {"location": location["code"], "items": codes, "by_code": items}
    raise AssertionError("the seeds have no 10-window street hall taking bookings")
