"""/metrics lives on the internal metrics port only (ONESTOP_METRICS_PORT), optionally
behind ONESTOP_METRICS_TOKEN; the public port never serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import GatewayProcess, prod_env

METRICS_TOKEN = "scrape-me-4f1c9a"


@pytest.fixture(scope="module")
def prod_with_token(start_gateway: Any, external_module_path: Path) -> GatewayProcess:
    gateway: GatewayProcess = start_gateway(
        prod_env(external_module_path, ONESTOP_METRICS_TOKEN=METRICS_TOKEN)
    )
    return gateway


def test_the_public_port_serves_no_metrics(gateway: GatewayProcess) -> None:
    response = gateway.client.get("/metrics")
    assert response.status_code == 404
    assert "onestop_" not in response.text
    # The same answer as any unknown path.
    assert response.text == gateway.client.get("/no-such-path").text
    assert "onestop_http_requests_total" in gateway.scrape()
    assert '"metrics served"' in gateway.log()


def test_the_metrics_port_answers_metrics_only(gateway: GatewayProcess) -> None:
    base = gateway.metrics_url.removesuffix("/metrics")
    assert httpx.get(f"{base}/graphql").status_code == 404
    assert httpx.get(f"{base}/").status_code == 404
    response = httpx.get(gateway.metrics_url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


def test_a_metrics_token_is_asked_for_on_the_metrics_port(
    prod_with_token: GatewayProcess,
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
        {"Authorization": METRICS_TOKEN},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
    ):
        response = httpx.get(prod_with_token.metrics_url, headers=headers)
        assert response.status_code == 404, headers
        assert "onestop_" not in response.text
    assert "onestop_" in prod_with_token.scrape(token=METRICS_TOKEN)
    # Nor does the public port serve it with the token; and the token is no session token.
    public = prod_with_token.client.get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert public.status_code == 401
    denied = prod_with_token.graphql("{ me { id } }", token=METRICS_TOKEN)
    assert denied.status_code == 401


def test_metrics_port_zero_serves_none(start_gateway: Any) -> None:
    gateway: GatewayProcess = start_gateway({"ONESTOP_METRICS_PORT": "0"})
    try:
        assert gateway.client.get("/healthz").status_code == 200
        assert gateway.data("{ __typename }")
        assert "metrics served" not in gateway.log()
    finally:
        gateway.stop()
