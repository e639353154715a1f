"""Auth over HTTP: phone login, tokens, rotation, revocation, and every way a token is bad."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from harness import GatewayProcess

LOGIN_CODE = (
    "mutation($p: String!) { requestLoginCode(phone: $p) { maskedPhone devCode expiresIn } }"
)
LOGIN = """mutation($p: String!, $c: String!) {
  login(phone: $p, code: $c) {
    accessToken refreshToken tokenType expiresIn
    viewer { id subjectId roles identityLevel maskedPhone permissions }
  }
}"""
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
LOGOUT = "mutation($t: String!) { logout(refreshToken: $t) }"

_phones = iter(range(10_000))


def fresh_phone() -> str:
    return f"1371{int(time.time()) % 10_000:04d}{next(_phones):03d}"


def sign_in(gateway: GatewayProcess, phone: str | None = None) -> dict[str, Any]:
    phone = phone or fresh_phone()
    code = gateway.data(LOGIN_CODE, {"p": phone})["requestLoginCode"]["devCode"]
    result: dict[str, Any] = gateway.data(LOGIN, {"p": phone, "c": code})["login"]
    return result


def unauthenticated(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_phone_login_registers_a_citizen_and_me_answers(gateway: GatewayProcess) -> None:
    phone = fresh_phone()
    sent = gateway.data(LOGIN_CODE, {"p": phone})["requestLoginCode"]
    assert sent["maskedPhone"] == phone[:3] + "****" + phone[-4:]
    assert sent["expiresIn"] == 300
    login = gateway.data(LOGIN, {"p": phone, "c": sent["devCode"]})["login"]
    assert login["tokenType"] == "Bearer"
    assert login["viewer"]["roles"] == ["CITIZEN"]
    assert login["viewer"]["identityLevel"] == "PHONE"
    assert phone not in json.dumps(login)  # the phone only ever comes back masked

    me = gateway.data("{ me { id subjectId roles maskedPhone } }", token=login["accessToken"])["me"]
    assert me["id"] == login["viewer"]["id"]
    assert me["subjectId"] == login["viewer"]["subjectId"]


def test_login_code_is_single_use_and_wrong_codes_are_limited(gateway: GatewayProcess) -> None:
    phone = fresh_phone()
    code = gateway.data(LOGIN_CODE, {"p": phone})["requestLoginCode"]["devCode"]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        error = gateway.errors(LOGIN, {"p": phone, "c": wrong})[0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    # The sixth attempt burns the code, even when it is the right one.
    error = gateway.errors(LOGIN, {"p": phone, "c": code})[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"

    other = fresh_phone()
    code = gateway.data(LOGIN_CODE, {"p": other})["requestLoginCode"]["devCode"]
    gateway.data(LOGIN, {"p": other, "c": code})
    assert gateway.errors(LOGIN, {"p": other, "c": code})[0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )


def test_login_code_requests_are_rate_limited_per_phone(gateway: GatewayProcess) -> None:
    phone = fresh_phone()
    gateway.data(LOGIN_CODE, {"p": phone})
    error = gateway.errors(LOGIN_CODE, {"p": phone})[0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 60


@pytest.mark.parametrize("phone", ["12345", "2380013800a", "", "1" * 30])
def test_bad_phone_is_bad_user_input(gateway: GatewayProcess, phone: str) -> None:
    error = gateway.errors(LOGIN_CODE, {"p": phone})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fieldErrors"][0]["field"] == "phone"


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(
    gateway: GatewayProcess,
) -> None:
    login = sign_in(gateway)
    rotated = gateway.data(REFRESH, {"t": login["refreshToken"]})["refreshToken"]
    assert rotated["refreshToken"] != login["refreshToken"]
    assert gateway.data("{ me { id } }", token=rotated["accessToken"])["me"]["id"]

    # Replaying the old refresh token (stolen copy): refused, and the whole family dies.
    error = gateway.errors(REFRESH, {"t": login["refreshToken"]})[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    unauthenticated(gateway.graphql("{ me { id } }", token=rotated["accessToken"]))
    error = gateway.errors(REFRESH, {"t": rotated["refreshToken"]})[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_logout_revokes_refresh_and_access_tokens(gateway: GatewayProcess) -> None:
    login = sign_in(gateway)
    assert gateway.data(LOGOUT, {"t": login["refreshToken"]})["logout"] is True
    unauthenticated(gateway.graphql("{ me { id } }", token=login["accessToken"]))
    error = gateway.errors(REFRESH, {"t": login["refreshToken"]})[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_access_token_is_not_a_refresh_token(gateway: GatewayProcess) -> None:
    login = sign_in(gateway)
    error = gateway.errors(REFRESH, {"t": login["accessToken"]})[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    unauthenticated(gateway.graphql("{ me { id } }", token=login["refreshToken"]))


def test_valid_minted_token_carries_roles_department_and_level(gateway: GatewayProcess) -> None:
    token = gateway.token("staff-1", ("staff",), department="D1", identity_level=3)
    me = gateway.data("{ me { subjectId roles department identityLevel } }", token=token)["me"]
    assert me == {
        "subjectId": "staff-1",
        "roles": ["STAFF"],
        "department": "D1",
        "identityLevel": "REAL_PERSON",
    }


def expired_copy(gateway: GatewayProcess, token: str) -> str:
    """The same claims re-signed with the gateway's real key, expired beyond the leeway."""
    claims = jwt.decode(token, options={"verify_signature": False})
    key = serialization.load_pem_private_key(
        (gateway.data_dir / "keys" / "jwt-es256.pem").read_bytes(), password=None
    )
    claims["exp"] = int(time.time()) - 120
    claims["iat"] = claims["nbf"] = int(time.time()) - 300
    return jwt.encode(claims, key, algorithm="ES256", headers=jwt.get_unverified_header(token))


