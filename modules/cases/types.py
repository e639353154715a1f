"""The cases module's GraphQL types."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.kit.connections import Connection
from modules.cases import supervision
from modules.cases.materials import Given
from modules.cases.queues import position
from modules.cases.slots import CANCEL_BEFORE, starts_at
from modules.cases.statistics import Tally
from modules.cases.tolerance import outstanding


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


@strawberry.enum(description="Where a queue ticket stands.")
class TicketStatus(Enum):
    WAITING = strawberry.enum_value("waiting", description="等候中.")
    CALLED = strawberry.enum_value("called", description="已叫号: go to the window shown.")
    FINISHED = strawberry.enum_value("finished", description="办理完毕.")


@strawberry.enum(description="How a ticket was issued, which sets its place in the calling order.")
class TicketKind(Enum):
    GREEN_CHANNEL = strawberry.enum_value(
        2, description="绿色通道 (issued by staff): called first."
    )
    BOOKED = strawberry.enum_value(1, description="From a booking at check-in: called next.")
    WALK_IN = strawberry.enum_value(0, description="现场取号 without a booking.")


@strawberry.type(description="A queue ticket (排队号) of one hall and day.")
class QueueTicket:
    id: strawberry.ID = strawberry.field(description="The ticket's id.")
    number: str = strawberry.field(description="The number shown and called (G001, B012, A034).")
    kind: TicketKind = strawberry.field(description="How it was issued.")
    status: TicketStatus = strawberry.field(description="Where it stands.")
    location_code: str = strawberry.field(description="The hall's code.")
    location_name: str = strawberry.field(description="The hall's name.")
    item_name: str = strawberry.field(description="The item it is for.")
    window: str | None = strawberry.field(description="The window it was called to.")
    issued_at: datetime = strawberry.field(description="When it was issued.")
    called_at: datetime | None = strawberry.field(description="When it was called.")
    doc: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="Place in the queue (1 = next) while waiting; else null.")
    async def position(self, info: Info[Context, None]) -> int | None:
        place = await self._place(info.context)
        return place[0] if place else None

    @strawberry.field(description="Estimated minutes until called, while waiting; else null.")
    async def estimated_wait_minutes(self, info: Info[Context, None]) -> int | None:
        place = await self._place(info.context)
        return place[1] if place else None

    async def _place(self, context: Context) -> tuple[int, int] | None:
        """Read once per ticket and request, whichever of the two fields asks first."""
        if "_place" not in self.doc:
            self.doc["_place"] = await position(context, self.doc)
        place: tuple[int, int] | None = self.doc["_place"]
        return place

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> QueueTicket:
        return cls(
            id=strawberry.ID(doc["_id"]),
            number=doc["number"],
            kind=TicketKind(doc["priority"]),
            status=TicketStatus(doc["status"]),
            location_code=doc["location_code"],
            location_name=doc["location_name"],
            item_name=doc["item_name"],
            window=doc.get("window"),
            issued_at=doc["issued_at"],
            called_at=doc.get("called_at"),
            doc=doc,
        )


@strawberry.type(description="A ticket called to a window, as the hall's screen shows it.")
class CalledTicket:
    number: str = strawberry.field(description="The ticket number.")
    window: str = strawberry.field(description="The window it was called to.")


@strawberry.type(description="A hall's queue now (the screen in the hall, or the app's view).")
class HallQueue:
    location_code: str = strawberry.field(description="The hall's code.")
    waiting: int = strawberry.field(description="Tickets waiting today.")
    recently_called: list[CalledTicket] = strawberry.field(
        description="The last tickets called, newest first (at most 10)."
    )


@strawberry.enum(description="How a department's inbox is ordered.")
class InboxOrder(Enum):
    NEWEST = strawberry.enum_value("newest", description="Newest submission first.")
    DUE_SOONEST = strawberry.enum_value(
        "due_soonest",
        description="Soonest promised finish date first (accepted cases only): the deadlines.",
    )


@strawberry.enum(description="Where a case (办件) stands.")
class CaseStatus(Enum):
    SUBMITTED = strawberry.enum_value("submitted", description="已提交: waiting for intake.")
    REFUSED = strawberry.enum_value("refused", description="不予受理 at intake (final).")
    IN_REVIEW = strawberry.enum_value("in_review", description="已受理, in review.")
    SUPPLEMENT_REQUESTED = strawberry.enum_value(
        "supplement_requested", description="补正: the applicant must hand in materials."
    )
    SPECIAL_PROCEDURE = strawberry.enum_value(
        "special_procedure", description="特别程序 (hearing, inspection…): the clock is paused."
    )
    APPROVED = strawberry.enum_value("approved", description="准予许可.")
    DENIED = strawberry.enum_value("denied", description="不予许可 (final).")
    RESULT_ISSUED = strawberry.enum_value("result_issued", description="结果已出具.")
    DELIVERED = strawberry.enum_value("delivered", description="已送达 (mailed or picked up).")
    CLOSED = strawberry.enum_value("closed", description="办结.")
    PROMISE_LAPSED = strawberry.enum_value(
        "promise_lapsed", description="容缺承诺期满未补齐: ended (final); 容缺 barred for a year."
    )


@strawberry.enum(description="电子监察: a case's light against its promised finish date.")
class SupervisionLight(Enum):
    GREEN = strawberry.enum_value("green", description="绿灯: done (decided, issued, delivered).")
    WHITE = strawberry.enum_value("white", description="白灯: on track.")
    YELLOW = strawberry.enum_value("yellow", description="黄灯: within 20% of the promised limit.")
    RED = strawberry.enum_value("red", description="红灯: past the promised finish date.")


@strawberry.enum(description="What staff do to a case (who may: see each value).")
class CaseAction(Enum):
    ACCEPT = strawberry.enum_value("accept", description="受理 (any window staff).")
    REFUSE = strawberry.enum_value("refuse", description="不予受理, with an opinion (window).")
    REQUEST_SUPPLEMENT = strawberry.enum_value(
        "request_supplement", description="要求补正, saying what (owning department)."
    )
    START_SPECIAL_PROCEDURE = strawberry.enum_value(
        "start_special_procedure",
        description="Pause the clock for a special procedure (department).",
    )
    END_SPECIAL_PROCEDURE = strawberry.enum_value(
        "end_special_procedure", description="Resume; the due date moves by the days paused."
    )
    APPROVE = strawberry.enum_value("approve", description="准予 (owning department).")
    DENY = strawberry.enum_value("deny", description="不予许可, with an opinion (department).")
    ISSUE_RESULT = strawberry.enum_value("issue_result", description="出具结果 (department).")
    DELIVER = strawberry.enum_value(
        "deliver", description="送达: by mail (tracking number required) or pickup (window)."
    )
    CLOSE = strawberry.enum_value("close", description="办结 (window).")


@strawberry.enum(description="How the result reaches the applicant.")
class DeliveryMethod(Enum):
    MAIL = strawberry.enum_value("mail", description="快递 to the given address.")
    PICKUP = strawberry.enum_value("pickup", description="窗口领取.")
    ELECTRONIC = strawberry.enum_value(
        "electronic",
        description="电子送达: sent to the app (an e-license into the wallet, an e-document); "
        "only for 零跑动 items.",
    )


@strawberry.type(
    description="免证办: an applicant's e-license as the wallet verified it for this case "
    "(personal fields masked)."
)
class CaseLicense:
    license_id: str = strawberry.field(description="The license in the applicant's wallet.")
    type_code: str = strawberry.field(description="E-license type code.")
    type_name: str = strawberry.field(description="E-license type name.")
    number: str = strawberry.field(description="证照编号 (masked).")
    holder_name: str = strawberry.field(description="持证人 (masked).")
    issuer: str = strawberry.field(description="发证机关.")
    issued_on: str = strawberry.field(description="发证日期 (ISO date).")
    valid_until: str | None = strawberry.field(description="有效期至 (ISO date); null: 长期.")
    status: str = strawberry.field(description="Status code when used (01 有效).")
    authentic: bool = strawberry.field(description="The issuer's signature checked.")
    stamp: str = strawberry.field(description="用证 stamp: 仅供办理…使用，有效期至….")


@strawberry.type(description="A material handed in with a case, or fed by an earlier case.")
class CaseMaterial:
    name: str = strawberry.field(description="The item's material it is.")
    file_id: str = strawberry.field(
        description="The uploaded file (`StoredFile.fileId`), or `result:<case id>` when an "
        "earlier case of the bundle issued it."
    )
    from_case: str | None = strawberry.field(
        description="The bundle's earlier case whose result this is (一件事一次办)."
    )
    license: CaseLicense | None = strawberry.field(
        description="免证办: the e-license given in place of a scan, as the wallet verified it."
    )


@strawberry.type(description="One step of a case: who did what, when, and why.")
class CaseStep:
    action: str = strawberry.field(
        description="submit, accept, supply, approve … (see CaseAction)."
    )
    status: CaseStatus = strawberry.field(description="The status the step led to.")
    actor_department: str | None = strawberry.field(description="The actor's department (staff).")
    at: datetime = strawberry.field(description="When.")
    opinion: str | None = strawberry.field(description="The actor's opinion (意见).")


@strawberry.type(description="One 秒批 rule as checked on submit.")
class InstantRuleOutcome:
    rule: str = strawberry.field(description="What was checked, in words.")
    passed: bool = strawberry.field(description="Whether it held.")
    reason: str | None = strawberry.field(description="Why not, when it did not.")


@strawberry.type(description="秒批: the item's rules checked on submit.")
class InstantApproval:
    approved: bool = strawberry.field(
        description="All held: approved and the result issued in the submit request."
    )
    rules: list[InstantRuleOutcome] = strawberry.field(description="Each rule and its outcome.")


@strawberry.type(description="容缺承诺: materials the applicant promised to supply, and by when.")
class TolerancePromise:
    supply_by: date = strawberry.field(description="The promised day.")
    materials: list[str] = strawberry.field(description="The materials promised.")
    outstanding: list[str] = strawberry.field(description="Those not yet supplied.")


@strawberry.type(description="A case (办件): an application for an item and its handling.")
class Case:
    id: strawberry.ID = strawberry.field(description="办件编号.")
    item_code: str = strawberry.field(description="实施编码 of the item.")
    item_name: str = strawberry.field(description="The item's name.")
    department_code: str = strawberry.field(description="The owning department.")
    status: CaseStatus = strawberry.field(description="Where it stands.")
    version: int = strawberry.field(description="Changes with every step.")
    submitted_at: datetime = strawberry.field(description="When it was submitted.")
    due_date: date | None = strawberry.field(
        description="The promised finish date (working days from acceptance, moved by special "
        "procedures); null before acceptance."
    )
    light: SupervisionLight | None = strawberry.field(
        description="电子监察 light (null before acceptance: no promise yet)."
    )
    delivery_method: DeliveryMethod = strawberry.field(description="How the result is delivered.")
    tracking_number: str | None = strawberry.field(description="The mail's tracking number.")
    promise: TolerancePromise | None = strawberry.field(
        description="容缺受理's promise (null when nothing was missing)."
    )
    instant_approval: InstantApproval | None = strawberry.field(
        description="秒批 outcome (null for items without rules)."
    )
    materials: list[CaseMaterial] = strawberry.field(description="What was handed in.")
    awaiting: list[str] = strawberry.field(
        description="Materials an earlier case of the bundle will issue (fed when it does)."
    )
    bundle_id: str | None = strawberry.field(description="The 一件事 bundle it belongs to.")
    steps: list[CaseStep] = strawberry.field(description="Every step, oldest first.")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Case:
        return cls(
            id=strawberry.ID(doc["_id"]),
            item_code=doc["item_code"],
            item_name=doc["item_name"],
            department_code=doc["department_code"],
            status=CaseStatus(doc["status"]),
            version=doc["version"],
            submitted_at=doc["submitted_at"],
            due_date=date.fromisoformat(doc["due_date"]) if doc.get("due_date") else None,
            light=SupervisionLight(shade) if (shade := supervision.light(doc)) else None,
            delivery_method=DeliveryMethod(doc["delivery"]["method"]),
            tracking_number=doc["delivery"].get("tracking_number"),
            promise=TolerancePromise(
                supply_by=date.fromisoformat(doc["promise"]["supply_by"]),
                materials=doc["promise"]["materials"],
                outstanding=outstanding(doc),
            )
            if doc.get("promise")
            else None,
            instant_approval=InstantApproval(
                approved=all(r["passed"] for r in doc["instant"]),
                rules=[
                    InstantRuleOutcome(rule=r["rule"], passed=r["passed"], reason=r["reason"])
                    for r in doc["instant"]
                ],
            )
            if doc.get("instant")
            else None,
            materials=[
                CaseMaterial(
                    name=m["name"],
                    file_id=m["file_id"],
                    from_case=m.get("from_case"),
                    license=CaseLicense(**m["license"]) if m.get("license") else None,
                )
                for m in doc["materials"]
            ],
            awaiting=[a["name"] for a in doc.get("awaiting", [])],
            bundle_id=doc.get("bundle_id"),
            steps=[
                CaseStep(
                    action=s["action"],
                    status=CaseStatus(s["to"]),
                    actor_department=s.get("actor_department"),
                    at=s["at"],
                    opinion=s.get("opinion"),
                )
                for s in doc["steps"]
            ],
        )


@strawberry.type(description="A page of cases, newest first.")
class CaseConnection(Connection[Case]):
    pass


@strawberry.input(
    description="A material handed in: the item's material name and either an upload or, for "
    "a material an e-license replaces (`AffairMaterial.licenseType`), one of the applicant's "
    "e-licenses (免证办)."
)
class CaseMaterialInput:
    name: str = strawberry.field(description="The item's material (`AffairItem.materials.name`).")
    file_id: str | None = strawberry.field(
        default=None, description="One of the applicant's uploads (`uploadFile`)."
    )
    license_id: str | None = strawberry.field(
        default=None,
        description="One of the applicant's e-licenses in the wallet, in place of an upload; "
        "the handling department is granted a copy for this item.",
    )

    def given(self) -> Given:
        return Given(self.name, self.file_id, self.license_id)


@strawberry.input(description="容缺承诺书: signing it lets tolerated materials follow later.")
class TolerancePromiseInput:
    supply_by: date = strawberry.field(
        description="The day the missing materials will be supplied by (at most the item's "
        "promised limit from today)."
    )


@strawberry.input(description="An application for an item.")
class SubmitCaseInput:
    item_code: str = strawberry.field(description="实施编码 of the item.")
    form: JSON = strawberry.field(
        description="The application form's fields (at most 16,000 characters)."
    )
    materials: list[CaseMaterialInput] = strawberry.field(description="Every required material.")
    delivery: DeliveryMethod = strawberry.field(description="How the result is delivered.")
    address: str | None = strawberry.field(
        default=None, description="The mailing address (delivery by mail)."
    )
    promise: TolerancePromiseInput | None = strawberry.field(
        default=None,
        description="容缺受理: sign to leave out materials the item marks 容缺后补.",
    )


@strawberry.type(description="A department's open cases by light (电子监察 warnings).")
class DepartmentSupervision:
    department_code: str = strawberry.field(description="The department.")
    open: int = strawberry.field(description="Accepted cases not yet done.")
    white: int = strawberry.field(description="On track.")
    yellow: int = strawberry.field(description="Within 20% of the limit.")
    red: int = strawberry.field(description="Overdue.")


@strawberry.enum(description="评价指标: what a rating says about the service.")
class RatingTag(Enum):
    FAST = strawberry.enum_value("fast", description="办事效率高.")
    COURTEOUS = strawberry.enum_value("courteous", description="服务态度好.")
    ONE_VISIT = strawberry.enum_value("one_visit", description="一次办成.")
    CLEAR_GUIDE = strawberry.enum_value("clear_guide", description="指南清楚.")
    SLOW = strawberry.enum_value("slow", description="办理超时或等候过久.")
    DISCOURTEOUS = strawberry.enum_value("discourteous", description="服务态度差.")
    MANY_VISITS = strawberry.enum_value("many_visits", description="多次跑动.")
    TOO_MANY_MATERIALS = strawberry.enum_value("too_many_materials", description="材料繁琐.")
    UNCLEAR_GUIDE = strawberry.enum_value("unclear_guide", description="指南不清、要求不一.")


@strawberry.enum(description="Where a 差评's follow-up stands.")
class FollowUpStatus(Enum):
    OPEN = strawberry.enum_value("open", description="待回访整改: the department must answer.")
    DONE = strawberry.enum_value("done", description="已回访整改: the answer is given.")


@strawberry.type(description="回访整改: what a department owes after a 差评, and its answer.")
class FollowUp:
    status: FollowUpStatus = strawberry.field(description="Open or done.")
    deadline: date = strawberry.field(description="Answer by this day (working days).")
    callback: str | None = strawberry.field(description="How the citizen was called back.")
    rectification: str | None = strawberry.field(description="What was fixed.")
    answered_at: datetime | None = strawberry.field(description="When it was answered.")


@strawberry.type(description="好差评: a rating of a finished case.")
class Rating:
    id: strawberry.ID = strawberry.field(description="The rating's id.")
    case_id: str = strawberry.field(description="The rated case.")
    item_name: str = strawberry.field(description="The item.")
    score: int = strawberry.field(description="5 非常满意 … 1 非常不满意; 1–2 are 差评.")
    tags: list[RatingTag] = strawberry.field(description="What it says about the service.")
    comment: str | None = strawberry.field(description="The citizen's words.")
    rated_at: datetime = strawberry.field(description="When.")
    follow_up: FollowUp | None = strawberry.field(description="The follow-up of a 差评.")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Rating:
        follow_up = None
        if doc.get("follow_up_status"):
            answer = doc.get("follow_up_reply") or {}
            follow_up = FollowUp(
                status=FollowUpStatus(doc["follow_up_status"]),
                deadline=date.fromisoformat(doc["follow_up_deadline"]),
                callback=answer.get("callback"),
                rectification=answer.get("rectification"),
                answered_at=answer.get("at"),
            )
        return cls(
            id=strawberry.ID(doc["_id"]),
            case_id=doc["case_id"],
            item_name=doc["item_name"],
            score=doc["score"],
            tags=[RatingTag(t) for t in doc["tags"]],
            comment=doc.get("comment"),
            rated_at=doc["rated_at"],
            follow_up=follow_up,
        )


@strawberry.type(description="A page of ratings.")
class RatingConnection(Connection[Rating]):
    pass


@strawberry.type(description="How many ratings had one score.")
class ScoreCount:
    score: int = strawberry.field(description="1 to 5.")
    count: int = strawberry.field(description="Ratings with it.")


@strawberry.type(description="A department's ratings in a period.")
class RatingStatistics:
    department_code: str = strawberry.field(description="The department.")
    total: int = strawberry.field(description="Ratings in the period.")
    by_score: list[ScoreCount] = strawberry.field(description="Counts for 5 down to 1.")
    average: float | None = strawberry.field(description="Mean score (null without ratings).")
    bad_share: float | None = strawberry.field(description="Share of 差评 (1–2), 0 to 1.")


@strawberry.type(
    description="办件统计: a department's (or the district's) cases submitted in a period, and "
    "the ratings given in it. Rates are shares of the cases submitted, 0 to 1 (null without "
    "cases)."
)
class CaseStatistics:
    department_code: str | None = strawberry.field(
        description="The department; null for the whole district."
    )
    first_day: date = strawberry.field(description="First day of the period.")
    last_day: date = strawberry.field(description="Last day of the period (inclusive).")
    submitted: int = strawberry.field(description="Cases submitted in the period.")
    finished: int = strawberry.field(description="Of them, decided: a result out, or ended.")
    finish_rate: float | None = strawberry.field(description="办结率.")
    instant_rate: float | None = strawberry.field(description="秒批率: approved by rules.")
    online_rate: float | None = strawberry.field(description="网办率: applied for online.")
    zero_visit_rate: float | None = strawberry.field(
        description="零跑动率: online, and the result mailed or sent electronically."
    )
    average_working_days: float | None = strawberry.field(
        description="Mean working days from acceptance to the result (special procedures "
        "excluded), over the cases with a result."
    )
    average_promised_days: float | None = strawberry.field(
        description="Mean promised limit of the same cases: compare with the working days."
    )
    finished_late: int = strawberry.field(description="Decided after their promised date.")
    overdue_open: int = strawberry.field(description="Still open and past their date (red) now.")
    ratings: int = strawberry.field(description="Ratings given in the period.")
    rating_average: float | None = strawberry.field(description="Their mean score.")
    bad_rating_share: float | None = strawberry.field(description="Share of 差评 (1–2).")

    @classmethod
    def from_tally(cls, tally: Tally, first: date, last: date) -> CaseStatistics:
        rates = tally.rates()
        scored = rates.pop("ratings")
        return cls(
            department_code=tally.department_code,
            first_day=first,
            last_day=last,
            submitted=tally.counts["submitted"],
            finished=tally.counts["finished"],
            finished_late=tally.counts["finished_late"],
            overdue_open=tally.overdue_open,
            ratings=scored["total"],
            rating_average=scored["average"],
            bad_rating_share=scored["bad_share"],
            **rates,
        )


@strawberry.enum(description="Where a 一件事 bundle stands, from its cases.")
class BundleStatus(Enum):
    IN_PROGRESS = strawberry.enum_value("in_progress", description="Cases still open.")
    COMPLETED = strawberry.enum_value("completed", description="Every result issued.")
    STOPPED = strawberry.enum_value("stopped", description="A case was refused or denied.")


@strawberry.type(description="一件事一次办: a life event handled as one application.")
class BundleType:
    code: str = strawberry.field(description="The bundle's code (NEWBORN, START_BUSINESS …).")
    name: str = strawberry.field(description="Its name (新生儿出生一件事 …).")
    item_codes: list[str] = strawberry.field(description="Its items, in handling order.")


@strawberry.type(description="A citizen's 一件事: its linked cases and overall status.")
class Bundle:
    id: strawberry.ID = strawberry.field(description="The bundle's id.")
    code: str = strawberry.field(description="Which life event.")
    name: str = strawberry.field(description="Its name.")
    status: BundleStatus = strawberry.field(description="From its cases.")
    cases: list[Case] = strawberry.field(description="Its cases, in handling order.")


@strawberry.input(description="One application for a whole life event.")
class SubmitBundleInput:
    bundle_code: str = strawberry.field(description="A code from `lifeEventBundles`.")
    form: JSON = strawberry.field(description="The shared form (at most 16,000 characters).")
    materials: list[CaseMaterialInput] = strawberry.field(
        description="Every material the bundle's items need, by name, once each; those an "
        "earlier item issues are fed, not handed in."
    )
    delivery: DeliveryMethod = strawberry.field(description="How results are delivered.")
    address: str | None = strawberry.field(
        default=None, description="The mailing address (delivery by mail)."
    )


@strawberry.enum(description="What a notification is about.")
class NotificationKind(Enum):
    CASE = strawberry.enum_value("case", description="A case of yours moved.")
    TICKET = strawberry.enum_value("ticket", description="Your queue ticket was called.")
    LICENSE = strawberry.enum_value(
        "license", description="An e-license in your wallet is about to expire."
    )


@strawberry.type(description="消息: something the citizen was told.")
class Notification:
    id: strawberry.ID = strawberry.field(description="The notification's id.")
    kind: NotificationKind = strawberry.field(description="What it is about.")
    text: str = strawberry.field(description="The message.")
    ref: str = strawberry.field(description="The case id or ticket id it is about.")
    read: bool = strawberry.field(description="Marked as read.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Notification:
        return cls(
            id=strawberry.ID(doc["_id"]),
            kind=NotificationKind(doc["kind"]),
            text=doc["text"],
            ref=doc["ref"],
            read=bool(doc["read"]),  # nx-27017 stores a set `true` as 1
            at=doc["at"],
        )


@strawberry.type(description="A page of notifications, newest first.")
class NotificationConnection(Connection[Notification]):
    pass
