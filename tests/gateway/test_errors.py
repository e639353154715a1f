"""Error codes over HTTP, and masking of unexpected errors in production."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from harness import GatewayProcess


def code_of(errors: list[dict]) -> str:
    return errors[0]["extensions"]["code"]


def test_syntax_error_is_graphql_parse_failed(gateway: GatewayProcess) -> None:
    assert code_of(gateway.errors("{ me { id ")) == "GRAPHQL_PARSE_FAILED"


def test_unknown_field_is_graphql_validation_failed(gateway: GatewayProcess) -> None:
    assert code_of(gateway.errors("{ noSuchField }")) == "GRAPHQL_VALIDATION_FAILED"


def test_wrong_variable_value_is_bad_user_input(gateway: GatewayProcess) -> None:
    query = "mutation($p: String!) { requestLoginCode(phone: $p) { maskedPhone } }"
    assert code_of(gateway.errors(query, {"p": 13800138000})) == "BAD_USER_INPUT"
    assert code_of(gateway.errors(query, {})) == "BAD_USER_INPUT"


def test_depth_and_alias_limits_reject_before_execution(gateway: GatewayProcess) -> None:
    aliases = " ".join(f"a{i}: me {{ id }}" for i in range(40))
    assert code_of(gateway.errors(f"{{ {aliases} }}")) == "GRAPHQL_VALIDATION_FAILED"
    deep = "{ modules { permissions { name } } }"
    assert gateway.data(deep)
    huge = "{ " + "me { id } " * 3000 + "}"
    assert code_of(gateway.errors(huge)) in {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}


def test_get_cannot_run_mutations(gateway: GatewayProcess) -> None:
    response = gateway.client.get(
        "/graphql",
        params={"query": 'mutation { requestLoginCode(phone: "13800000000") { maskedPhone } }'},
    )
    assert response.status_code in (400, 405)


def test_unexpected_error_shows_its_message_in_dev(weather_gateway: GatewayProcess) -> None:
    error = weather_gateway.errors("{ weatherBoom }")[0]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["requestId"]
    assert "unreachable" in error["message"]


@pytest.fixture(scope="module")
def prod_gateway(start_gateway, external_module_path: Path, tmp_path_factory) -> GatewayProcess:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    outbox = tmp_path_factory.mktemp("sms") / "outbox.txt"
    return start_gateway(
        {
            "ONESTOP_ENV": "prod",
            "ONESTOP_JWT_PRIVATE_KEY": pem,
            "ONESTOP_JWT_KID": "prod-2026-11",
            "ONESTOP_LOGIN_CODE_SENDER": "onestop_weather.module:CollectingSender",
            "ONESTOP_UPLOAD_URL_SECRET": "s" * 32,
            "WEATHER_SMS_OUTBOX": str(outbox),
            "PYTHONPATH": os.pathsep.join([str(external_module_path), os.environ["PYTHONPATH"]]),
        }
    )


def test_unexpected_error_is_masked_and_logged_with_request_id_in_prod(
    prod_gateway: GatewayProcess,
) -> None:
    response = prod_gateway.graphql("{ weatherBoom }", headers={"X-Request-ID": "req-boom-1"})
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "req-boom-1"}
    assert "hunter2" not in error["message"] and "unreachable" not in error["message"]
    assert "req-boom-1" in error["message"]
    log = prod_gateway.log()
    assert '"requestId": "req-boom-1"' in log
    assert "RuntimeError" in log
    assert "13812345678" not in log  # PII in an exception message is scrubbed from logs
    assert "138****5678" in log


def test_prod_hides_login_codes_graphiql_and_introspection(prod_gateway: GatewayProcess) -> None:
    sent = prod_gateway.data(
        'mutation { requestLoginCode(phone: "13600136000") { maskedPhone devCode } }'
    )
    assert sent["requestLoginCode"] == {"maskedPhone": "136****6000", "devCode": None}
    assert "13600136000" not in prod_gateway.log()
    assert code_of(prod_gateway.errors("{ __schema { types { name } } }")) == (
        "GRAPHQL_VALIDATION_FAILED"
    )
    page = prod_gateway.client.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    jwks = prod_gateway.client.get("/.well-known/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == ["prod-2026-11"]


def test_oversized_request_body_is_413(gateway: GatewayProcess) -> None:
    big = {"query": "{ me { id } }", "variables": {"pad": "x" * 1_200_000}}
    response = gateway.client.post("/graphql", json=big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert gateway.client.get("/healthz").status_code == 200


def test_oversized_streamed_body_is_413(gateway: GatewayProcess) -> None:
    def chunks():
        yield b'{"query": "{ me { id } }", "variables": {"pad": "'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'"}}'

    # The server answers 413 and stops reading; a client still uploading may instead see the
    # connection reset. Either way the gateway must not buffer the body or fall over.
    try:
        with httpx.Client(base_url=gateway.url) as client:  # its own connection to break
            response = client.post(
                "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
            )
        assert response.status_code == 413
    except httpx.TransportError:
        pass
    assert gateway.client.get("/healthz").status_code == 200
    assert "Traceback" not in gateway.log().split("request body")[-1]


def test_prod_suggests_no_names(prod_gateway: GatewayProcess) -> None:
    probes = [
        ('{ affairItem(code: "x") { nam } }', None),
        ("{ affairItms(first: 1) { totalCount } }", None),
        ("{ affairItems(frist: 1) { totalCount } }", None),
        ("mutation { createAffairItm { item { code } } }", None),
        ("{ affairItems(sort: RELEVANS) { totalCount } }", None),
        ("query($s: AffairItemSort) { affairItems(sort: $s) { totalCount } }", {"s": "RELEVANS"}),
        ('{ affairItem(code: "x") { ... on AffairItm { code } } }', None),
        ("query($f: AffairItemFiltr) { affairItems(filter: $f) { totalCount } }", None),
        (
            "query($f: AffairItemFilter) { affairItems(filter: $f) { totalCount } }",
            {"f": {"departmentCode": ["x"]}},
        ),
        ("{ __typenam }", None),
    ]
    for query, variables in probes:
        errors = prod_gateway.errors(query, variables)
        for error in errors:
            assert "Did you mean" not in error["message"], (query, error)
            assert error["extensions"]["code"] in {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}


def test_dev_still_suggests_names(gateway: GatewayProcess) -> None:
    error = gateway.errors('{ affairItem(code: "x") { nam } }')[0]
    assert "Did you mean 'name'" in error["message"]
