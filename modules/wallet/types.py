"""The wallet's GraphQL types."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from typing import Any

import segno
import strawberry
from strawberry.scalars import JSON

from gateway.kit.connections import Connection
from gateway.kit.enums import graphql_enum
from modules.wallet.identifiers import mask_id_number, mask_name, mask_number
from modules.wallet.license_types import LicenseTypeSpec, license_type
from modules.wallet.vocabulary import (
    AUDIT_LABELS,
    CLAIM_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    AuditAction,
    GranteeKind,
    LicenseClaim,
    LicenseStatus,
    PresentationOutcome,
)

__all__ = [
    "DisclosedClaim",
    "LicenseAuditConnection",
    "LicenseAuditEntry",
    "LicenseField",
    "LicenseGrant",
    "LicenseGrantConnection",
    "LicenseIssuer",
    "LicensePresentation",
    "PresentationCheck",
    "SharedLicenseCopy",
    "WalletLicense",
    "WalletLicenseConnection",
    "WalletLicenseType",
    "WalletTrustList",
]

graphql_enum(LicenseStatus, "证照状态 (GB/T 36904 status codes).", STATUS_LABELS)
graphql_enum(LicenseClaim, "What a holder may disclose of a license.", CLAIM_LABELS)
graphql_enum(
    GranteeKind,
    "Who a license is shared with.",
    {
        GranteeKind.DEPARTMENT: "A government department (its staff fetch the copy).",
        GranteeKind.VERIFIER: "A verifier organisation (its verifier accounts fetch the copy).",
    },
)
graphql_enum(PresentationOutcome, "A verifier's answer for a shown license.", OUTCOME_LABELS)
graphql_enum(AuditAction, "What happened to a license (the holder's audit list).", AUDIT_LABELS)


@strawberry.type(description="An e-license type the wallet knows (the one list of types).")
class WalletLicenseType:
    code: str = strawberry.field(description="Stable code, e.g. BUSINESS_LICENSE.")
    name: str = strawberry.field(description="证照类型名称, e.g. 营业执照.")
    national_code: str = strawberry.field(description="证照类型代码 in the national catalogue.")
    issuer_kind: str = strawberry.field(description="发证机构类别.")
    holder_kind: str = strawberry.field(description="person or legal_person.")
    issuer_codes: list[str] = strawberry.field(description="Departments that issue it here.")
    validity_years: int | None = strawberry.field(description="Years valid; null: 长期.")
    fields: list[str] = strawberry.field(description="Its extension fields' labels.")

    @classmethod
    def from_spec(cls, spec: LicenseTypeSpec) -> WalletLicenseType:
        return cls(
            code=spec.code,
            name=spec.name,
            national_code=spec.national_code,
            issuer_kind=spec.issuer_kind,
            holder_kind=spec.holder_kind,
            issuer_codes=list(spec.issuers),
            validity_years=spec.validity_years,
            fields=[f.label for f in spec.fields],
        )


@strawberry.type(description="One field of a license as shown (sensitive ones masked).")
class LicenseField:
    key: str = strawberry.field(description="Field key, e.g. address.")
    label: str = strawberry.field(description="Its label on the licence, e.g. 住址.")
    value: str = strawberry.field(description="The value (masked when sensitive and masked).")
    sensitive: bool = strawberry.field(description="Masked by default.")
    masked: bool = strawberry.field(description="Whether `value` is masked here.")


def _mask(value: str, key: str) -> str:
    if key in ("holder_id", "spouse_id_number", "bank_account"):
        return mask_id_number(value)
    if key == "number":
        return mask_number(value)
    if key.endswith("name") or key in ("head_of_household", "legal_representative"):
        return mask_name(value)
    return "*" * min(len(value), 8) if len(value) <= 4 else value[:2] + "*" * (len(value) - 2)


def license_fields(
    doc: dict[str, Any], claims: dict[str, Any], unmasked: bool
) -> list[LicenseField]:
    spec = license_type(doc["type_code"])
    person = spec is not None and spec.holder_kind == "person"
    rows: list[tuple[str, str, Any, bool]] = [
        ("holder_name", "持证人" if person else "持证单位", claims.get("holder_name"), person),
        (
            "holder_id",
            "公民身份号码" if person else "统一社会信用代码",
            claims.get("holder_id"),
            True,
        ),
        ("number", "证照编号", claims.get("number"), True),
        ("birth_date", "出生日期", claims.get("birth_date"), True),
    ]
    extension = claims.get("extension") or {}
    for field in spec.fields if spec else ():
        rows.append((field.key, field.label, extension.get(field.key), field.sensitive))
    out = []
    for key, label, value, sensitive in rows:
        if value is None:
            continue
        hide = sensitive and not unmasked
        text = str(value)
        out.append(
            LicenseField(
                key=key,
                label=label,
                value=_mask(text, key) if hide else text,
                sensitive=sensitive,
                masked=hide,
            )
        )
    return out


@strawberry.type(
    description="An e-license in a holder's wallet (personal data masked unless asked)."
)
class WalletLicense:
    id: strawberry.ID = strawberry.field(description="The wallet's id of the license.")
    identifier: str = strawberry.field(
        description="电子证照标识 (OID style, GB/T 36902, with its check character)."
    )
    type_code: str = strawberry.field(description="E-license type code.")
    type_name: str = strawberry.field(description="证照类型名称.")
    issuer_code: str = strawberry.field(description="发证机构代码 (统一社会信用代码).")
    issuer_name: str = strawberry.field(description="发证机构名称.")
    holder_name: str = strawberry.field(description="持证主体名称 (a person's name masked).")
    holder_id_type: str = strawberry.field(description="持证主体代码类型: ID_CARD or USCC.")
    holder_id_number: str = strawberry.field(description="持证主体代码, masked unless asked.")
    number: str = strawberry.field(description="证照编号, masked unless asked.")
    issued_on: date = strawberry.field(description="颁证日期 of this version.")
    valid_from: date = strawberry.field(description="有效期起始.")
    valid_until: date | None = strawberry.field(description="有效期截止; null: 长期.")
    jurisdiction: str = strawberry.field(description="管辖区域.")
    status: LicenseStatus = strawberry.field(description="证照状态 now (05 once expired).")
    status_reason: str | None = strawberry.field(description="Why the issuer changed it.")
    version: int = strawberry.field(description="版本 (a renewal is the next).")
    previous_identifier: str | None = strawberry.field(
        description="关联证照: the previous version."
    )
    hidden: bool = strawberry.field(description="Hidden from the holder's list.")
    fields: list[LicenseField] = strawberry.field(description="The licence's fields.")

    @classmethod
    def from_doc(
        cls,
        doc: dict[str, Any],
        metadata: dict[str, Any],
        claims: dict[str, Any],
        status: LicenseStatus,
        *,
        unmasked: bool = False,
    ) -> WalletLicense:
        fields = license_fields(doc, claims, unmasked)
        by_key = {f.key: f.value for f in fields}
        return cls(
            id=strawberry.ID(doc["_id"]),
            identifier=doc["identifier"],
            type_code=doc["type_code"],
            type_name=str(metadata.get("type_name", "")),
            issuer_code=doc["issuer_code"],
            issuer_name=str(metadata.get("issuer_name", "")),
            holder_name=by_key.get("holder_name", ""),
            holder_id_type=str(metadata.get("holder_id_type", "")),
            holder_id_number=by_key.get("holder_id", ""),
            number=by_key.get("number", ""),
            issued_on=date.fromisoformat(doc["issued_on"]),
            valid_from=date.fromisoformat(doc["valid_from"]),
            valid_until=date.fromisoformat(doc["valid_until"]) if doc.get("valid_until") else None,
            jurisdiction=str(metadata.get("jurisdiction", "")),
            status=status,
            status_reason=doc.get("status_reason"),
            version=int(doc["version"]),
            previous_identifier=metadata.get("previous"),
            hidden=bool(doc.get("hidden")),
            fields=fields,
        )


@strawberry.type(description="A page of the holder's licenses, in the holder's order.")
class WalletLicenseConnection(Connection[WalletLicense]):
    pass


@strawberry.type(description="亮证: a single-use presentation, valid for 180 seconds.")
class LicensePresentation:
    token: str = strawberry.field(description="The presentation's token (128 bits, single use).")
    numeric_code: str = strawberry.field(
        description="12-digit fallback code to read out or type (single use, rate-limited)."
    )
    qr_payload: str = strawberry.field(
        description="What the QR code carries: the SD-JWT presentation, checkable offline "
        "with the trust list, or redeemed online."
    )
    expires_at: datetime = strawberry.field(description="When it stops working (180 s).")
    disclosed: list[LicenseClaim] = strawberry.field(description="What it discloses.")

    @strawberry.field(description="The QR code as an SVG document.")
    def qr_svg(self) -> str:
        out = io.BytesIO()
        segno.make(self.qr_payload, error="l").save(out, kind="svg", scale=2, xmldecl=False)
        return out.getvalue().decode()

    @strawberry.field(description="The QR code as a PNG image, base64.")
    def qr_png_base64(self) -> str:
        out = io.BytesIO()
        segno.make(self.qr_payload, error="l").save(out, kind="png", scale=2)
        return base64.b64encode(out.getvalue()).decode()


@strawberry.type(description="One disclosed field of a checked presentation.")
class DisclosedClaim:
    claim: LicenseClaim = strawberry.field(description="Which claim.")
    value: JSON = strawberry.field(description="Its value (text, yes/no, or the extension object).")


@strawberry.type(description="核验结果: what a verifier learns from a presentation, once.")
class PresentationCheck:
    outcome: PresentationOutcome = strawberry.field(description="The answer.")
    message: str = strawberry.field(description="The answer in words.")
    authentic: bool = strawberry.field(description="Signed by a trusted issuer, unaltered.")
    status: LicenseStatus | None = strawberry.field(description="The license's status now.")
    type_code: str | None = strawberry.field(description="E-license type code.")
    type_name: str | None = strawberry.field(description="证照类型名称.")
    issuer_name: str | None = strawberry.field(description="发证机构.")
    identifier: str | None = strawberry.field(description="电子证照标识.")
    valid_from: str | None = strawberry.field(description="有效期起始.")
    valid_until: str | None = strawberry.field(description="有效期截止 (null: 长期).")
    disclosed: list[DisclosedClaim] = strawberry.field(
        description="Only what the holder chose to disclose (empty unless ACCEPTED)."
    )


@strawberry.type(description="授权: a holder's grant of one license to an organisation.")
class LicenseGrant:
    id: strawberry.ID = strawberry.field(description="The grant's id (give it to the grantee).")
    license_id: strawberry.ID = strawberry.field(description="The license shared.")
    type_code: str = strawberry.field(description="Its type.")
    grantee_kind: GranteeKind = strawberry.field(description="A department or a verifier.")
    grantee_code: str = strawberry.field(description="The organisation's code.")
    purpose: str = strawberry.field(description="办理事项: what it may be used for.")
    until: datetime = strawberry.field(description="Until when.")
    revoked: bool = strawberry.field(description="Withdrawn by the holder.")
    for_case: bool = strawberry.field(description="Made by 免证办 for a case.")
    created_at: datetime = strawberry.field(description="When granted.")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> LicenseGrant:
        return cls(
            id=strawberry.ID(doc["_id"]),
            license_id=strawberry.ID(doc["license_id"]),
            type_code=doc["type_code"],
            grantee_kind=GranteeKind(doc["grantee_kind"]),
            grantee_code=doc["grantee_code"],
            purpose=doc["purpose"],
            until=datetime.fromisoformat(doc["until"]),
            revoked=bool(doc["revoked"]),
            for_case=doc.get("source") == "case",
            created_at=doc["created_at"],
        )


@strawberry.type(description="A page of grants, newest first.")
class LicenseGrantConnection(Connection[LicenseGrant]):
    pass


@strawberry.type(description="A copy of a shared license for its grantee, stamped.")
class SharedLicenseCopy:
    stamp: str = strawberry.field(description="仅供办理…使用，有效期至….")
    authentic: bool = strawberry.field(description="The issuer's signature checked.")
    license: WalletLicense = strawberry.field(description="The license (unmasked: granted).")
    document: str = strawberry.field(
        description="The signed license (SD-JWT) to keep or check offline."
    )


@strawberry.type(description="One entry of a holder's audit list: who did what, when, why.")
class LicenseAuditEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    at: datetime = strawberry.field(description="When.")
    action: AuditAction = strawberry.field(description="What happened.")
    license_id: strawberry.ID | None = strawberry.field(description="Which license.")
    actor_kind: str = strawberry.field(
        description="holder, issuer, verifier, department or system."
    )
    actor_organisation: str | None = strawberry.field(
        description="The department or verifier organisation's code."
    )
    purpose: str | None = strawberry.field(description="Why (the stated purpose).")
    detail: str | None = strawberry.field(description="More (outcome, reason, claims shown).")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> LicenseAuditEntry:
        return cls(
            id=strawberry.ID(doc["_id"]),
            at=doc["at"],
            action=AuditAction(doc["action"]),
            license_id=strawberry.ID(doc["license_id"]) if doc.get("license_id") else None,
            actor_kind=doc["actor_kind"],
            actor_organisation=doc.get("actor_organisation"),
            purpose=doc.get("purpose"),
            detail=doc.get("detail"),
        )


@strawberry.type(description="A page of audit entries, newest first.")
class LicenseAuditConnection(Connection[LicenseAuditEntry]):
    pass


@strawberry.type(description="One of an issuer's signing keys (JWKS entry) and its time in use.")
class IssuerKey:
    kid: str = strawberry.field(description="Key id (RFC 7638 thumbprint).")
    jwk: JSON = strawberry.field(description="The public key as a JWK (Ed25519, OKP).")
    in_use_from: datetime = strawberry.field(description="Signing from.")
    retired_at: datetime | None = strawberry.field(description="Retired (null: current).")


@strawberry.type(description="An issuing department and its published keys (its JWKS).")
class LicenseIssuer:
    code: str = strawberry.field(description="统一社会信用代码.")
    name: str = strawberry.field(description="Name.")
    license_types: list[str] = strawberry.field(description="Types it issues.")
    keys: list[IssuerKey] = strawberry.field(description="Every key it signed with, oldest first.")


@strawberry.type(description="The signed trust list for offline verification.")
class WalletTrustList:
    document: str = strawberry.field(
        description="The trust list, a JWS signed by the trust anchor; save it as the file "
        "`onestop wallet verify --trust-list` reads."
    )
    anchor_thumbprint: str = strawberry.field(
        description="The trust anchor key's thumbprint, to pin (`--anchor`)."
    )
