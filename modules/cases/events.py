"""What the cases module announces on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.bus import Topic

__all__ = [
    "CASE_CHANGED",
    "CASE_OVERDUE",
    "QUEUE_CHANGED",
    "CaseChanged",
    "CaseOverdue",
    "QueueChanged",
]


@dataclass(frozen=True)
class QueueChanged:
    """A hall's queue moved: a ticket was issued, called to a window, or finished."""

    location_code: str
    day: str  # ISO date, China time
    ticket_id: str
    number: str
    change: str  # issued / called / finished
    window: str | None
    citizen: str | None  # the ticket holder's subject (None for a ticket without an account)


QUEUE_CHANGED = Topic(
    "cases.queue.changed",
    QueueChanged,
    "A hall's queue moved (ticket issued, called to a window, finished); after it is stored.",
)


@dataclass(frozen=True)
class CaseChanged:
    """A case moved to another status (after it is stored)."""

    case_id: str
    citizen: str
    department_code: str
    status: str
    action: str


CASE_CHANGED = Topic(
    "cases.case.changed",
    CaseChanged,
    "A case moved (submitted, accepted, supplement requested, approved, delivered…).",
)


@dataclass(frozen=True)
class CaseOverdue:
    """电子监察: an open case passed its promised finish date (once per case and day)."""

    case_id: str
    citizen: str
    department_code: str
    item_name: str
    due_date: str  # ISO date
    working_days_over: int


CASE_OVERDUE = Topic(
    "cases.case.overdue",
    CaseOverdue,
    "督办: an open case is past its promised date; raised once per case and day by the sweep.",
)
