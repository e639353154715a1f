"""排队叫号: queue tickets of a hall's day — from a booking (check-in), a walk-in, or the
green channel — called to windows in order: green channel (绿色通道: the elderly, the
disabled, expectant mothers, servicemen…) first, then bookings, then walk-ins; within each,
first come first served. Every change is announced on the bus (QUEUE_CHANGED), which is what
the citizen's and the hall screen's subscriptions hear.
"""

from __future__ import annotations

import math
import os
from datetime import timedelta
from enum import IntEnum
from typing import Any

from gateway.context import Context
from gateway.errors import BadUserInput, Conflict, FieldError, NotFound
from gateway.kit.calendar import now_cst
from gateway.kit.opening_hours import opening_state
from modules.cases import appointments
from modules.cases.events import QUEUE_CHANGED, QueueChanged
from modules.cases.permissions import QUEUE_OPERATE
from modules.cases.repository import AppointmentRepository, TicketRepository
from modules.cases.slots import starts_at

__all__ = [
    "AVERAGE_VISIT_MINUTES",
    "Priority",
    "call_next",
    "check_in",
    "finish",
    "issue_green_channel",
    "position",
    "take_walk_in",
]

#: What one window spends on a visit, on average (for the estimated wait).
AVERAGE_VISIT_MINUTES = 12
#: A booking can be checked in from this long before its slot until the slot ends.
CHECK_IN_EARLY = timedelta(hours=1)


class Priority(IntEnum):
    WALK_IN = 0
    BOOKED = 1
    GREEN_CHANNEL = 2


PREFIX = {Priority.WALK_IN: "A", Priority.BOOKED: "B", Priority.GREEN_CHANNEL: "G"}


def tickets(ctx: Context) -> TicketRepository:
    return TicketRepository(ctx.db)


async def _issue(
    ctx: Context,
    item_code: str,
    location_code: str,
    priority: Priority,
    citizen: str | None,
    appointment_id: str | None = None,
) -> dict[str, Any]:
    item, location = await appointments.item_at(ctx, item_code, location_code)
    now = now_cst()
    if not opening_state(location.opening_hours, location.always_open, now).is_open:
        raise Conflict(
            "网点当前不在办公时间 (the place is closed now)", extensions={"reason": "closed"}
        )
    store = tickets(ctx)
    day = now.date().isoformat()
    seq = await store.next_seq(location.code, day)
    doc = {
        "_id": f"{int(now.timestamp() * 1000):013d}{os.urandom(6).hex()}",
        "number": f"{PREFIX[priority]}{seq:03d}",
        "seq": seq,
        "priority": int(priority),
        "location_code": location.code,
        "location_name": location.name,
        "window_count": location.window_count,
        "item_code": item.code,
        "item_name": item.name,
        "day": day,
        "citizen": citizen,
        "status": "waiting",
        "issued_at": now,
    }
    if appointment_id is not None:
        doc["appointment_id"] = appointment_id
    await store.insert(doc)
    await _announce(ctx, doc, "issued")
    return doc


async def _announce(ctx: Context, ticket: dict[str, Any], change: str) -> None:
    await ctx.bus.publish(
        QUEUE_CHANGED,
        QueueChanged(
            location_code=ticket["location_code"],
            day=ticket["day"],
            ticket_id=ticket["_id"],
            number=ticket["number"],
            change=change,
            window=ticket.get("window"),
            citizen=ticket.get("citizen"),
        ),
    )


async def check_in(ctx: Context, appointment_id: str) -> dict[str, Any]:
    """A booked citizen arrives: the booking becomes a ticket with the booking priority."""
    principal = ctx.require()
    bookings = AppointmentRepository(ctx.db)
    booking = await bookings.get(appointment_id)
    if booking is None or booking["citizen"] != principal.subject:
        raise NotFound("预约不存在 (no such booking)")
    if booking["status"] != "booked":
        raise Conflict(
            "该预约已取消或已签到 (the booking is no longer live)",
            extensions={"reason": "not_live"},
        )
    begins = starts_at(booking["date"], booking["start"])
    ends = starts_at(booking["date"], booking["end"])
    now = now_cst()
    if not begins - CHECK_IN_EARLY <= now <= ends:
        raise Conflict(
            f"请在 {begins - CHECK_IN_EARLY:%m-%d %H:%M} 至 {ends:%H:%M} 之间签到 "
            "(check in from an hour before the slot until it ends)",
            extensions={
                "reason": "outside_check_in",
                "from": (begins - CHECK_IN_EARLY).isoformat(),
                "until": ends.isoformat(),
            },
        )
    if await bookings.end(appointment_id, "checked_in", now, citizen=principal.subject) is None:
        raise Conflict("该预约已签到 (already checked in)", extensions={"reason": "not_live"})
    return await _issue(
        ctx,
        booking["item_code"],
        booking["location_code"],
        Priority.BOOKED,
        principal.subject,
        appointment_id,
    )


async def take_walk_in(ctx: Context, item_code: str, location_code: str) -> dict[str, Any]:
    """A ticket taken at the hall without a booking (one waiting ticket per item at a time)."""
    principal = ctx.require()
    citizen = str(principal.subject)
    today = now_cst().date().isoformat()
    for ticket in await tickets(ctx).of_citizen(citizen, today):
        same = ticket["item_code"] == item_code and ticket["location_code"] == location_code
        if same and ticket["status"] == "waiting":
            raise Conflict(
                f"您已在排队 ({ticket['number']}) (you are already waiting for this item)",
                extensions={"reason": "already_waiting", "number": ticket["number"]},
            )
    return await _issue(ctx, item_code, location_code, Priority.WALK_IN, citizen)


async def issue_green_channel(ctx: Context, item_code: str, location_code: str) -> dict[str, Any]:
    """Staff give a priority ticket to someone who qualifies for the green channel."""
    ctx.require(QUEUE_OPERATE.name)
    return await _issue(ctx, item_code, location_code, Priority.GREEN_CHANNEL, None)


async def call_next(ctx: Context, location_code: str, window: str) -> dict[str, Any] | None:
    ctx.require(QUEUE_OPERATE.name)
    if not window or len(window) > 16:
        raise BadUserInput(
            "窗口号无效 (invalid window)", [FieldError("window", "1 to 16 characters", "invalid")]
        )
    now = now_cst()
    ticket = await tickets(ctx).call_next(location_code, now.date().isoformat(), window, now)
    if ticket is not None:
        await _announce(ctx, ticket, "called")
    return ticket


async def finish(ctx: Context, ticket_id: str) -> dict[str, Any]:
    ctx.require(QUEUE_OPERATE.name)
    ticket = await tickets(ctx).finish(ticket_id, now_cst())
    if ticket is None:
        raise Conflict(
            "该号未在办理中 (the ticket is not being served)", extensions={"reason": "not_called"}
        )
    await _announce(ctx, ticket, "finished")
    return ticket


async def position(ctx: Context, ticket: dict[str, Any]) -> tuple[int, int] | None:
    """(place in the queue, estimated minutes) of a waiting ticket; None otherwise."""
    if ticket["status"] != "waiting":
        return None
    waiting = await tickets(ctx).waiting(ticket["location_code"], ticket["day"])
    ahead = next((n for n, t in enumerate(waiting) if t["_id"] == ticket["_id"]), len(waiting))
    windows = max(1, int(ticket.get("window_count") or 1))
    return ahead + 1, math.ceil(ahead * AVERAGE_VISIT_MINUTES / windows)
