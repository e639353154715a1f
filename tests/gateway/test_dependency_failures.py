"""Dependencies failing: UNAVAILABLE within seconds, naming the dependency, never a 500.

Each test owns the server it breaks: a redis-server it stops, an nx-27017 process it
freezes (SIGSTOP) and then kills.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from harness import GatewayProcess, RedisServer
from test_auth import LOGIN, LOGIN_CODE, REFRESH, fresh_phone, sign_in

from gateway.embedded import EmbeddedMongo

ADDRESS = re.compile(r"127\.0\.0\.1|localhost|:\d{4,5}\b")
CATALOG = '{ affairItems(search: "营业执照", first: 3) { totalCount edges { node { name } } } }'
UNCACHED = (
    '{ affairItems(search: "身份证", first: 2) { totalCount } }'  # not in the response cache yet
)


def timed(call: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call(*args, **kw)
    return result, time.monotonic() - started


def unavailable(errors: list[Any], dependency: str) -> None:
    error = errors[0]
    assert error["extensions"]["code"] == "UNAVAILABLE", error
    assert error["extensions"].get("dependency", dependency) == dependency
    assert not ADDRESS.search(error["message"]), error["message"]


def recovers(gateway: GatewayProcess, token: str) -> None:
    """Sessions work again within seconds of Redis answering, without a restart (the
    cache's circuit breaker tries Redis again a second after its last failure)."""
    deadline = time.monotonic() + 5
    while gateway.graphql("{ me { id } }", token=token).status_code != 200:
        assert time.monotonic() < deadline, "sessions did not recover once Redis was back"
        time.sleep(0.2)


def test_redis_down(start_gateway: Any, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    gateway = start_gateway({"ONESTOP_REDIS_URL": redis.url, "ONESTOP_SEED_ON_START": "false"})
    try:
        login = sign_in(gateway)
        phone = fresh_phone()
        redis.stop()

        # The catalog needs no Redis: anonymous reads go on (no rate limit, no response
        # cache, both skipped while the cache is down), and quickly.
        for query in (CATALOG, UNCACHED):
            response, elapsed = timed(gateway.graphql, query)
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text
            assert isinstance(response.json()["data"]["affairItems"]["totalCount"], int)
            assert elapsed < 2, elapsed

        response, elapsed = timed(gateway.graphql, "{ me { id } }", token=login["accessToken"])
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        unavailable(response.json()["errors"], "cache")
        assert "缓存" in response.json()["errors"][0]["message"]
        assert elapsed < 5, elapsed

        for query, variables in (
            (LOGIN_CODE, {"p": phone}),
            (LOGIN, {"p": phone, "c": "123456"}),
            (REFRESH, {"t": login["refreshToken"]}),
        ):
            response, elapsed = timed(gateway.graphql, query, variables)
            assert response.status_code == 503, response.text  # as the token check above
            assert response.headers["retry-after"] == "5"
            unavailable(response.json()["errors"], "cache")
            assert elapsed < 5, (query, elapsed)

        # Back on the same port, empty: the session still works (revocations reloaded).
        redis = RedisServer(tmp_path / "redis", port=redis.port)
        recovers(gateway, login["accessToken"])
        assert gateway.data("{ me { id } }", token=login["accessToken"])["me"]["id"]
    finally:
        gateway.stop()
        redis.stop()


def test_redis_frozen_then_resumed(start_gateway: Any, tmp_path: Path) -> None:
    """A Redis that accepts nothing and answers nothing (SIGSTOP): the worst kind."""
    redis = RedisServer(tmp_path / "redis")
    gateway = start_gateway({"ONESTOP_REDIS_URL": redis.url, "ONESTOP_SEED_ON_START": "false"})
    try:
        login = sign_in(gateway)
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            for query in (UNCACHED, CATALOG, UNCACHED.replace("first: 2", "first: 4")):
                response, elapsed = timed(gateway.graphql, query)
                assert response.status_code == 200, response.text
                assert "errors" not in response.json(), response.text
                assert isinstance(response.json()["data"]["affairItems"]["totalCount"], int)
                assert elapsed < 2, (query, elapsed)
            response, elapsed = timed(gateway.graphql, "{ me { id } }", token=login["accessToken"])
            assert response.status_code == 503, response.text
            unavailable(response.json()["errors"], "cache")
            assert elapsed < 2, elapsed
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        recovers(gateway, login["accessToken"])
    finally:
        gateway.stop()
        redis.stop()


@pytest.fixture
def own_database(tmp_path: Path) -> Any:
    server = EmbeddedMongo(tmp_path).start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


def test_database_frozen_then_killed(start_gateway: Any, own_database: EmbeddedMongo) -> None:
    gateway: GatewayProcess = start_gateway({"ONESTOP_MONGODB_URL": own_database.url})
    assert own_database.process is not None
    pid = own_database.process.pid
    try:
        assert gateway.data(CATALOG)["affairItems"]["totalCount"] > 0
        os.kill(pid, signal.SIGSTOP)
        try:
            # A public answer kept in the response cache is still served: that is what the
            # cache is for, and it is as right as it was a second ago.
            kept = gateway.graphql(CATALOG)
            assert kept.headers["x-onestop-cache"] == "hit", kept.text
            for query in (UNCACHED, '{ affairItem(code: "nope") { name } }'):
                response, elapsed = timed(gateway.graphql, query)
                # Nothing could be answered: 503 and when to retry, not a 200 to parse.
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == "5"
                unavailable(response.json()["errors"], "database")
                assert "数据库" in response.json()["errors"][0]["message"]
                assert elapsed < 2, (query, elapsed)  # ONESTOP_REQUEST_DEADLINE_MS: 1 s
            assert gateway.client.get("/healthz").status_code == 200
        finally:
            os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while gateway.graphql(UNCACHED).json().get("errors"):
            assert time.monotonic() < deadline, "queries did not recover after SIGCONT"
            time.sleep(0.2)
        assert gateway.data(CATALOG)["affairItems"]["totalCount"] > 0

        own_database.stop()  # killed: connection refused instead of silence
        response, elapsed = timed(gateway.graphql, UNCACHED.replace("first: 2", "first: 3"))
        assert response.status_code == 503, response.text
        unavailable(response.json()["errors"], "database")
        assert elapsed < 2, elapsed
    finally:
        gateway.stop()
