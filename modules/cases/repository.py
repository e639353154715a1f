"""All of the cases module's MongoDB access."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.kit.connections import Keyset, Listing, SortKey
from gateway.registry import IndexSpec

__all__ = [
    "APPOINTMENTS",
    "CASES",
    "CASE_ORDER",
    "FOLLOW_UP_ORDER",
    "INDEXES",
    "MINE",
    "QUEUE_COUNTERS",
    "RATING_ORDER",
    "SLOTS",
    "TICKETS",
    "AppointmentRepository",
    "CaseRepository",
    "TicketRepository",
]

APPOINTMENTS = "cases_appointments"
SLOTS = "cases_slot_counters"
TICKETS = "cases_tickets"
CASES = "cases_cases"
CASE_DAYS = "cases_days"  # the statistics' daily roll-up (rollup.py)
RATINGS = "cases_ratings"
RULES = "cases_instant_rules"
CREDIT_MARKS = "cases_credit_marks"
BUNDLE_TYPES = "cases_bundle_types"
BUNDLES = "cases_bundles"
NOTIFICATIONS = "cases_notifications"
QUEUE_COUNTERS = "cases_queue_counters"

INDEXES = (
    # One live booking per citizen, item and day: the key is set while the booking is live
    # and removed when it is cancelled or missed, so the index holds only live ones.
    IndexSpec(APPOINTMENTS, (("live_key", 1),), name="one_live_booking", unique=True, sparse=True),
    # Not (citizen, _id): nx-27017 refuses inserts into a collection with `_id` in a compound
    # index ("JSON path error near '_id'"); a citizen's bookings are few, sorted after the match.
    IndexSpec(APPOINTMENTS, (("citizen", 1),), name="citizen"),
    IndexSpec(APPOINTMENTS, (("citizen", 1), ("status", 1), ("date", 1)), name="citizen_status"),
    # A hall's queue of the day, in calling order.
    IndexSpec(
        TICKETS,
        (("location_code", 1), ("day", 1), ("status", 1), ("priority", -1), ("seq", 1)),
        name="calling_order",
    ),
    IndexSpec(TICKETS, (("citizen", 1),), name="citizen"),
    IndexSpec(CASES, (("citizen", 1),), name="citizen"),
    IndexSpec(CASES, (("bundle_id", 1),), name="bundle", sparse=True),
    IndexSpec(BUNDLES, (("citizen", 1),), name="citizen"),
    IndexSpec(NOTIFICATIONS, (("citizen", 1), ("read", 1)), name="citizen_read"),
    # One rating per case.
    IndexSpec(RATINGS, (("case_id", 1),), name="one_per_case", unique=True),
    IndexSpec(RATINGS, (("department_code", 1), ("rated_on", 1)), name="department_day"),
    IndexSpec(RATINGS, (("citizen", 1),), name="citizen"),
    IndexSpec(CREDIT_MARKS, (("citizen", 1), ("until", 1)), name="citizen_until"),
    IndexSpec(CASES, (("department_code", 1), ("status", 1)), name="department_status"),
    # The inbox's deadlines view: a department's cases by promised date.
    IndexSpec(CASES, (("department_code", 1), ("due_date", 1)), name="department_due"),
    # The overdue sweep: open cases by promised date.
    IndexSpec(CASES, (("status", 1), ("due_date", 1)), name="status_due"),
    # Statistics: a period's days (rollup.py), and its open cases, of one department or all.
    IndexSpec(CASE_DAYS, (("department_code", 1), ("day", 1)), name="department_day"),
    IndexSpec(CASE_DAYS, (("day", 1),), name="day"),
    IndexSpec(CASES, (("department_code", 1), ("submitted_at", 1)), name="department_submitted"),
    # One ticket per booking.
    IndexSpec(TICKETS, (("appointment_id", 1),), name="one_per_booking", unique=True, sparse=True),
)

#: A citizen's bookings, newest first (ids start with the booking time).
MINE = Keyset("cases.appointments.mine", (SortKey("_id", "str", descending=True),))
#: Ratings, newest first; open follow-ups, soonest deadline first.
RATING_ORDER = Keyset("cases.ratings", (SortKey("_id", "str", descending=True),))
FOLLOW_UP_ORDER = Keyset(
    "cases.follow_ups", (SortKey("follow_up_deadline", "str"), SortKey("_id", "str"))
)
#: A citizen's notifications, newest first (ids start with the time).
NOTIFICATION_ORDER = Keyset("cases.notifications", (SortKey("_id", "str", descending=True),))
#: Cases, newest first (办件编号 start with the submission time).
CASE_ORDER = Keyset("cases.cases", (SortKey("_id", "str", descending=True),))
#: Accepted cases, the soonest promised date first (the inbox's deadlines view).
DUE_ORDER = Keyset("cases.cases.due", (SortKey("due_date", "str"), SortKey("_id", "str")))


class AppointmentRepository:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.appointments = db[APPOINTMENTS]
        self.slots = db[SLOTS]

    # -- slot counters -------------------------------------------------------------------
    async def take_place(self, slot_key: str, capacity: int) -> int | None:
        """Take one place of the slot if one is left; return the booking's number in the
        slot (1, 2, … never reused), or ``None`` when the slot is full.

        One conditional ``$inc``: of any number of concurrent takes, exactly the places
        left succeed. The counter is made on the first take (a concurrent first take
        that loses the insert race retries as an update).
        """
        for _ in range(2):
            try:
                doc = await self.slots.find_one_and_update(
                    {"_id": slot_key, "booked": {"$lt": capacity}},
                    {"$inc": {"booked": 1, "issued": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                # Either the slot is full (the upsert tried to make a second counter) or
                # another first take made it meanwhile: look again.
                doc = await self.slots.find_one({"_id": slot_key})
                if doc is not None and int(doc["booked"]) >= capacity:
                    return None
                continue
            return int(doc["issued"]) if doc is not None else None
        return None

    async def release_place(self, slot_key: str) -> None:
        await self.slots.update_one(
            {"_id": slot_key, "booked": {"$gt": 0}}, {"$inc": {"booked": -1}}
        )

    async def booked(self, slot_keys: Sequence[str]) -> dict[str, int]:
        docs = await self.slots.find({"_id": {"$in": list(slot_keys)}}).to_list()
        return {str(d["_id"]): int(d["booked"]) for d in docs}

    # -- appointments ------------------------------------------------------------------
    async def insert(self, doc: dict[str, Any]) -> None:
        """Raises DuplicateKeyError when the citizen already has a live booking that day."""
        await self.appointments.insert_one(doc)

    async def get(self, appointment_id: str) -> dict[str, Any] | None:
        return await self.appointments.find_one({"_id": appointment_id})

    async def end(
        self, appointment_id: str, status: str, at: datetime, **conditions: Any
    ) -> dict[str, Any] | None:
        """Move a live booking to ``status`` (cancelled, no_show, checked_in); None if it
        was not live."""
        return await self.appointments.find_one_and_update(
            {"_id": appointment_id, "status": "booked", **conditions},
            {"$set": {"status": status, "ended_at": at}, "$unset": {"live_key": ""}},
            return_document=ReturnDocument.AFTER,
        )

    async def no_shows_since(self, citizen: str, day: str) -> list[dict[str, Any]]:
        query = {"citizen": citizen, "status": "no_show", "date": {"$gte": day}}
        return await self.appointments.find(query, {"date": 1}).to_list()

    def mine(self, citizen: str) -> Listing[dict[str, Any]]:
        """A citizen's bookings, newest first."""
        return MINE.listing(self.appointments, {"citizen": citizen})


