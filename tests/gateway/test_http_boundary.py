"""The HTTP/JSON boundary over HTTP: malformed bodies, bad strings and cursors never end in a 500.

Issue 6, findings 3 and 4: every refusal is JSON in the GraphQL error shape with a stable
code (``BAD_REQUEST`` for a malformed request, ``BAD_USER_INPUT`` for bad values,
``GRAPHQL_PARSE_FAILED`` for a document the lexer refuses), in dev and in prod, and the
gateway answers normally afterwards.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from harness import GatewayProcess

from gateway.http_body import encode_json

LONE = "\ud800"
NORMAL = "{ affairItems(first: 1) { totalCount edges { node { code } } } }"


@pytest.fixture(scope="module")
def prod_gateway(start_gateway, external_module_path: Path) -> GatewayProcess:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return start_gateway(
        {
            "ONESTOP_ENV": "prod",
            "ONESTOP_JWT_PRIVATE_KEY": pem,
            "ONESTOP_JWT_KID": "prod-boundary",
            "ONESTOP_LOGIN_CODE_SENDER": "onestop_weather.module:CollectingSender",
            "ONESTOP_UPLOAD_URL_SECRET": "s" * 32,
            "PYTHONPATH": os.pathsep.join([str(external_module_path), os.environ["PYTHONPATH"]]),
        }
    )


@pytest.fixture(params=["dev", "prod"])
def any_gateway(
    request: pytest.FixtureRequest, gateway: GatewayProcess, prod_gateway: GatewayProcess
) -> GatewayProcess:
    return gateway if request.param == "dev" else prod_gateway


def post_raw(
    gw: GatewayProcess,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return gw.client.post(
        "/graphql", content=body, headers={"content-type": content_type, **(headers or {})}
    )


def post_json(gw: GatewayProcess, payload: Any, **kw: Any) -> httpx.Response:
    # ensure_ascii (the default) writes a lone surrogate as the JSON escape "\ud800";
    # httpx's json= would fail to encode it.
    return post_raw(gw, json.dumps(payload).encode("ascii"), **kw)


def refused(response: httpx.Response, code: str, status: int | None = None) -> dict[str, Any]:
    """The response is the GraphQL error shape with ``code``; never a 500, always JSON."""
    assert response.status_code != 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    response.content.decode("utf-8")  # strict: the body itself is valid UTF-8
    payload = json.loads(response.content)
    assert payload["data"] is None, payload
    error: dict[str, Any] = payload["errors"][0]
    assert error["extensions"]["code"] == code, payload
    assert isinstance(error["message"], str) and error["message"], payload
    return error


def still_serves(gw: GatewayProcess) -> None:
    assert gw.data(NORMAL)["affairItems"]["totalCount"] > 0
    assert gw.client.get("/healthz").status_code == 200


# --- finding 3: the body ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"null", "not null"),
        (b"123", "not a number"),
        (b'"s"', "not a string"),
        (b"true", "not a boolean"),
        (b"[]", "a batch holds 1 to 10 operations; got 0"),
    ],
)
def test_a_json_body_that_is_not_an_object_is_bad_request(
    any_gateway: GatewayProcess, body: bytes, needle: str
) -> None:
    error = refused(post_raw(any_gateway, body), "BAD_REQUEST", 400)
    assert needle in error["message"]
    still_serves(any_gateway)


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ me { id } }", "variables": {"x": "\xff\xfe"}}',
        b'{"query": "\xc3"}',
        b'{"query": "{ me { id } }", "variables": {"x": "\xed\xa0\x80"}}',  # CESU surrogate
        b"\xef\xbb\xbf" + b'{"query": "{ me { id } }"}'.decode().encode("utf-16"),
    ],
)
def test_invalid_utf8_body_is_bad_request(any_gateway: GatewayProcess, body: bytes) -> None:
    error = refused(post_raw(any_gateway, body), "BAD_REQUEST", 400)
    assert "UTF-8" in error["message"] or "JSON" in error["message"]
    still_serves(any_gateway)


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_deeply_nested_json_is_bad_request(any_gateway: GatewayProcess, depth: int) -> None:
    body = b'{"query": "{ me { id } }", "variables": {"x": ' + b"[" * depth + b"]" * depth + b"}}"
    error = refused(post_raw(any_gateway, body), "BAD_REQUEST", 400)
    assert "deeper than 64" in error["message"]
    objects = b'{"query": "{ me { id } }", "extensions": ' + b'{"a":' * depth + b"1" + b"}" * depth
    refused(post_raw(any_gateway, objects + b"}"), "BAD_REQUEST", 400)
    still_serves(any_gateway)


def test_nesting_up_to_the_bound_is_accepted(gateway: GatewayProcess) -> None:
    body = b'{"query": "{ me { id } }", "variables": {"x": ' + b"[" * 62 + b"]" * 62 + b"}}"
    response = post_raw(gateway, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"me": None}}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b'{"query": "{ me { id } }", "variables": {"x": NaN}}',
        b'{"query": "{ me { id } }", "variables": {"x": Infinity}}',
        b'{"query": "{ me { id } }", "variables": {"x": ' + b"9" * 5000 + b"}}",
    ],
)
def test_not_json_is_bad_request(any_gateway: GatewayProcess, body: bytes) -> None:
    error = refused(post_raw(any_gateway, body), "BAD_REQUEST", 400)
    assert "not valid JSON" in error["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"query": 5},
        {"query": "{ me { id } }", "variables": [1]},
        {"query": "{ me { id } }", "variables": "x"},
        {"query": "{ me { id } }", "operationName": 123},
        {"query": "{ me { id } }", "extensions": 1},
        {},
    ],
)
def test_members_of_the_wrong_type_are_bad_request(
    any_gateway: GatewayProcess, payload: dict[str, Any]
) -> None:
    refused(post_json(any_gateway, payload), "BAD_REQUEST", 400)


def test_strawberry_refusals_are_json_too(any_gateway: GatewayProcess) -> None:
    refused(post_raw(any_gateway, b"{ me { id } }", "text/plain"), "BAD_REQUEST", 400)
    mutation = 'mutation { requestLoginCode(phone: "13800000000") { maskedPhone } }'
    response = any_gateway.client.get("/graphql", params={"query": mutation})
    refused(response, "BAD_REQUEST", 400)


def test_get_query_parameters_go_through_the_same_parser(any_gateway: GatewayProcess) -> None:
    query = "query($c: String!) { affairItem(code: $c) { code } }"

    def get(variables: str) -> httpx.Response:
        return any_gateway.client.get("/graphql", params={"query": query, "variables": variables})

    refused(get("{not json"), "BAD_REQUEST", 400)
    refused(get("[1]"), "BAD_REQUEST", 400)
    refused(get('{"c": ' + "[" * 100 + "]" * 100 + "}"), "BAD_REQUEST", 400)
    error = refused(get('{"c": "\\ud800"}'), "BAD_USER_INPUT")
    assert error["extensions"]["fieldErrors"][0]["field"] == "variables.c"
    ok = any_gateway.client.get(
        "/graphql", params={"query": NORMAL.replace("{ affairItems", "query { affairItems")}
    )
    assert ok.status_code == 200 and ok.json()["data"]["affairItems"]["totalCount"] > 0
    null_variables = any_gateway.client.get(
        "/graphql", params={"query": NORMAL, "variables": "null"}
    )
    assert null_variables.status_code == 200, null_variables.text


def test_the_error_that_echoed_a_lone_surrogate_is_now_refused_as_json(
    any_gateway: GatewayProcess,
) -> None:
    query = "query($f: AffairItemFilter) { affairItems(filter: $f) { totalCount } }"
    response = post_json(
        any_gateway, {"query": query, "variables": {"f": {"departmentCodes": [LONE]}}}
    )
    error = refused(response, "BAD_USER_INPUT", 200)
    assert error["extensions"]["fieldErrors"] == [
        {
            "field": "variables.f.departmentCodes.0",
            "message": "contains a lone surrogate (not valid Unicode)",
            "code": "invalid_unicode",
        }
    ]
    still_serves(any_gateway)


def test_the_json_encoder_cannot_fail_on_any_string() -> None:
    for text in (LONE, "\udfff", "a\ud800b\udc00", '中文\x00\n"\\', "\U0001f600"):
        encoded = encode_json({"message": text, "list": [text], text: 1})
        encoded.decode("utf-8")  # valid UTF-8 …
        assert json.loads(encoded) == {"message": text, "list": [text], text: 1}  # … and JSON
    assert encode_json({"m": "中文"}) == '{"m":"中文"}'.encode()  # Chinese stays UTF-8
    # Two halves of a pair that a module glued together come back as the one character.
    assert json.loads(encode_json("\ud83d\ude00")) == "\U0001f600"


# --- finding 4: input strings and cursors ----------------------------------------------

# (document, variables) per field of the finding; each variable carries a lone surrogate.
SURROGATE_CASES = {
    "affairItem.code": ("query($v: String!) { affairItem(code: $v) { code } }", {}),
    "faq.itemCode": ("query($v: String) { faq(itemCode: $v) { totalCount } }", {}),
    "faq.departmentCode": ("query($v: String) { faq(departmentCode: $v) { totalCount } }", {}),
    "serviceLocations.filter.itemCode": (
        "query($v: String) { serviceLocations(filter: {itemCode: $v}) { totalCount } }",
        {},
    ),
    "refreshToken": (
        "mutation($v: String!) { refreshToken(refreshToken: $v) { accessToken } }",
        {},
    ),
    "logout": ("mutation($v: String!) { logout(refreshToken: $v) }", {}),
    "login.phone": (
        'mutation($v: String!) { login(phone: $v, code: "123456") { accessToken } }',
        {},
    ),
    "login.code": (
        'mutation($v: String!) { login(phone: "13800138000", code: $v) { accessToken } }',
        {},
    ),
    "setAffairItemStatus.code": (
        'mutation($v: String!) { setAffairItemStatus(code: $v, status: SUSPENDED, reason: "x") '
        "{ item { code } } }",
        {},
    ),
    "setAffairItemStatus.reason": (
        "mutation($v: String!, $c: String!) "
        "{ setAffairItemStatus(code: $c, status: SUSPENDED, reason: $v) { item { code } } }",
        {"c": "NO-SUCH-ITEM"},
    ),
    "affairItems.filter.departmentCodes": (
        "query($v: String!) { affairItems(filter: {departmentCodes: [$v]}) { totalCount } }",
        {},
    ),
    "affairItems.search": (
        "query($v: String) { affairItems(search: $v) { totalCount } }",
        {},
    ),
}


def staff_token(gw: GatewayProcess) -> str:
    return gw.token("staff-boundary", ("staff",), department="11440303MB2C92128N")


@pytest.mark.parametrize("case", sorted(SURROGATE_CASES))
@pytest.mark.parametrize("surrogate", [LONE, "\udc00", "ok" + LONE + "ok"])
def test_lone_surrogate_in_a_variable_is_bad_user_input(
    gateway: GatewayProcess, case: str, surrogate: str
) -> None:
    document, extra = SURROGATE_CASES[case]
    response = post_json(
        gateway,
        {"query": document, "variables": {**extra, "v": surrogate}},
        headers={"Authorization": f"Bearer {staff_token(gateway)}"},
    )
    error = refused(response, "BAD_USER_INPUT", 200)
    assert error["extensions"]["fieldErrors"][0]["field"] == "variables.v"
    assert error["extensions"]["fieldErrors"][0]["code"] == "invalid_unicode"


def _literal(case: str, text: str) -> str:
    """The case's document with the variable replaced by a GraphQL string literal."""
    document, _ = SURROGATE_CASES[case]
    head, _, body = document.partition(")")
    body = body.replace("$v", text)
    if "$c" in body:
        return "mutation($c: String!)" + body
    return head.split("(")[0] + body


