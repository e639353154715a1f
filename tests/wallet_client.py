"""What the wallet tests send: documents, tokens of holders, issuers and verifiers."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from harness import GatewayProcess

POLICE = "114403000075454928"
MARKET = "114403030075452221"
CIVIL_AFFAIRS = "114403030075435260"
SAMPLE_PERSON = "wallet-sample-chen"
SAMPLE_COMPANY = "wallet-sample-company"

MINE = """query($h: Boolean) { myLicenses(includeHidden: $h, first: 100) { totalCount
  edges { node { id typeCode holderName holderIdNumber number status hidden } } } }"""
DETAIL = """query($id: ID!, $u: Boolean) { myLicense(id: $id, unmasked: $u) {
  id identifier typeCode typeName issuerName holderName holderIdType holderIdNumber number
  validFrom validUntil status version previousIdentifier
  fields { key label value sensitive masked } } }"""
DOCUMENT = "query($id: ID!) { myLicenseDocument(id: $id) }"
AUDIT = """query($l: ID) { myLicenseAudit(licenseId: $l, first: 100) { totalCount
  edges { node { action actorKind actorOrganisation purpose detail licenseId } } } }"""
ISSUE = """mutation($input: IssueLicenseInput!) { issueLicense(input: $input) {
  id identifier status holderName validUntil } }"""
SHOW = """mutation($id: ID!, $d: [LicenseClaim!]) {
  showLicense(input: {licenseId: $id, disclose: $d}) {
    token numericCode qrPayload expiresAt disclosed } }"""
SHOW_QR = """mutation($id: ID!) { showLicense(input: {licenseId: $id}) { qrSvg qrPngBase64 } }"""
REDEEM = """mutation($q: String, $t: String, $n: String, $p: String!) {
  redeemLicensePresentation(qrPayload: $q, token: $t, numericCode: $n, purpose: $p) {
    outcome message authentic status typeCode issuerName validUntil
    disclosed { claim value } } }"""
SHARE = """mutation($input: ShareLicenseInput!) { shareLicense(input: $input) {
  id purpose until revoked granteeCode } }"""
REVOKE_GRANT = "mutation($id: ID!) { revokeLicenseGrant(id: $id) { id revoked } }"
FETCH = """query($g: ID!) { sharedLicense(grantId: $g) { stamp authentic document
  license { typeCode holderName holderIdNumber status } } }"""
SUSPEND = "mutation($id: ID!, $r: String) { suspendLicense(id: $id, reason: $r) { status } }"
REINSTATE = "mutation($id: ID!) { reinstateLicense(id: $id) { status } }"
REVOKE = "mutation($id: ID!, $r: String) { revokeLicense(id: $id, reason: $r) { status } }"
RENEW = """mutation($id: ID!) { renewLicense(id: $id) { identifier version previousIdentifier
  status } }"""
TRUST = "{ walletTrustList { document anchorThumbprint } }"


def holder(gateway: GatewayProcess, subject: str | None = None, level: int = 2) -> tuple[str, str]:
    """A holder's subject and token."""
    subject = subject or f"holder-{uuid.uuid4().hex[:10]}"
    return subject, gateway.token(subject, identity_level=level)


def staff(gateway: GatewayProcess, department: str) -> str:
    return gateway.token(f"staff-{uuid.uuid4().hex[:6]}", ("staff",), department=department)


def verifier(gateway: GatewayProcess, organisation: str = "VERIFYORG01") -> str:
    return gateway.token(f"verifier-{uuid.uuid4().hex[:6]}", ("verifier",), department=organisation)


def resident_id(born: str, sequence: str = "123") -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    body = "440303" + born.replace("-", "") + sequence
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def issue_id_card(
    gateway: GatewayProcess, subject: str, name: str = "王小红", born: str = "1990-03-07"
) -> dict[str, Any]:
    licence = {
        "typeCode": "ID_CARD",
        "holder": subject,
        "holderName": name,
        "holderIdNumber": resident_id(born),
        "extension": {"gender": "女", "ethnicity": "汉", "address": "深圳市罗湖区湖贝路1号"},
    }
    issued: dict[str, Any] = gateway.data(ISSUE, {"input": licence}, token=staff(gateway, POLICE))[
        "issueLicense"
    ]
    return issued


def code(payload: dict[str, Any]) -> str:
    return str(payload["errors"][0]["extensions"]["code"])


def decoded_parts(sd_jwt: str) -> str:
    """Every base64url part of an SD-JWT decoded, joined: what a scanner could read."""
    out = []
    for part in sd_jwt.replace("~", ".").split("."):
        if part:
            out.append(
                base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode(errors="replace")
            )
    return json.dumps(out, ensure_ascii=False)
