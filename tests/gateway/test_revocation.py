"""Revocation survives a Redis restart: logged-out and replayed sessions stay dead.

The gateway has its own redis-server (no persistence, like the default Debian
cache set-up), restarted on the same port in the middle of the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import RedisServer
from test_auth import LOGOUT, REFRESH, sign_in, unauthenticated


def test_revocations_survive_a_redis_restart(
    start_gateway: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("revocation-redis")
    redis = RedisServer(workdir)
    gateway = start_gateway({"ONESTOP_REDIS_URL": redis.url, "ONESTOP_SEED_ON_START": "false"})
    try:
        logged_out = sign_in(gateway)
        assert gateway.data(LOGOUT, {"t": logged_out["refreshToken"]})["logout"] is True
        unauthenticated(gateway.graphql("{ me { id } }", token=logged_out["accessToken"]))

        rotated_from = sign_in(gateway)
        rotated = gateway.data(REFRESH, {"t": rotated_from["refreshToken"]})["refreshToken"]
        kept = sign_in(gateway)

        # The cache forgets everything: revocation marks, used refresh tokens.
        redis.stop()
        redis = RedisServer(workdir, port=redis.port)

        unauthenticated(gateway.graphql("{ me { id } }", token=logged_out["accessToken"]))
        error = gateway.errors(REFRESH, {"t": logged_out["refreshToken"]})[0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        # A session that was not revoked keeps working.
        assert gateway.data("{ me { id } }", token=kept["accessToken"])["me"]["id"]
        # A used refresh token is still known as used: its replay revokes the session.
        error = gateway.errors(REFRESH, {"t": rotated_from["refreshToken"]})[0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        unauthenticated(gateway.graphql("{ me { id } }", token=rotated["accessToken"]))
        # And signing in afresh works.
        fresh = sign_in(gateway)
        assert gateway.data("{ me { id } }", token=fresh["accessToken"])["me"]["id"]
    finally:
        gateway.stop()
        redis.stop()
