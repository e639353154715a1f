"""What every wallet service works with: the repository, the keys, the audit list, the
issuers' current keys and the trust list built from them.

Services take a :class:`Wallet` rather than a request context so that the published
interface (``wallet.licenses``) and the bus handler, which have only the runtime, use the
very same rules.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.cache import Cache
from gateway.context import Context
from gateway.kit.calendar import now_cst
from gateway.runtime import Runtime
from modules.wallet.keys import WalletKeys
from modules.wallet.repository import WalletRepository
from modules.wallet.sdjwt import FormatError, jwk_of, parse
from modules.wallet.trust import TrustList, sign_trust_list
from modules.wallet.vocabulary import AuditAction, LicenseStatus

__all__ = ["Actor", "Wallet", "effective_status", "new_id"]


def new_id(prefix: str = "") -> str:
    """Time first (newest-first listings), then 128 random bits: never guessable."""
    now = now_cst()
    return f"{prefix}{int(now.timestamp() * 1000):013d}{secrets.token_hex(16)}"


@dataclass(frozen=True)
class Actor:
    """Who did something to a license, as the holder's audit list shows it."""

    kind: str  # holder / issuer / verifier / department / system
    organisation: str | None = None  # the department or verifier organisation's code
    subject: str | None = None  # kept for ops; the holder sees the organisation

    @classmethod
    def of(cls, ctx: Context, kind: str) -> Actor:
        principal = ctx.principal
        return cls(kind, principal.department, principal.subject)


HOLDER = Actor("holder")
SYSTEM = Actor("system")


def effective_status(doc: dict[str, Any], today: date) -> LicenseStatus:
    """The stored status, or 05 once the validity has ended."""
    status = LicenseStatus(doc["status"])
    until = doc.get("valid_until")
    if status is LicenseStatus.VALID and until and until < today.isoformat():
        return LicenseStatus.EXPIRED
    return status


class Wallet:
    def __init__(self, repository: WalletRepository, keys: WalletKeys, cache: Cache) -> None:
        self.repository = repository
        self.keys = keys
        self.cache = cache

    @classmethod
    def of(cls, ctx: Context) -> Wallet:
        return cls(WalletRepository(ctx.db), ctx.state(WalletKeys), ctx.cache)

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Wallet:
        return cls(WalletRepository(runtime.db), runtime.state(WalletKeys), runtime.cache)

    # -- audit -----------------------------------------------------------------------------
    async def record(
        self,
        holder_key: str,
        license_id: str | None,
        action: AuditAction,
        actor: Actor,
        *,
        purpose: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Append one entry to the holder's audit list (never personal data)."""
        await self.repository.append_audit(
            {
                "_id": new_id(),
                "holder_key": holder_key,
                "license_id": license_id,
                "action": action.value,
                "actor_kind": actor.kind,
                "actor_organisation": actor.organisation,
                "actor": actor.subject,
                "purpose": purpose,
                "detail": detail,
                "at": now_cst(),
            }
        )

    # -- issuers' keys -----------------------------------------------------------------------
    async def signing_key(self, issuer_code: str) -> tuple[str, Ed25519PrivateKey]:
        """The issuer's current key (its highest generation), made at first use."""
        keys = await self.repository.issuer_keys([issuer_code])
        if not keys:
            await self._add_key(issuer_code, 1)
            keys = await self.repository.issuer_keys([issuer_code])
        current = keys[-1]
        private = self.keys.issuer_key(issuer_code, int(current["generation"]))
        if jwk_of(private.public_key())["kid"] != current["_id"]:
            # Two hosts made different key files for one generation: refuse to sign with a
            # key the trust list does not carry (share the key folder between replicas).
            raise RuntimeError(f"wallet key file of {issuer_code} differs from the key history")
        return str(current["_id"]), private

    async def rotate(self, issuer_code: str) -> dict[str, Any]:
        """Start the issuer's next key; the old ones stay on the trust list, retired."""
        keys = await self.repository.issuer_keys([issuer_code])
        generation = int(keys[-1]["generation"]) + 1 if keys else 1
        await self._add_key(issuer_code, generation)
        at = int(now_cst().timestamp())
        await self.repository.retire_keys(issuer_code, generation, at)
        return (await self.repository.issuer_keys([issuer_code]))[-1]

    async def _add_key(self, issuer_code: str, generation: int) -> None:
        jwk = jwk_of(self.keys.issuer_key(issuer_code, generation).public_key())
        await self.repository.insert_key(
            {
                "_id": jwk["kid"],
                "issuer": issuer_code,
                "generation": generation,
                "jwk": jwk,
                "not_before": int(now_cst().timestamp()),
                "not_after": None,
                "created_by": os.getpid(),
            }
        )

    # -- trust -----------------------------------------------------------------------------
    async def trust_entries(self) -> list[dict[str, Any]]:
        issuers = await self.repository.all_issuers()
        keys = await self.repository.issuer_keys()
        by_issuer: dict[str, list[dict[str, Any]]] = {}
        for key in keys:
            by_issuer.setdefault(str(key["issuer"]), []).append(key)
        return [
            {
                "code": issuer["_id"],
                "name": issuer["name"],
                "license_types": sorted(issuer["license_types"]),
                "keys": [
                    {
                        "jwk": {**key["jwk"], "alg": "EdDSA", "use": "sig"},
                        "not_before": key["not_before"],
                        "not_after": key["not_after"],
                    }
                    for key in by_issuer.get(str(issuer["_id"]), [])
                ],
            }
            for issuer in issuers
        ]

    async def trust(self) -> TrustList:
        """The trust list as held now (online checks use it unsigned: it is our own data)."""
        payload = {"iat": int(now_cst().timestamp()), "issuers": await self.trust_entries()}
        return TrustList.from_payload(payload, jwk_of(self.keys.anchor().public_key())["kid"])

    async def signed_trust_list(self) -> str:
        entries = await self.trust_entries()
        return sign_trust_list(entries, self.keys.anchor(), int(now_cst().timestamp()))

    # -- reading licenses --------------------------------------------------------------------
    @staticmethod
    def claims(doc: dict[str, Any]) -> dict[str, Any]:
        """Every claim of a stored license (its disclosures), for the holder's own views."""
        try:
            return parse(str(doc["document"])).claims
        except FormatError:
            return {}

    def today(self) -> date:
        return now_cst().date()

    def now(self) -> datetime:
        return now_cst()
