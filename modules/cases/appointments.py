"""预约取号: booking, cancelling and no-shows — the rules; MongoDB in repository.py.

* Real name only (identity level 2), from the next working day up to the fifth, at a place
  that handles the item and is open that day, for an item that takes bookings.
* Capacity exact under concurrency: one conditional ``$inc`` per booking (repository).
* One live booking per citizen, item and day (a unique index on the live key).
* Cancel until 2 hours before the slot; a missed booking (recorded by staff once the slot
  has begun) is a no-show, and 2 no-shows within 30 days block booking for 30 days after
  the last.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from gateway.auth import IdentityLevel
from gateway.context import Context
from gateway.errors import (
    BadUserInput,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    SlotFull,
    Unavailable,
)
from gateway.kit.calendar import now_cst
from modules.affairs.interface import CATALOG, CatalogItem, CatalogLocation, ServiceCatalog
from modules.cases.permissions import APPOINTMENT_MANAGE
from modules.cases.repository import AppointmentRepository
from modules.cases.slots import CANCEL_BEFORE, Slot, bookable_days, slots_on, starts_at

__all__ = ["NO_SHOW_BLOCK", "NO_SHOW_LIMIT", "Booking", "book", "cancel", "record_no_show"]

NO_SHOW_LIMIT = 2
NO_SHOW_BLOCK = timedelta(days=30)


@dataclass(frozen=True)
class Booking:
    """What a citizen asks for."""

    item_code: str
    location_code: str
    day: date
    start: str  # "09:30"


def repository(ctx: Context) -> AppointmentRepository:
    return AppointmentRepository(ctx.db)


def catalog(ctx: Context) -> ServiceCatalog:
    try:
        return ctx.interface(CATALOG.name, ServiceCatalog)  # type: ignore[type-abstract]
    except LookupError:
        raise Unavailable("事项目录未加载 (the affairs catalog is not loaded)") from None


async def item_at(
    ctx: Context, item_code: str, location_code: str
) -> tuple[CatalogItem, CatalogLocation]:
    """The active item and the place, if the place handles it; else NOT_FOUND/BAD_USER_INPUT."""
    directory = catalog(ctx)
    item = await directory.item(item_code)
    if item is None or item.status != "active":
        raise NotFound(f"事项不存在或已停办 (no active item {item_code!r})")
    location = await directory.location(location_code)
    if location is None:
        raise NotFound(f"服务网点不存在 (no service location {location_code!r})")
    if location.code not in item.location_codes:
        raise BadUserInput(
            "该网点不办理此事项 (this place does not handle the item)",
            [FieldError("locationCode", "the place does not handle the item", "not_handled")],
        )
    return item, location


async def bookable(
    ctx: Context, item_code: str, location_code: str
) -> tuple[CatalogItem, CatalogLocation]:
    """The item and place, if the item takes bookings there."""
    item, location = await item_at(ctx, item_code, location_code)
    if "appointment" not in item.flags:
        raise BadUserInput(
            "该事项不支持预约 (this item takes no bookings)",
            [FieldError("itemCode", "the item takes no bookings", "no_booking")],
        )
    return item, location


def day_slots(location: CatalogLocation, day: date) -> list[Slot]:
    """The day's slots if bookings are open for it, else BAD_USER_INPUT naming the window."""
    days = bookable_days(now_cst().date())
    if day not in days:
        raise BadUserInput(
            f"只能预约 {days[0]} 至 {days[-1]} 的工作日 (book from {days[0]} to {days[-1]})",
            [FieldError("date", f"a working day from {days[0]} to {days[-1]}", "outside_window")],
        )
    return slots_on(location, day)


async def available(
    ctx: Context, location: CatalogLocation, item: CatalogItem, slots: list[Slot]
) -> dict[str, int]:
    """Places left per slot start (``"09:30"``)."""
    keys = {slot.key(location.code, item.code): slot for slot in slots}
    booked = await repository(ctx).booked(list(keys))
    return {
        f"{slot.start:%H:%M}": max(0, slot.capacity - booked.get(key, 0))
        for key, slot in keys.items()
    }


