"""GraphQL over HTTP: graphql-http's own audit (tests/e2e/graphql_http, pinned, run under
Node) passes in full against a real gateway, and the media types and status codes a client
sees, checked directly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import GatewayProcess
from node_packages import E2E, run_script

AUDIT = E2E / "graphql_http"
NEW = "application/graphql-response+json"


def test_graphql_http_audit_passes_in_full(gateway: GatewayProcess) -> None:
    report = run_script(AUDIT, "audit.mjs", f"{gateway.url}/graphql", timeout=120)
    failed = [r for r in report["results"] if r["status"] != "ok"]
    assert failed == [], json.dumps(failed, ensure_ascii=False, indent=1)
    assert report["total"] >= 61  # the audit's size when this was written


def post(gateway: GatewayProcess, body: dict[str, Any], accept: str) -> Any:
    return gateway.client.post("/graphql", json=body, headers={"accept": accept})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ affairItems(first: 1) { "}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": "query($n: Int!) { affairItems(first: $n) { totalCount } }", "variables": {}},
            "BAD_USER_INPUT",
        ),
    ],
)
def test_a_request_error_is_400_without_data_for_clients_of_the_new_media_type(
    gateway: GatewayProcess, body: dict[str, Any], code: str
) -> None:
    # Apollo Client's Accept header: the new type first, JSON as a fallback.
    new = post(gateway, body, f"{NEW},application/json;q=0.9")
    assert new.status_code == 400
    assert new.headers["content-type"].startswith(NEW)
    assert "data" not in new.json()
    assert new.json()["errors"][0]["extensions"]["code"] == code
    # A client that knows only application/json keeps the legacy answer.
    legacy = post(gateway, body, "application/json")
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert legacy.json()["data"] is None


def test_an_executed_operation_is_200_with_data_even_when_a_field_fails(
    gateway: GatewayProcess,
) -> None:
    answer = post(gateway, {"query": '{ affairItem(code: "no-such-item") { code } }'}, NEW)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(NEW)
    assert "data" in answer.json()
