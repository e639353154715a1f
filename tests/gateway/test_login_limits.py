"""Login-code abuse over HTTP: one spelling per phone, limits per client address and service-wide.

The gateway under test runs with uvicorn's default proxy trust (127.0.0.1), so the
test, connecting from loopback, plays several clients through ``X-Forwarded-For``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from harness import GatewayProcess, RedisServer
from test_auth import LOGIN, LOGIN_CODE, fresh_phone

PER_IP = 3
FAILURES_PER_IP = 3
GLOBAL_PER_MINUTE = 12

_addresses = (f"203.0.113.{n}" for n in itertools.count(1))


def client() -> dict[str, str]:
    """Headers of a new client address."""
    return {"X-Forwarded-For": next(_addresses)}


def code_of(errors: list[Any]) -> str:
    code: str = errors[0]["extensions"]["code"]
    return code


@pytest.fixture(scope="module")
def limited(
    start_gateway: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """A gateway with small limits and its own Redis (counters shared with no other test)."""
    redis = RedisServer(tmp_path_factory.mktemp("limits-redis"))
    gateway = start_gateway(
        {
            "ONESTOP_REDIS_URL": redis.url,
            "ONESTOP_SEED_ON_START": "false",
            "ONESTOP_LOGIN_CODE_PER_IP": str(PER_IP),
            "ONESTOP_LOGIN_FAILURES_PER_IP": str(FAILURES_PER_IP),
            "ONESTOP_LOGIN_CODE_GLOBAL_PER_MINUTE": str(GLOBAL_PER_MINUTE),
        }
    )
    try:
        yield gateway
    finally:
        gateway.stop()
        redis.stop()


FULL_WIDTH = "１３７１２３４５６７８"
ARABIC_INDIC = "١٣٧١٢٣٤٥٦٧٨"
MIXED = "137１２３45678"


@pytest.mark.parametrize("phone", [FULL_WIDTH, ARABIC_INDIC, MIXED, "+86 １３７１２３４５６７８"])
def test_phones_in_other_scripts_digits_are_refused(gateway: GatewayProcess, phone: str) -> None:
    for query, variables in (
        (LOGIN_CODE, {"p": phone}),
        (LOGIN, {"p": phone, "c": "123456"}),
    ):
        error = gateway.errors(query, variables)[0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["fieldErrors"][0] == {
            "field": "phone",
            "message": "must be an 11-digit mainland mobile number",
            "code": "invalid_phone",
        }


def test_spaces_dashes_and_country_code_are_one_account(gateway: GatewayProcess) -> None:
    phone = fresh_phone()
    spaced = f"+86 {phone[:3]}-{phone[3:7]} {phone[7:]}"
    code = gateway.data(LOGIN_CODE, {"p": spaced})["requestLoginCode"]["devCode"]
    # Other spellings of the same number share its cooldown (one key per number)…
    for spelling in ("0086" + phone, f"({phone[:3]}) {phone[3:]}", "＋86" + phone):
        assert code_of(gateway.errors(LOGIN_CODE, {"p": spelling})) == "RATE_LIMITED"
    # …and its code: the plain spelling signs in with the code sent to the spaced one.
    login = gateway.data(LOGIN, {"p": phone, "c": code})["login"]
    assert login["viewer"]["maskedPhone"] == phone[:3] + "****" + phone[-4:]


def test_one_address_gets_few_codes_and_cannot_spend_a_victims_quota(
    limited: GatewayProcess,
) -> None:
    attacker = client()
    for _ in range(PER_IP):
        limited.data(LOGIN_CODE, {"p": fresh_phone()}, headers=attacker)
    victim = fresh_phone()
    for _ in range(12):  # more than the victim's daily quota of ten
        error = limited.errors(LOGIN_CODE, {"p": victim}, headers=attacker)[0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 0 < error["extensions"]["retryAfter"] <= 600
    # The refused requests spent nothing of the victim's: no cooldown, quota intact.
    code = limited.data(LOGIN_CODE, {"p": victim}, headers=client())["requestLoginCode"]["devCode"]
    assert limited.data(LOGIN, {"p": victim, "c": code}, headers=client())["login"]["accessToken"]


def test_wrong_codes_are_limited_per_address(limited: GatewayProcess) -> None:
    phone = fresh_phone()
    code = limited.data(LOGIN_CODE, {"p": phone}, headers=client())["requestLoginCode"]["devCode"]
    guesser = client()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(FAILURES_PER_IP):
        assert code_of(limited.errors(LOGIN, {"p": phone, "c": wrong}, headers=guesser)) == (
            "UNAUTHENTICATED"
        )
    # Even a right guess is refused now from that address, before the code is looked at…
    error = limited.errors(LOGIN, {"p": phone, "c": code}, headers=guesser)[0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 600
    # …and elsewhere the code still works (three wrong guesses are under the per-code five).
    assert limited.data(LOGIN, {"p": phone, "c": code}, headers=client())["login"]["accessToken"]


def test_service_wide_ceiling_per_minute(limited: GatewayProcess) -> None:
    # Every request from a new address: only the global ceiling can refuse. The minute may
    # roll over once during the loop, so allow for two windows' worth.
    for _ in range(2 * GLOBAL_PER_MINUTE + 2):
        response = limited.graphql(LOGIN_CODE, {"p": fresh_phone()}, headers=client()).json()
        if response.get("errors"):
            error = response["errors"][0]
            assert error["extensions"]["code"] == "RATE_LIMITED", error
            assert 0 < error["extensions"]["retryAfter"] <= 60
            assert "busy" in error["message"]
            return
    pytest.fail("the service-wide ceiling never refused")
