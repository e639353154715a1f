"""What the wallet announces on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.bus import Topic

__all__ = ["LICENSE_EXPIRING", "LicenseExpiring"]


@dataclass(frozen=True)
class LicenseExpiring:
    """A holder's license ends soon (到期提醒); no personal data beyond the account."""

    license_id: str
    holder: str  # the holder's account subject (who is told)
    type_name: str
    valid_until: str  # ISO date
    days_left: int


LICENSE_EXPIRING = Topic(
    "wallet.license.expiring",
    LicenseExpiring,
    "A license in a holder's wallet ends within the reminder period (once per license, "
    "validity and period).",
)
