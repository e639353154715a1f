"""WeChat mini-program sign-in over HTTP: the dev provider, binding to accounts, phones,
concurrent first sign-ins, and the real jscode2session provider against a local fake.

The fake WeChat answers by the code it is sent (``ok-…``, ``invalid``, ``used``,
``throttled``, ``busy``, ``blocked``, ``misconfigured``, ``stall``, ``broken``), as the
real one would answer such a code, and records what it was asked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from harness import GatewayProcess, OwnGateway, prod_env
from test_auth import LOGIN, LOGIN_CODE, REFRESH, fresh_phone

from gateway.embedded import free_port

VIEWER = "viewer { subjectId roles identityLevel maskedPhone weChatBound }"
SIGN_IN = f"""mutation($c: String!) {{
  signInWithWeChat(code: $c) {{ accessToken refreshToken tokenType {VIEWER} }}
}}"""
LINK = "mutation($c: String!) { linkWeChat(code: $c) { subjectId maskedPhone weChatBound } }"
BIND_PHONE = """mutation($p: String!, $c: String!) {
  bindPhone(phone: $p, code: $c) { subjectId identityLevel maskedPhone weChatBound }
}"""
ME = "{ me { subjectId identityLevel maskedPhone weChatBound } }"

# Client addresses of this file's own (the gateway believes X-Forwarded-For from
# 127.0.0.1): the suite's other login codes and sign-ins are counted apart.
_addresses = (f"10.88.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def client() -> dict[str, str]:
    return {"X-Forwarded-For": next(_addresses)}


def dev_code() -> str:
    return f"dev:{uuid.uuid4().hex[:12]}"


def code_of(error: dict[str, Any]) -> str:
    code: str = error["extensions"]["code"]
    return code


def sign_in(gateway: GatewayProcess, code: str) -> dict[str, Any]:
    result: dict[str, Any] = gateway.data(SIGN_IN, {"c": code}, headers=client())[
        "signInWithWeChat"
    ]
    return result


def phone_sign_in(gateway: GatewayProcess, phone: str) -> dict[str, Any]:
    headers = client()
    code = gateway.data(LOGIN_CODE, {"p": phone}, headers=headers)["requestLoginCode"]["devCode"]
    result: dict[str, Any] = gateway.data(LOGIN, {"p": phone, "c": code}, headers=headers)["login"]
    return result


@pytest.fixture(scope="module")
def dev(own_gateway: OwnGateway) -> OwnGateway:
    """A dev gateway (no WeChat setting: the dev provider) on its own database."""
    return own_gateway


# --- the dev provider -----------------------------------------------------------------


def test_first_sign_in_registers_a_wechat_only_account_and_the_next_finds_it(
    dev: OwnGateway,
) -> None:
    gateway, code = dev.gateway, dev_code()
    first = sign_in(gateway, code)
    assert first["tokenType"] == "Bearer"
    assert first["viewer"] == {
        "subjectId": first["viewer"]["subjectId"],
        "roles": ["CITIZEN"],
        "identityLevel": "NONE",
        "maskedPhone": None,
        "weChatBound": True,
    }
    again = sign_in(gateway, code)
    assert again["viewer"]["subjectId"] == first["viewer"]["subjectId"]
    assert sign_in(gateway, dev_code())["viewer"]["subjectId"] != first["viewer"]["subjectId"]

    # The account has no phone field at all (a null would collide in the unique phone index).
    user = dev.db.gateway_users.find_one({"_id": first["viewer"]["subjectId"]})
    assert user is not None and "phone" not in user
    assert user["identity_level"] == 0
    binding = dev.db.gateway_wechat_bindings.find_one({"user_id": user["_id"]})
    assert binding is not None and binding["appid"] == "dev"
    assert "session_key" not in binding

    me = gateway.data(ME, token=again["accessToken"])["me"]
    assert me["subjectId"] == first["viewer"]["subjectId"] and me["weChatBound"] is True
    # The openid is never in an answer.
    assert binding["openid"] not in json.dumps([first, again, me])


def test_a_wechat_session_refreshes_like_a_phone_session(dev: OwnGateway) -> None:
    signed_in = sign_in(dev.gateway, dev_code())
    refreshed = dev.gateway.data(REFRESH, {"t": signed_in["refreshToken"]})["refreshToken"]
    assert refreshed["refreshToken"] != signed_in["refreshToken"]
    me = dev.gateway.data(ME, token=refreshed["accessToken"])["me"]
    assert me["subjectId"] == signed_in["viewer"]["subjectId"]
    # The used refresh token is spent.
    error = dev.gateway.errors(REFRESH, {"t": signed_in["refreshToken"]})[0]
    assert code_of(error) == "UNAUTHENTICATED"


@pytest.mark.parametrize("code", ["", " ", "a" * 129, "dev:名字", "code with spaces", "x&y=z"])
def test_a_code_that_wx_login_cannot_have_given_is_bad_user_input(
    dev: OwnGateway, code: str
) -> None:
    error = dev.gateway.errors(SIGN_IN, {"c": code}, headers=client())[0]
    assert code_of(error) == "BAD_USER_INPUT", error
    assert error["extensions"]["fieldErrors"][0]["field"] == "code"
    assert error["extensions"]["fieldErrors"][0]["code"] == "invalid_code"


# --- binding: WeChat to a phone account, a phone to a WeChat account -------------------


def test_a_phone_account_links_its_wechat_and_then_signs_in_with_it(dev: OwnGateway) -> None:
    gateway, phone, code = dev.gateway, fresh_phone(), dev_code()
    by_phone = phone_sign_in(gateway, phone)
    assert by_phone["viewer"]["subjectId"]
    me = gateway.data(ME, token=by_phone["accessToken"])["me"]
    assert me["weChatBound"] is False

    linked = gateway.data(LINK, {"c": code}, token=by_phone["accessToken"], headers=client())
    assert linked["linkWeChat"]["weChatBound"] is True
    # Linking the same WeChat again is a no-op, not an error (a retried request).
    gateway.data(LINK, {"c": code}, token=by_phone["accessToken"], headers=client())

    by_wechat = sign_in(gateway, code)
    assert by_wechat["viewer"]["subjectId"] == by_phone["viewer"]["subjectId"]
    assert by_wechat["viewer"]["maskedPhone"] == phone[:3] + "****" + phone[-4:]
    assert by_wechat["viewer"]["identityLevel"] == "PHONE"


def test_linking_never_merges_accounts(dev: OwnGateway) -> None:
    gateway = dev.gateway
    owner = phone_sign_in(gateway, fresh_phone())
    taken = dev_code()
    gateway.data(LINK, {"c": taken}, token=owner["accessToken"], headers=client())

    # Another account cannot take a WeChat user that is bound already…
    other = phone_sign_in(gateway, fresh_phone())
    error = gateway.errors(LINK, {"c": taken}, token=other["accessToken"], headers=client())[0]
    assert code_of(error) == "CONFLICT" and error["extensions"]["reason"] == "wechat_taken"
    assert "never merged" in error["message"]
    # …a WeChat-only account's WeChat user included…
    wechat_only = dev_code()
    sign_in(gateway, wechat_only)
    error = gateway.errors(LINK, {"c": wechat_only}, token=other["accessToken"], headers=client())
    assert error[0]["extensions"]["reason"] == "wechat_taken"
    # …and an account bound to one WeChat user cannot be bound to a second.
    error = gateway.errors(LINK, {"c": dev_code()}, token=owner["accessToken"], headers=client())
    assert code_of(error[0]) == "CONFLICT"
    assert error[0]["extensions"]["reason"] == "account_has_wechat"

    # Nothing changed: the WeChat user still signs in to its first account.
    assert sign_in(gateway, taken)["viewer"]["subjectId"] == owner["viewer"]["subjectId"]
    assert gateway.data(ME, token=other["accessToken"])["me"]["weChatBound"] is False
    assert (
        dev.db.gateway_wechat_bindings.count_documents({"user_id": other["viewer"]["subjectId"]})
        == 0
    )


def test_linking_and_binding_need_a_signed_in_caller(dev: OwnGateway) -> None:
    error = dev.gateway.errors(LINK, {"c": dev_code()}, headers=client())[0]
    assert code_of(error) == "UNAUTHENTICATED"
    error = dev.gateway.errors(BIND_PHONE, {"p": fresh_phone(), "c": "123456"})[0]
    assert code_of(error) == "UNAUTHENTICATED"


def test_a_token_without_an_account_cannot_link_or_bind(dev: OwnGateway) -> None:
    """A token minted for ops (`onestop token`) names no stored account: nothing to bind to."""
    subject = f"ops-{uuid.uuid4().hex[:6]}"
    token = dev.gateway.token(sub=subject)
    error = dev.gateway.errors(LINK, {"c": dev_code()}, token=token, headers=client())[0]
    assert code_of(error) == "NOT_FOUND"
    assert dev.db.gateway_wechat_bindings.count_documents({"user_id": subject}) == 0


def test_a_wechat_only_account_adds_a_phone_proven_by_a_login_code(dev: OwnGateway) -> None:
    gateway, phone, headers = dev.gateway, fresh_phone(), client()
    session = sign_in(gateway, dev_code())
    token = session["accessToken"]
    sms = gateway.data(LOGIN_CODE, {"p": phone}, headers=headers)["requestLoginCode"]["devCode"]
    wrong = "000000" if sms != "000000" else "111111"
    error = gateway.errors(BIND_PHONE, {"p": phone, "c": wrong}, token=token, headers=headers)
    assert code_of(error[0]) == "UNAUTHENTICATED"

    bound = gateway.data(BIND_PHONE, {"p": phone, "c": sms}, token=token, headers=headers)
    assert bound["bindPhone"] == {
        "subjectId": session["viewer"]["subjectId"],
        "identityLevel": "PHONE",
        "maskedPhone": phone[:3] + "****" + phone[-4:],
        "weChatBound": True,
    }
    # The token carries the new level once refreshed.
    refreshed = gateway.data(REFRESH, {"t": session["refreshToken"]})["refreshToken"]
    assert gateway.data(ME, token=refreshed["accessToken"])["me"]["identityLevel"] == "PHONE"
    # The phone now signs in to the same account (login finds accounts by this field).
    user = dev.db.gateway_users.find_one({"phone": phone})
    assert user is not None and user["_id"] == session["viewer"]["subjectId"]

    # A second, different phone is refused (changing numbers is another flow).
    other_phone, headers = fresh_phone(), client()
    sms = gateway.data(LOGIN_CODE, {"p": other_phone}, headers=headers)["requestLoginCode"]
    error = gateway.errors(
        BIND_PHONE, {"p": other_phone, "c": sms["devCode"]}, token=token, headers=headers
    )[0]
    assert code_of(error) == "CONFLICT" and error["extensions"]["reason"] == "account_has_phone"


def test_a_phone_that_is_another_accounts_is_a_conflict_not_a_merge(dev: OwnGateway) -> None:
    gateway, phone = dev.gateway, fresh_phone()
    # The phone's account, as its first phone login made it (a login here would start the
    # phone's one-minute code cooldown).
    owner_id = "u_" + uuid.uuid4().hex[:20]
    dev.db.gateway_users.insert_one(
        {"_id": owner_id, "phone": phone, "roles": ["citizen"], "identity_level": 1}
    )
    newcomer = sign_in(gateway, dev_code())
    headers = client()
    sms = gateway.data(LOGIN_CODE, {"p": phone}, headers=headers)["requestLoginCode"]["devCode"]
    error = gateway.errors(
        BIND_PHONE, {"p": phone, "c": sms}, token=newcomer["accessToken"], headers=headers
    )[0]
    assert code_of(error) == "CONFLICT" and error["extensions"]["reason"] == "phone_taken"
    assert phone not in json.dumps(error)
    # Both accounts are as they were.
    me = gateway.data(ME, token=newcomer["accessToken"])["me"]
    assert me["maskedPhone"] is None and me["identityLevel"] == "NONE"
    owners = list(dev.db.gateway_users.find({"phone": phone}))
    assert [user["_id"] for user in owners] == [owner_id]


async def test_concurrent_first_sign_ins_of_one_wechat_user_make_one_account(
    dev: OwnGateway, start_gateway: Any
) -> None:
    # Two gateway processes on one database, and connections opened beforehand, so the
    # sign-ins really overlap: each looks for the binding before any has written one.
    second = start_gateway({"ONESTOP_SEED_ON_START": "false"}, db=dev.db.name)
    async with (
        httpx.AsyncClient(base_url=dev.gateway.url, timeout=30) as one,
        httpx.AsyncClient(base_url=second.url, timeout=30) as other,
    ):
        clients = [one, other] * 12
        await asyncio.gather(
            *(http.post("/graphql", json={"query": "{ __typename }"}) for http in clients)
        )
        for _ in range(3):  # a few rounds: one overlap is enough to make two accounts
            code = dev_code()
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/graphql",
                        json={"query": SIGN_IN, "variables": {"c": code}},
                        headers=client(),
                    )
                    for http in clients
                )
            )
            subjects = set()
            for response in responses:
                body = response.json()
                assert response.status_code == 200 and not body.get("errors"), body
                subjects.add(body["data"]["signInWithWeChat"]["viewer"]["subjectId"])
            assert len(subjects) == 1
            (subject,) = subjects
            assert dev.db.gateway_wechat_bindings.count_documents({"user_id": subject}) == 1
            assert dev.db.gateway_users.count_documents({"_id": subject}) == 1


def test_sign_ins_are_limited_per_client_address(
    start_gateway: Any,
) -> None:
    gateway = start_gateway(
        {"ONESTOP_SEED_ON_START": "false", "ONESTOP_WECHAT_SIGN_IN_PER_IP": "3"}
    )
    address = client()
    for _ in range(3):
        gateway.data(SIGN_IN, {"c": dev_code()}, headers=address)
    error = gateway.errors(SIGN_IN, {"c": dev_code()}, headers=address)[0]
    assert code_of(error) == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 600
    # Linking counts too; other addresses are not affected.
    token = sign_in(gateway, dev_code())["accessToken"]
    error = gateway.errors(LINK, {"c": dev_code()}, token=token, headers=address)[0]
    assert code_of(error) == "RATE_LIMITED"
    assert sign_in(gateway, dev_code())["viewer"]["weChatBound"] is True


# --- production: the dev provider refused, the real provider against a fake WeChat -----


def test_prod_refuses_the_dev_provider_at_start(
    start_gateway: Any, external_module_path: Path
) -> None:
    with pytest.raises(RuntimeError) as raised:
        start_gateway(prod_env(external_module_path, ONESTOP_WECHAT_PROVIDER="dev"))
    assert "ONESTOP_WECHAT_PROVIDER=dev is for development only" in str(raised.value)


SECRET = "s3cr3t-" + uuid.uuid4().hex
APPID = "wx0123456789abcdef"
STALL_SECONDS = 10


class FakeWeChat(ThreadingHTTPServer):
    """``GET /sns/jscode2session`` answering by the code, as WeChat would."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), _FakeWeChatHandler)
        self.requests: list[dict[str, list[str]]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _FakeWeChatHandler(BaseHTTPRequestHandler):
    server: FakeWeChat

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.requests.append(query)
        code = query.get("js_code", [""])[0]
        if url.path != "/sns/jscode2session":
            self._answer(404, b"not found")
        elif code.startswith("ok-"):
            name = code[3:]
            body = {
                "openid": f"oFake{name}",
                "session_key": "sk-" + name,
                "unionid": f"uFake{name}",
            }
            self._answer(200, json.dumps(body).encode())
        elif code == "stall":
            time.sleep(STALL_SECONDS)
            self._answer(200, b"{}")
        elif code == "broken":
            self._answer(502, b"<html>bad gateway</html>")
        else:
            errcode = {
                "invalid": 40029,
                "used": 40163,
                "throttled": 45011,
                "busy": -1,
                "blocked": 40226,
                "misconfigured": 40013,
            }[code]
            self._answer(200, json.dumps({"errcode": errcode, "errmsg": "x, rid: 1"}).encode())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        # WeChat answers JSON as text/plain.
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[FakeWeChat]:
    server = FakeWeChat()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def prod(
    start_gateway: Any,
    external_module_path: Path,
    fake_wechat: FakeWeChat,
    tmp_path_factory: pytest.TempPathFactory,
) -> GatewayProcess:
    """A production gateway using the real jscode2session provider against the fake."""
    secret_file = tmp_path_factory.mktemp("wechat") / "appsecret"
    secret_file.write_text(SECRET + "\n")
    gateway: GatewayProcess = start_gateway(
        prod_env(
            external_module_path,
            ONESTOP_WECHAT_PROVIDER="wechat",
            ONESTOP_WECHAT_APPID=APPID,
            ONESTOP_WECHAT_SECRET_FILE=str(secret_file),
            ONESTOP_WECHAT_API_BASE=fake_wechat.url,
        )
    )
    return gateway


def test_the_real_provider_signs_in_with_what_jscode2session_answers(
    prod: GatewayProcess, fake_wechat: FakeWeChat
) -> None:
    name = uuid.uuid4().hex[:8]
    first = sign_in(prod, f"ok-{name}")
    assert first["viewer"]["identityLevel"] == "NONE" and first["viewer"]["weChatBound"]
    assert sign_in(prod, f"ok-{name}")["viewer"]["subjectId"] == first["viewer"]["subjectId"]
    asked = fake_wechat.requests[-1]
    assert asked == {
        "appid": [APPID],
        "secret": [SECRET],  # read from the file, the trailing newline dropped
        "js_code": [f"ok-{name}"],
        "grant_type": ["authorization_code"],
    }


@pytest.mark.parametrize(
    ("code", "expected", "reason"),
    [
        ("invalid", "UNAUTHENTICATED", "invalid_wechat_code"),
        ("used", "UNAUTHENTICATED", "invalid_wechat_code"),
    ],
)
def test_an_invalid_or_used_code_is_unauthenticated(
    prod: GatewayProcess, code: str, expected: str, reason: str
) -> None:
    error = prod.errors(SIGN_IN, {"c": code}, headers=client())[0]
    assert code_of(error) == expected and error["extensions"]["reason"] == reason
    assert "wx.login" in error["message"]


def test_wechat_throttling_is_rate_limited(prod: GatewayProcess) -> None:
    error = prod.errors(SIGN_IN, {"c": "throttled"}, headers=client())[0]
    assert code_of(error) == "RATE_LIMITED" and error["extensions"]["retryAfter"] == 60


def test_a_user_blocked_by_wechat_risk_control_is_forbidden(prod: GatewayProcess) -> None:
    error = prod.errors(SIGN_IN, {"c": "blocked"}, headers=client())[0]
    assert code_of(error) == "FORBIDDEN" and "risk control" in error["message"]


@pytest.mark.parametrize("code", ["busy", "broken", "misconfigured"])
def test_wechat_busy_or_broken_is_unavailable(prod: GatewayProcess, code: str) -> None:
    response = prod.graphql(SIGN_IN, {"c": code}, headers=client())
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    error = response.json()["errors"][0]
    assert code_of(error) == "UNAVAILABLE" and error["extensions"]["dependency"] == "wechat"


def test_a_stalled_wechat_is_unavailable_within_two_seconds(prod: GatewayProcess) -> None:
    started = time.monotonic()
    response = prod.graphql(SIGN_IN, {"c": "stall"}, headers=client())
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert code_of(response.json()["errors"][0]) == "UNAVAILABLE"
    assert elapsed < 2.5, elapsed  # ONESTOP_WECHAT_TIMEOUT_MS: 1.5 s, for the whole call


def test_a_wechat_that_is_not_there_is_unavailable_fast(
    start_gateway: Any, external_module_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secret_file = tmp_path_factory.mktemp("wechat-down") / "appsecret"
    secret_file.write_text(SECRET)
    gateway: GatewayProcess = start_gateway(
        prod_env(
            external_module_path,
            ONESTOP_WECHAT_PROVIDER="wechat",
            ONESTOP_WECHAT_APPID=APPID,
            ONESTOP_WECHAT_SECRET_FILE=str(secret_file),
            ONESTOP_WECHAT_API_BASE=f"http://127.0.0.1:{free_port()}",
        )
    )
    started = time.monotonic()
    response = gateway.graphql(SIGN_IN, {"c": "ok-nobody"}, headers=client())
    assert response.status_code == 503 and time.monotonic() - started < 2.5
    assert response.json()["errors"][0]["extensions"]["dependency"] == "wechat"


def test_prod_without_a_provider_says_wechat_sign_in_is_off(
    start_gateway: Any, external_module_path: Path
) -> None:
    gateway: GatewayProcess = start_gateway(prod_env(external_module_path))
    error = gateway.errors(SIGN_IN, {"c": "ok-anyone"}, headers=client())[0]
    assert code_of(error) == "UNAVAILABLE" and "not configured" in error["message"]


def test_the_secret_codes_and_openids_never_reach_the_log(
    prod: GatewayProcess, fake_wechat: FakeWeChat
) -> None:
    name = uuid.uuid4().hex[:8]
    sign_in(prod, f"ok-{name}")
    prod.errors(SIGN_IN, {"c": "invalid"}, headers=client())
    prod.graphql(SIGN_IN, {"c": "busy"}, headers=client())
    prod.graphql(SIGN_IN, {"c": "misconfigured"}, headers=client())
    log = prod.log()
    # The failures are logged, a wrong AppID or secret by WeChat's errcode, for ops…
    assert '"errcode": 40013' in log and '"errcode": -1' in log
    for secret in (SECRET, f"ok-{name}", f"oFake{name}", f"uFake{name}", f"sk-{name}"):
        assert secret not in log  # …never the secret, a code or who it was
