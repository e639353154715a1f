"""亮证: single-use presentations that live 180 seconds, and their redemption by verifiers.

A presentation is an SD-JWT of the license with only the disclosures the holder chose, and a
key-binding JWT (signed with the holder's key named in the license) carrying the
presentation's token as ``jti`` and its 180-second lifetime. The QR code carries exactly
that string, so a verifier without a connection checks it with the trust list alone; online,
the verifier redeems it (or its short numeric fallback code) and the wallet answers once —
authenticity, the license's status now, and the disclosed fields — with a distinct outcome
for a used, expired, unknown or forged code and for a suspended, revoked or lapsed license.

Tokens are 128 random bits (only their SHA-256 is stored); numeric codes are 12 digits
(only their keyed hash is stored) and rate-limited hard per verifier and service-wide: at 5
guesses a minute against at most a few thousand live codes among 10^12, a guess succeeds
about once in 10^8 years of trying.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from gateway.errors import BadUserInput, Conflict, FieldError, NotFound, RateLimited
from gateway.kit.ratelimit import TokenBucket
from modules.wallet import sdjwt
from modules.wallet.core import HOLDER, Actor, Wallet, effective_status
from modules.wallet.license_types import license_type
from modules.wallet.trust import verify_document
from modules.wallet.vocabulary import AuditAction, LicenseClaim, LicenseStatus, PresentationOutcome

__all__ = ["LIFETIME_SECONDS", "Check", "Shown", "redeem", "show"]

LIFETIME_SECONDS = 180
NUMERIC_DIGITS = 12
AUDIENCE = "urn:onestop:wallet:verifier"

# Limits: a holder makes a few codes a minute; a verifier scans a queue (a code a second in
# bursts); numeric codes are typed by hand, so a handful a minute is plenty.
SHOW_LIMIT = (10, 10 / 60)
REDEEM_LIMIT = (60, 60 / 60)
NUMERIC_LIMIT = (5, 5 / 60)
NUMERIC_SERVICE_LIMIT = (300, 300 / 60)


@dataclass(frozen=True)
class Shown:
    token: str
    numeric_code: str
    qr_payload: str
    expires_at: Any
    claims: tuple[str, ...]
    license_id: str


@dataclass
class Check:
    """A verifier's answer."""

    outcome: PresentationOutcome
    license: dict[str, Any] = field(default_factory=dict)
    disclosed: dict[str, Any] = field(default_factory=dict)
    status: LicenseStatus | None = None
    authentic: bool = False


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _limit(wallet: Wallet, name: str, limit: tuple[float, float], key: str) -> None:
    bucket = TokenBucket(
        wallet.cache, f"wallet:{name}", capacity=limit[0], refill_per_second=limit[1]
    )
    decision = await bucket.take(key)
    if not decision.allowed:
        raise RateLimited(
            "操作过于频繁，请稍后再试 (too many attempts; wait)",
            retry_after=int(decision.retry_after_header),
        )


def _available(doc: dict[str, Any]) -> set[str]:
    return set(Wallet.claims(doc))


async def show(
    wallet: Wallet, holder_subject: str, license_id: str, claims: Sequence[LicenseClaim]
) -> Shown:
    """A presentation of the holder's license disclosing only ``claims``."""
    holder_key = wallet.keys.holder_key(holder_subject)
    await _limit(wallet, "show", SHOW_LIMIT, holder_key)
    doc = await wallet.repository.license(license_id)
    if doc is None or doc["holder_key"] != holder_key:
        raise NotFound("证照不存在 (no such license)")
    status = effective_status(doc, wallet.today())
    if status is not LicenseStatus.VALID:
        raise Conflict(
            f"证照状态为 {status.value}，不能亮证 (only a valid license can be shown)",
            extensions={"reason": "license_not_valid", "status": status.value},
        )
    names = tuple(dict.fromkeys(c.value for c in claims))
    missing = [n for n in names if n not in _available(doc)]
    if missing:
        raise BadUserInput(
            "该证照没有所选信息 (the license has no such field)",
            [FieldError("disclose", f"{n} is not on this license", "unavailable") for n in missing],
        )
    now = wallet.now()
    expires = now + timedelta(seconds=LIFETIME_SECONDS)
    token = secrets.token_urlsafe(16)  # 128 bits
    binding = {
        "jti": token,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "aud": AUDIENCE,
    }
    presentation = sdjwt.present(
        doc["document"],
        names,
        holder_key=wallet.keys.holder_signing_key(holder_key),
        binding=binding,
    )
    for _ in range(5):
        code = f"{secrets.randbelow(10**NUMERIC_DIGITS):0{NUMERIC_DIGITS}d}"
        stored = await wallet.repository.insert_presentation(
            {
                "_id": _token_id(token),
                "numeric_key": wallet.keys.numeric_key(code),
                "license_id": license_id,
                "holder_key": holder_key,
                "claims": list(names),
                "presentation": presentation,
                "created_at": now,
                "expires_at": expires,
                "expires_epoch": binding["exp"],
                "used": False,
            }
        )
        if stored:
            break
    else:  # pragma: no cover - five collisions among 10^12 codes
        raise Conflict("请重试 (try again)")
    await wallet.record(
        holder_key, license_id, AuditAction.SHOWN, HOLDER, detail="、".join(names) or "-"
    )
    return Shown(token, code, presentation, expires, names, license_id)


