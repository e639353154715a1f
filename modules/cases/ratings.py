"""好差评: one rating per finished case, five levels, with indicator tags.

A 差评 (1 or 2) opens a follow-up task for the owning department — 回访 (call back) and 整改
(fix), answered within ``FOLLOW_UP_WORKING_DAYS`` — which the citizen sees with its deadline
and, once given, the department's reply. Statistics count ratings by department and period.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from pymongo.errors import DuplicateKeyError

from gateway.context import Context
from gateway.errors import BadUserInput, Conflict, FieldError, Forbidden, NotFound
from gateway.kit.calendar import add_working_days, now_cst
from modules.cases import rollup
from modules.cases.permissions import CASE_REVIEW
from modules.cases.repository import RatingRepository
from modules.cases.statuses import DONE

__all__ = ["FOLLOW_UP_WORKING_DAYS", "rate", "reply", "statistics"]

#: Working days a department has to call back and fix after a 差评 (localities use 5–15).
FOLLOW_UP_WORKING_DAYS = 5
MAX_TEXT = 500


def store(ctx: Context) -> RatingRepository:
    return RatingRepository(ctx.db)


def _text(field: str, value: str | None, required: bool = False) -> str | None:
    value = (value or "").strip() or None
    if required and not value:
        raise BadUserInput(
            f"请填写 {field} ({field} required)", [FieldError(field, "required", "required")]
        )
    if value and len(value) > MAX_TEXT:
        raise BadUserInput(
            f"{field} 过长 ({field} too long)",
            [FieldError(field, f"at most {MAX_TEXT} characters", "too_long")],
        )
    return value


async def rate(
    ctx: Context, case: dict[str, Any], score: int, tags: list[str], comment: str | None
) -> dict[str, Any]:
    principal = ctx.require()
    if case["citizen"] != principal.subject:
        raise NotFound("办件不存在 (no such case)")
    if case["status"] not in DONE:
        raise Conflict(
            "办结后方可评价 (rate a case once it is finished)",
            extensions={"reason": "not_finished"},
        )
    if not 1 <= score <= 5:
        raise BadUserInput("评分须为 1–5 (score 1 to 5)", [FieldError("score", "1 to 5", "range")])
    now = now_cst()
    doc: dict[str, Any] = {
        "_id": f"{int(now.timestamp() * 1000):013d}{os.urandom(6).hex()}",
        "case_id": case["_id"],
        "citizen": principal.subject,
        "department_code": case["department_code"],
        "item_code": case["item_code"],
        "item_name": case["item_name"],
        "score": score,
        "tags": sorted(set(tags)),
        "comment": _text("comment", comment),
        "rated_at": now,
        "rated_on": now.date().isoformat(),
    }
    if score <= 2:
        doc["follow_up_status"] = "open"
        doc["follow_up_deadline"] = add_working_days(now.date(), FOLLOW_UP_WORKING_DAYS).isoformat()
    try:
        await store(ctx).insert(doc)
    except DuplicateKeyError:
        raise Conflict(
            "该办件已评价 (this case is rated already)", extensions={"reason": "already_rated"}
        ) from None
    await rollup.rated(ctx.db, doc)
    return doc


async def reply(ctx: Context, rating_id: str, callback: str, rectification: str) -> dict[str, Any]:
    """The owning department answers a 差评: how it called back and what it fixed."""
    principal = ctx.require(CASE_REVIEW.name)
    doc = await store(ctx).get(rating_id)
    if doc is None:
        raise NotFound("评价不存在 (no such rating)")
    if doc["department_code"] != principal.department:
        raise Forbidden("只有被评价部门可以整改 (only the rated department answers)")
    answer = {
        "callback": _text("callback", callback, required=True),
        "rectification": _text("rectification", rectification, required=True),
        "by": principal.subject,
        "at": now_cst(),
    }
    done = await store(ctx).reply(rating_id, doc["department_code"], answer)
    if done is None:
        raise Conflict(
            "该评价无待办整改 (no open follow-up)", extensions={"reason": "no_open_follow_up"}
        )
    return done


def check_period(first: date, last: date) -> None:
    """Statistics cover a period of at most a year."""
    if last < first or (last - first).days > 366:
        raise BadUserInput(
            "统计区间须在一年内 (a period of at most a year)",
            [FieldError("to", "on or after `from`, within a year", "range")],
        )


def summarize(counted: Mapping[int, int]) -> dict[str, Any]:
    """From how many at each score: the counts, the average, the 差评 share."""
    by_score = {score: int(counted.get(score, 0)) for score in range(1, 6)}
    total = sum(by_score.values())
    return {
        "total": total,
        "by_score": by_score,
        "average": round(sum(s * n for s, n in by_score.items()) / total, 2) if total else None,
        "bad_share": round((by_score[1] + by_score[2]) / total, 4) if total else None,
    }


async def statistics(ctx: Context, department_code: str, first: date, last: date) -> dict[str, Any]:
    """Ratings of a department in a period."""
    check_period(first, last)
    rows = await store(ctx).scores(department_code, first.isoformat(), last.isoformat())
    return summarize(Counter(int(row["score"]) for row in rows))
