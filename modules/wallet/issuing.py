"""签发与状态变更: issue, renew, suspend, reinstate and revoke e-licenses.

Only an issuing department's staff act on its licenses (``wallet.license.issue`` and the
type's issuers; admins any). Every change is one revision-guarded update — two staff at
once, one wins, the other gets ``CONFLICT`` — and an entry in the holder's audit list.
Status lives beside the signed document, not in it: a verifier asks for the current status
online (a suspension shows on the next verification), while the signed document stays the
same bytes the issuer signed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.errors import BadUserInput, Conflict, FieldError, Forbidden, NotFound
from modules.wallet import sdjwt
from modules.wallet.core import Actor, Wallet, effective_status
from modules.wallet.identifiers import identifier, resident_birth_date, resident_id_valid
from modules.wallet.license_types import LicenseTypeSpec, license_type
from modules.wallet.vocabulary import AuditAction, LicenseStatus

__all__ = ["NewLicense", "change_status", "issue", "issued_by", "issuer_may_act", "renew"]

JURISDICTION = "440303 广东省深圳市罗湖区"


@dataclass(frozen=True)
class NewLicense:
    """What an issuer puts into a holder's wallet."""

    type_code: str
    issuer_code: str
    holder_subject: str
    holder_name: str
    holder_id: str
    number: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None  # default: the type's validity from valid_from
    birth_date: date | None = None  # persons without a resident id number
    extension: Mapping[str, Any] = field(default_factory=dict)
    source_key: str | None = None  # a case or seed: issuing it twice makes one license


def issuer_may_act(department: str | None, is_admin: bool, spec: LicenseTypeSpec) -> bool:
    return is_admin or (department is not None and department in spec.issuers)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check(new: NewLicense, spec: LicenseTypeSpec) -> list[FieldError]:
    errors = []
    if not new.holder_name.strip() or len(new.holder_name) > 100:
        errors.append(FieldError("holderName", "1 to 100 characters", "invalid"))
    if spec.holder_id_type == "ID_CARD" and not resident_id_valid(new.holder_id):
        errors.append(FieldError("holderIdNumber", "not a valid 公民身份号码", "invalid"))
    if spec.holder_id_type == "USCC" and (len(new.holder_id) != 18 or not new.holder_id.isalnum()):
        errors.append(FieldError("holderIdNumber", "not a 统一社会信用代码", "invalid"))
    known = {f.key for f in spec.fields}
    for key, value in new.extension.items():
        if key not in known:
            errors.append(FieldError(f"extension.{key}", f"not a field of {spec.code}", "unknown"))
        elif not isinstance(value, str | int) or len(str(value)) > 200:
            errors.append(FieldError(f"extension.{key}", "a short text", "invalid"))
    return errors


def _claims(new: NewLicense, spec: LicenseTypeSpec, number: str, today: date) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "holder_name": new.holder_name.strip(),
        "holder_id": new.holder_id,
        "number": number,
    }
    if spec.holder_kind == "person":
        born = new.birth_date or resident_birth_date(new.holder_id)
        if born is not None:
            claims["birth_date"] = born.isoformat()
            # As of issuing: a minor's license says no until renewed (ISO 18013-5 does alike).
            claims["age_over_18"] = _add_years(born, 18) <= today
    if new.extension:
        claims["extension"] = {k: str(v) for k, v in sorted(new.extension.items())}
    return claims


async def _sign(
    wallet: Wallet,
    spec: LicenseTypeSpec,
    issuer: Mapping[str, Any],
    holder_key: str,
    metadata: dict[str, Any],
    claims: Mapping[str, Any],
) -> tuple[str, str]:
    kid, private = await wallet.signing_key(str(issuer["_id"]))
    visible = {
        "iss": f"urn:onestop:issuer:{issuer['_id']}",
        "iat": int(wallet.now().timestamp()),
        "vct": f"urn:onestop:license:{spec.code}",
        "license": metadata,
    }
    holder_public = wallet.keys.holder_signing_key(holder_key).public_key()
    document = sdjwt.issue(visible, claims, holder_key=holder_public, issuer_key=private, kid=kid)
    return document, kid


async def issue(wallet: Wallet, new: NewLicense, actor: Actor) -> dict[str, Any]:
    """Sign a license and put it into the holder's wallet; with a ``source_key`` already
    issued, the existing license is returned (a redelivered event issues once)."""
    spec = license_type(new.type_code)
    if spec is None:
        raise BadUserInput(
            "未知证照类型 (unknown license type)", [FieldError("typeCode", "unknown", "unknown")]
        )
    if new.source_key is not None:
        existing = await wallet.repository.by_source(new.source_key)
        if existing is not None:
            return existing
    issuer = await wallet.repository.issuer(new.issuer_code)
    if issuer is None or spec.code not in issuer["license_types"]:
        raise Forbidden("该部门不签发此类证照 (this department does not issue this type)")
    errors = _check(new, spec)
    if errors:
        raise BadUserInput("证照信息有误 (invalid license data)", errors)
    today = wallet.today()
    valid_from = new.valid_from or today
    valid_until = new.valid_until or (
        _add_years(valid_from, spec.validity_years) if spec.validity_years else None
    )
    serial = await wallet.repository.next_serial(spec.code, new.issuer_code)
    number = new.number or f"{new.issuer_code[-6:]}{today:%Y}{serial:06d}"
    holder_key = wallet.keys.holder_key(new.holder_subject)
    metadata = {
        "identifier": identifier(spec.national_code, new.issuer_code, serial, 1),
        "type_code": spec.code,
        "type_name": spec.name,
        "type_national_code": spec.national_code,
        "issuer_code": new.issuer_code,
        "issuer_name": issuer["name"],
        "issued_on": today.isoformat(),
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "jurisdiction": JURISDICTION,
        "holder_kind": spec.holder_kind,
        "holder_id_type": spec.holder_id_type,
        "version": 1,
        "previous": None,
    }
    claims = _claims(new, spec, number, today)
    document, kid = await _sign(wallet, spec, issuer, holder_key, metadata, claims)
    now = wallet.now()
    doc: dict[str, Any] = {
        "_id": f"lic{secrets.token_hex(12)}",
        "holder_key": holder_key,
        "type_code": spec.code,
        "issuer_code": new.issuer_code,
        "identifier": metadata["identifier"],
        "serial": serial,
        "version": 1,
        "issued_on": metadata["issued_on"],
        "valid_from": metadata["valid_from"],
        "valid_until": metadata["valid_until"],
        "status": LicenseStatus.VALID.value,
        "status_reason": None,
        "kid": kid,
        "document": document,
        "position": int(now.timestamp() * 1000),
        "hidden": False,
        "revision": 1,
        "created_at": now,
    }
    if new.source_key is not None:
        doc["source_key"] = new.source_key
    if not await wallet.repository.insert_license(doc):
        existing = await wallet.repository.by_source(str(new.source_key))
        if existing is not None:
            return existing
        raise Conflict("证照已存在 (the license exists already)")
    await wallet.repository.upsert_holder({"_id": holder_key, "subject": new.holder_subject})
    await wallet.record(holder_key, doc["_id"], AuditAction.ISSUED, actor)
    return doc


