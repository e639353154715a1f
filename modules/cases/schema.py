"""The cases module's Query and Mutation parts (appointments so far)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, Forbidden, NotFound
from gateway.kit.calendar import now_cst
from gateway.kit.connections import After, First, Keyset
from gateway.permissions import requires, signed_in
from gateway.subscriptions import events
from modules.cases import (
    appointments,
    bundles,
    casework,
    queues,
    ratings,
    statistics,
    supervision,
    tolerance,
)
from modules.cases.events import CASE_CHANGED, QUEUE_CHANGED
from modules.cases.permissions import APPOINTMENT_MANAGE, CASE_REVIEW, QUEUE_OPERATE
from modules.cases.repository import (
    DUE_ORDER,
    EARLIEST_DAY,
    FOLLOW_UP_ORDER,
    RATING_ORDER,
    NotificationRepository,
)
from modules.cases.slots import bookable_days, slots_on
from modules.cases.types import (
    Appointment,
    AppointmentConnection,
    AppointmentSlot,
    BookAppointmentInput,
    Bundle,
    BundleStatus,
    BundleType,
    CalledTicket,
    Case,
    CaseAction,
    CaseConnection,
    CaseMaterialInput,
    CaseStatistics,
    CaseStatus,
    DepartmentSupervision,
    HallQueue,
    InboxOrder,
    Notification,
    NotificationConnection,
    QueueTicket,
    Rating,
    RatingConnection,
    RatingStatistics,
    RatingTag,
    ScoreCount,
    SubmitBundleInput,
    SubmitCaseInput,
)

__all__ = ["CasesMutation", "CasesQuery", "CasesSubscription"]

CasesInfo = Info[Context, None]
CaseId = Annotated[strawberry.ID, strawberry.argument(description="办件编号.")]
# A statistics period (at most a year) and whose numbers: the arguments of every report.
FirstDay = Annotated[date, strawberry.argument(name="from", description="First day.")]
LastDay = Annotated[date, strawberry.argument(description="Last day (inclusive).")]
OwnDepartment = Annotated[
    str | None,
    strawberry.argument(description="Default: the caller's department (admins: any)."),
]
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
        mine = appointments.repository(info.context).mine(str(info.context.principal.subject))
        return await info.context.page(
            AppointmentConnection, mine, first=first, after=after, node=Appointment.from_doc
        )

    @strawberry.field(
        description="The caller's queue tickets of today, in issue order.",
        extensions=[signed_in()],
    )
    async def my_queue_tickets(self, info: CasesInfo) -> list[QueueTicket]:
        today = now_cst().date().isoformat()
        docs = await queues.tickets(info.context).of_citizen(
            str(info.context.principal.subject), today
        )
        return [QueueTicket.from_doc(d) for d in docs]

    @strawberry.field(description="A hall's queue now: tickets waiting and the last called.")
    async def hall_queue(self, info: CasesInfo, location_code: LocationCode) -> HallQueue:
        return await _hall_queue(info.context, location_code)

    @strawberry.field(
        description="One case: its applicant, window staff, the owning department's reviewers.",
        extensions=[signed_in()],
    )
    async def case(self, info: CasesInfo, id: CaseId) -> Case:
        doc = casework.readable(info.context, await casework.store(info.context).get(str(id)))
        return Case.from_doc(await tolerance.lapse_if_due(info.context, doc))

    @strawberry.field(description="The caller's cases, newest first.", extensions=[signed_in()])
    async def my_cases(
        self, info: CasesInfo, first: First = None, after: After = None
    ) -> CaseConnection:
        return await _cases(info, {"citizen": info.context.principal.subject}, first, after)

    @strawberry.field(
        description="The caller's department's cases (后台收件箱), newest first or by "
        "deadline; filtered by status, item, and promised date.",
        extensions=[requires(CASE_REVIEW.name)],
    )
    async def department_cases(
        self,
        info: CasesInfo,
        status: Annotated[
            CaseStatus | None, strawberry.argument(description="Only cases in this status.")
        ] = None,
        item_code: Annotated[
            str | None, strawberry.argument(description="Only cases of this item.")
        ] = None,
        due_by: Annotated[
            date | None,
            strawberry.argument(
                description="Only open cases promised for this day or earlier (overdue and "
                "due soon)."
            ),
        ] = None,
        order: Annotated[
            InboxOrder, strawberry.argument(description="Newest first, or by deadline.")
        ] = InboxOrder.NEWEST,
        first: First = None,
        after: After = None,
    ) -> CaseConnection:
        query: dict[str, Any] = {"department_code": info.context.principal.department}
        if status is not None:
            query["status"] = status.value
        if item_code is not None:
            query["item_code"] = item_code
        if due_by is not None:
            # Open: accepted (a promised date) and not yet decided. Asked of ``finished_at``
            # rather than a list of statuses: nx-27017 scans every case for a `$in` beside a
            # range (1.2 s for a department's month, 0.17 s this way; docs/cases.md).
            query["due_date"] = {"$lte": due_by.isoformat(), "$gte": EARLIEST_DAY}
            query["finished_at"] = {"$exists": False}
        if order is InboxOrder.DUE_SOONEST:
            # Accepted cases only: those with a promised date.
            query.setdefault("due_date", {})["$gte"] = EARLIEST_DAY
            listing = casework.store(info.context).listing(query, DUE_ORDER)
            return await info.context.page(
                CaseConnection, listing, first=first, after=after, node=Case.from_doc
            )
        return await _cases(info, query, first, after)

    @strawberry.field(
        description="电子监察: a department's open cases by light — the caller's own department, "
        "or any for admins.",
        extensions=[requires(CASE_REVIEW.name)],
    )
    async def case_supervision(
        self,
        info: CasesInfo,
        department_code: OwnDepartment = None,
    ) -> DepartmentSupervision:
        wanted = _own_department(info, department_code)
        counts = await supervision.department(casework.store(info.context), wanted)
        return DepartmentSupervision(department_code=wanted, **counts)

    @strawberry.field(description="The caller's ratings, newest first.", extensions=[signed_in()])
    async def my_ratings(
        self, info: CasesInfo, first: First = None, after: After = None
    ) -> RatingConnection:
        query = {"citizen": info.context.principal.subject}
        return await _ratings(info, RATING_ORDER, query, first, after)

    @strawberry.field(
        description="The caller's department's open 差评 follow-ups, soonest deadline first.",
        extensions=[requires(CASE_REVIEW.name)],
    )
    async def department_follow_ups(
        self, info: CasesInfo, first: First = None, after: After = None
    ) -> RatingConnection:
        query = {"department_code": info.context.principal.department, "follow_up_status": "open"}
        return await _ratings(info, FOLLOW_UP_ORDER, query, first, after)

    @strawberry.field(
        description="好差评 statistics of a department over a period (at most a year): the "
        "caller's own department, or any for admins.",
        extensions=[requires(CASE_REVIEW.name)],
    )
    async def rating_statistics(
        self,
        info: CasesInfo,
        from_: FirstDay,
        to: LastDay,
        department_code: OwnDepartment = None,
    ) -> RatingStatistics:
        wanted = _own_department(info, department_code)
        counts = await ratings.statistics(info.context, wanted, from_, to)
        return RatingStatistics(
            department_code=wanted,
            total=counts["total"],
            by_score=[
                ScoreCount(score=score, count=counts["by_score"][score])
                for score in range(5, 0, -1)
            ],
            average=counts["average"],
            bad_share=counts["bad_share"],
        )

    @strawberry.field(
        description="办件统计 of a period (at most a year): the caller's department; admins "
        "any department, or the whole district when they name none.",
        extensions=[requires(CASE_REVIEW.name)],
    )
    async def case_statistics(
        self,
        info: CasesInfo,
        from_: FirstDay,
        to: LastDay,
        department_code: OwnDepartment = None,
    ) -> CaseStatistics:
        principal = info.context.principal
        wanted = department_code or principal.department
        if wanted is not None:
            wanted = _own_department(info, wanted)
        elif not principal.has_role("admin"):
            raise Forbidden("只能查看本部门 (own department only)")
        (found,) = await statistics.tally(info.context, wanted, from_, to, by_department=False)
        return CaseStatistics.from_tally(found, from_, to)

    @strawberry.field(
        description="办件统计 of a period for every department with cases, busiest first (admins).",
        extensions=[requires(CASE_REVIEW.name)],
    )
    async def case_statistics_by_department(
        self,
        info: CasesInfo,
        from_: FirstDay,
        to: LastDay,
    ) -> list[CaseStatistics]:
        if not info.context.principal.has_role("admin"):
            raise Forbidden("仅管理员可查看全区统计 (admins only)")
        found = await statistics.tally(info.context, None, from_, to, by_department=True)
        return [CaseStatistics.from_tally(t, from_, to) for t in found]

    @strawberry.field(description="一件事一次办: the life events that can be applied for at once.")
    async def life_event_bundles(self, info: CasesInfo) -> list[BundleType]:
        types = await bundles.store(info.context).all_types()
        return [
            BundleType(code=t["_id"], name=t["name"], item_codes=t["item_codes"]) for t in types
        ]

    @strawberry.field(
        description="One of the caller's 一件事 with its cases.", extensions=[signed_in()]
    )
    async def bundle(
        self,
        info: CasesInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The bundle's id.")],
    ) -> Bundle:
        doc = await bundles.store(info.context).get(str(id))
        if doc is None or doc["citizen"] != info.context.principal.subject:
            raise NotFound("一件事不存在 (no such bundle)")
        cases = await bundles.store(info.context).cases_of(doc["_id"])
        return _bundle(doc, cases)

    @strawberry.field(
        description="The caller's notifications (case moves, tickets called), newest first.",
        extensions=[signed_in()],
    )
    async def my_notifications(
        self,
        info: CasesInfo,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only those not marked read.")
        ] = False,
        first: First = None,
        after: After = None,
    ) -> NotificationConnection:
        query: dict[str, Any] = {"citizen": info.context.principal.subject}
        if unread_only:
            query["read"] = False
        notes = NotificationRepository(info.context.db).listing(query)
        return await info.context.page(
            NotificationConnection, notes, first=first, after=after, node=Notification.from_doc
        )


def _bundle(doc: dict[str, Any], cases: list[dict[str, Any]]) -> Bundle:
    order = {case_id: n for n, case_id in enumerate(doc["case_ids"])}
    ordered = sorted(cases, key=lambda c: order.get(c["_id"], 0))
    return Bundle(
        id=strawberry.ID(str(doc["_id"])),
        code=str(doc["code"]),
        name=str(doc["name"]),
        status=BundleStatus(bundles.status(ordered)),
        cases=[Case.from_doc(c) for c in ordered],
    )


def _own_department(info: CasesInfo, department_code: str | None) -> str:
    principal = info.context.principal
    wanted = department_code or principal.department or ""
    if wanted != principal.department and not principal.has_role("admin"):
        raise Forbidden("只能查看本部门 (own department only)")
    return wanted


async def _ratings(
    info: CasesInfo,
    order: Keyset,
    query: dict[str, Any],
    first: int | None,
    after: str | None,
) -> RatingConnection:
    listing = ratings.store(info.context).listing(order, query)
    return await info.context.page(
        RatingConnection, listing, first=first, after=after, node=Rating.from_doc
    )


async def _cases(
    info: CasesInfo, query: dict[str, Any], first: int | None, after: str | None
) -> CaseConnection:
    listing = casework.store(info.context).listing(query)
    return await info.context.page(
        CaseConnection, listing, first=first, after=after, node=Case.from_doc
    )


async def _hall_queue(context: Context, location_code: str) -> HallQueue:
    store = queues.tickets(context)
    today = now_cst().date().isoformat()
    waiting = await store.waiting(location_code, today)
    called = await store.recently_called(location_code, today, 10)
    return HallQueue(
        location_code=location_code,
        waiting=len(waiting),
        recently_called=[CalledTicket(number=t["number"], window=t["window"]) for t in called],
    )


TicketId = Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")]
Materials = Annotated[
    list[CaseMaterialInput], strawberry.argument(description="Materials handed in.")
]


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

    @strawberry.mutation(
        description="Check in a booking at the hall (from an hour before the slot until it "
        "ends): it becomes a queue ticket called before walk-ins.",
        extensions=[signed_in()],
    )
    async def check_in_appointment(
        self,
        info: CasesInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The booking's id.")],
    ) -> QueueTicket:
        return QueueTicket.from_doc(await queues.check_in(info.context, str(id)))

    @strawberry.mutation(
        description="Take a ticket at the hall without a booking (one waiting ticket per item).",
        extensions=[signed_in()],
    )
    async def take_queue_ticket(
        self, info: CasesInfo, item_code: ItemCode, location_code: LocationCode
    ) -> QueueTicket:
        return QueueTicket.from_doc(
            await queues.take_walk_in(info.context, item_code, location_code)
        )

    @strawberry.mutation(
        description="Issue a green-channel (绿色通道) ticket, called first (staff).",
        extensions=[requires(QUEUE_OPERATE.name)],
    )
    async def issue_green_channel_ticket(
        self, info: CasesInfo, item_code: ItemCode, location_code: LocationCode
    ) -> QueueTicket:
        return QueueTicket.from_doc(
            await queues.issue_green_channel(info.context, item_code, location_code)
        )

    @strawberry.mutation(
        description="Call the next ticket of the hall to a window (staff); null when nobody "
        "waits. Windows calling at once never get the same ticket.",
        extensions=[requires(QUEUE_OPERATE.name)],
    )
    async def call_next_ticket(
        self,
        info: CasesInfo,
        location_code: LocationCode,
        window: Annotated[str, strawberry.argument(description="The calling window (e.g. 12).")],
    ) -> QueueTicket | None:
        ticket = await queues.call_next(info.context, location_code, window)
        return QueueTicket.from_doc(ticket) if ticket is not None else None

    @strawberry.mutation(
        description="Mark a called ticket as served (staff).",
        extensions=[requires(QUEUE_OPERATE.name)],
    )
    async def finish_ticket(self, info: CasesInfo, id: TicketId) -> QueueTicket:
        return QueueTicket.from_doc(await queues.finish(info.context, str(id)))

    @strawberry.mutation(
        description="Apply for an item (real-name citizens) with the form and every required "
        "material; send an `Idempotency-Key` so a retried submit makes one case.",
        extensions=[signed_in(identity_level=2)],
    )
    async def submit_case(
        self,
        info: CasesInfo,
        input: Annotated[SubmitCaseInput, strawberry.argument(description="The application.")],
    ) -> Case:
        materials = [m.given() for m in input.materials]
        form = input.form if isinstance(input.form, dict) else {}
        application = casework.Application(
            item_code=input.item_code,
            form=form,
            materials=materials,
            delivery=str(input.delivery.value),
            address=input.address,
            supply_by=input.promise.supply_by if input.promise else None,
        )
        doc = await casework.submit(info.context, application)
        return Case.from_doc(doc)

    @strawberry.mutation(
        description="一件事一次办: apply for a whole life event; its cases are made together "
        "(all checked first), and each earlier result is fed to the later cases.",
        extensions=[signed_in(identity_level=2)],
    )
    async def submit_bundle(
        self,
        info: CasesInfo,
        input: Annotated[SubmitBundleInput, strawberry.argument(description="The application.")],
    ) -> Bundle:
        common = casework.Application(
            item_code="",
            form=input.form if isinstance(input.form, dict) else {},
            materials=[m.given() for m in input.materials],
            delivery=str(input.delivery.value),
            address=input.address,
        )
        bundle, cases = await bundles.submit(info.context, input.bundle_code, common)
        return _bundle(bundle, cases)

    @strawberry.mutation(
        description="Move a case one step (staff; who may do what: see CaseAction). Refused "
        "with CONFLICT when the case is elsewhere or someone moved it meanwhile.",
        extensions=[signed_in()],
    )
    async def advance_case(
        self,
        info: CasesInfo,
        id: CaseId,
        action: Annotated[CaseAction, strawberry.argument(description="What to do.")],
        opinion: Annotated[
            str | None,
            strawberry.argument(
                description="意见 (required to refuse, deny, ask "
                "for a supplement or start a special procedure)."
            ),
        ] = None,
        tracking_number: Annotated[
            str | None, strawberry.argument(description="运单号 (DELIVER by mail).")
        ] = None,
    ) -> Case:
        doc = await casework.advance(
            info.context, str(id), str(action.value), opinion, tracking_number
        )
        if doc["status"] == "result_issued":
            await bundles.feed(info.context, doc)  # a later case of its bundle may wait for it
        return Case.from_doc(doc)

    @strawberry.mutation(
        description="Hand in the materials a supplement request asked for (the applicant).",
        extensions=[signed_in()],
    )
    async def supply_case_materials(
        self, info: CasesInfo, id: CaseId, materials: Materials
    ) -> Case:
        given = [m.given() for m in materials]
        return Case.from_doc(await casework.supply(info.context, str(id), given))

    @strawberry.mutation(
        description="好差评: rate one's finished case once (1–5 with tags); a 1 or 2 opens a "
        "follow-up the department must answer within 5 working days.",
        extensions=[signed_in()],
    )
    async def rate_case(
        self,
        info: CasesInfo,
        case_id: Annotated[strawberry.ID, strawberry.argument(description="The finished case.")],
        score: Annotated[int, strawberry.argument(description="5 非常满意 … 1 非常不满意.")],
        tags: Annotated[
            list[RatingTag] | None, strawberry.argument(description="What it says.")
        ] = None,
        comment: Annotated[
            str | None, strawberry.argument(description="In the citizen's words.")
        ] = None,
    ) -> Rating:
        case = await casework.store(info.context).get(str(case_id))
        if case is None:
            raise NotFound("办件不存在 (no such case)")
        chosen = [str(t.value) for t in tags or []]
        return Rating.from_doc(await ratings.rate(info.context, case, score, chosen, comment))

    @strawberry.mutation(
        description="回访整改: the rated department answers a 差评 (how it called back, what it "
        "fixed); the citizen sees the answer.",
        extensions=[requires(CASE_REVIEW.name)],
    )
    async def answer_bad_rating(
        self,
        info: CasesInfo,
        rating_id: Annotated[strawberry.ID, strawberry.argument(description="The 差评.")],
        callback: Annotated[str, strawberry.argument(description="回访: how and when.")],
        rectification: Annotated[str, strawberry.argument(description="整改: what was fixed.")],
    ) -> Rating:
        done = await ratings.reply(info.context, str(rating_id), callback, rectification)
        return Rating.from_doc(done)

    @strawberry.mutation(
        description="Mark some of one's notifications read; returns how many changed.",
        extensions=[signed_in()],
    )
    async def mark_notifications_read(
        self,
        info: CasesInfo,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="At most 100 notifications.")
        ],
    ) -> int:
        if len(ids) > 100:
            raise BadUserInput(
                "一次最多 100 条 (at most 100 at once)",
                [FieldError("ids", "at most 100", "too_many")],
            )
        store = NotificationRepository(info.context.db)
        return await store.mark_read(str(info.context.principal.subject), [str(i) for i in ids])


@strawberry.type
class CasesSubscription:
    @strawberry.subscription(
        description="The caller's cases as they move (the applicant's notifications).",
        extensions=[signed_in()],
    )
    async def case_updated(self, info: CasesInfo) -> AsyncGenerator[Case, None]:
        me = info.context.principal.subject
        store = casework.store(info.context)
        async for change in events(info.context, CASE_CHANGED, lambda c: c.citizen == me):
            doc = await store.get(change.case_id)
            if doc is not None:
                yield Case.from_doc(doc)

    @strawberry.subscription(
        description="The caller's tickets as they are called to a window (叫号提醒).",
        extensions=[signed_in()],
    )
    async def my_ticket_called(self, info: CasesInfo) -> AsyncGenerator[QueueTicket, None]:
        me = info.context.principal.subject
        store = queues.tickets(info.context)
        async for change in events(
            info.context, QUEUE_CHANGED, lambda c: c.change == "called" and c.citizen == me
        ):
            ticket = await store.get(change.ticket_id)
            if ticket is not None:
                yield QueueTicket.from_doc(ticket)

    @strawberry.subscription(
        description="A hall's queue each time it moves (the hall screen; public)."
    )
    async def hall_queue_changed(
        self, info: CasesInfo, location_code: LocationCode
    ) -> AsyncGenerator[HallQueue, None]:
        async for _change in events(
            info.context, QUEUE_CHANGED, lambda c: c.location_code == location_code
        ):
            yield await _hall_queue(info.context, location_code)