class TicketRepository:
    """Queue tickets (排队号) of each hall and day."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.tickets = db[TICKETS]
        self.counters = db[QUEUE_COUNTERS]

    async def next_seq(self, location_code: str, day: str) -> int:
        """The hall's next ticket number of the day (1, 2, …; atomic)."""
        doc = await self.counters.find_one_and_update(
            {"_id": f"{location_code}|{day}"},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["seq"]) if doc is not None else 1

    async def insert(self, doc: dict[str, Any]) -> None:
        await self.tickets.insert_one(doc)

    async def get(self, ticket_id: str) -> dict[str, Any] | None:
        return await self.tickets.find_one({"_id": ticket_id})

    async def call_next(
        self, location_code: str, day: str, window: str, at: datetime
    ) -> dict[str, Any] | None:
        """Give the first waiting ticket (highest priority, then oldest) to ``window``.

        One ``find_one_and_update``: windows calling at once never get the same ticket.
        """
        return await self.tickets.find_one_and_update(
            {"location_code": location_code, "day": day, "status": "waiting"},
            {"$set": {"status": "called", "window": window, "called_at": at}},
            sort=[("priority", -1), ("seq", 1)],
            return_document=ReturnDocument.AFTER,
        )

    async def finish(self, ticket_id: str, at: datetime) -> dict[str, Any] | None:
        return await self.tickets.find_one_and_update(
            {"_id": ticket_id, "status": "called"},
            {"$set": {"status": "finished", "finished_at": at}},
            return_document=ReturnDocument.AFTER,
        )

    async def waiting(self, location_code: str, day: str) -> list[dict[str, Any]]:
        """The hall's waiting tickets of the day, in calling order."""
        query = {"location_code": location_code, "day": day, "status": "waiting"}
        projection = {"_id": 1, "priority": 1, "seq": 1}
        return (
            await self.tickets.find(query, projection)
            .sort([("priority", -1), ("seq", 1)])
            .to_list()
        )

    async def recently_called(
        self, location_code: str, day: str, limit: int
    ) -> list[dict[str, Any]]:
        query = {
            "location_code": location_code,
            "day": day,
            "status": {"$in": ["called", "finished"]},
        }
        cursor = self.tickets.find(query, {"number": 1, "window": 1, "called_at": 1})
        return await cursor.sort([("called_at", -1)]).limit(limit).to_list()

    async def of_citizen(self, citizen: str, day: str) -> list[dict[str, Any]]:
        return (
            await self.tickets.find({"citizen": citizen, "day": day}).sort([("seq", 1)]).to_list()
        )


