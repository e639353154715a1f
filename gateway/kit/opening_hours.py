"""Opening hours of a service place that know public holidays (China Standard Time).

A place's weekly schedule is a list of periods ``{"days": [1..7], "open": "09:00", "close":
"18:00"}`` (ISO weekdays, 1 = Monday). Government halls follow the working-day calendar: closed
on public holidays, even on a weekday or a Saturday they normally open, and open on an adjusted
working weekend (调休上班) with their **Monday** hours — the notice makes the day a working day
without saying which weekday it replaces, and Monday is the plain working-day schedule of a hall
(the first weekday with hours, if Monday has none). ``always_open`` places (24-hour self-service
terminals) ignore the calendar.

Beyond the holiday table's years the weekly schedule is used as is, with one logged warning per
year: an opening label is advice, not a promise, and a list of halls must not fail because ops
has not yet added next year's notice (deadlines, in :mod:`gateway.kit.calendar`, do fail).

Example:
    >>> from datetime import datetime
    >>> hall = [{"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "18:00"}]
    >>> opening_state(hall, False, datetime(2025, 10, 1, 10, 0, tzinfo=CST)).opens_at
    '10月9日 09:00'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from gateway.kit.calendar import CST, CalendarRangeError, holiday_table, now_cst

__all__ = ["OpeningState", "day_periods", "describe_hours", "opening_state"]

log = logging.getLogger("onestop.kit.opening_hours")

WEEKDAYS = "一二三四五六日"
#: How far ahead to look for the next opening: longer than any holiday span (国庆: 8 days).
LOOKAHEAD_DAYS = 31
_warned_years: set[int] = set()

Period = Mapping[str, Any]


@dataclass(frozen=True)
class OpeningState:
    """Whether a place is open now, and when it closes or next opens."""

    is_open: bool
    label: str  # 营业中 / 休息中 / 24小时
    closes_at: str | None
    opens_at: str | None  # next opening, e.g. "明天 09:00", "周一 09:00", "10月9日 09:00"
    holiday: str | None = None  # the public holiday closing the place today, e.g. 国庆节


def _parse(clock: str) -> time:
    if clock == "24:00":
        return time(23, 59, 59)
    hours, minutes = clock.split(":")
    return time(int(hours), int(minutes))


def _on_weekday(hours: Sequence[Period], weekday: int) -> list[Period]:
    return [p for p in hours if weekday in p["days"]]


def _holiday_and_shift(day: date) -> tuple[str | None, bool]:
    """(holiday name or None, adjusted working weekend?) — weekly schedule beyond the table."""
    table = holiday_table()
    try:
        table.check(day)
    except CalendarRangeError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "no public holidays for %s in the calendar; opening hours use the weekly "
                "schedule only — add the year to gateway/kit/holidays_cn.json",
                day.year,
            )
        return None, False
    return table.holidays.get(day), day in table.working_weekends


def day_periods(hours: Sequence[Period], day: date) -> list[Period]:
    """The periods a place following the working-day calendar is open on ``day``."""
    holiday, shifted = _holiday_and_shift(day)
    if holiday is not None:
        return []
    if shifted:
        for weekday in range(1, 6):
            if periods := _on_weekday(hours, weekday):
                return periods
        return []
    return _on_weekday(hours, day.isoweekday())


def _prefix(offset: int, day: date) -> str:
    if offset == 0:
        return "今天"
    if offset == 1:
        return "明天"
    if offset < 7:
        return f"周{WEEKDAYS[day.isoweekday() - 1]}"
    return f"{day.month}月{day.day}日"


def opening_state(
    hours: Sequence[Period], always_open: bool, now: datetime | None = None
) -> OpeningState:
    """Whether a place is open at ``now`` (default: the current time in China)."""
    if always_open:
        return OpeningState(True, "24小时", None, None)
    now = (now or now_cst()).astimezone(CST)
    today, clock = now.date(), now.time()
    for period in day_periods(hours, today):
        if _parse(period["open"]) <= clock < _parse(period["close"]):
            return OpeningState(True, "营业中", period["close"], None)
    holiday, _ = _holiday_and_shift(today)
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        starts = sorted(
            _parse(p["open"])
            for p in day_periods(hours, day)
            if offset > 0 or _parse(p["open"]) > clock
        )
        if starts:
            when = starts[0].strftime("%H:%M")
            return OpeningState(False, "休息中", None, f"{_prefix(offset, day)} {when}", holiday)
    return OpeningState(False, "休息中", None, None, holiday)


def describe_hours(hours: Sequence[Period], always_open: bool) -> str:
    """Human text like 周一至周五 09:00-12:00, 14:00-18:00；周六 09:00-12:00；法定节假日休息."""
    if always_open:
        return "24小时开放"
    by_days: dict[tuple[int, ...], list[str]] = {}
    for period in hours:
        by_days.setdefault(tuple(period["days"]), []).append(f"{period['open']}-{period['close']}")
    parts = []
    for days, spans in by_days.items():
        if len(days) > 1 and list(days) == list(range(days[0], days[-1] + 1)):
            label = f"周{WEEKDAYS[days[0] - 1]}至周{WEEKDAYS[days[-1] - 1]}"
        else:
            label = "、".join(f"周{WEEKDAYS[d - 1]}" for d in days)
        parts.append(f"{label} {', '.join(spans)}")
    if parts:
        parts.append("法定节假日休息")
    return "；".join(parts)
