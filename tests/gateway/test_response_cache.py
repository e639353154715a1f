"""The response cache over HTTP: public catalog queries are served without executing, a
write is visible on the next request, and nothing that depends on who asks is ever shared.

Runs on a gateway of its own (its own database), so other files' edits do not interfere.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from harness import GatewayProcess, OwnGateway, unique_db

ITEMS = "{ affairItems(first: 3) { totalCount edges { node { code name version } } } }"
ONE = "query One($c: String!) { affairItem(code: $c) { code name version keywords } }"
UPDATE = """mutation U($c: String!, $k: [String!]) {
  updateAffairItem(code: $c, patch: {keywords: $k}) { item { version } } }"""


@pytest.fixture(scope="module")
def gateway(own_gateway: OwnGateway) -> GatewayProcess:
    return own_gateway.gateway


def post(gateway: GatewayProcess, query: str, variables: dict[str, Any] | None = None, **kw: Any):
    return gateway.graphql(query, variables, **kw)


def outcome(response: httpx.Response) -> str | None:
    return response.headers.get("x-onestop-cache")


def cache_counter(gateway: GatewayProcess, result: str) -> float:
    text = gateway.scrape()
    match = re.search(rf'onestop_response_cache_total{{result="{result}"}} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


def test_a_public_query_is_served_from_the_cache(gateway: GatewayProcess) -> None:
    query = ITEMS.replace("first: 3", "first: 4")  # a document no other test ran
    first = post(gateway, query)
    hits_before = cache_counter(gateway, "hit")
    second = post(gateway, query)
    assert outcome(first) == "miss" and outcome(second) == "hit"
    assert second.content == first.content  # byte for byte
    assert second.headers["cache-control"] == "public, max-age=300"
    assert cache_counter(gateway, "hit") == hits_before + 1


def test_variables_and_get_requests_are_keyed_apart(gateway: GatewayProcess) -> None:
    codes = [e["node"]["code"] for e in gateway.data(ITEMS)["affairItems"]["edges"]]
    answers = {}
    for code in codes[:2]:
        post(gateway, ONE, {"c": code})
        again = post(gateway, ONE, {"c": code})
        assert outcome(again) == "hit"
        answers[code] = again.json()["data"]["affairItem"]["code"]
    assert answers == {code: code for code in codes[:2]}
    params = {"query": ONE, "variables": f'{{"c": "{codes[0]}"}}'}
    gateway.client.get("/graphql", params=params)
    assert outcome(gateway.client.get("/graphql", params=params)) == "hit"


def test_an_edit_is_visible_on_the_next_request(gateway: GatewayProcess) -> None:
    node = gateway.data(ITEMS)["affairItems"]["edges"][2]["node"]
    department = gateway.data(
        "query($c: String!) { affairItem(code: $c) { departmentCode } }", {"c": node["code"]}
    )["affairItem"]["departmentCode"]
    post(gateway, ONE, {"c": node["code"]})
    assert outcome(post(gateway, ONE, {"c": node["code"]})) == "hit"
    staff = gateway.token(f"s-{uuid.uuid4().hex[:6]}", ("staff",), department=department)
    keyword = f"缓存{uuid.uuid4().hex[:4]}"
    gateway.data(UPDATE, {"c": node["code"], "k": [keyword]}, token=staff)
    fresh = post(gateway, ONE, {"c": node["code"]})
    assert outcome(fresh) == "miss"
    item = fresh.json()["data"]["affairItem"]
    assert item["version"] == node["version"] + 1 and keyword in item["keywords"]


def test_what_depends_on_who_asks_is_never_shared(gateway: GatewayProcess) -> None:
    history = """query H($c: String!) { affairItem(code: $c) {
      versions { version changedBy } } }"""
    node = gateway.data(ITEMS)["affairItems"]["edges"][2]["node"]  # edited above
    department = gateway.data(
        "query($c: String!) { affairItem(code: $c) { departmentCode } }", {"c": node["code"]}
    )["affairItem"]["departmentCode"]
    staff = gateway.token("s-history", ("staff",), department=department)
    seen_by_staff = post(gateway, history, {"c": node["code"]}, token=staff)
    seen_by_public = post(gateway, history, {"c": node["code"]})
    assert outcome(seen_by_staff) is None and outcome(seen_by_public) is None
    assert seen_by_staff.headers["cache-control"] == "private, max-age=300"
    staff_editors = [v["changedBy"] for v in seen_by_staff.json()["data"]["affairItem"]["versions"]]
    public_editors = [
        v["changedBy"] for v in seen_by_public.json()["data"]["affairItem"]["versions"]
    ]
    assert staff_editors[0] is not None and staff_editors[0] != "seed"
    assert public_editors[0] is None  # never the staff member's id


@pytest.mark.parametrize(
    "query",
    [
        "{ me { subjectId } }",  # root field without a hint
        "{ auditEvents(first: 1) { totalCount } }",  # requires a permission
        '{ affairItem(code: "NO-SUCH-ITEM") { code } }',  # an error: not kept
    ],
)
def test_private_unhinted_and_failed_answers_are_not_kept(
    gateway: GatewayProcess, query: str
) -> None:
    admin = gateway.token("admin-cache", ("admin",))
    for _ in range(2):
        response = post(gateway, query, token=admin)
        assert outcome(response) is None
        assert response.headers["cache-control"] in ("no-store", "private, max-age=300")


def test_mutations_and_debug_requests_bypass_the_cache(gateway: GatewayProcess) -> None:
    response = post(gateway, 'mutation { requestLoginCode(phone: "13800138000") { expiresIn } }')
    assert response.headers["cache-control"] == "no-store" and outcome(response) is None
    post(gateway, ITEMS)
    debug = post(gateway, ITEMS, headers={"X-OneStop-Debug": "db-commands"})
    assert outcome(debug) is None and "dbCommands" in debug.json()["extensions"]


def test_an_edit_on_one_replica_is_visible_on_another(start_gateway) -> None:
    """Replicas share the cache (Redis): the data version bumped by a write on one is the
    key every other one reads next, so none serves the old response."""
    name = unique_db("replicas")
    first, second = start_gateway(db=name), start_gateway(db=name)
    node = first.data(ITEMS)["affairItems"]["edges"][0]["node"]
    department = first.data(
        "query($c: String!) { affairItem(code: $c) { departmentCode } }", {"c": node["code"]}
    )["affairItem"]["departmentCode"]
    for _ in range(2):
        post(second, ONE, {"c": node["code"]})
    assert outcome(post(second, ONE, {"c": node["code"]})) == "hit"
    staff = first.token("s-replica", ("staff",), department=department)
    first.data(UPDATE, {"c": node["code"], "k": ["复制"]}, token=staff)
    fresh = post(second, ONE, {"c": node["code"]})
    assert outcome(fresh) == "miss"
    assert "复制" in fresh.json()["data"]["affairItem"]["keywords"]
