"""Ops endpoints over HTTP: health, readiness, metrics, request ids, the modules query."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from harness import GatewayProcess

from gateway.embedded import EmbeddedMongo


def test_healthz_and_readyz_report_each_dependency(gateway: GatewayProcess) -> None:
    assert gateway.client.get("/healthz").json() == {"status": "ok"}
    response = gateway.client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["mongodb"]["status"] == "ok"
    assert body["checks"]["redis"] == {
        "status": "ok",
        "latencyMs": body["checks"]["redis"]["latencyMs"],
        "backend": "redis",
    }


def test_request_id_is_echoed_or_minted(gateway: GatewayProcess) -> None:
    given = gateway.client.get("/healthz", headers={"X-Request-ID": "app-7f3a.42"})
    assert given.headers["x-request-id"] == "app-7f3a.42"
    minted = gateway.client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", minted.headers["x-request-id"])
    # A hostile id (newline injection, overlong) is replaced, not reflected.
    hostile = gateway.client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["x-request-id"] != "x" * 500


def test_metrics_show_the_operation_just_run(gateway: GatewayProcess) -> None:
    # Names outside the known operations are all "unknown" (tests/gateway/test_metrics.py).
    ran = (
        "onestop_graphql_operations_total",
        '{module="gateway",operation="unknown",type="query"}',
    )
    latency = (
        "onestop_graphql_operation_duration_seconds_count",
        '{module="gateway",operation="unknown"}',
    )
    failed = (
        "onestop_graphql_errors_total",
        '{code="GRAPHQL_VALIDATION_FAILED",module="unknown",operation="unknown"}',
    )
    before = [gateway.metric(*series) for series in (ran, latency, failed)]
    name = f"OpsProbe{int(time.time() * 1000)}"
    gateway.data(f"query {name} {{ me {{ id }} }}")
    gateway.errors(f"query {name}Fails {{ nope }}")
    after = [gateway.metric(*series) for series in (ran, latency, failed)]
    assert after == [value + 1 for value in before]
    text = gateway.scrape()
    assert name not in text
    assert 'onestop_http_requests_total{method="POST",route="/graphql",status="200"}' in text


def _access_line(gateway: GatewayProcess, request_id: str) -> dict[str, object]:
    """The access line of one request (written once its answer has gone out)."""
    deadline = time.monotonic() + 5
    while True:
        for line in gateway.log().splitlines():
            if request_id in line and '"onestop.access"' in line:
                entry: dict[str, object] = json.loads(line)
                return entry
        assert time.monotonic() < deadline, f"no access line for {request_id}"
        time.sleep(0.05)


def test_one_access_line_per_request_without_personal_data(gateway: GatewayProcess) -> None:
    request_id = f"access-{time.time_ns()}"
    gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": request_id}
    )
    line = _access_line(gateway, request_id)
    assert line["level"] == "info"
    assert line["message"] == "POST /graphql 200"
    assert (line["requestId"], line["status"], line["route"]) == (request_id, 200, "/graphql")
    assert isinstance(line["durationMs"], float | int)
    assert gateway.log().count(request_id) == 1
    # A path the router does not know may carry anything: scrubbed like every line.
    gateway.client.get(
        "/u/13800138000/110101199003078515", headers={"X-Request-ID": request_id + "p"}
    )
    line = _access_line(gateway, request_id + "p")
    assert line["route"] == "other"
    assert line["message"] == "GET /u/138****8000/110101********8515 404"
    assert "13800138000" not in gateway.log()


def test_start_up_objects_are_frozen_out_of_full_collections(gateway: GatewayProcess) -> None:
    # Without gc.freeze every full collection walks the schema, the seeds and the search
    # lexicons again: ~100 ms pauses under load (docs/PERFORMANCE.md).
    text = gateway.scrape()
    frozen = re.search(r"^onestop_gc_frozen_objects (\S+)$", text, re.MULTILINE)
    assert frozen is not None
    assert float(frozen.group(1)) > 100_000


def test_modules_query_lists_modules_with_their_fields(gateway: GatewayProcess) -> None:
    modules = gateway.data("{ modules { name version queryFields mutationFields collections } }")
    by_name = {m["name"]: m for m in modules["modules"]}
    assert {"gateway", "affairs"} <= set(by_name)
    assert "me" in by_name["gateway"]["queryFields"]
    assert "login" in by_name["gateway"]["mutationFields"]
    assert by_name["affairs"]["version"]
    assert by_name["affairs"]["queryFields"]


def test_unauthenticated_me_is_a_clean_null(gateway: GatewayProcess) -> None:
    response = gateway.graphql("{ me { id } }")
    assert response.status_code == 200
    assert response.json() == {"data": {"me": None}}


def test_readyz_turns_503_when_the_database_stops_and_200_when_back(
    start_gateway, tmp_path: Path
) -> None:
    database = EmbeddedMongo(tmp_path).start()
    restarted: EmbeddedMongo | None = None
    try:
        gateway = start_gateway({"ONESTOP_MONGODB_URL": database.url, "ONESTOP_SEED_ON_START": "0"})
        assert gateway.client.get("/readyz").status_code == 200

        database.stop()
        down = gateway.client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["checks"]["mongodb"]["status"] == "down"
        assert down.json()["checks"]["redis"]["status"] == "ok"
        # Liveness is independent of dependencies: the orchestrator must not restart us.
        assert gateway.client.get("/healthz").status_code == 200

        restarted = EmbeddedMongo(tmp_path, port=database.port).start()
        deadline = time.monotonic() + 20
        status = 0
        while time.monotonic() < deadline and status != 200:
            status = gateway.client.get("/readyz").status_code
            time.sleep(0.2)
        assert status == 200
    finally:
        database.stop()
        if restarted is not None:
            restarted.stop()


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/.well-known/jwks.json"])
def test_ops_routes_answer_get(gateway: GatewayProcess, path: str) -> None:
    assert gateway.client.get(path).status_code == 200


def test_graphiql_is_served_in_dev(gateway: GatewayProcess) -> None:
    page = httpx.get(f"{gateway.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
