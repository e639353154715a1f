"""Offline verification: `onestop wallet verify` with a trust list file and no server — an
untouched license or presentation passes, one edited by a single byte fails; keys rotate
without invalidating what the old key signed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import ROOT, GatewayProcess
from wallet_client import DOCUMENT, MARKET, SHOW, TRUST, holder, issue_id_card, staff

from gateway.embedded import free_port


def verify(tmp: Path, text: str, trust_list: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process, pointed at a database and Redis nobody listens on."""
    (tmp / "license.txt").write_text(text, encoding="utf-8")
    (tmp / "trust.jws").write_text(trust_list, encoding="utf-8")
    nowhere = f"127.0.0.1:{free_port()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")},
        "ONESTOP_MONGODB_URL": f"mongodb://{nowhere}/none",
        "ONESTOP_REDIS_URL": f"redis://{nowhere}/0",
        "ONESTOP_DATA_DIR": str(tmp / "empty"),
    }
    command = [sys.executable, "-m", "gateway.cli", "wallet", "verify", str(tmp / "license.txt")]
    return subprocess.run(
        [*command, "--trust-list", str(tmp / "trust.jws"), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def edited(text: str, at: int) -> str:
    """``text`` with the character at ``at`` replaced by another base64url character."""
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def test_a_license_verifies_offline_and_one_edited_byte_fails(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject, name="孙悟净")
    document = gateway.data(DOCUMENT, {"id": card["id"]}, token=token)["myLicenseDocument"]
    trust = gateway.data(TRUST)["walletTrustList"]
    passed = verify(tmp_path, document, trust["document"], "--anchor", trust["anchorThumbprint"])
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.startswith("VALID license") and "居民身份证" in passed.stdout
    assert "孙悟净" in passed.stdout  # the holder's own export carries every disclosure
    # One byte anywhere: in the signed payload, the signature's last character, a disclosure.
    jws_end = document.index("~")
    for at in (jws_end // 2, jws_end - 1, jws_end + 5, len(document) - 3):
        failed = verify(tmp_path, edited(document, at), trust["document"])
        assert failed.returncode == 1, (at, failed.stdout)
        assert failed.stdout.startswith("INVALID")
    # A trust list from another anchor is refused when the anchor is pinned.
    other = verify(tmp_path, document, trust["document"], "--anchor", "x" * 43)
    assert other.returncode == 2 and "pinned anchor" in other.stderr


def test_a_presentation_verifies_offline_within_its_180_seconds(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    subject, token = holder(gateway)
    card = issue_id_card(gateway, subject, name="周芷若", born="2001-05-05")
    shown = gateway.data(SHOW, {"id": card["id"], "d": ["AGE_OVER_18"]}, token=token)["showLicense"]
    trust = gateway.data(TRUST)["walletTrustList"]["document"]
    checked = verify(tmp_path, shown["qrPayload"], trust, "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = json.loads(checked.stdout)
    assert result["kind"] == "presentation" and result["disclosed"] == {"age_over_18": True}
    assert "周芷若" not in checked.stdout
    moment = (datetime.now(UTC) + timedelta(seconds=200)).isoformat()
    late = verify(tmp_path, shown["qrPayload"], trust, "--at", moment)
    assert late.returncode == 1 and "the presentation has expired" in late.stdout
    swapped = verify(tmp_path, edited(shown["qrPayload"], len(shown["qrPayload"]) - 10), trust)
    assert swapped.returncode == 1


def test_a_rotated_key_still_verifies_what_it_signed(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    subject, token = holder(gateway)
    before = issue_id_card(gateway, subject)
    old_document = gateway.data(DOCUMENT, {"id": before["id"]}, token=token)["myLicenseDocument"]
    admin = gateway.token("wallet-admin", ("admin",))
    rotate = "mutation($c: String!) { rotateIssuerKey(issuerCode: $c) { kid retiredAt } }"
    police = "114403000075454928"
    new_key = gateway.data(rotate, {"c": police}, token=admin)["rotateIssuerKey"]
    assert new_key["retiredAt"] is None
    assert (
        gateway.errors(rotate, {"c": police}, token=staff(gateway, MARKET))[0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    after = issue_id_card(gateway, subject)
    new_document = gateway.data(DOCUMENT, {"id": after["id"]}, token=token)["myLicenseDocument"]
    issuers = gateway.data("{ licenseIssuers { code keys { kid retiredAt } } }")["licenseIssuers"]
    keys = next(i["keys"] for i in issuers if i["code"] == police)
    assert keys[-1]["kid"] == new_key["kid"] and all(k["retiredAt"] for k in keys[:-1])
    trust = gateway.data(TRUST)["walletTrustList"]["document"]
    assert verify(tmp_path, old_document, trust).returncode == 0
    assert verify(tmp_path, new_document, trust).returncode == 0
    header = new_document.split(".")[0]
    signed_with = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    assert signed_with == new_key["kid"]
