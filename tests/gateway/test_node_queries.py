"""`node(id:)` and `nodes(ids:)` over HTTP: Relay refetching across modules, visibility, batching.

Against the default gateway (Viewer, AuditEvent) and the gateway with the third-party
`weather` module, whose WeatherStation node resolver records each of its calls.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import GatewayProcess
from test_auth import sign_in

from gateway.kit.nodes import global_id

SELECTION = """__typename id
  ... on Viewer { subjectId roles }
  ... on AuditEvent { eventId action subject }"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ {SELECTION} }} }}"
NODES = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {SELECTION} }} }}"
# The weather gateway's schema also has WeatherStation.
STATION = "... on WeatherStation { code name }"
WEATHER_NODE = f"query($id: ID!) {{ node(id: $id) {{ {SELECTION} {STATION} }} }}"
WEATHER_NODES = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {SELECTION} {STATION} }} }}"
TRAIL = '{ auditEvents(first: 3, action: "auth.login") { edges { node { id eventId } } } }'
DEBUG = {"X-OneStop-Debug": "db-commands"}


@pytest.fixture(scope="module")
def admin(gateway: GatewayProcess) -> str:
    return gateway.token("admin-nodes", ("admin",))


@pytest.fixture(scope="module")
def audit_ids(gateway: GatewayProcess, admin: str) -> list[str]:
    """Global ids of three audit entries (three real logins)."""
    for _ in range(3):
        sign_in(gateway)
    edges = gateway.data(TRAIL, token=admin)["auditEvents"]["edges"]
    assert len(edges) == 3
    return [edge["node"]["id"] for edge in edges]


def bad_input_fields(errors: list[Any]) -> list[str]:
    (error,) = errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return [e["field"] for e in error["extensions"]["fieldErrors"]]


def test_the_viewer_refetches_itself_and_nobody_else(gateway: GatewayProcess) -> None:
    login = sign_in(gateway)
    token = login["accessToken"]
    me = gateway.data("{ me { id subjectId } }", token=token)["me"]
    assert me["id"] == login["viewer"]["id"] == global_id("Viewer", me["subjectId"])
    assert me["id"] != me["subjectId"]  # the global id is not the raw subject id

    node = gateway.data(NODE, {"id": me["id"]}, token=token)["node"]
    assert node == {
        "__typename": "Viewer",
        "id": me["id"],
        "subjectId": me["subjectId"],
        "roles": ["CITIZEN"],
    }
    # Another principal's id, and any id for the anonymous, is null: as if it did not exist.
    other = sign_in(gateway)
    assert gateway.data(NODE, {"id": other["viewer"]["id"]}, token=token)["node"] is None
    assert gateway.data(NODE, {"id": me["id"]})["node"] is None


def test_an_audit_entry_resolves_only_for_readers_of_the_trail(
    gateway: GatewayProcess, admin: str, audit_ids: list[str]
) -> None:
    listed = gateway.data(TRAIL, token=admin)["auditEvents"]["edges"][0]["node"]
    entry = gateway.data(NODE, {"id": listed["id"]}, token=admin)["node"]
    assert entry["__typename"] == "AuditEvent" and entry["action"] == "auth.login"
    assert entry["eventId"] == listed["eventId"]
    assert entry["id"] == global_id("AuditEvent", listed["eventId"])

    citizen = gateway.token("citizen-nodes", ("citizen",))
    # An admin whose token is narrowed by scopes loses the permission, as for the list.
    narrowed = gateway.token("admin-narrowed", ("admin",), scopes=["nothing.at.all"])
    for token in (citizen, narrowed, None):
        assert gateway.data(NODE, {"id": listed["id"]}, token=token)["node"] is None
    assert gateway.errors(TRAIL, token=narrowed)[0]["extensions"]["code"] == "FORBIDDEN"


