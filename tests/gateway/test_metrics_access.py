"""/metrics in production: only with ONESTOP_METRICS_TOKEN, otherwise not served; open in dev.

(A separate internal port for ops endpoints is issue 12's.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import GatewayProcess, prod_env

METRICS_TOKEN = "scrape-me-4f1c9a"


@pytest.fixture(scope="module")
def prod_with_token(start_gateway: Any, external_module_path: Path) -> GatewayProcess:
    gateway: GatewayProcess = start_gateway(
        prod_env(external_module_path, ONESTOP_METRICS_TOKEN=METRICS_TOKEN)
    )
    return gateway


def test_prod_metrics_need_the_token(prod_with_token: GatewayProcess) -> None:
    client = prod_with_token.client
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
        {"Authorization": METRICS_TOKEN},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
    ):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404, headers
        assert "onestop_" not in response.text
    # The same answer as any unknown path.
    assert response.text == client.get("/no-such-path").text
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert "onestop_" in response.text
    # The metrics token is not a session token: GraphQL still refuses it.
    denied = prod_with_token.graphql("{ me { id } }", token=METRICS_TOKEN)
    assert denied.status_code == 401


def test_prod_without_a_token_serves_no_metrics(
    start_gateway: Any, external_module_path: Path
) -> None:
    gateway: GatewayProcess = start_gateway(prod_env(external_module_path))
    try:
        assert gateway.client.get("/metrics").status_code == 404
        response = gateway.client.get("/metrics", headers={"Authorization": "Bearer None"})
        assert response.status_code == 404
        assert gateway.client.get("/healthz").status_code == 200
    finally:
        gateway.stop()


def test_dev_metrics_stay_open(gateway: GatewayProcess) -> None:
    response = gateway.client.get("/metrics")
    assert response.status_code == 200
    assert "onestop_" in response.text
