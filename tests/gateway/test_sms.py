"""The built-in SMS sender (ONESTOP_LOGIN_CODE_SENDER=http) against a local SMS gateway.

The fake gateway is a real HTTP server on loopback; ``mode`` says how it answers the next
messages (``ok``, ``error`` 503, ``refuse`` 401, ``stall`` past the sender's deadline) and
it records every message it is sent. The production gateway under test reads its SMS key,
signing key and upload secret from files (``ONESTOP_*_FILE``), as in docker-compose.yml.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from harness import GatewayProcess, prod_env
from test_auth import LOGIN, fresh_phone

from gateway.embedded import free_port
from gateway.errors import Unavailable
from gateway.sms import HttpSmsSender

KEY = "sms-key-0123456789abcdef"
STALL_SECONDS = 5
REQUEST_CODE = "mutation($p: String!) { requestLoginCode(phone: $p) { maskedPhone devCode } }"


class FakeSmsGateway(ThreadingHTTPServer):
    """``POST /v1/messages``: records each message, answers as ``mode`` says."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), _FakeSmsHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1/messages"
        self.mode = "ok"
        self.messages: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    def code_for(self, phone: str) -> str:
        codes = [m["code"] for m in self.messages if m.get("phone") == phone]
        assert codes, f"no message for {phone}"
        return str(codes[-1])


class _FakeSmsHandler(BaseHTTPRequestHandler):
    server: FakeSmsGateway

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.headers.append({k.lower(): v for k, v in self.headers.items()})
        if self.server.mode == "stall":
            time.sleep(STALL_SECONDS)
        self.server.messages.append(json.loads(body))
        status = {"ok": 202, "error": 503, "refuse": 401, "stall": 202}[self.server.mode]
        answer = json.dumps({"accepted": status == 202}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def sms_gateway() -> Iterator[FakeSmsGateway]:
    server = FakeSmsGateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake(sms_gateway: FakeSmsGateway) -> FakeSmsGateway:
    sms_gateway.mode = "ok"
    sms_gateway.messages.clear()
    sms_gateway.headers.clear()
    return sms_gateway


async def test_a_message_is_the_phone_code_and_template_with_the_key_in_a_header(
    fake: FakeSmsGateway,
) -> None:
    sender = HttpSmsSender(fake.url, KEY, template="luohu_login")
    await sender.send("13800138000", "123456")
    assert fake.messages == [{"phone": "13800138000", "code": "123456", "template": "luohu_login"}]
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"
    assert fake.headers[0]["content-type"] == "application/json"


async def test_another_key_header_carries_the_bare_key(fake: FakeSmsGateway) -> None:
    await HttpSmsSender(fake.url, KEY, key_header="X-Api-Key").send("13800138000", "654321")
    assert fake.headers[0]["x-api-key"] == KEY
    assert "authorization" not in fake.headers[0]


@pytest.mark.parametrize("mode", ["error", "refuse", "stall", "unreachable"])
async def test_a_failed_message_is_unavailable_within_the_deadline_and_says_nothing_personal(
    fake: FakeSmsGateway, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.mode = "ok" if mode == "unreachable" else mode
    url = f"http://127.0.0.1:{free_port()}/v1/messages" if mode == "unreachable" else fake.url
    sender = HttpSmsSender(url, KEY, timeout=1.0)
    phone, code = "13912345678", "987001"
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG), pytest.raises(Unavailable) as raised:
        await sender.send(phone, code)
    assert time.monotonic() - started < 2.0  # the stall would hold it STALL_SECONDS
    assert raised.value.extensions["dependency"] == "sms"
    shown = "".join(traceback.format_exception(raised.value)) + caplog.text
    for secret in (phone, code, KEY):
        assert secret not in shown
    assert any(r.name == "onestop.sms" for r in caplog.records)
    refused = [r for r in caplog.records if r.name == "onestop.sms" and r.levelno >= logging.ERROR]
    assert bool(refused) == (mode == "refuse")  # a bad key is ops' problem, not load


@pytest.fixture(scope="module")
def prod(
    start_gateway: Any,
    external_module_path: Path,
    sms_gateway: FakeSmsGateway,
    tmp_path_factory: pytest.TempPathFactory,
) -> GatewayProcess:
    """A production gateway sending login codes through the fake, its secrets in files."""
    secrets_dir = tmp_path_factory.mktemp("secrets")
    env = prod_env(external_module_path)
    files = {
        "ONESTOP_SMS_KEY_FILE": KEY,
        "ONESTOP_JWT_PRIVATE_KEY_FILE": env.pop("ONESTOP_JWT_PRIVATE_KEY"),
        "ONESTOP_UPLOAD_URL_SECRET_FILE": env.pop("ONESTOP_UPLOAD_URL_SECRET"),
    }
    for variable, value in files.items():
        path = secrets_dir / variable.lower()
        path.write_text(value + "\n")
        env[variable] = str(path)
    gateway: GatewayProcess = start_gateway(
        {
            **env,
            "ONESTOP_LOGIN_CODE_SENDER": "http",
            "ONESTOP_SMS_URL": sms_gateway.url,
            "ONESTOP_SMS_TIMEOUT_MS": "1000",
        }
    )
    return gateway


def test_a_citizen_signs_in_with_the_code_the_sms_gateway_was_given(
    prod: GatewayProcess, fake: FakeSmsGateway
) -> None:
    phone = fresh_phone()
    sent = prod.data(REQUEST_CODE, {"p": phone})["requestLoginCode"]
    assert sent["devCode"] is None  # prod: the code goes by SMS only
    assert fake.headers[-1]["authorization"] == f"Bearer {KEY}"  # the key from its file
    code = fake.code_for(phone)
    assert fake.messages[-1] == {"phone": phone, "code": code, "template": "onestop_login_code"}
    login = prod.data(LOGIN, {"p": phone, "c": code})["login"]
    assert login["viewer"]["roles"] == ["CITIZEN"]
    log = prod.log()
    assert phone not in log and code not in log


def test_when_the_sms_gateway_fails_the_citizen_may_ask_again_at_once(
    prod: GatewayProcess, fake: FakeSmsGateway
) -> None:
    phone = fresh_phone()
    fake.mode = "error"
    errors = prod.errors(REQUEST_CODE, {"p": phone})
    assert errors[0]["extensions"]["code"] == "UNAVAILABLE"
    # Without the failed message's cooldown released this would be RATE_LIMITED for 60 s.
    fake.mode = "ok"
    prod.data(REQUEST_CODE, {"p": phone})
    prod.data(LOGIN, {"p": phone, "c": fake.code_for(phone)})
    assert "SMS gateway refused the message" in prod.log()
    assert phone not in prod.log()
