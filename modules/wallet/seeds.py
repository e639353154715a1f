"""Seed loaders: issuers (their first keys made now, never committed) and sample holders whose
wallets hold a license of every type of their kind. Idempotent: a seeded license has the
source ``seed:<holder>:<type>`` and is issued once."""

from __future__ import annotations

import json
from typing import Any

from gateway.registry import SeedContext
from modules.wallet import issuing
from modules.wallet.core import Actor, Wallet
from modules.wallet.license_types import LICENSE_TYPES

__all__ = ["load_holders", "load_issuers"]


def _read(seed: SeedContext, name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((seed.seeds_dir / name).read_text(encoding="utf-8"))
    return data


async def load_issuers(seed: SeedContext) -> int:
    wallet = Wallet.from_runtime(seed.runtime)
    issuers = _read(seed, "issuers.json")
    for issuer in issuers:
        await wallet.repository.upsert_issuer(
            {
                "_id": issuer["code"],
                "name": issuer["name"],
                "license_types": issuer["license_types"],
            }
        )
        await wallet.signing_key(issuer["code"])  # the first key, made at first start
    return len(issuers)


async def load_holders(seed: SeedContext) -> int:
    wallet = Wallet.from_runtime(seed.runtime)
    written = 0
    for holder in _read(seed, "holders.json"):
        prefix = "person" if holder["kind"] == "person" else "organisation"
        await wallet.repository.upsert_holder(
            {
                "_id": wallet.keys.holder_key(holder["subject"]),
                "subject": holder["subject"],
                f"{prefix}_name": holder["name"],
                f"{prefix}_id": holder["id"],
            }
        )
        for spec in LICENSE_TYPES:
            if spec.holder_kind != holder["kind"]:
                continue
            new = issuing.NewLicense(
                type_code=spec.code,
                issuer_code=spec.issuers[0],
                holder_subject=holder["subject"],
                holder_name=holder["name"],
                holder_id=holder["id"],
                number=holder["id"] if spec.code in ("ID_CARD", "BUSINESS_LICENSE") else None,
                extension=holder["extension"].get(spec.code, {}),
                source_key=f"seed:{holder['subject']}:{spec.code}",
            )
            await issuing.issue(wallet, new, Actor("issuer", spec.issuers[0]))
            written += 1
    return written
