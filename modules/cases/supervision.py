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
from modules.cases.casework import DONE
from modules.cases.repository import CaseRepository

__all__ = ["OPEN", "department", "light"]

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
