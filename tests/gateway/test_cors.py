"""CORS over HTTP: preflights from allowed and other origins, the headers Apollo Client and a
page need, refusals a page can read, and the allow-list syntax (gateway/cors.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import GatewayProcess, prod_env

from gateway.config import ConfigError, Environment, Settings, load_settings, origin_regex

APOLLO_HEADERS = (
    "content-type, authorization, apollographql-client-name, apollographql-client-version"
)


def preflight(
    gateway: GatewayProcess, origin: str, headers: str = APOLLO_HEADERS
) -> httpx.Response:
    return gateway.client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


def test_a_page_on_localhost_passes_preflight_in_dev(gateway: GatewayProcess) -> None:
    response = preflight(gateway, "http://localhost:5173")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {h.strip() for h in APOLLO_HEADERS.split(",")} <= allowed
    assert {"apollo-require-preflight", "x-request-id"} <= allowed
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-max-age"] == "600"  # the browser keeps the answer
    assert "access-control-allow-credentials" not in response.headers  # tokens, not cookies


def test_other_origins_and_headers_are_refused_with_a_readable_error(
    gateway: GatewayProcess,
) -> None:
    for origin, headers, refused in (
        ("https://evil.example", APOLLO_HEADERS, "origin"),
        ("http://localhost.evil.example:5173", APOLLO_HEADERS, "origin"),
        ("http://localhost:5173", "content-type, x-forwarded-for", "headers"),
    ):
        response = preflight(gateway, origin, headers)
        assert response.status_code == 400, origin
        if refused == "origin":
            assert "access-control-allow-origin" not in response.headers
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "BAD_REQUEST", "cors": refused}


def test_a_page_reads_answers_and_refusals_with_their_headers(gateway: GatewayProcess) -> None:
    origin = {"Origin": "http://127.0.0.1:8080"}
    answer = gateway.client.post("/graphql", json={"query": "{ __typename }"}, headers=origin)
    assert answer.json() == {"data": {"__typename": "Query"}}
    assert answer.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert {"x-request-id", "x-onestop-cache", "retry-after"} <= {
        h.strip() for h in exposed.split(",")
    }
    assert "Origin" in answer.headers["vary"]
    # A refused token is answered before the GraphQL layer: the page must still read it.
    refused = gateway.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={**origin, "Authorization": "Bearer not-a-token"},
    )
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"
    # Without an Origin (the mini-program's wx.request, servers) nothing changes.
    plain = gateway.client.post("/graphql", json={"query": "{ __typename }"})
    assert "access-control-allow-origin" not in plain.headers
    # …but a shared cache must not hand that answer to a page: it varies by Origin.
    assert "Origin" in plain.headers["vary"]


@pytest.fixture(scope="module")
def district_gateway(start_gateway: Any, external_module_path: Path) -> GatewayProcess:
    """Production with the district's H5 domain and one admin console on its own port."""
    gateway: GatewayProcess = start_gateway(
        prod_env(
            external_module_path,
            ONESTOP_CORS_ORIGINS="https://*.luohu.gov.cn, https://admin.onestop.example:8443",
            ONESTOP_CORS_MAX_AGE="3600",
        )
    )
    return gateway


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://h5.luohu.gov.cn", True),
        ("https://admin.onestop.example:8443", True),
        ("http://h5.luohu.gov.cn", False),  # not https
        ("https://a.b.luohu.gov.cn", False),  # '*' is one label
        ("https://luohu.gov.cn.evil.example", False),
        ("https://admin.onestop.example", False),  # another port
        ("http://localhost:5173", False),  # dev's default is not prod's
    ],
)
def test_production_allows_exactly_its_list(
    district_gateway: GatewayProcess, origin: str, allowed: bool
) -> None:
    response = preflight(district_gateway, origin)
    assert response.status_code == (200 if allowed else 400)
    assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
    if allowed:
        assert response.headers["access-control-max-age"] == "3600"


def test_production_allows_no_origin_unless_configured() -> None:
    prod = Settings.model_construct(env=Environment.PROD, cors_origins=None)
    assert prod.allowed_origins == ()
    assert origin_regex(prod.allowed_origins) is None
    dev = Settings.model_construct(env=Environment.DEV, cors_origins=None)
    pattern = origin_regex(dev.allowed_origins)
    assert pattern is not None
    assert re.fullmatch(pattern, "http://localhost:3000")
    assert not re.fullmatch(pattern, "https://localhost:3000")


@pytest.mark.parametrize(
    "entry",
    ["h5.luohu.gov.cn", "https://h5*.luohu.gov.cn", "https://h5.luohu.gov.cn/", "ftp://x.cn"],
)
def test_an_entry_that_is_not_an_origin_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("ONESTOP_CORS_ORIGINS", entry)
    with pytest.raises(ConfigError, match="ONESTOP_CORS_ORIGINS"):
        load_settings()
