"""移动钥匙包 over HTTP: seeded wallets, 亮证 with single-use 180-second presentations and
selective disclosure, online redemption with a distinct answer for each failure, the
issuer's lifecycle, 授权用证 with revocation, the holder's audit list, and authorisation."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from harness import GatewayProcess
from wallet_client import (
    AUDIT,
    CIVIL_AFFAIRS,
    DETAIL,
    DOCUMENT,
    FETCH,
    MARKET,
    MINE,
    POLICE,
    REDEEM,
    REINSTATE,
    RENEW,
    REVOKE,
    REVOKE_GRANT,
    SAMPLE_COMPANY,
    SAMPLE_PERSON,
    SHARE,
    SHOW,
    SHOW_QR,
    SUSPEND,
    code,
    decoded_parts,
    holder,
    issue_id_card,
    staff,
    verifier,
)

from modules.wallet.license_types import LICENSE_TYPES


def _redeem(gateway: GatewayProcess, auth: str, /, **given: str) -> dict[str, object]:
    variables = {"q": given.get("qr"), "t": given.get("token"), "n": given.get("numeric")}
    answer: dict[str, object] = gateway.data(
        REDEEM, {**variables, "p": given.get("purpose", "入场核验")}, token=auth
    )["redeemLicensePresentation"]
    return answer


def test_sample_holders_hold_a_license_of_every_type(gateway: GatewayProcess) -> None:
    _, person = holder(gateway, SAMPLE_PERSON)
    _, company = holder(gateway, SAMPLE_COMPANY)
    persons = {s.code for s in LICENSE_TYPES if s.holder_kind == "person"}
    companies = {s.code for s in LICENSE_TYPES if s.holder_kind == "legal_person"}
    mine = gateway.data(MINE, token=person)["myLicenses"]
    assert {e["node"]["typeCode"] for e in mine["edges"]} == persons
    theirs = gateway.data(MINE, token=company)["myLicenses"]
    assert {e["node"]["typeCode"] for e in theirs["edges"]} == companies
    assert len(persons | companies) == len(LICENSE_TYPES) >= 10
    # The list masks personal data: no name or id number in full.
    card = next(e["node"] for e in mine["edges"] if e["node"]["typeCode"] == "ID_CARD")
    assert card["holderName"] == "陈**" and card["status"] == "VALID"
    assert card["holderIdNumber"].startswith("4403") and "*" in card["holderIdNumber"]


def test_details_are_masked_until_asked_and_the_ask_is_audited(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject)
    masked = gateway.data(DETAIL, {"id": card["id"]}, token=token)["myLicense"]
    address = next(f for f in masked["fields"] if f["key"] == "address")
    assert address["sensitive"] and address["masked"] and "湖贝路" not in address["value"]
    assert masked["holderName"] == "王**"
    assert masked["identifier"].startswith("1.2.156.3005.2.11100000000013127D001.")
    full = gateway.data(DETAIL, {"id": card["id"], "u": True}, token=token)["myLicense"]
    assert full["holderName"] == "王小红"
    assert next(f for f in full["fields"] if f["key"] == "address")["value"].endswith("湖贝路1号")
    actions = [
        e["node"]["action"] for e in gateway.data(AUDIT, token=token)["myLicenseAudit"]["edges"]
    ]
    assert actions == ["VIEWED_IN_FULL", "ISSUED"]


def test_show_verify_and_the_same_token_again(gateway: GatewayProcess) -> None:
    """An "age ≥ 18" presentation reveals neither name nor id; it works once."""
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject, name="赵一鸣", born="1999-12-01")
    shown = gateway.data(SHOW, {"id": card["id"], "d": ["AGE_OVER_18"]}, token=token)["showLicense"]
    assert shown["disclosed"] == ["AGE_OVER_18"]
    assert len(shown["token"]) >= 22 and len(shown["numericCode"]) == 12
    readable = decoded_parts(shown["qrPayload"])
    assert "赵一鸣" not in readable and "19991201" not in readable and "age_over_18" in readable
    checker = verifier(gateway)
    first = _redeem(gateway, checker, qr=shown["qrPayload"])
    assert first["outcome"] == "ACCEPTED" and first["authentic"] is True
    assert first["status"] == "VALID" and first["typeCode"] == "ID_CARD"
    assert first["disclosed"] == [{"claim": "AGE_OVER_18", "value": True}]
    again = _redeem(gateway, checker, qr=shown["qrPayload"])
    assert again["outcome"] == "ALREADY_USED" and again["disclosed"] == []
    by_token = _redeem(gateway, verifier(gateway), token=shown["token"])
    assert by_token["outcome"] == "ALREADY_USED"
    # The numeric fallback of a fresh presentation, with name and validity.
    named = gateway.data(SHOW, {"id": card["id"], "d": ["HOLDER_NAME"]}, token=token)["showLicense"]
    spaced = " ".join(named["numericCode"][i : i + 4] for i in range(0, 12, 4))
    answer = _redeem(gateway, checker, numeric=spaced)
    assert answer["outcome"] == "ACCEPTED"
    assert answer["disclosed"] == [{"claim": "HOLDER_NAME", "value": "赵一鸣"}]
    assert answer["validUntil"]
    # A made-up token and a forged QR get their own answers.
    assert _redeem(gateway, checker, token=uuid.uuid4().hex)["outcome"] == "NOT_FOUND"
    forged = named["qrPayload"].replace(
        named["qrPayload"][40], "A" if named["qrPayload"][40] != "A" else "B", 1
    )
    assert _redeem(gateway, checker, qr=forged)["outcome"] == "FORGED"


def test_a_presentation_is_an_image_too(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject)
    qr = gateway.data(SHOW_QR, {"id": card["id"]}, token=token)["showLicense"]
    assert qr["qrSvg"].lstrip().startswith("<svg") and "path" in qr["qrSvg"]
    assert base64.b64decode(qr["qrPngBase64"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_token_past_180_seconds_is_refused(
    gateway: GatewayProcess, later: Callable[[int], GatewayProcess]
) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject)
    shown = gateway.data(SHOW, {"id": card["id"]}, token=token)["showLicense"]
    future = later(200)
    assert _redeem(future, verifier(gateway), token=shown["token"])["outcome"] == "EXPIRED"
    assert _redeem(future, verifier(gateway), qr=shown["qrPayload"])["outcome"] == "EXPIRED"
    # Not used by the refusals: still within 180 s here it works once.
    assert _redeem(gateway, verifier(gateway), token=shown["token"])["outcome"] == "ACCEPTED"


def test_suspension_and_revocation_show_on_the_next_verification(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject)
    police = staff(gateway, POLICE)
    before_suspension = gateway.data(SHOW, {"id": card["id"]}, token=token)["showLicense"]
    assert (
        gateway.data(SUSPEND, {"id": card["id"], "r": "涉嫌冒用"}, token=police)["suspendLicense"][
            "status"
        ]
        == "SUSPENDED"
    )
    answer = _redeem(gateway, verifier(gateway), qr=before_suspension["qrPayload"])
    assert answer["outcome"] == "LICENSE_SUSPENDED" and answer["status"] == "SUSPENDED"
    refused = gateway.graphql(SHOW, {"id": card["id"]}, token=token).json()
    assert code(refused) == "CONFLICT"
    assert (
        gateway.data(REINSTATE, {"id": card["id"]}, token=police)["reinstateLicense"]["status"]
        == "VALID"
    )
    before_revocation = gateway.data(SHOW, {"id": card["id"]}, token=token)["showLicense"]
    assert (
        gateway.data(REVOKE, {"id": card["id"], "r": "证件作废"}, token=police)["revokeLicense"][
            "status"
        ]
        == "REVOKED"
    )
    answer = _redeem(gateway, verifier(gateway), token=before_revocation["token"])
    assert answer["outcome"] == "LICENSE_REVOKED" and answer["status"] == "REVOKED"
    mine = gateway.data(DETAIL, {"id": card["id"]}, token=token)["myLicense"]
    assert mine["status"] == "REVOKED"
    # Revoked is final.
    assert code(gateway.graphql(REINSTATE, {"id": card["id"]}, token=police).json()) == "CONFLICT"


def test_renewal_is_a_new_version_linked_to_the_old(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject)
    shown = gateway.data(SHOW, {"id": card["id"]}, token=token)["showLicense"]
    renewed = gateway.data(RENEW, {"id": card["id"]}, token=staff(gateway, POLICE))["renewLicense"]
    assert renewed["version"] == 2 and renewed["previousIdentifier"] == card["identifier"]
    assert renewed["identifier"].rsplit(".", 2)[0] == card["identifier"].rsplit(".", 2)[0]
    # A presentation of the old version is no longer the license's current one.
    assert (
        _redeem(gateway, verifier(gateway), qr=shown["qrPayload"])["outcome"] == "LICENSE_INVALID"
    )


def test_share_fetch_revoke_and_the_audit_list(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject, name="钱多多")
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    grant = gateway.data(
        SHARE,
        {
            "input": {
                "licenseId": card["id"],
                "granteeKind": "DEPARTMENT",
                "granteeCode": CIVIL_AFFAIRS,
                "purpose": "结婚登记",
                "until": until,
            }
        },
        token=token,
    )["shareLicense"]
    civil = staff(gateway, CIVIL_AFFAIRS)
    copy = gateway.data(FETCH, {"g": grant["id"]}, token=civil)["sharedLicense"]
    assert copy["stamp"].startswith("仅供办理结婚登记使用，有效期至")
    assert copy["authentic"] is True and copy["license"]["holderName"] == "钱多多"
    # Another department, a verifier and a citizen get nothing.
    other = gateway.graphql(FETCH, {"g": grant["id"]}, token=staff(gateway, MARKET)).json()
    assert (
        code(other) == "FORBIDDEN" and other["errors"][0]["extensions"]["reason"] == "not_grantee"
    )
    assert (
        code(gateway.graphql(FETCH, {"g": grant["id"]}, token=verifier(gateway)).json())
        == "FORBIDDEN"
    )
    assert code(gateway.graphql(FETCH, {"g": grant["id"]}, token=token).json()) == "FORBIDDEN"
    revoked = gateway.data(REVOKE_GRANT, {"id": grant["id"]}, token=token)["revokeLicenseGrant"]
    assert revoked["revoked"] is True
    after = gateway.graphql(FETCH, {"g": grant["id"]}, token=civil).json()
    assert code(after) == "FORBIDDEN"
    assert after["errors"][0]["extensions"]["reason"] == "grant_revoked"
    # And a presentation checked once, then tried again.
    shown = gateway.data(SHOW, {"id": card["id"]}, token=token)["showLicense"]
    checker = verifier(gateway, "HOTEL0001")
    _redeem(gateway, checker, token=shown["token"], purpose="酒店入住")
    _redeem(gateway, checker, token=shown["token"], purpose="酒店入住")
    entries = [
        e["node"]
        for e in gateway.data(AUDIT, {"l": card["id"]}, token=token)["myLicenseAudit"]["edges"]
    ]
    steps = [(e["action"], e["actorKind"], e["actorOrganisation"], e["purpose"]) for e in entries]
    assert steps == [
        ("VERIFICATION_REFUSED", "verifier", "HOTEL0001", "酒店入住"),
        ("VERIFIED", "verifier", "HOTEL0001", "酒店入住"),
        ("SHOWN", "holder", None, None),
        ("FETCH_REFUSED", "department", CIVIL_AFFAIRS, "结婚登记"),
        ("GRANT_REVOKED", "holder", None, "结婚登记"),
        ("FETCH_REFUSED", "verifier", "VERIFYORG01", "结婚登记"),
        ("FETCH_REFUSED", "department", MARKET, "结婚登记"),
        ("FETCHED", "department", CIVIL_AFFAIRS, "结婚登记"),
        ("SHARED", "holder", None, "结婚登记"),
        ("ISSUED", "issuer", POLICE, None),
    ]
    assert entries[0]["detail"] == "already_used" and entries[3]["detail"] == "grant_revoked"


def test_nobody_but_holder_issuer_and_grantee_reads_a_license(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject)
    _, stranger = holder(gateway)
    for query, variables in ((DETAIL, {"id": card["id"]}), (DOCUMENT, {"id": card["id"]})):
        assert code(gateway.graphql(query, variables, token=stranger).json()) == "NOT_FOUND"
        assert code(gateway.graphql(query, variables).json()) == "UNAUTHENTICATED"
    assert code(gateway.graphql(SHOW, {"id": card["id"]}, token=stranger).json()) == "NOT_FOUND"
    issued = "query($id: ID!) { issuedLicense(id: $id) { holderName status } }"
    own = gateway.data(issued, {"id": card["id"]}, token=staff(gateway, POLICE))["issuedLicense"]
    assert own["holderName"] == "王**"
    for other in (staff(gateway, MARKET), verifier(gateway)):
        answer = gateway.graphql(issued, {"id": card["id"]}, token=other).json()
        assert code(answer) in ("NOT_FOUND", "FORBIDDEN")
        assert code(gateway.graphql(SUSPEND, {"id": card["id"], "r": "x"}, token=other).json()) in (
            "NOT_FOUND",
            "FORBIDDEN",
        )
    # A citizen cannot redeem, nor issue.
    shown = gateway.data(SHOW, {"id": card["id"]}, token=token)["showLicense"]
    denied = gateway.graphql(REDEEM, {"t": shown["token"], "p": "x"}, token=stranger).json()
    assert code(denied) == "FORBIDDEN"
    # A department issues only its own types.
    licence = {"typeCode": "ID_CARD", "holder": subject, "holderName": "x", "holderIdNumber": "1"}
    wrong = gateway.graphql(
        "mutation($i: IssueLicenseInput!) { issueLicense(input: $i) { id } }",
        {"i": licence},
        token=staff(gateway, MARKET),
    ).json()
    assert code(wrong) == "FORBIDDEN"


def test_numeric_codes_are_rate_limited_hard(gateway: GatewayProcess) -> None:
    checker = verifier(gateway)
    answers = [
        gateway.graphql(REDEEM, {"n": f"{n:012d}", "p": "x"}, token=checker).json()
        for n in range(7)
    ]
    outcomes = [a["data"]["redeemLicensePresentation"]["outcome"] for a in answers[:5]]
    assert outcomes == ["NOT_FOUND"] * 5
    assert (
        code(answers[5]) == "RATE_LIMITED"
        and answers[5]["errors"][0]["extensions"]["retryAfter"] > 0
    )


def test_hide_and_order(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    first = issue_id_card(gateway, subject)
    second = issue_id_card(gateway, subject, name="王小红", born="1991-03-07")
    arrange = "mutation($ids: [ID!]!) { arrangeMyLicenses(ids: $ids) { edges { node { id } } } }"
    ordered = gateway.data(arrange, {"ids": [second["id"], first["id"]]}, token=token)
    assert [e["node"]["id"] for e in ordered["arrangeMyLicenses"]["edges"]] == [
        second["id"],
        first["id"],
    ]
    hide = "mutation($id: ID!) { setMyLicenseHidden(id: $id, hidden: true) { hidden } }"
    assert gateway.data(hide, {"id": second["id"]}, token=token)["setMyLicenseHidden"]["hidden"]
    assert [e["node"]["id"] for e in gateway.data(MINE, token=token)["myLicenses"]["edges"]] == [
        first["id"]
    ]
    everything = gateway.data(MINE, {"h": True}, token=token)["myLicenses"]
    assert everything["totalCount"] == 2
    _, stranger = holder(gateway)
    assert code(gateway.graphql(hide, {"id": first["id"]}, token=stranger).json()) == "NOT_FOUND"


NOTES = "{ myNotifications(first: 10) { edges { node { kind text ref } } } }"
REMIND = "mutation($d: Int!) { remindExpiringLicenses(withinDays: $d) }"


def test_holders_are_reminded_once_before_a_license_expires(gateway: GatewayProcess) -> None:
    subject, token = holder(gateway)
    soon = (datetime.now(UTC) + timedelta(days=12)).date().isoformat()
    licence = {
        "typeCode": "DRIVING_LICENSE",
        "holder": subject,
        "holderName": "李四",
        "holderIdNumber": "440303198001010010",
        "validUntil": soon,
        "extension": {"vehicle_class": "C1"},
    }
    issue = "mutation($i: IssueLicenseInput!) { issueLicense(input: $i) { id validUntil } }"
    card = gateway.data(issue, {"i": licence}, token=staff(gateway, POLICE))["issueLicense"]
    admin = gateway.token("wallet-admin", ("admin",))
    assert gateway.data(REMIND, {"d": 30}, token=admin)["remindExpiringLicenses"] >= 1
    gateway.data(REMIND, {"d": 30}, token=admin)  # a second scan tells nobody twice
    assert code(gateway.graphql(REMIND, {"d": 30}, token=token).json()) == "FORBIDDEN"
    deadline = time.monotonic() + 10  # written by a bus handler of the cases module
    while not (notes := gateway.data(NOTES, token=token)["myNotifications"]["edges"]):
        assert time.monotonic() < deadline, "no reminder"
        time.sleep(0.2)
    time.sleep(0.5)
    notes = gateway.data(NOTES, token=token)["myNotifications"]["edges"]
    assert [n["node"]["kind"] for n in notes] == ["LICENSE"]
    assert notes[0]["node"]["ref"] == card["id"] and soon in notes[0]["node"]["text"]
    assert "机动车驾驶证" in notes[0]["node"]["text"]