async def renew(
    wallet: Wallet, doc: dict[str, Any], valid_until: date | None, actor: Actor
) -> dict[str, Any]:
    """换发: the next version of the license (same serial, the old identifier linked as
    ``previous``), re-signed with the issuer's current key and valid from today."""
    spec = license_type(doc["type_code"])
    assert spec is not None
    status = effective_status(doc, wallet.today())
    if status not in (LicenseStatus.VALID, LicenseStatus.EXPIRED):
        raise Conflict(
            f"证照状态为 {status.value}，不能换发 (only a valid or expired license is renewed)",
            extensions={"reason": "wrong_status", "status": status.value},
        )
    issuer = await wallet.repository.issuer(doc["issuer_code"])
    assert issuer is not None
    old = sdjwt.parse(doc["document"])
    today = wallet.today()
    version = int(doc["version"]) + 1
    until = valid_until or (_add_years(today, spec.validity_years) if spec.validity_years else None)
    metadata = {
        **old.payload["license"],
        "identifier": identifier(
            spec.national_code, doc["issuer_code"], int(doc["serial"]), version
        ),
        "issuer_name": issuer["name"],
        "issued_on": today.isoformat(),
        "valid_from": today.isoformat(),
        "valid_until": until.isoformat() if until else None,
        "version": version,
        "previous": doc["identifier"],
    }
    claims = dict(old.claims)
    if "birth_date" in claims:
        claims["age_over_18"] = _add_years(date.fromisoformat(claims["birth_date"]), 18) <= today
    document, kid = await _sign(wallet, spec, issuer, doc["holder_key"], metadata, claims)
    await wallet.repository.archive_version(doc)
    changed = await wallet.repository.change(
        doc["_id"],
        int(doc["revision"]),
        {
            "identifier": metadata["identifier"],
            "version": version,
            "issued_on": metadata["issued_on"],
            "valid_from": metadata["valid_from"],
            "valid_until": metadata["valid_until"],
            "status": LicenseStatus.VALID.value,
            "status_reason": None,
            "kid": kid,
            "document": document,
        },
    )
    if changed is None:
        raise Conflict("证照已被他人修改，请刷新 (changed meanwhile; reload)")
    await wallet.record(doc["holder_key"], doc["_id"], AuditAction.RENEWED, actor)
    return changed


#: Which status an action moves to, from which.
_MOVES = {
    "suspend": ({LicenseStatus.VALID}, LicenseStatus.SUSPENDED, AuditAction.SUSPENDED),
    "reinstate": ({LicenseStatus.SUSPENDED}, LicenseStatus.VALID, AuditAction.REINSTATED),
    "revoke": (
        {LicenseStatus.VALID, LicenseStatus.SUSPENDED},
        LicenseStatus.REVOKED,
        AuditAction.REVOKED,
    ),
}


async def change_status(
    wallet: Wallet, doc: dict[str, Any], action: str, reason: str | None, actor: Actor
) -> dict[str, Any]:
    sources, target, audit = _MOVES[action]
    current = LicenseStatus(doc["status"])
    if current not in sources:
        raise Conflict(
            f"证照状态为 {current.value}，不能{action} (the license is {current.value})",
            extensions={"reason": "wrong_status", "status": current.value},
        )
    reason = (reason or "").strip() or None
    if action != "reinstate" and not reason:
        raise BadUserInput("请填写原因 (a reason is required)", [FieldError("reason", "required")])
    if reason and len(reason) > 200:
        raise BadUserInput("原因过长 (reason too long)", [FieldError("reason", "at most 200")])
    changed = await wallet.repository.change(
        doc["_id"], int(doc["revision"]), {"status": target.value, "status_reason": reason}
    )
    if changed is None:
        raise Conflict("证照已被他人修改，请刷新 (changed meanwhile; reload)")
    await wallet.record(doc["holder_key"], doc["_id"], audit, actor, detail=reason)
    return changed


async def issued_by(
    wallet: Wallet, license_id: str, department: str | None, admin: bool
) -> dict[str, Any]:
    """A license the caller's department issued (or any, for admins); else NOT_FOUND."""
    doc = await wallet.repository.license(license_id)
    if doc is None or not (admin or doc["issuer_code"] == department):
        raise NotFound("证照不存在 (no such license)")
    return doc
