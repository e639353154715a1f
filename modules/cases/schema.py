"""The cases module's Query and Mutation parts (appointments so far)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.kit.calendar import now_cst
from gateway.kit.connections import After, First, Listing, keyset_page
from gateway.permissions import requires, signed_in
from modules.cases import appointments
from modules.cases.permissions import APPOINTMENT_MANAGE
from modules.cases.repository import MINE
from modules.cases.slots import bookable_days, slots_on
from modules.cases.types import (
    Appointment,
    AppointmentConnection,
    AppointmentSlot,
    BookAppointmentInput,
)

__all__ = ["CasesMutation", "CasesQuery"]

CasesInfo = Info[Context, None]
ItemCode = Annotated[
    str, strawberry.argument(description="实施编码 of an item that takes bookings.")
]
LocationCode = Annotated[str, strawberry.argument(description="A service location's code.")]


@strawberry.type
class CasesQuery:
    @strawberry.field(
        description="Days bookings are open for this item at this place: working days from the "
        "next one to the fifth on which the place is open."
    )
    async def appointment_dates(
        self, info: CasesInfo, item_code: ItemCode, location_code: LocationCode
    ) -> list[date]:
        _item, location = await appointments.bookable(info.context, item_code, location_code)
        return [d for d in bookable_days(now_cst().date()) if slots_on(location, d)]

    @strawberry.field(description="A day's slots for this item at this place, with places left.")
    async def appointment_slots(
        self,
        info: CasesInfo,
        item_code: ItemCode,
        location_code: LocationCode,
        date: Annotated[date, strawberry.argument(description="A day `appointmentDates` lists.")],
    ) -> list[AppointmentSlot]:
        item, location = await appointments.bookable(info.context, item_code, location_code)
        slots = appointments.day_slots(location, date)
        left = await appointments.available(info.context, location, item, slots)
        return [
            AppointmentSlot(
                date=slot.day,
                start=f"{slot.start:%H:%M}",
                end=f"{slot.end:%H:%M}",
                capacity=slot.capacity,
                available=left[f"{slot.start:%H:%M}"],
            )
            for slot in slots
        ]

    @strawberry.field(description="The caller's bookings, newest first.", extensions=[signed_in()])
    async def my_appointments(
        self, info: CasesInfo, first: First = None, after: After = None
    ) -> AppointmentConnection:
        citizen = str(info.context.principal.subject)
        store = appointments.repository(info.context)
        listing = Listing(
            order=MINE,
            fetch=lambda key, limit: store.mine(citizen, key, limit),
            count=lambda: store.count_mine(citizen),
        )
        return await keyset_page(
            AppointmentConnection,
            listing,
            first=first,
            after=after,
            default=20,
            maximum=info.context.settings.max_page_size,
            node=Appointment.from_doc,
        )


@strawberry.type
class CasesMutation:
    @strawberry.mutation(
        description="Book a slot (real-name citizens: identity level 2). One live booking per "
        "item and day; a full slot is `SLOT_FULL`; 2 no-shows in 30 days block booking.",
        extensions=[signed_in(identity_level=2)],
    )
    async def book_appointment(
        self,
        info: CasesInfo,
        input: Annotated[BookAppointmentInput, strawberry.argument(description="The booking.")],
    ) -> Appointment:
        booking = appointments.Booking(
            input.item_code, input.location_code, input.date, input.start
        )
        return Appointment.from_doc(await appointments.book(info.context, booking))

    @strawberry.mutation(
        description="Cancel one's own booking, until 2 hours before it starts.",
        extensions=[signed_in()],
    )
    async def cancel_appointment(
        self,
        info: CasesInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The booking's id.")],
    ) -> Appointment:
        return Appointment.from_doc(await appointments.cancel(info.context, str(id)))

    @strawberry.mutation(
        description="Record that a booked citizen did not come (staff of the item's department, "
        "once the slot has begun).",
        extensions=[requires(APPOINTMENT_MANAGE.name)],
    )
    async def record_appointment_no_show(
        self,
        info: CasesInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The booking's id.")],
    ) -> Appointment:
        return Appointment.from_doc(await appointments.record_no_show(info.context, str(id)))
