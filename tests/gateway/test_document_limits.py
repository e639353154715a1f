"""Document limits over HTTP: fan-out, fragment bombs, duplicates, aliases, cost.

Each attack here comes from the adversarial review (issue 6): before the guard,
the first two stalled the whole server for seconds to minutes. The client's
timeout is the hang detector: an exponential regression fails instead of waiting.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from graphql import get_introspection_query, parse
from harness import GatewayProcess, prod_env

from gateway.config import Settings
from gateway.registry import CostHint, Module
from gateway.schema import build_schema, compose_with_core

FAN_OUT = (
    "{ affairItems(first: 1) { edges { node { faq { items { faq { items { faq { items "
    "{ code } } } } } } } } } }"
)
FRAGMENT_BOMB = (
    "fragment F0 on Query { __typename }\n"
    + "".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}\n" for i in range(1, 40))
    + "query Bomb { ...F39 }"
)


def post(gateway: GatewayProcess, query: str, variables: dict | None = None) -> dict:
    body: dict = {"query": query}
    if variables is not None:
        body["variables"] = variables
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        response = client.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def refusal(payload: dict) -> dict:
    assert payload["data"] is None, payload
    (error,) = payload["errors"]
    return error["extensions"]


def test_fan_out_within_the_depth_limit_is_refused_by_cost(gateway: GatewayProcess) -> None:
    extensions = refusal(post(gateway, FAN_OUT))
    assert extensions["code"] == "QUERY_TOO_COMPLEX"
    assert extensions["limit"] == "cost"
    assert extensions["value"] > extensions["maximum"] == 3000


def test_fragment_bomb_is_refused_without_expanding_it(gateway: GatewayProcess) -> None:
    extensions = refusal(post(gateway, FRAGMENT_BOMB))
    assert extensions["code"] == "QUERY_TOO_COMPLEX"
    assert extensions["limit"] == "fields"
    assert extensions["value"] >= 2**39  # counted exactly, never expanded


def test_healthz_answers_while_attacks_are_refused(gateway: GatewayProcess) -> None:
    outcomes: list[str] = []

    def attack() -> None:
        for document in (FAN_OUT, FRAGMENT_BOMB) * 5:
            outcomes.append(refusal(post(gateway, document))["code"])

    attackers = [threading.Thread(target=attack) for _ in range(3)]
    for thread in attackers:
        thread.start()
    with httpx.Client(base_url=gateway.url, timeout=5) as client:
        probes = [client.get("/healthz").status_code for _ in range(20)]
    for thread in attackers:
        thread.join(30)
    assert probes == [200] * 20
    assert outcomes == ["QUERY_TOO_COMPLEX"] * 30


@pytest.mark.parametrize(
    ("document", "limit"),
    [
        ("{" + " me { id }" * 790 + " }", "duplicates"),
        ("{" + " __typename" * 3900 + " }", "duplicates"),
        (
            "".join(f"fragment D{i} on Query {{ me {{ id }} }} " for i in range(60))
            + "{ "
            + " ".join(f"...D{i}" for i in range(60))
            + " }",
            "duplicates",
        ),
        ("{" + " ".join(f"a{i}: __typename" for i in range(1000)) + " }", "aliases"),
        (
            "{"
            + " ".join(
                f"a{i}: affairItems(first: 100) {{ edges {{ node {{ code department {{ name }} }} }} }}"
                for i in range(28)
            )
            + " }",
            "cost",
        ),
        (
            "{"
            + " ".join(
                f'a{i}: faq(search: "营业执照") {{ edges {{ node {{ question }} }} }}'
                for i in range(15)
            )
            + " }",
            "cost",
        ),
    ],
    ids=[
        "790-duplicate-objects",
        "3900-duplicate-scalars",
        "60-fragments",
        "aliases",
        "28-big-pages",
        "15-searches",
    ],
)
def test_quadratic_and_heavy_documents_are_refused_before_validation(
    gateway: GatewayProcess, document: str, limit: str
) -> None:
    validations = gateway.metric("onestop_graphql_document_validations_total")
    extensions = refusal(post(gateway, document))
    assert extensions["limit"] == limit
    assert extensions["code"] in {"QUERY_TOO_COMPLEX", "GRAPHQL_VALIDATION_FAILED"}
    # Refused by the walk: graphql-core's validation never ran for it.
    assert gateway.metric("onestop_graphql_document_validations_total") == validations


def test_depth_beyond_the_limit_is_a_validation_error(gateway: GatewayProcess) -> None:
    deep = "{ affairItems(first: 1) { edges { node { faq { items { faq { items { faq { items { faq { items { faq { items { code } } } } } } } } } } } } } }"
    extensions = refusal(post(gateway, deep))
    assert extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert extensions["limit"] == "depth"


def test_realistic_pages_and_introspection_still_run(gateway: GatewayProcess) -> None:
    page = post(
        gateway,
        "{ affairItems(first: 100) { totalCount edges { node { code name department { name } "
        "themes { name } faq { question } locations { name } } } } }",
    )
    assert not page.get("errors"), page["errors"]
    assert len(page["data"]["affairItems"]["edges"]) == 100
    search = post(
        gateway,
        '{ affairItems(search: "营业执照", first: 20) { edges { node { name } } } '
        'faq(search: "营业执照") { edges { node { question items { name } } } } }',
    )
    assert not search.get("errors"), search["errors"]
    introspection = post(gateway, get_introspection_query())  # what GraphiQL sends first
    assert not introspection.get("errors")
    assert introspection["data"]["__schema"]["queryType"]["name"] == "Query"


def test_cost_follows_page_size_variables(gateway: GatewayProcess) -> None:
    query = (
        "query Nested($n: Int) { affairItems(first: $n) { edges { node { faq { items "
        "{ faq { items { code } } } } } } } }"
    )
    small = post(gateway, query, {"n": 1})
    assert not small.get("errors"), small["errors"]
    extensions = refusal(post(gateway, query, {"n": 100}))
    assert extensions["limit"] == "cost"
    # Same document again with the small value: the cached shape is per value.
    assert not post(gateway, query, {"n": 1}).get("errors")


@strawberry.type(description="A hall.")
class Hall:
    code: str = strawberry.field(description="Code.")
    windows: list[str] = strawberry.field(description="Window names.")


@strawberry.type
class HallsByCodeQuery:
    @strawberry.field(description="Halls by code, one result per code.")
    def halls(self, codes: list[str]) -> list[Hall | None]:
        return []


def test_a_list_of_keys_costs_by_its_length() -> None:
    """A hint's `size_argument`: the list is as long as the keys given (`nodes(ids:)`)."""
    halls = Module(
        "halls",
        "1.0",
        "h",
        query=HallsByCodeQuery,
        cost_hints={"Query.halls": CostHint(2, size_argument="codes"), "Hall.windows": 1},
    )
    guard = build_schema(compose_with_core([halls]), Settings()).guard
    assert guard.analyzer is not None
    # 2 for the field itself, 1 per code for the list of windows (scalars cost nothing).
    literal = '{ halls(codes: ["a", "b", "c"]) { code windows } }'
    assert guard.analyzer.analyze(parse(literal)).cost == 2 + 3
    assert guard.analyzer.analyze(parse('{ halls(codes: "a") { windows } }')).cost == 2 + 1
    query = "query($codes: [String!]!) { halls(codes: $codes) { windows } }"
    document = parse(query)
    seven = guard.shape(query, document, None, {"codes": [str(i) for i in range(7)]})
    assert seven.cost == 2 + 7
    # Only the length matters: other codes of the same number reuse the cached shape.
    assert guard.shape(query, document, None, {"codes": list("abcdefg")}) is seven
    # A list longer than the page-size maximum costs as the maximum (the field refuses it).
    assert guard.shape(query, document, None, {"codes": ["x"] * 500}).cost == 2 + 100