async def book(ctx: Context, booking: Booking) -> dict[str, Any]:
    principal = ctx.require(identity_level=IdentityLevel.REAL_NAME)
    citizen = str(principal.subject)
    item, location = await bookable(ctx, booking.item_code, booking.location_code)
    slot = next(
        (s for s in day_slots(location, booking.day) if f"{s.start:%H:%M}" == booking.start),
        None,
    )
    if slot is None:
        raise BadUserInput(
            "该时段不可预约 (no such slot that day)",
            [FieldError("start", "not a slot of that day (see appointmentSlots)", "no_slot")],
        )
    store = repository(ctx)
    await _not_blocked(store, citizen)
    slot_key = slot.key(location.code, item.code)
    number = await store.take_place(slot_key, slot.capacity)
    if number is None:
        raise SlotFull(
            "该时段已约满，请选择其他时段 (this slot is full; choose another)",
            extensions={"capacity": slot.capacity},
        )
    now = now_cst()
    doc = {
        # Newest first by id: the booking time, then randomness.
        "_id": f"{int(now.timestamp() * 1000):013d}{os.urandom(6).hex()}",
        "number": f"{booking.day:%m%d}{slot.start:%H%M}{number:03d}",
        "citizen": citizen,
        "item_code": item.code,
        "item_name": item.name,
        "department_code": item.department_code,
        "location_code": location.code,
        "location_name": location.name,
        "date": booking.day.isoformat(),
        "start": f"{slot.start:%H:%M}",
        "end": f"{slot.end:%H:%M}",
        "slot_key": slot_key,
        "status": "booked",
        "live_key": f"{citizen}|{item.code}|{booking.day.isoformat()}",
        "created_at": now,
    }
    try:
        await store.insert(doc)
    except DuplicateKeyError:
        await store.release_place(slot_key)
        raise Conflict(
            "您当天已预约该事项 (you already have a booking for this item that day)",
            extensions={"reason": "already_booked"},
        ) from None
    return doc


async def _not_blocked(store: AppointmentRepository, citizen: str) -> None:
    today = now_cst().date()
    missed = await store.no_shows_since(citizen, (today - NO_SHOW_BLOCK).isoformat())
    if len(missed) >= NO_SHOW_LIMIT:
        last = max(date.fromisoformat(m["date"]) for m in missed)
        until = last + NO_SHOW_BLOCK
        raise Forbidden(
            f"近30天爽约{len(missed)}次，{until} 前不能预约 (booking blocked until {until} "
            "after missed bookings)",
            extensions={"reason": "no_show_block", "blockedUntil": until.isoformat()},
        )


async def cancel(ctx: Context, appointment_id: str) -> dict[str, Any]:
    principal = ctx.require()
    store = repository(ctx)
    doc = await store.get(appointment_id)
    if doc is None or doc["citizen"] != principal.subject:
        raise NotFound("预约不存在 (no such booking)")  # another's booking is not there
    if doc["status"] != "booked":
        raise Conflict(
            "该预约已取消或已结束 (the booking is no longer live)",
            extensions={"reason": "not_live"},
        )
    deadline = starts_at(doc["date"], doc["start"]) - CANCEL_BEFORE
    now = now_cst()
    if now > deadline:
        raise Conflict(
            f"须在开始前2小时取消 (cancel until {deadline:%m-%d %H:%M})",
            extensions={"reason": "too_late", "cancellableUntil": deadline.isoformat()},
        )
    ended = await store.end(appointment_id, "cancelled", now, citizen=principal.subject)
    if ended is None:  # cancelled by a concurrent request
        raise Conflict("该预约已取消 (already cancelled)", extensions={"reason": "not_live"})
    await store.release_place(doc["slot_key"])
    return ended


async def record_no_show(ctx: Context, appointment_id: str) -> dict[str, Any]:
    principal = ctx.require(APPOINTMENT_MANAGE.name)
    store = repository(ctx)
    doc = await store.get(appointment_id)
    if doc is None:
        raise NotFound("预约不存在 (no such booking)")
    if not principal.has_role("admin") and doc["department_code"] != principal.department:
        raise Forbidden("只能处理本部门事项的预约 (own department's bookings only)")
    if now_cst() < starts_at(doc["date"], doc["start"]):
        raise Conflict(
            "预约时段尚未开始 (the slot has not begun)", extensions={"reason": "not_begun"}
        )
    ended = await store.end(appointment_id, "no_show", now_cst())
    if ended is None:
        raise Conflict(
            "该预约已取消或已结束 (the booking is no longer live)",
            extensions={"reason": "not_live"},
        )
    return ended