#: Before any day, as an ISO date string (a lower bound for date fields kept as text).
EARLIEST_DAY = "0001-01-01"
#: ``reminded_on`` of a case never reminded as overdue: date-shaped, before any day.
NEVER_REMINDED = EARLIEST_DAY


class CaseRepository:
    """Cases (办件): one document each, with its steps."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.cases = db[CASES]

    async def insert(self, doc: dict[str, Any]) -> None:
        await self.cases.insert_one(doc)

    async def get(self, case_id: str) -> dict[str, Any] | None:
        return await self.cases.find_one({"_id": case_id})

    async def move(
        self,
        seen: dict[str, Any],
        changes: dict[str, Any],
        step: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Apply a transition if the case is still as the actor saw it (its version): of
        two staff acting at once, one wins and the other gets None.

        The steps are written whole (`$set`), not `$push`ed: nx-27017 stores pushed
        sub-documents as JSON strings (test_conformance), and the version guard makes the
        read-modify-write safe.
        """
        return await self.cases.find_one_and_update(
            {"_id": seen["_id"], "status": seen["status"], "version": seen["version"]},
            {"$set": {**changes, "steps": [*seen["steps"], step]}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def update_if_unchanged(
        self, seen: dict[str, Any], changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Change fields (not the status) if the case is still at the version seen."""
        return await self.cases.find_one_and_update(
            {"_id": seen["_id"], "version": seen["version"]},
            {"$set": changes, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def listing(self, query: dict[str, Any], order: Keyset = CASE_ORDER) -> Listing[dict[str, Any]]:
        """Cases matching ``query``, newest first (or in ``order``)."""
        return order.listing(self.cases, query)

    async def open_of(
        self, department_code: str | None, statuses: Sequence[str]
    ) -> list[dict[str, Any]]:
        """A department's (or every) case in ``statuses``, with what its light needs.

        Open cases are few (hundreds) whatever the history, and the status is in both indexes
        that serve this; a time range here would make nx-27017 scan every case."""
        wanted = "department_code status due_date paused_on promised_limit_days submitted_at"
        fields = dict.fromkeys(wanted.split(), 1)
        found: list[dict[str, Any]] = []
        # One equality per status: nx-27017 answers a `$in` by scanning every case (over 1 s
        # at 240,000 cases, bench/cases.py); an equality is an index lookup on both servers.
        for status in statuses:
            query: dict[str, Any] = {"status": status}
            if department_code is not None:
                query["department_code"] = department_code
            found += await self.cases.find(query, fields).to_list()
        return found

    async def overdue(self, statuses: Sequence[str], today: str) -> list[dict[str, Any]]:
        """Cases in ``statuses`` due before ``today`` not yet reminded today."""
        query = {
            "status": {"$in": list(statuses)},
            "due_date": {"$lt": today},
            "reminded_on": {"$lt": today},
        }
        return await self.cases.find(query).to_list()

    async def claim_reminder(self, case_id: str, today: str) -> bool:
        """Mark today's reminder sent; False when another process already did.

        ``reminded_on`` always holds a date (``NEVER_REMINDED`` at first) and is claimed with
        ``$lt``: nx-27017's ``$ne`` matches neither a missing field nor every string
        (test_conformance)."""
        done = await self.cases.update_one(
            {"_id": case_id, "reminded_on": {"$lt": today}}, {"$set": {"reminded_on": today}}
        )
        return done.modified_count == 1


class RatingRepository:
    """好差评: ratings, each with its follow-up task when it is a 差评 (the task's fields are
    top-level — `follow_up_*` — to stay inside the subset both servers query alike)."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.ratings = db[RATINGS]

    async def insert(self, doc: dict[str, Any]) -> None:
        """Raises DuplicateKeyError when the case is rated already."""
        await self.ratings.insert_one(doc)

    async def get(self, rating_id: str) -> dict[str, Any] | None:
        return await self.ratings.find_one({"_id": rating_id})

    def listing(self, order: Keyset, query: dict[str, Any]) -> Listing[dict[str, Any]]:
        """Ratings matching ``query`` in ``order`` (RATING_ORDER, FOLLOW_UP_ORDER)."""
        return order.listing(self.ratings, query)

    async def reply(
        self, rating_id: str, department_code: str, reply: dict[str, Any]
    ) -> dict[str, Any] | None:
        return await self.ratings.find_one_and_update(
            {"_id": rating_id, "department_code": department_code, "follow_up_status": "open"},
            {"$set": {"follow_up_status": "done", "follow_up_reply": reply}},
            return_document=ReturnDocument.AFTER,
        )

    async def scores(
        self, department_code: str | None, first: str, last: str
    ) -> list[dict[str, Any]]:
        """Ratings given in the period (of one department, or all)."""
        query: dict[str, Any] = {"rated_on": {"$gte": first, "$lte": last}}
        if department_code is not None:
            query["department_code"] = department_code
        projection = {"score": 1, "item_code": 1, "department_code": 1}
        return await self.ratings.find(query, projection).to_list()


class RuleRepository:
    """秒批 rules, one document per item (seeded from seeds/cases/instant_rules.json)."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.rules_of = db[RULES]

    async def rules(self, item_code: str) -> list[dict[str, Any]]:
        doc = await self.rules_of.find_one({"_id": item_code})
        return list(doc.get("rules") or []) if doc else []

    async def replace_all(self, entries: Sequence[dict[str, Any]]) -> None:
        for entry in entries:
            # The id in the replacement too: nx-27017's upserting replace does not take it
            # from the filter (test_conformance).
            code = entry["item_code"]
            await self.rules_of.replace_one(
                {"_id": code}, {"_id": code, "rules": entry["rules"]}, upsert=True
            )


class CreditRepository:
    """Bad credit marks that bar 容缺 (lapsed promises; imports from the credit platform)."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.marks = db[CREDIT_MARKS]

    async def active_mark(self, citizen: str, today: str) -> dict[str, Any] | None:
        return await self.marks.find_one({"citizen": citizen, "until": {"$gte": today}})

    async def mark(self, citizen: str, reason: str, until: str, case_id: str) -> None:
        # One mark per case: a second lapse check of the same case changes nothing.
        await self.marks.update_one(
            {"_id": f"case:{case_id}"},
            {"$set": {"citizen": citizen, "reason": reason, "until": until}},
            upsert=True,
        )


class BundleRepository:
    """一件事一次办: the life-event definitions (seeded) and the citizens' bundles."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.types = db[BUNDLE_TYPES]
        self.bundles = db[BUNDLES]
        self.cases = db[CASES]

    async def replace_types(self, entries: Sequence[dict[str, Any]]) -> None:
        for entry in entries:
            # The id in the document too (nx-27017's upserting replace: test_conformance).
            await self.types.replace_one(
                {"_id": entry["code"]}, {"_id": entry["code"], **entry}, upsert=True
            )

    async def all_types(self) -> list[dict[str, Any]]:
        return await self.types.find({}).sort([("_id", 1)]).to_list()

    async def type(self, code: str) -> dict[str, Any] | None:
        return await self.types.find_one({"_id": code})

    async def insert(self, bundle: dict[str, Any], cases: Sequence[dict[str, Any]]) -> None:
        """The cases, then the bundle naming them (a bundle never names a missing case)."""
        await self.cases.insert_many(list(cases))
        await self.bundles.insert_one(bundle)

    async def get(self, bundle_id: str) -> dict[str, Any] | None:
        return await self.bundles.find_one({"_id": bundle_id})

    async def cases_of(self, bundle_id: str) -> list[dict[str, Any]]:
        return await self.cases.find({"bundle_id": bundle_id}).to_list()


class NotificationRepository:
    """What a citizen is told (case moves, tickets called), newest first."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.notes = db[NOTIFICATIONS]

    async def insert(self, doc: dict[str, Any]) -> None:
        # The id is the event's: a handler run twice for one event writes one notification.
        with contextlib.suppress(DuplicateKeyError):
            await self.notes.insert_one(doc)

    def listing(self, query: dict[str, Any]) -> Listing[dict[str, Any]]:
        """Notifications matching ``query``, newest first."""
        return NOTIFICATION_ORDER.listing(self.notes, query)

    async def mark_read(self, citizen: str, ids: Sequence[str]) -> int:
        result = await self.notes.update_many(
            {"_id": {"$in": list(ids)}, "citizen": citizen, "read": False},
            {"$set": {"read": True}},
        )
        return int(result.modified_count)
