"""Traces as ops gets them: the gateway exports to an OTLP/HTTP collector named by
OTEL_EXPORTER_OTLP_ENDPOINT (here a tiny one the test runs), continues the caller's
traceparent, returns its own, and puts the trace id on the request's log lines."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from harness import GatewayProcess
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
PHONE = "13912345678"
ID_NUMBER = "110101199003078515"


class Collector:
    """An OTLP/HTTP trace receiver: every span posted to /v1/traces, decoded."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        collector.spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def trace(self, trace_id: str, wanted: int, timeout: float = 15) -> list[Any]:
        """The spans of one trace, once at least ``wanted`` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [s for s in self.spans if s.trace_id.hex() == trace_id]
            if len(found) >= wanted or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


@pytest.fixture(scope="module")
def traced(start_gateway: Any, collector: Collector) -> GatewayProcess:
    gateway: GatewayProcess = start_gateway(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within a tenth of a second
            "OTEL_SERVICE_NAME": "onestop-test",
            "ONESTOP_RESPONSE_CACHE": "false",
        }
    )
    return gateway


def _access_line(gateway: GatewayProcess, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        for line in gateway.log().splitlines():
            if request_id in line and '"onestop.access"' in line:
                entry: dict[str, Any] = json.loads(line)
                return entry
        assert time.monotonic() < deadline, f"no access line for {request_id}"
        time.sleep(0.05)


def test_one_request_is_one_trace_down_to_its_database_calls(
    traced: GatewayProcess, collector: Collector
) -> None:
    request_id = f"traced-{time.time_ns()}"
    response = traced.client.post(
        "/graphql",
        json={"query": "query Items { affairItems(first: 2) { edges { node { code } } } }"},
        headers={
            "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
            "X-Request-ID": request_id,
        },
    )
    assert response.status_code == 200
    assert response.json()["data"]["affairItems"]["edges"]
    # The answer names the gateway's span in the caller's trace.
    version, trace_id, span_id, flags = response.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", CALLER_TRACE, "01")
    spans = collector.trace(CALLER_TRACE, wanted=5)
    by_id = {s.span_id.hex(): s for s in spans}
    server = by_id[span_id]
    assert server.name == "POST /graphql"
    assert server.parent_span_id.hex() == CALLER_SPAN
    operation = next(s for s in spans if s.name == "query Items")
    assert operation.parent_span_id.hex() == span_id
    field = next((s for s in spans if s.name == "Query.affairItems"), None)
    assert field is not None, [(s.name, s.parent_span_id.hex()) for s in spans]
    assert field.parent_span_id.hex() == operation.span_id.hex()
    database = [
        s
        for s in spans
        if any(
            a.key == "db.system.name" and a.value.string_value == "mongodb" for a in s.attributes
        )
    ]
    assert database, [s.name for s in spans]
    for span in database:
        assert span.parent_span_id.hex() in by_id  # within this request's trace
        assert span.name.split(" ", 1)[1].startswith("affairs_")
    assert any(s.parent_span_id.hex() == field.span_id.hex() for s in database)
    redis = [s for s in spans if s.name.startswith("redis ")]
    assert redis, [s.name for s in spans]  # the rate limit's bucket, under the request
    # Every log line of the request carries the trace id.
    assert _access_line(traced, request_id)["traceId"] == CALLER_TRACE


def test_a_request_without_traceparent_starts_a_trace(
    traced: GatewayProcess, collector: Collector
) -> None:
    response = traced.graphql("{ __typename }")
    trace_id = response.headers["traceparent"].split("-")[1]
    assert trace_id != CALLER_TRACE
    spans = collector.trace(trace_id, wanted=2)
    server = next(s for s in spans if s.name == "POST /graphql")
    assert server.parent_span_id == b""


def test_the_access_line_of_a_failed_request_has_its_code_and_trace_and_no_pii(
    traced: GatewayProcess, collector: Collector
) -> None:
    request_id = f"failed-{time.time_ns()}"
    token = traced.token()
    response = traced.client.post(
        "/graphql",
        json={
            "query": "mutation SignIn($p: String!, $c: String!, $n: Int) "
            "{ login(phone: $p, code: $c) { accessToken } }",
            "variables": {"p": PHONE, "c": "000000", "n": ID_NUMBER, "t": token},
        },
        headers={"X-Request-ID": request_id},
    )
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert codes
    line = _access_line(traced, request_id)
    assert line["errorCodes"] == codes
    assert line["operation"] == "SignIn"
    trace_id = response.headers["traceparent"].split("-")[1]
    assert line["traceId"] == trace_id
    assert collector.trace(trace_id, wanted=3)
    log = traced.log()
    for secret in (PHONE, ID_NUMBER, token):
        assert secret not in log
    # The same with the phone in the document itself, and a token as a bad bearer.
    request_id += "-inline"
    traced.client.post(
        "/graphql",
        json={"query": f'mutation {{ login(phone: "{PHONE}", code: "1") {{ accessToken }} }}'},
        headers={"X-Request-ID": request_id, "Authorization": f"Bearer {token}x"},
    )
    line = _access_line(traced, request_id)
    assert line["status"] == 401
    assert line["errorCodes"] == ["UNAUTHENTICATED"]
    log = traced.log()
    for secret in (PHONE, token):
        assert secret not in log


def test_tracing_is_off_without_the_otel_variables(gateway: GatewayProcess) -> None:
    response = gateway.graphql("{ __typename }")
    assert "traceparent" not in response.headers
    assert '"tracing": false' in gateway.log()
