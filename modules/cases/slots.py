"""Appointment slots: generated from a place's opening hours and the working-day calendar.

Slots are not stored. A day's slots are computed from the hall's weekly hours (closed on
public holidays, open on adjusted working weekends: gateway.kit.opening_hours); only the
number of places taken in a slot is stored, in a counter made on the first booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gateway.kit.calendar import CST, add_working_days
from gateway.kit.opening_hours import day_periods
from modules.affairs.interface import CatalogLocation

__all__ = [
    "BOOK_AHEAD_WORKING_DAYS",
    "CANCEL_BEFORE",
    "SLOT_MINUTES",
    "Slot",
    "bookable_days",
    "slot_capacity",
    "slots_on",
    "starts_at",
]

SLOT_MINUTES = 30
#: Bookings open from the next working day up to this many working days ahead.
BOOK_AHEAD_WORKING_DAYS = 5
#: A booking may be cancelled until this long before its slot starts.
CANCEL_BEFORE = timedelta(hours=2)


def slot_capacity(location: CatalogLocation) -> int:
    """Places per item per slot: one per window (a window sees ~2 visitors in 30 minutes,
    and about half of them come without a booking), at least 2 for a one-window office."""
    return max(2, location.window_count)


@dataclass(frozen=True)
class Slot:
    day: date
    start: time
    end: time
    capacity: int

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.day, self.start, CST)

    def key(self, location_code: str, item_code: str) -> str:
        """The slot's counter id: place, item, day and start."""
        return f"{location_code}|{item_code}|{self.day.isoformat()}|{self.start:%H:%M}"


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(23, 59) if text == "24:00" else time(int(hours), int(minutes))


def slots_on(location: CatalogLocation, day: date) -> list[Slot]:
    """The day's slots at ``location`` (none when it is closed that day)."""
    if location.always_open:
        return []  # self-service terminals take no bookings
    capacity = slot_capacity(location)
    slots: list[Slot] = []
    for period in day_periods(location.opening_hours, day):
        start = datetime.combine(day, _clock(period["open"]))
        close = datetime.combine(day, _clock(period["close"]))
        while start + timedelta(minutes=SLOT_MINUTES) <= close:
            end = start + timedelta(minutes=SLOT_MINUTES)
            slots.append(Slot(day, start.time(), end.time(), capacity))
            start = end
    return slots


def bookable_days(today: date) -> list[date]:
    """The working days bookings are open for: the next one up to the fifth."""
    return [add_working_days(today, n) for n in range(1, BOOK_AHEAD_WORKING_DAYS + 1)]


def starts_at(day: str, start: str) -> datetime:
    """A stored booking's start (``"2026-12-03"``, ``"09:30"``) as a CST instant."""
    return datetime.combine(date.fromisoformat(day), _clock(start), CST)
