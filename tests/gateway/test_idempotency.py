"""Idempotency-Key over HTTP (gateway/idempotency.py): a retried mutation gets the first
answer, concurrent duplicates run once, a key names one request, queries ignore it."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from harness import GatewayProcess

# Requesting a login code sends an SMS and spends the phone's quota: what a retry must not do.
LOGIN_CODE = "mutation($p: String!) { requestLoginCode(phone: $p) { devCode } }"
_phones = iter(range(10_000))


def fresh_phone() -> str:
    return f"1372{int(time.time()) % 10_000:04d}{next(_phones):03d}"


# A client address of this file's own (the gateway believes X-Forwarded-For from 127.0.0.1,
# as from a reverse proxy): its codes do not spend the per-address quota other files use.
CLIENT = {"X-Forwarded-For": "10.77.0.9"}


def request_code(gateway: GatewayProcess, phone: str, key: str | None) -> httpx.Response:
    headers = {**CLIENT, "Idempotency-Key": key} if key else CLIENT
    return gateway.graphql(LOGIN_CODE, {"p": phone}, headers=headers)


def test_a_retried_mutation_gets_the_first_answer_and_runs_once(gateway: GatewayProcess) -> None:
    phone, key = fresh_phone(), str(uuid.uuid4())
    first = request_code(gateway, phone, key)
    code = first.json()["data"]["requestLoginCode"]["devCode"]
    assert "idempotent-replayed" not in first.headers
    again = request_code(gateway, phone, key)  # the app's retry after a lost answer
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    # It did not run again: a new request (no key) still sees the first code's cooldown.
    fresh = request_code(gateway, phone, None).json()
    assert fresh["errors"][0]["extensions"]["code"] == "RATE_LIMITED", fresh
    assert code == again.json()["data"]["requestLoginCode"]["devCode"]


def test_concurrent_duplicates_run_once(gateway: GatewayProcess) -> None:
    phone, key = fresh_phone(), str(uuid.uuid4())
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: request_code(gateway, phone, key), range(12)))
    ran = [a for a in answers if a.status_code == 200 and "idempotent-replayed" not in a.headers]
    assert len(ran) == 1, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 200:
            assert answer.content == ran[0].content  # replays of the one run
        else:
            assert answer.status_code == 409, answer.text
            assert answer.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
            assert answer.headers["retry-after"] == "1"


def test_a_key_names_one_request(gateway: GatewayProcess) -> None:
    key = str(uuid.uuid4())
    assert request_code(gateway, fresh_phone(), key).status_code == 200
    other = request_code(gateway, fresh_phone(), key)  # other variables, same key
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "different request" in other.json()["errors"][0]["message"]


def test_keys_are_per_principal(gateway: GatewayProcess) -> None:
    """The same key from two citizens: two runs, neither sees the other's answer."""
    key, query = str(uuid.uuid4()), 'mutation { logout(refreshToken: "x") }'
    answers: list[Any] = [
        gateway.graphql(query, token=gateway.token(subject), headers={"Idempotency-Key": key})
        for subject in ("idem-a", "idem-b")
    ]
    assert all("idempotent-replayed" not in a.headers for a in answers)
    again = gateway.graphql(query, token=gateway.token("idem-a"), headers={"Idempotency-Key": key})
    assert again.headers["idempotent-replayed"] == "true"  # the same citizen's retry


def test_malformed_keys_are_refused_and_queries_ignore_the_header(
    gateway: GatewayProcess,
) -> None:
    for key in ("short", "x" * 129, "has space inside"):
        refused = request_code(gateway, fresh_phone(), key)
        assert refused.status_code == 400, key
        assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    key = str(uuid.uuid4())
    for _ in range(2):
        query = gateway.graphql("{ __typename }", headers={"Idempotency-Key": key})
        assert query.status_code == 200
        assert "idempotent-replayed" not in query.headers


def test_a_retry_reaching_another_replica_is_recognised(
    gateway: GatewayProcess, start_gateway: Any
) -> None:
    """Two gateway processes on one Redis: the retry lands on the other one."""
    other: GatewayProcess = start_gateway({"ONESTOP_SEED_ON_START": "false"})
    phone, key = fresh_phone(), str(uuid.uuid4())
    first = request_code(gateway, phone, key)
    retry = request_code(other, phone, key)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
