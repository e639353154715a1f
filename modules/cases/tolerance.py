"""容缺受理: an application may go in with a secondary material missing, on a promise.

* Only for items marked 容缺受理 and only their materials marked 容缺后补 (``tolerated``).
* The applicant signs a promise (承诺书) to supply them by a date no later than the promised
  limit (the item's promised working days from today); the office may decide first.
* A promise that lapses — its date passed with a promised material still missing — ends the
  case (``promise_lapsed``) and puts a credit mark on the applicant for
  ``LAPSE_BLOCK_DAYS``: no 容缺 for them meanwhile.
* An applicant with a bad credit mark (a lapse here, or one imported from the credit
  platform into ``cases_credit_marks``) cannot use 容缺 at all.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, Forbidden
from gateway.kit.calendar import add_working_days, now_cst
from modules.affairs.interface import CatalogItem
from modules.cases import rollup
from modules.cases.repository import CaseRepository, CreditRepository
from modules.cases.statuses import LAPSED
from modules.cases.steps import step

__all__ = ["LAPSE_BLOCK_DAYS", "check_promise", "lapse_if_due", "outstanding"]

LAPSE_BLOCK_DAYS = 365


async def check_promise(
    ctx: Context,
    item: CatalogItem,
    citizen: str,
    missing: list[str],
    supply_by: date | None,
) -> dict[str, Any] | None:
    """The promise for ``missing`` tolerated materials, or None when nothing is missing.

    Raises BAD_USER_INPUT when a missing material may not be promised or the date is wrong,
    FORBIDDEN when the applicant has a bad credit mark.
    """
    if not missing:
        return None
    tolerated = {m.name for m in item.materials if m.necessity == "tolerated"}
    refused = [name for name in missing if name not in tolerated]
    if refused or "tolerates_missing" not in item.flags:
        names = refused or missing
        raise BadUserInput(
            f"缺少材料: {'、'.join(names)} (required materials missing)",
            [FieldError("materials", name, "missing") for name in names],
        )
    if supply_by is None:
        raise BadUserInput(
            "容缺受理须签署承诺书并写明补齐日期 (sign the promise with a date to supply by)",
            [
                FieldError(
                    "promise.supplyBy", "required for missing tolerated materials", "required"
                )
            ],
        )
    today = now_cst().date()
    limit = add_working_days(today, item.promised_limit_days)
    if not today <= supply_by <= limit:
        raise BadUserInput(
            f"承诺补齐日期须在 {today} 至 {limit} 之间 (supply by {limit} at the latest)",
            [FieldError("promise.supplyBy", f"from {today} to {limit}", "range")],
        )
    mark = await CreditRepository(ctx.db).active_mark(citizen, today.isoformat())
    if mark is not None:
        raise Forbidden(
            f"因信用记录，{mark['until']} 前不能容缺受理 (no 容缺 until {mark['until']})",
            extensions={"reason": "credit_mark", "until": mark["until"]},
        )
    return {"materials": missing, "supply_by": supply_by.isoformat(), "signed_at": now_cst()}


def outstanding(case: dict[str, Any]) -> list[str]:
    """Promised materials not yet supplied."""
    promise = case.get("promise") or {}
    have = {m["name"] for m in case.get("materials", [])}
    return [name for name in promise.get("materials", []) if name not in have]


async def lapse_if_due(ctx: Context, case: dict[str, Any]) -> dict[str, Any]:
    """End the case if its promise lapsed (and mark the applicant); else the case as is."""
    promise = case.get("promise")
    if not promise or case["status"] == LAPSED or not outstanding(case):
        return case
    today = now_cst().date()
    if today <= date.fromisoformat(promise["supply_by"]):
        return case
    lapsed = step(
        "promise_lapsed",
        case["status"],
        LAPSED,
        actor="system:tolerance",
        department=case["department_code"],
        at=now_cst(),
        opinion="承诺期满未补齐: " + "、".join(outstanding(case)),
    )
    changes = {"status": LAPSED, "finished_at": lapsed["at"]}
    ended = await CaseRepository(ctx.db).move(case, changes, lapsed)
    if ended is not None:
        await rollup.moved(ctx.db, case, ended)
    until = (today + timedelta(days=LAPSE_BLOCK_DAYS)).isoformat()
    await CreditRepository(ctx.db).mark(case["citizen"], "容缺承诺未履行", until, case["_id"])
    return ended or case
