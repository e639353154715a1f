"""一件事一次办: one submission for a life event makes linked cases, one per item, and the
result of an earlier case — an e-license — becomes a material of the later ones.

The bundles are data (``seeds/cases/bundles.json``, scripts/seedgen/cases_rules.py): a code,
a name and the items in the order they are handled. On submit every case is checked first
and only then are they all stored, so a refused application leaves nothing behind. A later
case's material that an earlier case will issue is not asked for: it waits (``awaiting``)
and is attached when that earlier case's result is issued. The bundle's status follows its
cases: stopped when one was refused or denied, completed when all are done.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Any

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, NotFound
from gateway.kit.calendar import now_cst
from gateway.registry import SeedContext
from modules.cases import appointments, casework
from modules.cases.repository import BundleRepository, CaseRepository
from modules.cases.statuses import ENDED, RESULT_OUT

__all__ = ["feed", "load_bundles", "status", "submit"]


def store(ctx: Context) -> BundleRepository:
    return BundleRepository(ctx.db)


def status(cases: list[dict[str, Any]]) -> str:
    """stopped / completed / in_progress, from the bundle's cases."""
    if any(c["status"] in ENDED for c in cases):
        return "stopped"
    if cases and all(c["status"] in RESULT_OUT for c in cases):
        return "completed"
    return "in_progress"


async def submit(
    ctx: Context, bundle_code: str, common: casework.Application
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check every case of the bundle, then store them all with the bundle."""
    definition = await store(ctx).type(bundle_code)
    if definition is None:
        raise NotFound(f"一件事不存在 (no bundle {bundle_code!r})")
    items = await appointments.catalog(ctx).items(definition["item_codes"])
    now = now_cst()
    bundle_id = f"B{now:%Y%m%d%H%M%S}{os.urandom(3).hex()}"
    issued: set[str] = set()  # e-license types earlier cases will issue
    cases = []
    for code in definition["item_codes"]:
        item = items.get(code)
        # The shared list of materials: each case takes those its item asks for.
        names = {m.name for m in item.materials} if item else set()
        mine = [g for g in common.materials if g.name in names]
        application = replace(common, item_code=code, materials=mine, fed=frozenset(issued))
        doc = await casework.prepare(ctx, application)
        doc["bundle_id"] = bundle_id
        cases.append(doc)
        if item is not None:
            issued |= {r.license_type for r in item.results if r.license_type}
    # A material named that no item of the bundle asks for is a mistake, not a no-op.
    known = {m.name for item in items.values() for m in item.materials}
    unknown = [g.name for g in common.materials if g.name not in known]
    if unknown:
        raise BadUserInput(
            "材料无效 (invalid materials)",
            [FieldError("materials", name, "unknown") for name in unknown],
        )
    bundle = {
        "_id": bundle_id,
        "code": definition["_id"],
        "name": definition["name"],
        "citizen": cases[0]["citizen"] if cases else None,
        "case_ids": [c["_id"] for c in cases],
        "created_at": now,
    }
    await store(ctx).insert(bundle, cases)
    for case in cases:
        await casework.announce(ctx, case, "submit")
    for case in cases:
        if case["status"] == "result_issued":  # 秒批 inside the submit: feed at once
            await feed(ctx, case)
    return bundle, cases


async def feed(ctx: Context, issued_case: dict[str, Any]) -> None:
    """An earlier case of a bundle issued its result: attach it to the later cases waiting
    for that e-license (a version-guarded update each; retried if a case moved meanwhile)."""
    licenses = set(issued_case.get("result_licenses") or [])
    if not licenses or not issued_case.get("bundle_id"):
        return
    cases = CaseRepository(ctx.db)
    for case in await store(ctx).cases_of(issued_case["bundle_id"]):
        for _ in range(3):
            waiting = [a for a in case.get("awaiting", []) if a["license_type"] in licenses]
            if not waiting:
                break
            fed = [
                {
                    "name": a["name"],
                    "file_id": f"result:{issued_case['_id']}",
                    "kind": "e_license",
                    "license_type": a["license_type"],
                    "from_case": issued_case["_id"],
                }
                for a in waiting
            ]
            left = [a for a in case["awaiting"] if a not in waiting]
            changes = {"materials": case["materials"] + fed, "awaiting": left}
            if await cases.update_if_unchanged(case, changes) is not None:
                break
            fresh = await cases.get(case["_id"])
            if fresh is None:
                break
            case = fresh


async def load_bundles(seed: SeedContext) -> int:
    """Upsert the bundles from ``seeds/cases/bundles.json`` (idempotent)."""
    entries: list[dict[str, Any]] = json.loads(
        (seed.seeds_dir / "bundles.json").read_text(encoding="utf-8")
    )
    await BundleRepository(seed.db).replace_types(entries)
    return len(entries)