def test_an_expired_token_has_its_own_code_and_the_app_refreshes_and_retries(
    gateway: GatewayProcess,
) -> None:
    login = sign_in(gateway)
    expired = expired_copy(gateway, login["accessToken"])
    # Refused for a public catalog query too: a present token must be a valid one.
    for document in ("{ me { id } }", "{ affairItems(first: 1) { totalCount } }"):
        response = gateway.graphql(document, token=expired)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"
        assert "expired" in response.json()["errors"][0]["message"]
        assert response.headers["www-authenticate"] == (
            'Bearer error="invalid_token", error_description="token expired"'
        )
    # What Apollo Client's error link does on TOKEN_EXPIRED: refresh, then retry.
    pair = gateway.data(REFRESH, {"t": login["refreshToken"]})["refreshToken"]
    me = gateway.data("{ me { id } }", token=pair["accessToken"])["me"]
    assert me is not None
    # Any other bad token stays UNAUTHENTICATED (sign in again), so a refresh loop cannot start.
    unauthenticated(gateway.graphql("{ me { id } }", token=login["accessToken"] + "x"))


def test_an_expired_refresh_token_means_signing_in_again(gateway: GatewayProcess) -> None:
    login = sign_in(gateway)
    error = gateway.errors(REFRESH, {"t": expired_copy(gateway, login["refreshToken"])})[0]
    # Not TOKEN_EXPIRED: that would send the app's error link to refresh again, forever.
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_wrong_kid_is_401(gateway: GatewayProcess) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    claims = jwt.decode(gateway.token("u-kid"), options={"verify_signature": False})
    forged = jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": "attacker-key"})
    unauthenticated(gateway.graphql("{ me { id } }", token=forged))
    # Right kid, wrong key: the signature fails.
    kid = jwt.get_unverified_header(gateway.token())["kid"]
    forged = jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": kid})
    unauthenticated(gateway.graphql("{ me { id } }", token=forged))


def test_alg_none_is_401(gateway: GatewayProcess) -> None:
    token = gateway.token("u-none", ("admin",))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = f"{b64({**header, 'alg': 'none'})}.{b64(claims)}."
    unauthenticated(gateway.graphql("{ me { id } }", token=unsigned))