def test_nodes_keep_order_and_nulls_and_batch_per_type(
    gateway: GatewayProcess, admin: str, audit_ids: list[str]
) -> None:
    me = gateway.data("{ me { id } }", token=admin)["me"]["id"]
    first, second, third = audit_ids
    missing = global_id("AuditEvent", "no-such-entry")
    stranger = global_id("Viewer", "someone-else")
    ids = [second, me, missing, first, stranger, third, second]
    nodes = gateway.data(NODES, {"ids": ids}, token=admin)["nodes"]
    assert [n and n["id"] for n in nodes] == [second, me, None, first, None, third, second]
    assert [n and n["__typename"] for n in nodes] == [
        "AuditEvent",
        "Viewer",
        None,
        "AuditEvent",
        None,
        "AuditEvent",
        "AuditEvent",
    ]
    assert gateway.data(NODES, {"ids": []}, token=admin) == {"nodes": []}

    def db_commands(ids: list[str]) -> int:
        response = gateway.graphql(NODES, {"ids": ids}, token=admin, headers=DEBUG)
        body = response.json()
        assert not body.get("errors"), body["errors"]
        count: int = body["extensions"]["dbCommands"]
        return count

    # One lookup per type: four audit ids cost what one costs.
    one = db_commands([first])
    assert one >= 1
    assert db_commands([first, second, third, missing]) == one
    assert db_commands([first, second, me, third, stranger]) == one + db_commands([me])


def test_malformed_and_foreign_ids_are_bad_user_input(
    gateway: GatewayProcess, admin: str, audit_ids: list[str]
) -> None:
    good = audit_ids[0]
    for bad in (
        good + "=",  # not the canonical spelling
        "标识",
        "x" * 501,
        global_id("AffairItemDraft", "X"),  # a type no loaded module resolves
        global_id("AuditEvent", "e1")[:-1],  # cut short: no whole byte
    ):
        assert bad_input_fields(gateway.errors(NODE, {"id": bad}, token=admin)) == ["id"]
    errors = gateway.errors(NODES, {"ids": [good, "not-an-id", good]}, token=admin)
    assert bad_input_fields(errors) == ["ids.1"]


def test_too_many_ids_are_refused(gateway: GatewayProcess, admin: str) -> None:
    ids = [global_id("AuditEvent", f"e{i}") for i in range(101)]
    assert bad_input_fields(gateway.errors(NODES, {"ids": ids}, token=admin)) == ["ids"]
    nodes = gateway.data(NODES, {"ids": ids[:100]}, token=admin)["nodes"]
    assert nodes == [None] * 100


def test_a_third_party_module_resolves_its_own_nodes(weather_gateway: GatewayProcess) -> None:
    stations = weather_gateway.data("{ weatherStations { id code name } }")["weatherStations"]
    by_code = {s["code"]: s for s in stations}
    dongmen, liantang = by_code["G3551"], by_code["G3552"]
    assert dongmen["id"] == global_id("WeatherStation", "G3551")

    node = weather_gateway.data(WEATHER_NODE, {"id": liantang["id"]})["node"]
    assert node == {
        "__typename": "WeatherStation",
        "id": liantang["id"],
        "code": "G3552",
        "name": "罗湖莲塘站",
    }

    before = len(weather_gateway.data("{ weatherStationLookups }")["weatherStationLookups"])
    gone = global_id("WeatherStation", "G9999")
    token = weather_gateway.token("citizen-weather", ("citizen",))
    me = weather_gateway.data("{ me { id } }", token=token)["me"]["id"]
    ids = [liantang["id"], gone, me, dongmen["id"], liantang["id"]]
    nodes = weather_gateway.data(WEATHER_NODES, {"ids": ids}, token=token)["nodes"]
    assert [n and n["id"] for n in nodes] == [
        liantang["id"],
        None,
        me,
        dongmen["id"],
        liantang["id"],
    ]
    lookups = weather_gateway.data("{ weatherStationLookups }")["weatherStationLookups"]
    # Exactly one call for the request's three distinct station keys.
    assert lookups[before:] == [["G3552", "G9999", "G3551"]]
