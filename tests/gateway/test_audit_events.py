"""The audit trail as a Relay connection over HTTP: newest first, keyset cursors.

Against a gateway with its own database, so the trail holds only what this file made:
real logins, and entries planted through pymongo to control timestamps (ties included).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from harness import GatewayProcess, OwnGateway
from pymongo.database import Database
from test_auth import sign_in

EVENTS = """query($first: Int, $after: String, $action: String) {
  auditEvents(first: $first, after: $after, action: $action) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id eventId at action subject } }
  }
}"""


@pytest.fixture(scope="module")
def gateway(own_gateway: OwnGateway) -> GatewayProcess:
    return own_gateway.gateway


@pytest.fixture(scope="module")
def db(own_gateway: OwnGateway) -> Database[Any]:
    return own_gateway.db


@pytest.fixture(scope="module")
def admin(gateway: GatewayProcess) -> str:
    return gateway.token("admin-trail", ("admin",))


def page_through(
    gateway: GatewayProcess, admin: str, first: int, **variables: Any
) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = gateway.data(EVENTS, {"first": first, "after": after, **variables}, token=admin)
        connection = page["auditEvents"]
        nodes += [e["node"] for e in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            assert connection["totalCount"] == len(nodes)
            return nodes
        after = connection["pageInfo"]["endCursor"]


def test_logins_page_newest_first(gateway: GatewayProcess, admin: str) -> None:
    users = [sign_in(gateway)["viewer"]["subjectId"] for _ in range(3)]
    logins = page_through(gateway, admin, 1, action="auth.login")
    assert [e["subject"] for e in logins] == users[::-1]  # newest first
    stamps = [datetime.fromisoformat(e["at"]) for e in logins]
    assert stamps == sorted(stamps, reverse=True)


def test_ties_and_new_entries_keep_cursors_exact(
    gateway: GatewayProcess, db: Database[Any], admin: str
) -> None:
    base = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    planted = [
        {
            "_id": f"{i:02d}-{uuid.uuid4().hex[:6]}",
            # Pairs share an instant; instants 150 ms apart, several within one second.
            "at": base + timedelta(milliseconds=(i // 2) * 150),
            "action": "test.planted",
            "actor": None,
            "subject": f"s{i}",
            "outcome": "ok",
            "request_id": None,
            "detail": {},
        }
        for i in range(20)
    ]
    db["gateway_audit"].insert_many(planted)
    expected = [
        e["subject"] for e in sorted(planted, key=lambda e: (-e["at"].timestamp(), e["_id"]))
    ]
    assert [
        e["subject"] for e in page_through(gateway, admin, 4, action="test.planted")
    ] == expected

    first = gateway.data(EVENTS, {"first": 7, "action": "test.planted"}, token=admin)
    seen = [e["node"]["subject"] for e in first["auditEvents"]["edges"]]
    # A newer entry arrives (it sorts before the cursor): the next pages neither repeat
    # nor skip anything.
    db["gateway_audit"].insert_one(
        {**planted[0], "_id": "zz-newest", "at": base + timedelta(days=1), "subject": "new"}
    )
    after = first["auditEvents"]["pageInfo"]["endCursor"]
    while after:
        page = gateway.data(
            EVENTS, {"first": 7, "after": after, "action": "test.planted"}, token=admin
        )["auditEvents"]
        seen += [e["node"]["subject"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen == expected
    assert page["totalCount"] == 21


def test_bad_cursor_and_page_size(gateway: GatewayProcess, admin: str) -> None:
    for variables in ({"after": "bm9wZQ"}, {"first": 0}, {"first": 101}):
        error = gateway.errors(EVENTS, {"first": 5, **variables}, token=admin)[0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    cursor = gateway.data("{ faq(first: 1) { pageInfo { endCursor } } }")["faq"]["pageInfo"][
        "endCursor"
    ]
    error = gateway.errors(EVENTS, {"first": 5, "after": cursor}, token=admin)[0]
    assert error["extensions"]["fieldErrors"][0]["field"] == "after"