def test_hs256_signed_with_the_public_key_is_401(gateway: GatewayProcess) -> None:
    jwks = gateway.client.get("/.well-known/jwks.json").json()
    public_json = json.dumps(jwks["keys"][0]).encode()
    token = gateway.token("u-hs")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    import hashlib
    import hmac

    signing_input = f"{b64({**header, 'alg': 'HS256'})}.{b64(claims)}"
    signature = hmac.new(public_json, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    unauthenticated(gateway.graphql("{ me { id } }", token=forged))


def test_tampered_claims_are_401(gateway: GatewayProcess) -> None:
    header, payload, signature = gateway.token("u-tamper", ("citizen",)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    unauthenticated(gateway.graphql("{ me { id } }", token=f"{header}.{b64(claims)}.{signature}"))


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   x y", "token"])
def test_malformed_authorization_header_is_401(gateway: GatewayProcess, authorization: str) -> None:
    response = gateway.client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": authorization}
    )
    unauthenticated(response)


def test_jwks_verifies_issued_tokens(gateway: GatewayProcess) -> None:
    login = sign_in(gateway)
    jwks = gateway.client.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(login["accessToken"])["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    assert jwk["alg"] == "ES256" and jwk["use"] == "sig" and "d" not in jwk
    claims = jwt.decode(
        login["accessToken"], jwt.PyJWK(jwk).key, algorithms=["ES256"], audience="onestop-api"
    )
    assert claims["sub"] == login["viewer"]["subjectId"]
    assert claims["typ"] == "access"


def test_field_permission_is_checked_before_the_resolver(weather_gateway: GatewayProcess) -> None:
    query = "{ weatherAlerts }"
    anonymous = weather_gateway.errors(query)[0]
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    citizen = weather_gateway.errors(query, token=weather_gateway.token("c1", ("citizen",)))[0]
    assert citizen["extensions"]["code"] == "FORBIDDEN"
    staff = weather_gateway.data(query, token=weather_gateway.token("s1", ("staff",)))
    assert staff == {"weatherAlerts": ["东门片区内涝风险"]}
    # A token narrowed by scopes loses permissions its roles would grant.
    narrowed = weather_gateway.token("s2", ("staff",), scopes=["nothing.at.all"])
    assert weather_gateway.errors(query, token=narrowed)[0]["extensions"]["code"] == "FORBIDDEN"


def test_the_log_never_contains_a_full_phone(gateway: GatewayProcess) -> None:
    phone = fresh_phone()
    sign_in(gateway, phone)
    log = gateway.log()
    assert phone[:3] + "****" + phone[-4:] in log  # the dev sender logged the masked phone
    assert phone not in log


def test_audit_trail_records_logins_and_refresh_reuse(gateway: GatewayProcess) -> None:
    phone = fresh_phone()
    code = gateway.data(LOGIN_CODE, {"p": phone})["requestLoginCode"]["devCode"]
    gateway.errors(LOGIN, {"p": phone, "c": "000000" if code != "000000" else "111111"})
    login = gateway.data(LOGIN, {"p": phone, "c": code})["login"]
    user = login["viewer"]["subjectId"]
    gateway.data(REFRESH, {"t": login["refreshToken"]})
    gateway.errors(REFRESH, {"t": login["refreshToken"]})

    query = """query($s: String) { auditEvents(subject: $s) { edges { node {
               action outcome actor subject requestId detail { key value } } } } }"""
    admin = gateway.token("admin-audit", ("admin",))
    events = [
        e["node"] for e in gateway.data(query, {"s": user}, token=admin)["auditEvents"]["edges"]
    ]
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("auth.refresh_reuse", "DENIED"),
        ("auth.login", "OK"),
    ]
    masked = f"phone:{phone[:3]}****{phone[-4:]}"
    denied = [
        e["node"] for e in gateway.data(query, {"s": masked}, token=admin)["auditEvents"]["edges"]
    ]
    assert denied[0]["outcome"] == "DENIED" and denied[0]["requestId"]
    # Citizens and staff may not read the trail.
    staff = gateway.token("staff-audit", ("staff",))
    assert gateway.errors(query, {"s": user}, token=staff)[0]["extensions"]["code"] == "FORBIDDEN"
