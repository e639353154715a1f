"""Permissions the wallet module declares."""

from gateway.auth import Role
from gateway.registry import Permission

__all__ = ["GRANT_FETCH", "ISSUER_KEYS", "LICENSE_ISSUE", "PERMISSIONS", "PRESENTATION_REDEEM"]

LICENSE_ISSUE = Permission(
    "wallet.license.issue",
    "签发证照: issue, renew, suspend, reinstate and revoke the e-licenses of the types the "
    "own department issues, and read them.",
    roles=(Role.STAFF.value, Role.ADMIN.value),
)
ISSUER_KEYS = Permission(
    "wallet.issuer.keys",
    "Rotate the own department's signing key (admins: any issuer's); remind holders of "
    "licenses about to expire.",
    roles=(Role.ADMIN.value,),
)
PRESENTATION_REDEEM = Permission(
    "wallet.presentation.redeem",
    "亮证核验: redeem a presentation a holder shows (once), seeing only what was disclosed.",
    roles=(Role.VERIFIER.value, Role.STAFF.value, Role.ADMIN.value),
)
GRANT_FETCH = Permission(
    "wallet.grant.fetch",
    "授权用证: fetch a copy of a license its holder granted to the caller's organisation.",
    roles=(Role.VERIFIER.value, Role.STAFF.value, Role.ADMIN.value),
)
PERMISSIONS = (LICENSE_ISSUE, ISSUER_KEYS, PRESENTATION_REDEEM, GRANT_FETCH)
