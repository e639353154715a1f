"""The request rate limit over HTTP (gateway/extensions/rate_limit.py): per address for
anonymous callers, per principal for signed-in ones, shared by every gateway process on one
Redis; over it, HTTP 429 with Retry-After and RATE_LIMITED with retryAfter."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx
import pytest
from harness import GatewayProcess, unique_db

TYPENAME = "{ __typename }"
LIMITS = {
    # 5 at once, then one every 10 s: a test never sees a refill it did not wait for.
    "ONESTOP_RATE_LIMIT_ADDRESS_BURST": "5",
    "ONESTOP_RATE_LIMIT_ADDRESS_PER_MINUTE": "6",
    # 40 at once, then one every 10 s; a process takes 2 tokens per Redis round trip.
    "ONESTOP_RATE_LIMIT_PRINCIPAL_BURST": "40",
    "ONESTOP_RATE_LIMIT_PRINCIPAL_PER_MINUTE": "6",
    "ONESTOP_SEED_ON_START": "false",
}
# Each test its own client address (the gateway believes X-Forwarded-For from 127.0.0.1,
# as from a reverse proxy), so their buckets are fresh whatever ran before on this Redis.
_addresses = (f"10.91.{run % 250}.{n}" for run in [int(time.time())] for n in itertools.count(1))


def client() -> dict[str, str]:
    return {"X-Forwarded-For": next(_addresses)}


@pytest.fixture(scope="module")
def pair(start_gateway: Any) -> tuple[GatewayProcess, GatewayProcess]:
    """Two gateway processes on one database and one Redis, with one signing key: two
    replicas."""
    db = unique_db("ratelimit")
    first = start_gateway(LIMITS, db=db)
    second = start_gateway({**LIMITS, "ONESTOP_DATA_DIR": str(first.data_dir)}, db=db)
    return first, second


def refused(response: httpx.Response) -> int:
    """Assert a rate-limit refusal; return its Retry-After in seconds."""
    assert response.status_code == 429, response.text
    wait = int(response.headers["retry-after"])
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": wait}, error
    assert "请求过于频繁" in error["message"] and f"retry in {wait}s" in error["message"]
    return wait


def test_a_burst_over_the_limit_is_refused_by_either_process(
    pair: tuple[GatewayProcess, GatewayProcess],
) -> None:
    first, second = pair
    headers = client()
    answers = [first.graphql(TYPENAME, headers=headers) for _ in range(3)]
    answers += [second.graphql(TYPENAME, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    # The bucket is shared through Redis: both processes have nothing left to give.
    for gateway in (first, second):
        wait = refused(gateway.graphql(TYPENAME, headers=headers))
        assert 1 <= wait <= 10
    before = first.metric("onestop_rate_limited_total", '{kind="address"}')
    refused(first.graphql(TYPENAME, headers=headers))
    assert first.metric("onestop_rate_limited_total", '{kind="address"}') == before + 1
    # Another address has its own allowance.
    assert first.graphql(TYPENAME, headers=client()).status_code == 200


def test_a_signed_in_caller_counts_as_themselves_on_every_replica(
    pair: tuple[GatewayProcess, GatewayProcess],
) -> None:
    """Each process leases tokens two at a time, yet the 40 of the burst are all served
    and the 41st is refused by both: the leases neither add nor lose tokens."""
    first, second = pair
    headers, token = client(), first.token("ratelimit-citizen")
    for n in range(40):
        answer = (first, second)[n % 2].graphql(TYPENAME, token=token, headers=headers)
        assert answer.status_code == 200, (n, answer.text)
    for gateway in (first, second):
        wait = refused(gateway.graphql(TYPENAME, token=token, headers=headers))
        assert 1 <= wait <= 10
    before = first.metric("onestop_rate_limited_total", '{kind="principal"}')
    refused(first.graphql(TYPENAME, token=token, headers=headers))
    assert first.metric("onestop_rate_limited_total", '{kind="principal"}') == before + 1
    # Neither the address's anonymous allowance nor another citizen's was spent.
    assert first.graphql(TYPENAME, headers=headers).status_code == 200
    other = first.token("ratelimit-other")
    assert second.graphql(TYPENAME, token=other, headers=headers).status_code == 200


def test_a_page_on_an_allowed_origin_can_read_the_refusal(
    pair: tuple[GatewayProcess, GatewayProcess],
) -> None:
    gateway = pair[1]
    headers = {**client(), "Origin": "http://localhost:5173"}
    answers = [gateway.graphql(TYPENAME, headers=headers) for _ in range(6)]
    last = answers[-1]
    refused(last)
    assert last.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "retry-after" in last.headers["access-control-expose-headers"].lower()


def test_operations_are_limited_not_probes(pair: tuple[GatewayProcess, GatewayProcess]) -> None:
    """Health probes and preflights never spend a client's allowance."""
    gateway = pair[0]
    headers = client()
    for _ in range(10):
        assert gateway.client.get("/healthz", headers=headers).status_code == 200
        preflight = gateway.client.options(
            "/graphql",
            headers={
                **headers,
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "POST",
            },
        )
        assert preflight.status_code == 200, preflight.text
    answers = [gateway.graphql(TYPENAME, headers=headers) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