@pytest.mark.parametrize("case", sorted(SURROGATE_CASES))
@pytest.mark.parametrize(
    "literal",
    ['"\\ud800"', '"\\udc00x"', '"\ud800"', '"""\ud800"""'],
    ids=["graphql-escape", "low-escape", "raw-in-json", "block-string"],
)
def test_lone_surrogate_in_a_literal_is_a_parse_error(
    gateway: GatewayProcess, case: str, literal: str
) -> None:
    _, extra = SURROGATE_CASES[case]
    payload: dict[str, Any] = {"query": _literal(case, literal)}
    if extra:
        payload["variables"] = extra
    response = post_json(
        gateway, payload, headers={"Authorization": f"Bearer {staff_token(gateway)}"}
    )
    error = refused(response, "GRAPHQL_PARSE_FAILED")
    assert "Unicode" in error["message"] or "U+D" in error["message"]


def test_lone_surrogates_are_refused_in_prod_too(prod_gateway: GatewayProcess) -> None:
    document, _ = SURROGATE_CASES["affairItem.code"]
    refused(
        post_json(prod_gateway, {"query": document, "variables": {"v": LONE}}), "BAD_USER_INPUT"
    )
    refused(
        post_json(prod_gateway, {"query": _literal("affairItem.code", '"\\ud800"')}),
        "GRAPHQL_PARSE_FAILED",
    )
    login, _ = SURROGATE_CASES["login.phone"]
    refused(post_json(prod_gateway, {"query": login, "variables": {"v": LONE}}), "BAD_USER_INPUT")
    still_serves(prod_gateway)


