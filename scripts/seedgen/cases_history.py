"""Deterministic generator of historical cases (办件) for statistics, supervision and benchmarks.

Run from the repository root (after scripts/seedgen/affairs.py)::

    python3 scripts/seedgen/cases_history.py                 # the committed sample
    python3 scripts/seedgen/cases_history.py --count 240000 --days 365 --out /tmp/year.json

The committed sample (``seeds/cases/history.json``) is one month of the district hall's work:
20,000 cases submitted in November 2026 ("nearly 20,000 cases a month", DOMAIN.md), seen as of
the month's last evening. Output depends only on the arguments and the items file.

How the month is drawn (a model, not a record; each share is a parameter below):

* an item is drawn by its ``annual_volume`` (few items make most of the volume);
* online (网上申请) when the item can be applied for online, with ``ONLINE_SHARE``; a window
  application otherwise. Online applications come at any hour, evenings included; window ones
  in the hall's hours on working days, peaking mid-morning and mid-afternoon;
* results of 零跑动 items applied for online are mostly sent electronically (电子送达, into
  the app and wallet) with ``ELECTRONIC_SHARE``; else mailed (免费邮寄) for items that offer
  it, with ``MAIL_SHARE``; else picked up at a window;
* 即办件 are accepted and decided on the spot; 秒批 items are approved by rules in the submit
  request; promised items are accepted within a working day and decided, mostly, in 30–70% of
  the promised limit — a few take longer (``LATE_SHARE`` pass the promise); some ask for a
  supplement, some pause for a special procedure (the clock stops), some are refused at intake
  or denied;
* results are delivered 1–3 days later (mailed) or picked up within a week, then closed;
* most finished cases are rated, nearly all 5 (差评 under 1%, as the 好差评 system reports).

Each case is a compact row (``ROW_FIELDS``) with its steps as ``[action, minute]`` pairs,
minutes counted from the period's start; ``modules/cases/history.py`` expands rows into the
same documents the API writes.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.kit.calendar import CST, add_working_days, is_working_day

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ROOT / "seeds" / "affairs" / "items.json"
OUT = ROOT / "seeds" / "cases" / "history.json"

#: What one row holds, in order (``steps`` last: ``[[action index, minute], …]``).
ROW_FIELDS = (
    "item",  # index into ``items``
    "citizen",  # pseudonymous applicant number
    "online",  # 1 网上申请, 0 at a window
    "delivery",  # index into ``DELIVERIES``
    "due",  # promised finish date as days from the period start, or -1 before acceptance
    "paused",  # working days a special procedure paused the clock
    "rating",  # [score, minute] or 0
    "steps",
)
ACTIONS = (
    "submit",
    "accept",
    "refuse",
    "request_supplement",
    "supply",
    "start_special_procedure",
    "end_special_procedure",
    "approve",
    "deny",
    "issue_result",
    "deliver",
    "close",
)

DELIVERIES = ("pickup", "mail", "electronic")

ONLINE_SHARE = 0.82
ELECTRONIC_SHARE = 0.85
MAIL_SHARE = 0.55
REFUSE_SHARE = 0.015
DENY_SHARE = 0.008
SUPPLEMENT_SHARE = 0.04
SPECIAL_SHARE = 0.012
LATE_SHARE = 0.004
RATED_SHARE = 0.7
SCORES = ((5, 0.93), (4, 0.045), (3, 0.016), (2, 0.005), (1, 0.004))


def _minute(start: date, at: datetime) -> int:
    origin = datetime(start.year, start.month, start.day, tzinfo=CST)
    return int((at - origin).total_seconds() // 60)


def _at(day: date, hour: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CST) + timedelta(hours=hour)


def _working_hour(rng: random.Random) -> float:
    """The hall's hours (9:00–12:00, 14:00–18:00), busiest at 10 and 15."""
    return rng.choice((rng.triangular(9, 12, 10), rng.triangular(14, 18, 15)))


