"""China Standard Time and working days (public holidays and adjusted working weekends).

Time limits in government services are counted in working days (DOMAIN.md): weekends and public
holidays do not count, adjusted working weekends (调休上班) do. The holidays are data, in
``holidays_cn.json`` next to this file, one entry per year as the State Council publishes it
every November; a year marked ``provisional`` is derived from the statutory rules only and must
be replaced when the notice appears (``provisional_years()`` lets ops check).

Dates outside the table's years raise :class:`CalendarRangeError` instead of being guessed: a
promised finish date computed on weekends only can be a week early around 春节 or 国庆, and a
wrong promise is worse than a loud failure that tells ops to add the next year.

Example:
    >>> from datetime import date
    >>> add_working_days(date(2025, 9, 30), 1)  # accepted before 国庆: done after the holiday
    datetime.date(2025, 10, 9)
    >>> is_working_day(date(2025, 9, 28))  # a Sunday worked in exchange for the holiday
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "CST",
    "CalendarRangeError",
    "HolidayTable",
    "add_working_days",
    "covered_years",
    "holiday_name",
    "holiday_table",
    "is_adjusted_working_day",
    "is_holiday",
    "is_working_day",
    "now_cst",
    "provisional_years",
    "set_clock_offset",
    "to_cst",
    "today_cst",
    "working_days_between",
]

#: China Standard Time: UTC+8 all year, no daylight saving time.
CST = timezone(timedelta(hours=8), "CST")

DATA_FILE = "holidays_cn.json"


class CalendarRangeError(ValueError):
    """A date outside the years the holiday table covers; add the year to holidays_cn.json."""


# How far the clock is moved (ONESTOP_CLOCK_OFFSET_SECONDS, dev and tests only): deadlines,
# booking windows and lights can then be shown "next Tuesday" without waiting for it.
_clock_offset = timedelta(0)


def set_clock_offset(seconds: float) -> None:
    """Move ``now_cst`` (and everything built on it) by ``seconds``; 0 is the real time."""
    global _clock_offset
    _clock_offset = timedelta(seconds=seconds)


def now_cst() -> datetime:
    """The current time in China (an aware datetime in CST), moved by the clock offset."""
    return datetime.now(CST) + _clock_offset


def today_cst() -> date:
    """Today's date in China (not the server's local date)."""
    return now_cst().date()


def to_cst(moment: datetime) -> datetime:
    """The same instant expressed in CST.

    Raises:
        ValueError: for a naive datetime — its time zone would be a guess.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: attach a time zone (UTC from the database) first")
    return moment.astimezone(CST)


def _day(value: date) -> date:
    # A datetime is a date subclass: use its calendar day in China, not its UTC day.
    return to_cst(value).date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class HolidayTable:
    """Holidays and adjusted working weekends for a contiguous run of years."""

    holidays: dict[date, str]
    working_weekends: dict[date, str]
    years: tuple[int, ...]
    provisional: frozenset[int]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> HolidayTable:
        holidays: dict[date, str] = {}
        working: dict[date, str] = {}
        provisional: set[int] = set()
        years = sorted(int(year) for year in raw["years"])
        if years != list(range(years[0], years[-1] + 1)):
            raise ValueError(f"{DATA_FILE}: years must be contiguous, got {years}")
        for year_text, entry in raw["years"].items():
            year = int(year_text)
            if entry.get("provisional"):
                provisional.add(year)
            for span in entry["holidays"]:
                first, last = date.fromisoformat(span["from"]), date.fromisoformat(span["to"])
                if first.year != year or last < first:
                    raise ValueError(f"{DATA_FILE}: bad holiday span {span} in {year}")
                day = first
                while day <= last:
                    holidays[day] = span["name"]
                    day += timedelta(days=1)
            for shift in entry["working_weekends"]:
                day = date.fromisoformat(shift["date"])
                if day.year != year or day.isoweekday() < 6:
                    raise ValueError(f"{DATA_FILE}: {day} is not a weekend day of {year}")
                working[day] = shift["for"]
        if overlap := holidays.keys() & working.keys():
            raise ValueError(f"{DATA_FILE}: both holiday and working day: {sorted(overlap)}")
        return cls(holidays, working, tuple(years), frozenset(provisional))

    def check(self, day: date) -> None:
        if not self.years[0] <= day.year <= self.years[-1]:
            raise CalendarRangeError(
                f"{day.isoformat()} is outside the holiday table "
                f"({self.years[0]}–{self.years[-1]}); add the year to gateway/kit/{DATA_FILE}"
            )

    def is_working_day(self, day: date) -> bool:
        self.check(day)
        if day in self.working_weekends:
            return True
        return day.isoweekday() < 6 and day not in self.holidays


@cache
def holiday_table() -> HolidayTable:
    """The packaged table (read once per process)."""
    text = resources.files(__package__ or "gateway.kit").joinpath(DATA_FILE).read_text("utf-8")
    return HolidayTable.from_json(json.loads(text))


def covered_years() -> tuple[int, ...]:
    """The years the table covers, e.g. ``(2025, 2026, 2027)``."""
    return holiday_table().years


def provisional_years() -> frozenset[int]:
    """Years whose entry is derived, not yet published by the State Council."""
    return holiday_table().provisional


def is_working_day(day: date) -> bool:
    """True on Monday–Friday that is no public holiday, and on adjusted working weekends.

    Raises:
        CalendarRangeError: outside the table's years.
    """
    return holiday_table().is_working_day(_day(day))


def is_holiday(day: date) -> bool:
    """True on a public holiday day (including the weekend days inside a holiday span)."""
    day = _day(day)
    holiday_table().check(day)
    return day in holiday_table().holidays


def is_adjusted_working_day(day: date) -> bool:
    """True on a Saturday or Sunday that is worked (调休上班)."""
    day = _day(day)
    holiday_table().check(day)
    return day in holiday_table().working_weekends


def holiday_name(day: date) -> str | None:
    """The holiday's name (e.g. 春节) on a holiday day, otherwise None."""
    day = _day(day)
    holiday_table().check(day)
    return holiday_table().holidays.get(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start``: the promised finish date of a case accepted then.

    The day of acceptance does not count, whatever kind of day it is; ``n == 0`` (即办件) is
    ``start`` itself. ``working_days_between(start, add_working_days(start, n)) == n``.

    Raises:
        ValueError: for negative ``n``.
        CalendarRangeError: when the count runs outside the table's years.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    table = holiday_table()
    day = _day(start)
    table.check(day)
    left = n
    while left:
        day += timedelta(days=1)
        if table.is_working_day(day):
            left -= 1
    return day


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``.

    This is how many working days of a limit a case accepted on ``a`` has used by ``b``.

    Raises:
        CalendarRangeError: when either end is outside the table's years.
    """
    table = holiday_table()
    first, last = _day(a), _day(b)
    table.check(first)
    table.check(last)
    if last < first:
        return -working_days_between(last, first)
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        count += table.is_working_day(day)
    return count
