"""Historical cases (``seeds/cases/history.json``): a month of the hall's work, for statistics,
supervision and demos.

The file is compact (``scripts/seedgen/cases_history.py``: one row per case, its steps as
``[action, minute]`` pairs); this module expands each row into the documents the API itself
writes — the case with its steps replayed through the transition table, and its rating — so
every query, light and statistic treats history and live cases alike. Loading is idempotent
(fixed ids; duplicates skipped) and can be left out with ``ONESTOP_SEED_HISTORY=false``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from gateway.kit.calendar import CST, add_working_days
from gateway.registry import SeedContext
from modules.cases import rollup
from modules.cases.casework import INSTANT_ACTOR, TRANSITIONS
from modules.cases.ratings import FOLLOW_UP_WORKING_DAYS
from modules.cases.repository import CASES, NEVER_REMINDED, RATINGS
from modules.cases.statuses import DONE
from modules.cases.steps import step

__all__ = ["expand", "load", "load_history"]

#: The applicant's own actions (not in the staff transition table).
APPLICANT_MOVES = {"submit": "submitted", "supply": "in_review"}
#: Tags a rater picks most often for each score.
TAGS = {
    5: ["fast", "one_visit"],
    4: ["courteous"],
    3: ["clear_guide"],
    2: ["slow"],
    1: ["many_visits"],
}
BATCH = 2_000


def expand(sample: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each row of the sample as (case, rating or None)."""
    start = date.fromisoformat(sample["start"])
    origin = datetime(start.year, start.month, start.day, tzinfo=CST)
    items, actions, deliveries = sample["items"], sample["actions"], sample["deliveries"]
    for n, row in enumerate(sample["cases"]):
        fields = dict(zip(sample["fields"], row, strict=True))
        item = items[fields["item"]]
        moves = [(actions[a], origin + timedelta(minutes=m)) for a, m in fields["steps"]]
        case = _case(n, fields, item, moves, deliveries[fields["delivery"]], start)
        yield case, _rating(n, fields, case, origin)


def _case(
    n: int,
    fields: Mapping[str, Any],
    item: Mapping[str, Any],
    moves: list[tuple[str, datetime]],
    delivery: str,
    start: date,
) -> dict[str, Any]:
    submitted = moves[0][1]
    department = item["department_code"]
    instant = item["instant_approval"] and fields["online"] and len(moves) > 1
    status, steps = "new", []
    for action, at in moves:
        target = APPLICANT_MOVES.get(action) or TRANSITIONS[action].target
        by_rules = instant and action in ("accept", "approve", "issue_result")
        applicant = action in APPLICANT_MOVES
        steps.append(
            step(
                action,
                status,
                target,
                actor=INSTANT_ACTOR if by_rules else None if applicant else "history:staff",
                department=None if applicant else department,
                at=at,
                opinion=_opinion(action),
            )
        )
        status = target
    when = {action: at for action, at in moves}
    doc: dict[str, Any] = {
        "_id": f"{submitted:%Y%m%d%H%M%S}000{n:06x}",
        "citizen": f"history-{fields['citizen']:06d}",
        "item_code": item["code"],
        "item_name": item["name"],
        "department_code": department,
        "promised_limit_days": item["promised_limit_days"],
        "result_licenses": [],
        "form": {},
        "materials": [],
        "awaiting": [],
        "delivery": {
            "method": delivery,
            "address": "深圳市罗湖区（历史数据）" if delivery == "mail" else None,
        },
        "promise": None,
        "status": status,
        "version": len(steps),
        "submitted_at": submitted,
        "channel": "online" if fields["online"] else "window",
        "reminded_on": NEVER_REMINDED,
        "steps": steps,
    }
    if "accept" in when:
        doc["accepted_at"] = when["accept"]
        doc["due_date"] = (start + timedelta(days=fields["due"])).isoformat()
    if fields["paused"]:
        doc["paused_days"] = fields["paused"]
    if status == "special_procedure":
        doc["paused_on"] = when["start_special_procedure"].date().isoformat()
    # Decided (a result out, or ended): the first step that reached a done status.
    decided = [s["at"] for s in steps if s["to"] in DONE]
    if decided:
        doc["finished_at"] = decided[0]
    if instant and "issue_result" in when:
        doc["instant_approved"] = True
    if "deliver" in when:
        doc["delivered_at"] = when["deliver"]
        if delivery == "mail":
            doc["delivery"]["tracking_number"] = f"SF{1_000_000_000_000 + n:013d}"
    return doc


def _opinion(action: str) -> str | None:
    return {
        "refuse": "材料不齐全，不予受理",
        "request_supplement": "请补充提交相关证明材料",
        "start_special_procedure": "需现场核查，进入特别程序",
        "deny": "不符合法定条件，不予许可",
    }.get(action)


def _rating(
    n: int, fields: Mapping[str, Any], case: Mapping[str, Any], origin: datetime
) -> dict[str, Any] | None:
    if not fields["rating"]:
        return None
    score, minute = fields["rating"]
    at = origin + timedelta(minutes=minute)
    doc: dict[str, Any] = {
        "_id": f"{int(at.timestamp() * 1000):013d}{n:012x}",
        "case_id": case["_id"],
        "citizen": case["citizen"],
        "department_code": case["department_code"],
        "item_code": case["item_code"],
        "item_name": case["item_name"],
        "score": score,
        "tags": TAGS[score],
        "comment": None,
        "rated_at": at,
        "rated_on": at.date().isoformat(),
    }
    if score <= 2:
        deadline = add_working_days(at.date(), FOLLOW_UP_WORKING_DAYS)
        doc["follow_up_status"] = "open"
        doc["follow_up_deadline"] = deadline.isoformat()
    return doc


async def _insert(collection: AsyncCollection[Any], docs: list[dict[str, Any]]) -> int:
    """Insert, skipping documents already there (a second load changes nothing)."""
    if not docs:
        return 0
    try:
        return len((await collection.insert_many(docs, ordered=False)).inserted_ids)
    except BulkWriteError as error:
        if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
            raise
        return int(error.details.get("nInserted", 0))


async def load(db: AsyncDatabase[Any], sample: Mapping[str, Any]) -> int:
    """Write a sample's cases and ratings (skipping those already there) and count them in
    the statistics' roll-up; documents written."""
    written = 0
    cases: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    for case, rating in expand(sample):
        cases.append(case)
        if rating is not None:
            ratings.append(rating)
        if len(cases) >= BATCH:
            written += await _insert(db[CASES], cases)
            written += await _insert(db[RATINGS], ratings)
            cases, ratings = [], []
    written += await _insert(db[CASES], cases)
    written += await _insert(db[RATINGS], ratings)
    if written:  # the new cases counted in the statistics, with any already there
        await rollup.rebuild(db)
    return written


async def load_history(seed: SeedContext) -> int:
    """Load ``history.json`` unless ``ONESTOP_SEED_HISTORY`` is off; documents written."""
    if not seed.runtime.settings.seed_history:
        return 0
    sample = json.loads((seed.seeds_dir / "history.json").read_text(encoding="utf-8"))
    return await load(seed.db, sample)