async def redeem(
    wallet: Wallet,
    verifier: Actor,
    *,
    qr_payload: str | None,
    token: str | None,
    numeric_code: str | None,
    purpose: str,
) -> Check:
    """核验: one answer per presentation; the first redemption wins, every later one is told."""
    given = [v for v in (qr_payload, token, numeric_code) if v]
    if len(given) != 1:
        raise BadUserInput(
            "请提供二维码、令牌或数字码之一 (give one of qrPayload, token, numericCode)",
            [FieldError("qrPayload", "exactly one of qrPayload, token, numericCode", "one_of")],
        )
    who = verifier.subject or "anonymous"
    await _limit(wallet, "redeem", REDEEM_LIMIT, who)
    trust = await wallet.trust()
    now = int(wallet.now().timestamp())
    if numeric_code is not None:
        await _limit(wallet, "numeric", NUMERIC_LIMIT, who)
        await _limit(wallet, "numeric-all", NUMERIC_SERVICE_LIMIT, "service")
        digits = "".join(c for c in numeric_code if c.isdigit())
        doc = await wallet.repository.presentation_by_numeric(wallet.keys.numeric_key(digits))
    else:
        if qr_payload is not None:
            checked = verify_document(qr_payload, trust, now)
            if checked.kind != "presentation" or (
                not checked.valid and checked.presentation_id is None
            ):
                return Check(PresentationOutcome.FORGED)
            token = checked.presentation_id
        doc = await wallet.repository.presentation(_token_id(str(token)))
    if doc is None:
        return Check(PresentationOutcome.NOT_FOUND)
    license_doc = await wallet.repository.license(doc["license_id"])
    holder_key, license_id = doc["holder_key"], doc["license_id"]

    async def refuse(outcome: PresentationOutcome) -> Check:
        await wallet.record(
            holder_key,
            license_id,
            AuditAction.VERIFICATION_REFUSED,
            verifier,
            purpose=purpose,
            detail=outcome.value,
        )
        return Check(outcome)

    if doc["used"]:
        return await refuse(PresentationOutcome.ALREADY_USED)
    if now > int(doc["expires_epoch"]):
        return await refuse(PresentationOutcome.EXPIRED)
    # The stored presentation is checked like a scanned one: what it says, signed.
    checked = verify_document(doc["presentation"], trust, now)
    if not checked.valid:
        return await refuse(PresentationOutcome.FORGED)
    if not await wallet.repository.use_presentation(doc["_id"], who, str(now)):
        return await refuse(PresentationOutcome.ALREADY_USED)
    status = (
        effective_status(license_doc, wallet.today())
        if license_doc is not None
        else LicenseStatus.REVOKED
    )
    outcome = {
        LicenseStatus.VALID: PresentationOutcome.ACCEPTED,
        LicenseStatus.SUSPENDED: PresentationOutcome.LICENSE_SUSPENDED,
        LicenseStatus.REVOKED: PresentationOutcome.LICENSE_REVOKED,
        LicenseStatus.CANCELLED: PresentationOutcome.LICENSE_REVOKED,
        LicenseStatus.EXPIRED: PresentationOutcome.LICENSE_INVALID,
    }[status]
    # A renewed license's older version is no longer the current one.
    if license_doc is not None and checked.license.get("identifier") != license_doc["identifier"]:
        outcome, status = PresentationOutcome.LICENSE_INVALID, LicenseStatus.EXPIRED
    action = (
        AuditAction.VERIFIED
        if outcome is PresentationOutcome.ACCEPTED
        else (AuditAction.VERIFICATION_REFUSED)
    )
    await wallet.record(
        holder_key, license_id, action, verifier, purpose=purpose, detail=outcome.value
    )
    disclosed = checked.disclosed if outcome is PresentationOutcome.ACCEPTED else {}
    return Check(outcome, checked.license, disclosed, status, authentic=True)


def claim_label(spec_code: str, key: str) -> str:
    spec = license_type(spec_code)
    if spec is not None:
        for extension in spec.fields:
            if extension.key == key:
                return extension.label
    return key
