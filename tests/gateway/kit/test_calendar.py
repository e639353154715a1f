"""Working days, China time and holiday-aware opening hours (gateway.kit.calendar, opening_hours)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import pytest

from gateway.kit import opening_hours
from gateway.kit.calendar import (
    CST,
    CalendarRangeError,
    add_working_days,
    covered_years,
    holiday_name,
    is_adjusted_working_day,
    is_holiday,
    is_working_day,
    now_cst,
    provisional_years,
    to_cst,
    today_cst,
    working_days_between,
)
from gateway.kit.opening_hours import day_periods, describe_hours, opening_state

HALL = [
    {"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "12:00"},
    {"days": [1, 2, 3, 4, 5], "open": "14:00", "close": "18:00"},
    {"days": [6], "open": "09:00", "close": "12:00"},
]


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CST)


# -- China Standard Time ---------------------------------------------------------------
def test_cst_is_utc_plus_eight_without_dst() -> None:
    assert CST.utcoffset(None) == timedelta(hours=8)
    summer = to_cst(datetime(2025, 7, 1, 16, 30, tzinfo=UTC))
    assert (summer.date(), summer.time()) == (date(2025, 7, 2), time(0, 30))
    assert to_cst(datetime(2025, 1, 1, 16, 30, tzinfo=UTC)).hour == 0


def test_now_and_today_are_in_china() -> None:
    now = now_cst()
    assert now.utcoffset() == timedelta(hours=8)
    assert today_cst() in {now.date(), (now + timedelta(seconds=1)).date()}


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_cst(datetime(2025, 1, 1, 12, 0))


def test_a_datetime_counts_by_its_day_in_china() -> None:
    # 2025-09-27 17:00 UTC is Sunday 2025-09-28 01:00 in China: an adjusted working day.
    assert is_working_day(datetime(2025, 9, 27, 17, 0, tzinfo=UTC))
    assert not is_working_day(datetime(2025, 9, 27, 15, 0, tzinfo=UTC))


# -- the table -------------------------------------------------------------------------
def test_table_covers_2025_to_2027_and_marks_2027_provisional() -> None:
    assert covered_years() == (2025, 2026, 2027)
    assert provisional_years() == frozenset({2027})


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2025, 1, 1), "元旦"),
        (date(2025, 1, 28), "春节"),
        (date(2025, 2, 4), "春节"),
        (date(2025, 4, 4), "清明节"),
        (date(2025, 5, 5), "劳动节"),
        (date(2025, 6, 2), "端午节"),
        (date(2025, 10, 1), "国庆节、中秋节"),
        (date(2025, 10, 8), "国庆节、中秋节"),
        (date(2026, 1, 2), "元旦"),
        (date(2026, 2, 23), "春节"),
        (date(2026, 5, 5), "劳动节"),
        (date(2026, 6, 19), "端午节"),
        (date(2026, 9, 25), "中秋节"),
        (date(2026, 10, 7), "国庆节"),
        (date(2027, 2, 10), "春节"),
    ],
)
def test_public_holidays(day: date, name: str) -> None:
    assert is_holiday(day)
    assert holiday_name(day) == name
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
)
def test_adjusted_working_weekends_are_working_days(day: date) -> None:
    assert day.isoweekday() >= 6
    assert is_adjusted_working_day(day)
    assert is_working_day(day)


def test_plain_days() -> None:
    assert is_working_day(date(2025, 10, 9))  # Thursday after 国庆
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    assert not is_working_day(date(2025, 9, 27))  # the Saturday before the working Sunday
    assert holiday_name(date(2025, 10, 9)) is None
    assert not is_adjusted_working_day(date(2025, 10, 12))


# -- counting working days -------------------------------------------------------------
def test_add_working_days_across_national_day() -> None:
    # Accepted Friday 9/26: Sun 9/28 (worked), Mon 9/29, Tue 9/30, then 10/1–10/8 off,
    # Thu 10/9, Fri 10/10, Sat 10/11 (worked).
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert add_working_days(date(2025, 9, 26), 3) == date(2025, 9, 30)
    assert add_working_days(date(2025, 9, 26), 4) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 26), 6) == date(2025, 10, 11)
    assert add_working_days(date(2025, 9, 26), 7) == date(2025, 10, 13)


def test_add_working_days_across_spring_festival() -> None:
    # 2026: accepted Fri 2/13 → Sat 2/14 worked, 2/15–2/23 off, Tue 2/24 …
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    # 2025: Sun 1/26 worked; 1/28–2/4 off; Sat 2/8 worked.
    assert add_working_days(date(2025, 1, 24), 2) == date(2025, 1, 27)
    assert add_working_days(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert add_working_days(date(2025, 1, 24), 6) == date(2025, 2, 8)


def test_add_zero_working_days_is_the_same_day_and_negative_is_refused() -> None:
    assert add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 1)
    with pytest.raises(ValueError, match=">= 0"):
        add_working_days(date(2025, 10, 1), -1)


def test_a_promised_limit_of_20_working_days() -> None:
    promised = add_working_days(date(2025, 9, 15), 20)
    assert promised == date(2025, 10, 17)
    assert working_days_between(date(2025, 9, 15), promised) == 20


def test_working_days_between() -> None:
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert working_days_between(date(2025, 10, 9), date(2025, 9, 30)) == -1
    assert working_days_between(date(2025, 3, 3), date(2025, 3, 3)) == 0
    # Whole years (1/1 is a holiday, so (1/1, 12/31] is the year): 261 weekdays − 18 holiday
    # weekdays + 5 worked weekend days in 2025; 261 − 19 + 6 in 2026.
    assert working_days_between(date(2025, 1, 1), date(2025, 12, 31)) == 248
    assert working_days_between(date(2026, 1, 1), date(2026, 12, 31)) == 248


@pytest.mark.parametrize("start", [date(2025, 1, 6), date(2025, 9, 26), date(2026, 2, 10)])
@pytest.mark.parametrize("n", [1, 5, 20, 60])
def test_add_and_count_agree(start: date, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n)) == n
    assert is_working_day(add_working_days(start, n))


def test_dates_outside_the_table_raise() -> None:
    with pytest.raises(CalendarRangeError, match="2024-12-31 is outside the holiday table"):
        is_working_day(date(2024, 12, 31))
    with pytest.raises(CalendarRangeError, match=r"holidays_cn\.json"):
        add_working_days(date(2027, 12, 20), 20)
    with pytest.raises(CalendarRangeError):
        working_days_between(date(2025, 1, 1), date(2028, 1, 1))
    assert isinstance(CalendarRangeError("x"), ValueError)


# -- opening hours that know holidays --------------------------------------------------
def test_a_hall_is_open_on_an_ordinary_weekday() -> None:
    state = opening_state(HALL, False, at(2025, 10, 9, 10))
    assert (state.is_open, state.label, state.closes_at) == (True, "营业中", "12:00")
    lunch = opening_state(HALL, False, at(2025, 10, 9, 12, 30))
    assert (lunch.is_open, lunch.opens_at) == (False, "今天 14:00")


def test_a_hall_is_closed_on_a_public_holiday() -> None:
    state = opening_state(HALL, False, at(2025, 10, 1, 10))
    assert not state.is_open
    assert state.label == "休息中"
    assert state.holiday == "国庆节、中秋节"
    assert state.opens_at == "10月9日 09:00"
    # A Saturday inside a holiday: closed although the hall opens on Saturdays.
    assert not opening_state(HALL, False, at(2025, 10, 4, 10)).is_open
    # The eve: closed for the day, opens after the holiday.
    assert opening_state(HALL, False, at(2025, 9, 30, 19)).opens_at == "10月9日 09:00"


def test_a_hall_opens_on_an_adjusted_working_weekend_with_weekday_hours() -> None:
    saturday = opening_state(HALL, False, at(2025, 10, 11, 15))  # worked Saturday, afternoon
    assert (saturday.is_open, saturday.closes_at) == (True, "18:00")
    sunday = opening_state(HALL, False, at(2025, 9, 28, 10))
    assert sunday.is_open
    assert day_periods(HALL, date(2025, 9, 28)) == HALL[:2]
    # On Saturday 9/27 evening the next opening is the worked Sunday.
    assert opening_state(HALL, False, at(2025, 9, 27, 19)).opens_at == "明天 09:00"


def test_an_ordinary_saturday_uses_saturday_hours() -> None:
    assert opening_state(HALL, False, at(2025, 10, 18, 10)).is_open
    afternoon = opening_state(HALL, False, at(2025, 10, 18, 15))
    assert (afternoon.is_open, afternoon.opens_at) == (False, "周一 09:00")


def test_an_always_open_terminal_ignores_the_calendar() -> None:
    for moment in (at(2025, 10, 1, 3), at(2026, 2, 17, 23, 30), at(2025, 9, 28, 10)):
        state = opening_state([], True, moment)
        assert (state.is_open, state.label) == (True, "24小时")
    assert describe_hours([], True) == "24小时开放"


def test_describe_hours_mentions_holidays() -> None:
    assert describe_hours(HALL, False) == (
        "周一至周五 09:00-12:00, 14:00-18:00；周六 09:00-12:00；法定节假日休息"
    )


def test_opening_hours_beyond_the_table_use_the_weekly_schedule_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    opening_hours._warned_years.discard(2030)
    with caplog.at_level(logging.WARNING, logger="onestop.kit.opening_hours"):
        assert opening_state(HALL, False, at(2030, 10, 1, 10)).is_open  # a Tuesday
        assert opening_state(HALL, False, at(2030, 10, 2, 10)).is_open
    warnings = [r for r in caplog.records if "2030" in r.getMessage()]
    assert len(warnings) == 1