def test_a_document_is_validated_once(gateway: GatewayProcess) -> None:
    query = "query ValidatedOnce { affairsCatalogStats { totalItems } }"
    before = gateway.metric("onestop_graphql_document_validations_total")
    for _ in range(100):
        assert gateway.data(query)
    assert gateway.metric("onestop_graphql_document_validations_total") == before + 1


def test_a_document_is_validated_once_in_production(
    start_gateway: Any, external_module_path: Path
) -> None:
    """Production adds the no-introspection rule; the validation cache must still hit
    (strawberry's DisableIntrospection extension made a new rule tuple per request)."""
    token = "scrape-validations"
    gateway: GatewayProcess = start_gateway(
        prod_env(external_module_path, ONESTOP_METRICS_TOKEN=token, ONESTOP_RESPONSE_CACHE="false")
    )
    try:
        query = "query ValidatedOnceInProd { affairsCatalogStats { totalItems } }"
        series = "onestop_graphql_document_validations_total"
        assert gateway.data(query)
        before = gateway.metric(series, token=token)
        # Concurrent, so several requests are in flight at once (a rule tuple per request
        # could otherwise be freed and its id reused by the next one, hiding the miss).
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: gateway.data(query), range(100)))
        assert all(answers)
        assert gateway.metric(series, token=token) == before
        # ...and introspection is still refused there, from the cached validation too.
        for _ in range(2):
            refused = gateway.graphql("{ __schema { queryType { name } } }").json()
            assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    finally:
        gateway.stop()


