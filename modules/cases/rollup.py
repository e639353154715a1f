"""The statistics' daily roll-up: per department and day, what its cases and ratings add up to.

A month is ~20,000 cases and a year ~240,000: reading them all for one statistics query would
take seconds (and break the request deadline) on any server. So every write that changes a
number adds its difference here — one small ``$inc`` on one (day, department) document — and a
period's statistics read at most a few hundred of them.

Case counters are filed under the day the case was **submitted** (the period a report covers
is "cases submitted in November"); rating counters under the day of the **rating**. A case's
contribution is a pure function of its document (:func:`case_counts`); a move adds
``case_counts(after) - case_counts(before)``, so it cannot drift from the cases whatever the
order of transitions, and :func:`rebuild` recomputes everything from the cases (after loading
history, or for ops after a crash between a case write and its roll-up).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.kit.calendar import CST, working_days_between
from modules.cases.repository import CASE_DAYS, CASES, RATINGS
from modules.cases.statuses import DONE, RESULT_OUT

__all__ = [
    "CASE_COUNTERS",
    "RATING_COUNTERS",
    "SCORES",
    "case_counts",
    "days",
    "moved",
    "rated",
    "rebuild",
]

#: Counters of cases, by submission day.
CASE_COUNTERS = (
    "submitted",
    "online",
    "zero_visit",  # online, and the result mailed or sent electronically
    "instant",  # 秒批
    "finished",  # decided: a result out, or ended
    "finished_late",  # decided after the promised date
    "decided",  # accepted, then a result out: what the average time is over
    "working_days",  # their working days from acceptance to the result (pauses excluded)
    "promised_days",  # their promised limits
)
#: Counters of ratings, by rating day: how many, and how many at each score.
SCORES = {score: f"score_{score}" for score in range(1, 6)}
RATING_COUNTERS = ("ratings", *SCORES.values())
#: Deliveries that need no visit to the hall.
NO_VISIT = frozenset({"mail", "electronic"})

Key = tuple[str, str]  # (ISO day, department code)


def _day(moment: datetime | str) -> date:
    """The day in China of a stored time. Times a transition ``$set`` come back as ISO text
    from nx-27017 (test_conformance), and without a zone from a client not ``tz_aware``."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(CST).date()


def case_counts(case: Mapping[str, Any] | None) -> Counter[str]:
    """One case's contribution to its submission day's counters."""
    found: Counter[str] = Counter()
    if case is None:
        return found
    online = case.get("channel", "online") == "online"  # the app's own cases are online
    found["submitted"] = 1
    found["online"] = int(online)
    found["zero_visit"] = int(online and (case.get("delivery") or {}).get("method") in NO_VISIT)
    found["instant"] = int(bool(case.get("instant_approved")))
    finished = case.get("finished_at")
    if case["status"] in DONE and finished is not None:
        day = _day(finished)
        found["finished"] = 1
        due = case.get("due_date")
        found["finished_late"] = int(due is not None and day > date.fromisoformat(str(due)))
        if case["status"] in RESULT_OUT and case.get("accepted_at"):
            taken = working_days_between(_day(case["accepted_at"]), day)
            found["decided"] = 1
            found["working_days"] = max(0, taken - int(case.get("paused_days") or 0))
            found["promised_days"] = int(case.get("promised_limit_days") or 0)
    return found


def _key(case: Mapping[str, Any]) -> Key:
    return _day(case["submitted_at"]).isoformat(), str(case["department_code"])


def _id(key: Key) -> str:
    """``20261105|<department>``: nx-27017 does not find string ids that start like an ISO
    date by equality (test_conformance), so the day's dashes are left out."""
    day, department = key
    return f"{day.replace('-', '')}|{department}"


def _rating_counts(rating: Mapping[str, Any]) -> Counter[str]:
    return Counter({"ratings": 1, SCORES[int(rating["score"])]: 1})


async def _add(db: AsyncDatabase[Any], key: Key, counts: Mapping[str, int]) -> None:
    changes = {name: n for name, n in counts.items() if n}
    if not changes:
        return
    day, department = key
    update = {"$inc": changes, "$setOnInsert": {"day": day, "department_code": department}}
    for attempt in (1, 2):
        try:
            await db[CASE_DAYS].update_one({"_id": _id(key)}, update, upsert=True)
            return
        except DuplicateKeyError:  # two first writes of a day at once: the other one won
            if attempt == 2:
                raise


async def moved(
    db: AsyncDatabase[Any], before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> None:
    """A case was written (``before`` None: new): add the difference it makes."""
    difference = case_counts(after)
    difference.subtract(case_counts(before))
    await _add(db, _key(after), difference)


async def rated(db: AsyncDatabase[Any], rating: Mapping[str, Any]) -> None:
    await _add(db, (rating["rated_on"], rating["department_code"]), _rating_counts(rating))


async def rebuild(db: AsyncDatabase[Any]) -> int:
    """Recompute every day from the cases and ratings; returns the documents written."""
    found: dict[Key, Counter[str]] = {}
    fields = (
        "department_code submitted_at status channel delivery instant_approved accepted_at "
        "due_date paused_days finished_at promised_limit_days"
    )
    async for case in db[CASES].find({}, dict.fromkeys(fields.split(), 1)):
        found.setdefault(_key(case), Counter()).update(case_counts(case))
    async for rating in db[RATINGS].find({}, {"score": 1, "rated_on": 1, "department_code": 1}):
        key = (rating["rated_on"], rating["department_code"])
        found.setdefault(key, Counter()).update(_rating_counts(rating))
    await db[CASE_DAYS].delete_many({})
    docs = [
        {"_id": _id((day, department)), "day": day, "department_code": department, **counts}
        for (day, department), counts in found.items()
    ]
    for start in range(0, len(docs), 1000):
        await db[CASE_DAYS].insert_many(docs[start : start + 1000])
    return len(docs)


async def days(
    db: AsyncDatabase[Any], department_code: str | None, first: str, last: str
) -> list[dict[str, Any]]:
    """The roll-up documents of a period (one department, or all)."""
    query: dict[str, Any] = {"day": {"$gte": first, "$lte": last}}
    if department_code is not None:
        query["department_code"] = department_code
    return await db[CASE_DAYS].find(query).to_list()
