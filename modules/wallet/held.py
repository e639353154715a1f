"""The ``wallet.licenses`` interface (modules/wallet/interface.py), on the wallet's rules."""

from __future__ import annotations

from datetime import datetime

from gateway.runtime import Runtime
from modules.wallet import grants
from modules.wallet.core import Wallet, effective_status
from modules.wallet.interface import LicenseCopy, LicenseUnusable
from modules.wallet.vocabulary import GranteeKind, LicenseStatus

__all__ = ["HeldLicensesService"]


class HeldLicensesService:
    """What the cases module may ask of the wallet (秒批 rules and 免证办 materials)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @property
    def _wallet(self) -> Wallet:
        return Wallet.from_runtime(self._runtime)

    async def holds_valid(self, holder: str, license_type: str) -> bool:
        wallet = self._wallet
        held = await wallet.repository.held(wallet.keys.holder_key(holder), license_type)
        today = wallet.today()
        return any(effective_status(doc, today) is LicenseStatus.VALID for doc in held)

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
        wallet = self._wallet
        doc = await wallet.repository.license(license_id)
        if doc is None or doc["holder_key"] != wallet.keys.holder_key(holder):
            raise LicenseUnusable("LICENSE_NOT_FOUND", "没有这张电子证照 (no such license)")
        if doc["type_code"] != license_type:
            raise LicenseUnusable("LICENSE_TYPE_MISMATCH", "证照类型不符 (wrong license type)")
        status = effective_status(doc, wallet.today())
        if status is not LicenseStatus.VALID:
            raise LicenseUnusable(
                "LICENSE_NOT_VALID", f"证照状态为 {status.value} (the license is not valid)"
            )
        grant = await grants.share(
            wallet,
            holder,
            license_id,
            GranteeKind.DEPARTMENT,
            department_code,
            purpose,
            until,
            source="case",
        )
        copy = await grants.copy_of(wallet, grant, doc)
        hidden = grants.masked(copy)
        return LicenseCopy(
            license_id=license_id,
            type_code=doc["type_code"],
            type_name=str(copy.metadata.get("type_name", "")),
            number=hidden["number"],
            holder_name=hidden["holder_name"],
            issuer=str(copy.metadata.get("issuer_name", "")),
            issued_on=str(copy.metadata.get("issued_on", "")),
            valid_until=copy.metadata.get("valid_until"),
            status=status.value,
            authentic=copy.authentic,
            stamp=copy.stamp,
        )
