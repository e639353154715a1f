"""到期提醒: holders are told N days before a license ends, once per license and validity.

The wallet publishes ``wallet.license.expiring``; the cases module's notifications handler
turns it into an entry of the holder's notification list (the one list a citizen reads). An
hourly task in every process and the ``remindExpiringLicenses`` mutation run the same scan;
a reminder already sent (a key per license, end date and period) is never sent again, so
replicas scanning at once tell a holder once.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.bus import Bus
from gateway.runtime import Runtime
from modules.wallet.core import Wallet
from modules.wallet.interface import LICENSE_EXPIRING, LicenseExpiring
from modules.wallet.license_types import license_type

__all__ = ["DEFAULT_DAYS", "remind_expiring", "start_reminders"]

DEFAULT_DAYS = 30
SCAN_SECONDS = 3600


async def remind_expiring(wallet: Wallet, bus: Bus, within_days: int = DEFAULT_DAYS) -> int:
    today = wallet.today()
    until = today + timedelta(days=within_days)
    told = 0
    for doc in await wallet.repository.expiring(until.isoformat(), today.isoformat()):
        key = f"{doc['_id']}|{doc['valid_until']}|{within_days}"
        if not await wallet.repository.remind_once(key, wallet.now()):
            continue
        holder = await wallet.repository.holder(doc["holder_key"])
        spec = license_type(doc["type_code"])
        if holder is None or not holder.get("subject") or spec is None:
            continue
        left = (today.fromisoformat(doc["valid_until"]) - today).days
        await bus.publish(
            LICENSE_EXPIRING,
            LicenseExpiring(
                license_id=doc["_id"],
                holder=str(holder["subject"]),
                type_name=spec.name,
                valid_until=doc["valid_until"],
                days_left=left,
            ),
        )
        told += 1
    return told


async def start_reminders(runtime: Runtime) -> None:
    """Start the hourly scan in this process (a start-up hook; stopped with the runtime)."""

    async def scan(runtime: Runtime) -> None:
        await remind_expiring(Wallet.from_runtime(runtime), runtime.bus)

    runtime.every("wallet.expiry-reminders", SCAN_SECONDS, scan)
