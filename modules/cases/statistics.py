"""办件统计: what the district reports by department and period.

Over the cases submitted in the period: 办结率 (finished: a result out or ended), 秒批率
(approved by rules in the submit request), 网办率 (applied for online), 零跑动率 (online and the
result mailed or sent electronically: no visit at all), the average working days from
acceptance to the result against the promised limit (special procedures excluded, as the law
counts them), cases finished after their promised date, and those still open and overdue
today; and the ratings given in the period (好差评).

The counters come from the daily roll-up (``rollup.py``: a few hundred small documents for a
year of one department), the open cases from the cases themselves (a few hundred at most).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from gateway.context import Context
from gateway.kit.calendar import CST, now_cst
from modules.cases import ratings, rollup
from modules.cases.casework import store
from modules.cases.supervision import OPEN, light

__all__ = ["Tally", "tally"]


@dataclass
class Tally:
    """One scope's numbers (a department, or the district when ``department_code`` is None)."""

    department_code: str | None
    counts: Counter[str] = field(default_factory=Counter)
    overdue_open: int = 0

    def rates(self) -> dict[str, Any]:
        counts = self.counts
        submitted, decided = counts["submitted"], counts["decided"]

        def share(name: str) -> float | None:
            return round(counts[name] / submitted, 4) if submitted else None

        def mean(name: str) -> float | None:
            return round(counts[name] / decided, 2) if decided else None

        return {
            "finish_rate": share("finished"),
            "instant_rate": share("instant"),
            "online_rate": share("online"),
            "zero_visit_rate": share("zero_visit"),
            "average_working_days": mean("working_days"),
            "average_promised_days": mean("promised_days"),
            "ratings": ratings.summarize({n: counts[name] for n, name in rollup.SCORES.items()}),
        }


async def tally(
    ctx: Context, department_code: str | None, first: date, last: date, *, by_department: bool
) -> list[Tally]:
    """The period's tallies: one for the scope, or one per department with cases."""
    ratings.check_period(first, last)
    days = await rollup.days(ctx.db, department_code, first.isoformat(), last.isoformat())
    start = datetime(first.year, first.month, first.day, tzinfo=CST)
    end = datetime(last.year, last.month, last.day, tzinfo=CST) + timedelta(days=1)
    still_open = [
        case
        for case in await store(ctx).open_of(department_code, OPEN)
        if start <= case["submitted_at"] < end
    ]
    today = now_cst().date()
    names = (*rollup.CASE_COUNTERS, *rollup.RATING_COUNTERS)
    tallies: dict[str | None, Tally] = {}

    def scope(doc: dict[str, Any]) -> Tally:
        key = doc["department_code"] if by_department else department_code
        return tallies.setdefault(key, Tally(key))

    for doc in days:
        scope(doc).counts.update({name: int(doc.get(name) or 0) for name in names})
    for case in still_open:
        scope(case).overdue_open += light(case, today) == "red"
    if not by_department:
        return [tallies.setdefault(department_code, Tally(department_code))]
    return sorted(tallies.values(), key=lambda t: (-t.counts["submitted"], t.department_code or ""))
