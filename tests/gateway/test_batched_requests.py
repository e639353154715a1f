"""Batched requests (a JSON array of operations) over HTTP: each answered as if sent alone,
in order, into one array; capped by ONESTOP_MAX_BATCH_OPERATIONS."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
from harness import GatewayProcess

STATS = "{ affairsCatalogStats { totalItems } }"


def batch(gateway: GatewayProcess, operations: Any, **headers: str) -> httpx.Response:
    return gateway.client.post(
        "/graphql",
        content=json.dumps(operations).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


def test_each_operation_is_answered_in_order(gateway: GatewayProcess) -> None:
    token = gateway.token("batch-citizen")
    response = batch(
        gateway,
        [
            {"query": STATS},
            {"query": "query Me { me { id } }", "operationName": "Me"},
            {"query": "{ nope }"},
            {
                "query": "query($c: String!) { affairItem(code: $c) { name } }",
                "variables": {"c": 1},
            },
            "not an operation",
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
        ],
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 200, response.text
    stats, me, unknown, variables, garbage, persisted = response.json()
    assert stats["data"]["affairsCatalogStats"]["totalItems"] > 0
    # The request's token counts for every operation (a global id: Viewer:<subject>).
    assert base64.urlsafe_b64decode(me["data"]["me"]["id"] + "==") == b"Viewer:batch-citizen"
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert variables["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert garbage["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert persisted["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_a_batch_is_capped(gateway: GatewayProcess) -> None:
    for operations in ([], [{"query": STATS}] * 11):
        response = batch(gateway, operations)
        assert response.status_code == 400, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert f"a batch holds 1 to 10 operations; got {len(operations)}" in error["message"]
    assert len(batch(gateway, [{"query": STATS}] * 10).json()) == 10


def test_a_batch_cannot_carry_an_idempotency_key(gateway: GatewayProcess) -> None:
    response = batch(
        gateway,
        [{"query": 'mutation { logout(refreshToken: "x") }'}],
        **{"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert "send the mutation alone" in response.json()["errors"][0]["message"]


def test_batched_operations_bypass_the_response_cache(gateway: GatewayProcess) -> None:
    """A kept answer is keyed per request; a batch neither reads nor fills it."""
    query = f'{{ affairItems(search: "{uuid.uuid4().hex[:6]}护照", first: 1) {{ totalCount }} }}'
    first = batch(gateway, [{"query": query}, {"query": query}])
    assert "x-onestop-cache" not in first.headers
    single = gateway.graphql(query)
    assert single.headers.get("x-onestop-cache") != "hit"  # the batch kept nothing
    assert json.loads(first.content)[0] == single.json()
