"""电子监察: every accepted case has a light, computed from working days.

* green — done: a result issued, delivered or closed, or refused/denied (a decision made);
* red — overdue: today is past the promised finish date;
* yellow — within 20% of the limit: the working days left are at most a fifth of the
  promised limit (rounded up);
* white — on track.

During a special procedure the clock is paused: the case is judged as on the day it paused.
A case not yet accepted has no promise, hence no light. "Today" is ``now_cst`` (moved in
tests and demos by ``ONESTOP_CLOCK_OFFSET_SECONDS``).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from gateway.kit.calendar import now_cst, working_days_between
from gateway.runtime import Runtime
from modules.cases.events import CASE_OVERDUE, CaseOverdue
from modules.cases.repository import CaseRepository
from modules.cases.statuses import DONE

__all__ = ["OPEN", "department", "light", "remind_overdue", "start_sweep"]

#: Accepted and not yet done: what supervision watches.
OPEN = ("in_review", "supplement_requested", "special_procedure", "approved")
#: Yellow when the working days left are at most this share of the promised limit.
WARNING_SHARE = 0.2


def light(case: dict[str, Any], today: date | None = None) -> str | None:
    """green / white / yellow / red, or None before acceptance."""
    if case["status"] in DONE:
        return "green"
    if not case.get("due_date"):
        return None
    day = today or now_cst().date()
    if case["status"] == "special_procedure" and case.get("paused_on"):
        day = min(day, date.fromisoformat(case["paused_on"]))
    due = date.fromisoformat(case["due_date"])
    if day > due:
        return "red"
    left = working_days_between(day, due)
    warning = math.ceil(int(case.get("promised_limit_days") or 0) * WARNING_SHARE)
    return "yellow" if left <= warning else "white"


async def department(store: CaseRepository, department_code: str) -> dict[str, int]:
    """A department's open cases counted by light."""
    counts = {"open": 0, "white": 0, "yellow": 0, "red": 0}
    today = now_cst().date()
    for case in await store.open_of(department_code, OPEN):
        shade = light(case, today)
        counts["open"] += 1
        if shade in counts:
            counts[shade] += 1
    return counts


async def remind_overdue(runtime: Runtime) -> int:
    """督办: raise ``CASE_OVERDUE`` once per red case and day; returns how many were raised.

    Every replica sweeps; the conditional ``reminded_on`` mark decides which one raises a
    case's reminder, so a day's reminder is raised once however many processes run.
    """
    today = now_cst().date()
    store = CaseRepository(runtime.db)
    raised = 0
    for case in await store.overdue(OPEN, today.isoformat()):
        if light(case, today) != "red":  # paused by a special procedure
            continue
        if not await store.claim_reminder(case["_id"], today.isoformat()):
            continue
        due = date.fromisoformat(case["due_date"])
        await runtime.bus.publish(
            CASE_OVERDUE,
            CaseOverdue(
                case_id=case["_id"],
                citizen=case["citizen"],
                department_code=case["department_code"],
                item_name=case["item_name"],
                due_date=case["due_date"],
                working_days_over=working_days_between(due, today),
            ),
        )
        raised += 1
    return raised


async def start_sweep(runtime: Runtime) -> None:
    """Start-up hook: the overdue sweep every ``ONESTOP_SUPERVISION_SWEEP_SECONDS``."""
    seconds = runtime.settings.supervision_sweep_seconds
    if seconds > 0:
        runtime.every("cases.overdue-sweep", seconds, remind_overdue)
