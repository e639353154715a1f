"""授权用证: the holder lets a named department or verifier organisation fetch a license for a
stated purpose until a stated time; the grantee's copy carries "仅供办理…使用，有效期至…".

A grant names an organisation (the code on the grantee's account: a department's staff, or a
verifier organisation's accounts); only callers of that organisation and kind fetch, each
fetch and each refusal goes to the holder's audit list, and the holder revokes the grant at
any time (the next fetch is refused). 免证办 is a grant too: the cases module asks
``use_for_case`` and gets a masked, verified copy for its staff.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.errors import BadUserInput, FieldError, Forbidden, NotFound
from gateway.kit.calendar import CST
from modules.wallet.core import HOLDER, Actor, Wallet, effective_status
from modules.wallet.identifiers import mask_name, mask_number
from modules.wallet.trust import verify_document
from modules.wallet.vocabulary import AuditAction, GranteeKind, LicenseStatus

__all__ = ["Copy", "fetch", "revoke", "share", "stamp"]

MAX_GRANT = timedelta(days=366)


def stamp(purpose: str, until: datetime) -> str:
    return f"仅供办理{purpose}使用，有效期至{until:%Y年%m月%d日%H时%M分}"


@dataclass(frozen=True)
class Copy:
    """What a grantee sees: the license's data, checked, with the use stamp."""

    grant: dict[str, Any]
    license: dict[str, Any]
    metadata: dict[str, Any]
    claims: dict[str, Any]
    authentic: bool
    stamp: str


def _check_grant(purpose: str, until: datetime, now: datetime) -> list[FieldError]:
    errors = []
    if not purpose.strip() or len(purpose) > 100:
        errors.append(FieldError("purpose", "1 to 100 characters", "invalid"))
    if until <= now:
        errors.append(FieldError("until", "must be in the future", "past"))
    elif until - now > MAX_GRANT:
        errors.append(FieldError("until", "at most a year ahead", "too_far"))
    return errors


async def share(
    wallet: Wallet,
    holder_subject: str,
    license_id: str,
    grantee_kind: GranteeKind,
    grantee_code: str,
    purpose: str,
    until: datetime,
    *,
    source: str = "holder",
) -> dict[str, Any]:
    holder_key = wallet.keys.holder_key(holder_subject)
    doc = await wallet.repository.license(license_id)
    if doc is None or doc["holder_key"] != holder_key:
        raise NotFound("证照不存在 (no such license)")
    if until.tzinfo is None:  # a time without an offset is China time
        until = until.replace(tzinfo=CST)
    now = wallet.now()
    errors = _check_grant(purpose, until, now)
    if not grantee_code.isalnum() or not 4 <= len(grantee_code) <= 32:
        errors.append(FieldError("granteeCode", "an organisation code", "invalid"))
    if errors:
        raise BadUserInput("授权信息有误 (invalid grant)", errors)
    grant = {
        "_id": f"{int(now.timestamp() * 1000):013d}{secrets.token_hex(16)}",
        "holder_key": holder_key,
        "license_id": license_id,
        "type_code": doc["type_code"],
        "grantee_kind": grantee_kind.value,
        "grantee_code": grantee_code,
        "purpose": purpose.strip(),
        "until": until.isoformat(),
        "until_epoch": int(until.timestamp()),
        "source": source,
        "revoked": False,
        "created_at": now,
    }
    await wallet.repository.insert_grant(grant)
    action = AuditAction.USED_FOR_CASE if source == "case" else AuditAction.SHARED
    actor = Actor("department", grantee_code) if source == "case" else HOLDER
    await wallet.record(
        holder_key,
        license_id,
        action,
        actor,
        purpose=grant["purpose"],
        detail=f"{grantee_kind.value}:{grantee_code} until {grant['until']}",
    )
    return grant


async def revoke(wallet: Wallet, holder_subject: str, grant_id: str) -> dict[str, Any]:
    holder_key = wallet.keys.holder_key(holder_subject)
    grant = await wallet.repository.revoke_grant(grant_id, holder_key, wallet.now().isoformat())
    if grant is None:
        existing = await wallet.repository.grant(grant_id)
        if existing is None or existing["holder_key"] != holder_key:
            raise NotFound("授权不存在 (no such grant)")
        return existing  # revoked already
    await wallet.record(
        holder_key, grant["license_id"], AuditAction.GRANT_REVOKED, HOLDER, purpose=grant["purpose"]
    )
    return grant


def may_fetch(grant: dict[str, Any], actor: Actor, roles: frozenset[str]) -> bool:
    """The caller belongs to the granted organisation, in the granted capacity."""
    wanted = {"department": {"staff", "admin"}, "verifier": {"verifier"}}[grant["grantee_kind"]]
    return actor.organisation == grant["grantee_code"] and bool(wanted & roles)


async def copy_of(wallet: Wallet, grant: dict[str, Any], doc: dict[str, Any]) -> Copy:
    """The license behind a grant, its signature checked against the trust list."""
    checked = verify_document(doc["document"], await wallet.trust(), int(wallet.now().timestamp()))
    until = datetime.fromisoformat(grant["until"])
    return Copy(
        grant=grant,
        license=doc,
        metadata=checked.license,
        claims=checked.disclosed,
        authentic=checked.valid,
        stamp=stamp(grant["purpose"], until),
    )


async def fetch(wallet: Wallet, grant_id: str, actor: Actor, roles: frozenset[str]) -> Copy:
    """用证: the grantee's copy; every refusal says why and is shown to the holder."""
    grant = await wallet.repository.grant(grant_id)
    if grant is None:
        raise NotFound("授权不存在 (no such grant)")

    async def refuse(reason: str, message: str) -> Forbidden:
        await wallet.record(
            grant["holder_key"],
            grant["license_id"],
            AuditAction.FETCH_REFUSED,
            actor,
            purpose=grant["purpose"],
            detail=reason,
        )
        return Forbidden(message, extensions={"reason": reason})

    if not may_fetch(grant, actor, roles):
        raise await refuse("not_grantee", "未获授权 (this grant is not yours)")
    if grant["revoked"]:
        raise await refuse("grant_revoked", "持证人已撤回授权 (the holder revoked this grant)")
    if int(wallet.now().timestamp()) > int(grant["until_epoch"]):
        raise await refuse("grant_expired", "授权已过期 (the grant has expired)")
    doc = await wallet.repository.license(grant["license_id"])
    status = effective_status(doc, wallet.today()) if doc else LicenseStatus.REVOKED
    if doc is None or status is not LicenseStatus.VALID:
        raise await refuse(
            "license_not_valid", f"证照状态为 {status.value} (the license is not valid)"
        )
    copy = await copy_of(wallet, grant, doc)
    await wallet.record(
        grant["holder_key"],
        grant["license_id"],
        AuditAction.FETCHED,
        actor,
        purpose=grant["purpose"],
    )
    return copy


def masked(copy: Copy) -> dict[str, str]:
    """The personal fields of a copy, masked (for staff lists and the 免证办 copy)."""
    return {
        "holder_name": mask_name(str(copy.claims.get("holder_name", ""))),
        "number": mask_number(str(copy.claims.get("number", ""))),
    }
