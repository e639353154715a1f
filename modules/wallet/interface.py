"""What the wallet publishes to other modules: ``wallet.licenses``.

The cases module calls it for 秒批 rules (does the applicant hold a valid e-license of a
type?) and for 免证办 (an e-license in place of an uploaded material: the wallet checks that
the holder holds it, that it is valid and authentic, records the use in the holder's audit
list as a grant to the department for the case, and returns the copy staff may see).
Callers import this file only — never the wallet's internals — and without the wallet module
loaded ``ctx.interface`` raises ``LookupError`` (the caller answers ``UNAVAILABLE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from gateway.bus import Topic

__all__ = [
    "LICENSES",
    "LICENSE_EXPIRING",
    "HeldLicenses",
    "LicenseCopy",
    "LicenseExpiring",
    "LicenseUnusable",
]

#: The interface's name in the registry.
LICENSES = "wallet.licenses"


@dataclass(frozen=True)
class LicenseCopy:
    """A verified copy of a holder's e-license, for the staff handling one case.

    Personal fields are masked; ``stamp`` is the 用证 stamp printed on the copy.
    """

    license_id: str  # the wallet's id of the license (what the citizen picked)
    type_code: str  # e-license type code (affairs keeps only codes; the wallet owns the list)
    type_name: str
    number: str  # 证照编号, masked
    holder_name: str  # masked
    issuer: str  # issuing department's name
    issued_on: str  # ISO date
    valid_until: str | None  # ISO date; None: long-term (长期)
    status: str  # GB/T 36904 status code: 01 valid … (only 01 is ever returned)
    authentic: bool  # the issuer's signature checked against its published key
    stamp: str  # 仅供办理…使用，有效期至…


class LicenseUnusable(Exception):
    """The license cannot stand in for the material; ``code`` is stable for clients.

    Codes: ``LICENSE_NOT_FOUND`` (no such license, or not the holder's),
    ``LICENSE_NOT_VALID`` (suspended, revoked or expired), ``LICENSE_TYPE_MISMATCH``
    (not the type the material asks for).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@runtime_checkable
class HeldLicenses(Protocol):
    """The wallet as the cases module sees it (holder = the citizen's account subject)."""

    async def holds_valid(self, holder: str, license_type: str) -> bool:
        """Whether the holder holds a valid e-license of the type (秒批 rules)."""
        ...

    async def use_for_case(
        self,
        holder: str,
        license_id: str,
        *,
        license_type: str,
        department_code: str,
        purpose: str,
        until: datetime,
    ) -> LicenseCopy:
        """免证办: the holder's license ``license_id`` of ``license_type`` used for a case
        handled by ``department_code`` (a grant for ``purpose`` until ``until``, audited).
        Raises :class:`LicenseUnusable`."""
        ...


@dataclass(frozen=True)
class LicenseExpiring:
    """A holder's license ends soon (到期提醒); no personal data beyond the account."""

    license_id: str
    holder: str  # the holder's account subject (who is told)
    type_name: str
    valid_until: str  # ISO date
    days_left: int


#: Published by the wallet; the cases module's notification list tells the holder.
LICENSE_EXPIRING = Topic(
    "wallet.license.expiring",
    LicenseExpiring,
    "A license in a holder's wallet ends within the reminder period (once per license, "
    "validity and period).",
)