def _next_working(day: date, hours: float, rng: random.Random) -> datetime:
    """A moment in the hall's hours on ``day`` or the next working day after ``hours``."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return _at(day, max(hours, _working_hour(rng)))


def _case(rng: random.Random, item: dict[str, Any], start: date, days: int) -> tuple[Any, ...]:
    online = int(bool(item.get("online")) and rng.random() < ONLINE_SHARE)
    if online and int(item.get("visits", 0)) == 0 and rng.random() < ELECTRONIC_SHARE:
        delivery = DELIVERIES.index("electronic")
    elif item.get("mail_delivery") and rng.random() < MAIL_SHARE:
        delivery = DELIVERIES.index("mail")
    else:
        delivery = DELIVERIES.index("pickup")
    mail = delivery != DELIVERIES.index("pickup")  # no counter to go to
    day = start + timedelta(days=rng.randrange(days))
    if online:
        submitted = _at(day, rng.choice((rng.uniform(8, 23), rng.triangular(9, 22, 20))))
    else:
        while not is_working_day(day):
            day = start + timedelta(days=rng.randrange(days))
        submitted = _at(day, _working_hour(rng))
    steps: list[tuple[str, datetime]] = [("submit", submitted)]
    due, paused = None, 0
    quick = item["handling_type"] == "instant" or bool(item.get("instant_approval"))
    if quick:
        now = submitted + timedelta(minutes=rng.randint(1, 40) if not online else 0)
        steps += [("accept", now), ("approve", now), ("issue_result", now)]
        due = submitted.date()
    elif rng.random() < REFUSE_SHARE:
        steps.append(("refuse", _next_working(submitted.date(), submitted.hour + 1, rng)))
    else:
        accepted = (
            submitted + timedelta(minutes=rng.randint(5, 60))
            if not online
            else _next_working(submitted.date() + timedelta(days=1), 9, rng)
        )
        steps.append(("accept", accepted))
        limit = int(item["promised_limit_days"])
        due = add_working_days(accepted.date(), limit)
        took = max(1, round(limit * rng.uniform(0.3, 0.7)))
        if rng.random() < LATE_SHARE:
            took = limit + rng.randint(1, 3)
        clock = accepted.date()
        if rng.random() < SUPPLEMENT_SHARE:
            asked = add_working_days(clock, rng.randint(0, max(0, took // 2)))
            supplied = asked + timedelta(days=rng.randint(1, 5))
            steps += [
                ("request_supplement", _next_working(asked, 10, rng)),
                ("supply", _at(supplied, rng.uniform(9, 22))),
            ]
            clock = supplied
        if rng.random() < SPECIAL_SHARE:
            paused = rng.randint(3, 10)
            began = add_working_days(clock, 1)
            steps += [
                ("start_special_procedure", _next_working(began, 10, rng)),
                ("end_special_procedure", _next_working(add_working_days(began, paused), 10, rng)),
            ]
            due = add_working_days(due, paused)
        decided = _next_working(add_working_days(accepted.date(), took + paused), 9, rng)
        decided = max(decided, steps[-1][1] + timedelta(hours=1))
        if rng.random() < DENY_SHARE:
            steps.append(("deny", decided))
        else:
            steps += [("approve", decided), ("issue_result", decided + timedelta(minutes=30))]
    if steps[-1][0] == "issue_result":
        issued = steps[-1][1]
        if delivery == DELIVERIES.index("electronic"):
            delivered = issued + timedelta(minutes=rng.randint(1, 30))
        elif mail:
            delivered = issued + timedelta(days=rng.randint(1, 3))
        else:
            picked = issued + timedelta(days=rng.randint(0, 7))
            delivered = _next_working(picked.date(), picked.hour, rng)
        closed = delivered + timedelta(hours=rng.randint(1, 48))
        steps += [("deliver", delivered), ("close", closed)]
    return online, delivery, due, paused, steps


def _score(rng: random.Random) -> int:
    roll, total = rng.random(), 0.0
    for score, share in SCORES:
        total += share
        if roll < total:
            return score
    return 5


def generate(count: int, start: date, days: int, seed: int) -> dict[str, Any]:
    """``count`` cases submitted in ``days`` days from ``start``, as of the last day's end."""
    rng = random.Random(seed)
    catalog = [i for i in json.loads(ITEMS.read_text(encoding="utf-8")) if i["status"] == "active"]
    weights = [max(1, int(i.get("annual_volume") or 0)) for i in catalog]
    end = _at(start + timedelta(days=days), 0)
    citizens = max(1, int(count * 0.75))
    chosen = rng.choices(range(len(catalog)), weights=weights, k=count)
    used = sorted(set(chosen))
    index = {n: k for k, n in enumerate(used)}
    rows = []
    for n in chosen:
        online, delivery, due, paused, steps = _case(rng, catalog[n], start, days)
        seen = [(action, at) for action, at in steps if at < end]
        rating: Any = 0
        if seen[-1][0] == "close" and rng.random() < RATED_SHARE:
            rated = seen[-1][1] + timedelta(hours=rng.randint(0, 72))
            rating = [_score(rng), _minute(start, rated)] if rated < end else 0
        accepted = any(action == "accept" for action, _ in seen)
        rows.append(
            [
                index[n],
                rng.randrange(citizens),
                online,
                delivery,
                (due - start).days if due is not None and accepted else -1,
                paused if any(a == "end_special_procedure" for a, _ in seen) else 0,
                rating,
                [[ACTIONS.index(action), _minute(start, at)] for action, at in seen],
            ]
        )
    rows.sort(key=lambda row: row[-1][0][1])
    items = [
        {
            "code": catalog[n]["code"],
            "name": catalog[n]["name"],
            "department_code": catalog[n]["department_code"],
            "promised_limit_days": catalog[n]["promised_limit_days"],
            "instant_approval": bool(catalog[n].get("instant_approval")),
        }
        for n in used
    ]
    return {
        "start": start.isoformat(),
        "days": days,
        "seed": seed,
        "fields": list(ROW_FIELDS),
        "actions": list(ACTIONS),
        "deliveries": list(DELIVERIES),
        "items": items,
        "cases": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 1))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sample = generate(args.count, args.start, args.days, args.seed)
    rows = sample.pop("cases")
    head = json.dumps(sample, ensure_ascii=False, separators=(",", ":"))
    # One case per line: reviewable diffs, and still plain JSON.
    body = ",\n".join(json.dumps(row, separators=(",", ":")) for row in rows)
    args.out.write_text(f'{head[:-1]},"cases":[\n{body}\n]}}\n', encoding="utf-8")
    print(f"wrote {args.out}: {len(rows)} cases over {args.days} days")


if __name__ == "__main__":
    main()