def test_surrogates_elsewhere_in_the_request_are_refused(gateway: GatewayProcess) -> None:
    query = "query($v: String!) { affairItem(code: $v) { code } }"
    key = refused(
        post_json(gateway, {"query": query, "variables": {"v": "x", LONE: 1}}), "BAD_USER_INPUT"
    )
    assert key["extensions"]["fieldErrors"][0]["field"] == "variables.\ufffd"
    refused(post_json(gateway, {"query": NORMAL, "operationName": LONE}), "BAD_USER_INPUT")
    refused(post_json(gateway, {"query": NORMAL, "extensions": {"x": [LONE]}}), "BAD_USER_INPUT")
    # A real pair written as two escapes is one valid character, not two lone halves.
    emoji = post_json(gateway, {"query": query, "variables": {"v": "\U0001f600"}})
    assert json.loads(emoji.content)["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_strings_longer_than_the_bound_are_bad_user_input(gateway: GatewayProcess) -> None:
    long_text = "长" * 10_001
    query = "query($v: String) { faq(itemCode: $v) { totalCount } }"
    error = refused(
        post_json(gateway, {"query": query, "variables": {"v": long_text}}), "BAD_USER_INPUT"
    )
    assert error["extensions"]["fieldErrors"] == [
        {"field": "variables.v", "message": "longer than 10000 characters", "code": "too_long"}
    ]
    literal = '{ faq(itemCode: "' + long_text + '") { totalCount } }'
    error = refused(post_json(gateway, {"query": literal}), "BAD_USER_INPUT")
    assert error["extensions"]["fieldErrors"][0]["field"] == "itemCode"
    nested = '{ serviceLocations(filter: {itemCode: """' + long_text + '"""}) { totalCount } }'
    error = refused(post_json(gateway, {"query": nested}), "BAD_USER_INPUT")
    assert error["extensions"]["fieldErrors"][0]["field"] == "filter.itemCode"
    at_bound = post_json(gateway, {"query": query, "variables": {"v": "长" * 10_000}})
    assert json.loads(at_bound.content)["data"]["faq"]["totalCount"] == 0
    still_serves(gateway)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "offset", [str(2**63 + 5), str(2**64), "10000001", "9" * 40, "+5", " 5", "1_0", "٥", "-1"]
)
def test_cursor_positions_are_bounded(any_gateway: GatewayProcess, offset: str) -> None:
    """Search results page by position: a position beyond the bound or spelled any other
    way than the server spells it is refused, as is the offset format of old."""
    items = 'query($a: String) { affairItems(search: "证", first: 2, after: $a) { totalCount } }'
    for cursor in (f'["affairs.items.search",{offset}]', f"affairs.items:{offset}"):
        response = post_json(any_gateway, {"query": items, "variables": {"a": _cursor(cursor)}})
        error = refused(response, "BAD_USER_INPUT")
        assert error["extensions"]["fieldErrors"] == [
            {"field": "after", "message": "invalid cursor", "code": "invalid"}
        ]
    faq = 'query($a: String) { faq(search: "证", first: 2, after: $a) { totalCount } }'
    refused(
        post_json(
            any_gateway,
            {"query": faq, "variables": {"a": _cursor(f'["affairs.faq.search",{offset}]')}},
        ),
        "BAD_USER_INPUT",
    )
    still_serves(any_gateway)


def test_issued_cursors_still_page(gateway: GatewayProcess) -> None:
    items = (
        "query($a: String) { affairItems(first: 2, after: $a) { edges { cursor node { code } } } }"
    )
    first = gateway.data(items, {"a": None})["affairItems"]["edges"]
    second = gateway.data(items, {"a": first[-1]["cursor"]})["affairItems"]["edges"]
    assert len(second) == 2 and {e["node"]["code"] for e in first}.isdisjoint(
        e["node"]["code"] for e in second
    )
    searched = (
        'query($a: String) { affairItems(search: "证", first: 2, after: $a) { edges { cursor } } }'
    )
    far = _cursor('["affairs.items.search",10000000]')
    assert gateway.data(searched, {"a": far})["affairItems"]["edges"] == []
