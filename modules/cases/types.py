"""The cases module's GraphQL types."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from gateway.kit.connections import Connection
from modules.cases.slots import CANCEL_BEFORE, starts_at


@strawberry.enum(description="Where a booking stands.")
class AppointmentStatus(Enum):
    BOOKED = strawberry.enum_value("booked", description="已预约: live; the citizen is expected.")
    CANCELLED = strawberry.enum_value("cancelled", description="已取消 by the citizen.")
    NO_SHOW = strawberry.enum_value("no_show", description="爽约: the citizen did not come.")


@strawberry.type(description="A bookable time slot of one item at one place on one day.")
class AppointmentSlot:
    date: date = strawberry.field(description="The day (China time).")
    start: str = strawberry.field(
        description="Start, `HH:MM` China time; what `bookAppointment` takes."
    )
    end: str = strawberry.field(description="End, `HH:MM` China time.")
    capacity: int = strawberry.field(description="Places in the slot.")
    available: int = strawberry.field(description="Places left now.")


@strawberry.type(description="A booking (预约) of a visit for one item at one place.")
class Appointment:
    id: strawberry.ID = strawberry.field(description="The booking's id.")
    number: str = strawberry.field(
        description="预约号 to show at the hall (MMDDHHMM + place number)."
    )
    item_code: str = strawberry.field(description="实施编码 of the item.")
    item_name: str = strawberry.field(description="The item's name when booked.")
    location_code: str = strawberry.field(description="The service location's code.")
    location_name: str = strawberry.field(description="The service location's name.")
    date: date = strawberry.field(description="The day (China time).")
    start: str = strawberry.field(description="Start, `HH:MM` China time.")
    end: str = strawberry.field(description="End, `HH:MM` China time.")
    status: AppointmentStatus = strawberry.field(description="Where the booking stands.")
    created_at: datetime = strawberry.field(description="When it was booked.")
    cancellable_until: datetime = strawberry.field(
        description="The last moment it can be cancelled (2 hours before it starts)."
    )

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Appointment:
        return cls(
            id=strawberry.ID(doc["_id"]),
            number=doc["number"],
            item_code=doc["item_code"],
            item_name=doc["item_name"],
            location_code=doc["location_code"],
            location_name=doc["location_name"],
            date=date.fromisoformat(doc["date"]),
            start=doc["start"],
            end=doc["end"],
            status=AppointmentStatus(doc["status"]),
            created_at=doc["created_at"],
            cancellable_until=starts_at(doc["date"], doc["start"]) - CANCEL_BEFORE,
        )


@strawberry.type(description="A page of the caller's bookings, newest first.")
class AppointmentConnection(Connection[Appointment]):
    pass


@strawberry.input(description="A booking to make.")
class BookAppointmentInput:
    item_code: str = strawberry.field(description="实施编码 of an item that takes bookings.")
    location_code: str = strawberry.field(description="A service location handling the item.")
    date: date = strawberry.field(description="A day from the next working day to the fifth.")
    start: str = strawberry.field(description="A slot's start on that day (`appointmentSlots`).")