def test_refusals_are_counted_by_limit(gateway: GatewayProcess) -> None:
    labels = '{limit="cost"}'
    before = gateway.metric("onestop_graphql_document_refusals_total", labels)
    refusal(post(gateway, FAN_OUT))
    assert gateway.metric("onestop_graphql_document_refusals_total", labels) == before + 1


def test_every_admitted_or_refused_operation_has_its_cost_measured(
    gateway: GatewayProcess,
) -> None:
    # A name outside the known operations: counted as unknown (tests/gateway/test_metrics.py).
    before = gateway.metric("onestop_graphql_operation_cost_count", '{operation="unknown"}')
    post(gateway, "query CostSeen { affairItems(first: 2) { edges { node { code } } } }")
    refusal(post(gateway, FAN_OUT.replace("{ affairItems", "query CostSeen { affairItems", 1)))
    after = gateway.metric("onestop_graphql_operation_cost_count", '{operation="unknown"}')
    assert after == before + 2


def test_the_cost_limit_in_warn_mode_runs_and_counts_but_other_limits_hold(
    start_gateway,
) -> None:
    """Rolling a new cost limit out: over-cost operations run and are counted, not refused;
    depth, aliases and the other limits that protect the server are still enforced."""
    warned = start_gateway({"ONESTOP_COST_LIMIT_MODE": "warn", "ONESTOP_MAX_QUERY_COST": "50"})
    page = "{ affairItems(first: 60) { edges { node { code department { name } } } } }"
    before = warned.metric("onestop_graphql_cost_limit_warnings_total")
    payload = post(warned, page)
    assert "errors" not in payload and len(payload["data"]["affairItems"]["edges"]) == 60
    assert warned.metric("onestop_graphql_cost_limit_warnings_total") == before + 1
    deep = "{ affairItems(first: 1) { edges { node { faq { items { faq { items { faq { items { faq { items { faq { items { code } } } } } } } } } } } } } }"
    assert refusal(post(warned, deep))["limit"] == "depth"
    assert refusal(post(warned, FRAGMENT_BOMB))["limit"] == "fields"


@pytest.mark.parametrize(
    ("repeats", "code"),
    [(10_000, "GRAPHQL_PARSE_FAILED"), (500, "GRAPHQL_VALIDATION_FAILED")],
)
def test_repeated_directives_are_refused_before_execution(
    gateway: GatewayProcess, repeats: int, code: str
) -> None:
    document = "{ __typename" + " @skip(if: false)" * repeats + " }"
    payload = post(gateway, document)
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == code
