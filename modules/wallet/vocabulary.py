"""The wallet's closed value sets, as plain enums with Chinese labels (types.py exposes them)."""

from __future__ import annotations

from enum import Enum

__all__ = [
    "AUDIT_LABELS",
    "CLAIM_LABELS",
    "OUTCOME_LABELS",
    "STATUS_LABELS",
    "AuditAction",
    "GranteeKind",
    "LicenseClaim",
    "LicenseStatus",
    "PresentationOutcome",
]


class LicenseStatus(Enum):
    """证照状态 (GB/T 36904 status codes)."""

    VALID = "01"
    SUSPENDED = "02"
    REVOKED = "03"
    CANCELLED = "04"
    EXPIRED = "05"


STATUS_LABELS: dict[Enum, str] = {
    LicenseStatus.VALID: "01 有效",
    LicenseStatus.SUSPENDED: "02 暂扣",
    LicenseStatus.REVOKED: "03 撤销",
    LicenseStatus.CANCELLED: "04 注销",
    LicenseStatus.EXPIRED: "05 失效 (expired or superseded)",
}


class LicenseClaim(Enum):
    """What a holder may disclose of a license (each a separately signed SD-JWT claim).

    The type, issuer, identifier and validity are always shown: they are not personal.
    """

    HOLDER_NAME = "holder_name"
    HOLDER_ID_NUMBER = "holder_id"
    LICENSE_NUMBER = "number"
    BIRTH_DATE = "birth_date"
    AGE_OVER_18 = "age_over_18"
    EXTENSION = "extension"


CLAIM_LABELS: dict[Enum, str] = {
    LicenseClaim.HOLDER_NAME: "持证人姓名/名称",
    LicenseClaim.HOLDER_ID_NUMBER: "持证主体代码 (身份证号码 or 统一社会信用代码)",
    LicenseClaim.LICENSE_NUMBER: "证照编号",
    LicenseClaim.BIRTH_DATE: "出生日期 (persons)",
    LicenseClaim.AGE_OVER_18: "年满18周岁 (a yes/no, without the birth date; persons)",
    LicenseClaim.EXTENSION: "扩展信息: the type's further fields (address, vehicle class …)",
}


class GranteeKind(Enum):
    """Who a holder shares a license with (授权用证)."""

    DEPARTMENT = "department"
    VERIFIER = "verifier"


class PresentationOutcome(Enum):
    """The answer a verifier gets for a shown license (亮证核验)."""

    ACCEPTED = "accepted"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"
    LICENSE_SUSPENDED = "license_suspended"
    LICENSE_REVOKED = "license_revoked"
    LICENSE_INVALID = "license_invalid"
    NOT_FOUND = "not_found"
    FORGED = "forged"


OUTCOME_LABELS: dict[Enum, str] = {
    PresentationOutcome.ACCEPTED: "核验通过: authentic, valid now, disclosed fields attached",
    PresentationOutcome.ALREADY_USED: "亮证码已使用: each code can be checked once",
    PresentationOutcome.EXPIRED: "亮证码已过期: older than 180 seconds; ask for a new one",
    PresentationOutcome.LICENSE_SUSPENDED: "证照已暂扣 (02): the issuer suspended it",
    PresentationOutcome.LICENSE_REVOKED: "证照已撤销或注销 (03/04): the issuer revoked it",
    PresentationOutcome.LICENSE_INVALID: "证照已失效 (05): expired or replaced by a newer version",
    PresentationOutcome.NOT_FOUND: "亮证码不存在: no such code",
    PresentationOutcome.FORGED: "验签失败: not signed by a trusted issuer, or altered",
}


class AuditAction(Enum):
    """What happened to a holder's license, as the holder's audit list shows it."""

    ISSUED = "issued"
    RENEWED = "renewed"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    REVOKED = "revoked"
    VIEWED_IN_FULL = "viewed_in_full"
    EXPORTED = "exported"
    SHOWN = "shown"
    VERIFIED = "verified"
    VERIFICATION_REFUSED = "verification_refused"
    SHARED = "shared"
    FETCHED = "fetched"
    FETCH_REFUSED = "fetch_refused"
    GRANT_REVOKED = "grant_revoked"
    USED_FOR_CASE = "used_for_case"
    READ_BY_ISSUER = "read_by_issuer"


AUDIT_LABELS: dict[Enum, str] = {
    AuditAction.ISSUED: "签发: the issuer put the license in the wallet",
    AuditAction.RENEWED: "换发: the issuer issued a new version",
    AuditAction.SUSPENDED: "暂扣 by the issuer",
    AuditAction.REINSTATED: "恢复有效 by the issuer",
    AuditAction.REVOKED: "撤销 by the issuer",
    AuditAction.VIEWED_IN_FULL: "the holder viewed it unmasked",
    AuditAction.EXPORTED: "the holder exported the signed license",
    AuditAction.SHOWN: "亮证: the holder made a presentation",
    AuditAction.VERIFIED: "核验: a verifier checked a presentation",
    AuditAction.VERIFICATION_REFUSED: "a verifier's check was refused (used, expired, invalid)",
    AuditAction.SHARED: "授权: the holder granted access",
    AuditAction.FETCHED: "用证: a grantee fetched a copy",
    AuditAction.FETCH_REFUSED: "a fetch was refused (grant revoked, expired or license invalid)",
    AuditAction.GRANT_REVOKED: "the holder revoked a grant",
    AuditAction.USED_FOR_CASE: "免证办: used in place of a material for a case",
    AuditAction.READ_BY_ISSUER: "the issuer's staff read it",
}
