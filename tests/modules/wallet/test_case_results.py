"""A case approved in the cases module puts its e-license into the applicant's wallet (the
bus event cases.case.changed and the cases.results interface; no direct coupling)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from harness import GatewayProcess
from wallet_client import AUDIT, MARKET, MINE, holder, staff

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "affairs"
SUBMIT = """mutation($input: SubmitCaseInput!) { submitCase(input: $input) { id status } }"""
ADVANCE = """mutation($id: ID!, $a: CaseAction!, $t: String) {
  advanceCase(id: $id, action: $a, trackingNumber: $t) { status } }"""
UPLOAD = (
    """mutation($file: Upload!) { uploadFile(file: $file, purpose: CASE_MATERIAL) { fileId } }"""
)


def business_registration() -> dict[str, Any]:
    """An item of the market regulator that issues a business licence, not 秒批."""
    for item in json.loads((SEEDS / "items.json").read_text()):
        if (
            item["status"] == "active"
            and item["department_code"] == MARKET
            and not item.get("instant_approval")
            and [r.get("license_type") for r in item["results"]] == ["BUSINESS_LICENSE"]
        ):
            return item
    raise AssertionError("no business registration item in the seeds")


def upload(gateway: GatewayProcess, token: str) -> str:
    content = b"%PDF-1.7\n" + uuid.uuid4().hex.encode() * 20 + b"\n%%EOF\n"
    operations = {"query": UPLOAD, "variables": {"file": None}}
    response = gateway.client.post(
        "/graphql",
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("材料.pdf", content, "application/pdf")},
    )
    file_id: str = response.json()["data"]["uploadFile"]["fileId"]
    return file_id


def test_an_approved_case_puts_its_license_in_the_wallet(gateway: GatewayProcess) -> None:
    item = business_registration()
    _, token = holder(gateway)
    needed = [
        m["name"] for m in item["materials"] if m.get("necessity") in ("required", "tolerated")
    ]
    application = {
        "itemCode": item["code"],
        "form": {"企业名称": "深圳市罗湖区晨光文具店", "统一社会信用代码": "92440303MA5G12345X"},
        "materials": [{"name": n, "fileId": upload(gateway, token)} for n in needed],
        "delivery": "PICKUP",
    }
    case_id = gateway.data(SUBMIT, {"input": application}, token=token)["submitCase"]["id"]
    office = staff(gateway, MARKET)
    for action in ("ACCEPT", "APPROVE"):
        gateway.data(ADVANCE, {"id": case_id, "a": action}, token=office)
    assert gateway.data(MINE, token=token)["myLicenses"]["totalCount"] == 0
    issued = gateway.data(ADVANCE, {"id": case_id, "a": "ISSUE_RESULT"}, token=office)
    assert issued["advanceCase"]["status"] == "RESULT_ISSUED"
    deadline = time.monotonic() + 10  # issued by a bus handler, just after the answer
    while not (mine := gateway.data(MINE, token=token)["myLicenses"])["totalCount"]:
        assert time.monotonic() < deadline, "no license in the wallet"
        time.sleep(0.2)
    (licence,) = [e["node"] for e in mine["edges"]]
    assert licence["typeCode"] == "BUSINESS_LICENSE" and licence["status"] == "VALID"
    assert licence["holderName"] == "深圳市罗湖区晨光文具店"  # an organisation: not masked
    assert licence["number"].endswith("345X")
    # Later steps of the case issue nothing again.
    gateway.data(ADVANCE, {"id": case_id, "a": "DELIVER"}, token=office)
    time.sleep(1)
    assert gateway.data(MINE, token=token)["myLicenses"]["totalCount"] == 1
    (entry,) = [e["node"] for e in gateway.data(AUDIT, token=token)["myLicenseAudit"]["edges"]]
    assert (entry["action"], entry["actorKind"], entry["actorOrganisation"]) == (
        "ISSUED",
        "issuer",
        MARKET,
    )
