"""消息通知: what a citizen is told, kept as a list they can read later.

Written by bus handlers (once per event, in the publishing process): every status change of
a case (``CASE_CHANGED``), every ticket called to a window (``QUEUE_CHANGED``) and every
e-license about to expire (the wallet's ``LICENSE_EXPIRING``). The
subscriptions (``caseUpdated``, ``myTicketCalled``) tell a connected app at once; this list is
what the app shows after it was closed. A notification's id is its event's time and id, so
newest come first and a handler run twice writes one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.bus import Event
from gateway.kit.calendar import now_cst
from gateway.runtime import Runtime
from modules.cases.events import CASE_CHANGED, CASE_OVERDUE, QUEUE_CHANGED
from modules.cases.repository import NotificationRepository
from modules.wallet.interface import LICENSE_EXPIRING

__all__ = ["HANDLERS"]

# What a citizen reads for each step of their case.
CASE_TEXT = {
    "submit": "办件已提交，等待受理",
    "accept": "办件已受理",
    "refuse": "办件不予受理",
    "request_supplement": "请补正材料",
    "supply": "补正材料已提交",
    "start_special_procedure": "办件进入特别程序，时限暂停",
    "end_special_procedure": "特别程序结束",
    "approve": "办件已准予许可",
    "deny": "办件不予许可",
    "issue_result": "办理结果已出具",
    "deliver": "办理结果已送达",
    "close": "办件已办结",
}


def _note(event: Event, citizen: str, kind: str, text: str, ref: str) -> dict[str, Any]:
    return {
        # Digits and hex only: nx-27017 does not match some punctuated string ids in `$in`.
        "_id": f"{int(datetime.fromisoformat(event.occurred_at).timestamp() * 1000):013d}"
        f"{event.id}",
        "citizen": citizen,
        "kind": kind,
        "text": text,
        "ref": ref,
        "read": False,
        "at": now_cst(),
    }


async def on_case_changed(event: Event, runtime: Runtime) -> None:
    change = CASE_CHANGED.payload_of(event)
    text = CASE_TEXT.get(change.action, "办件状态已更新")
    note = _note(event, change.citizen, "case", text, change.case_id)
    await NotificationRepository(runtime.db).insert(note)


async def on_queue_changed(event: Event, runtime: Runtime) -> None:
    change = QUEUE_CHANGED.payload_of(event)
    if change.change != "called" or not change.citizen:
        return
    text = f"请 {change.number} 号到 {change.window} 号窗口办理"
    note = _note(event, change.citizen, "ticket", text, change.ticket_id)
    await NotificationRepository(runtime.db).insert(note)


async def on_case_overdue(event: Event, runtime: Runtime) -> None:
    overdue = CASE_OVERDUE.payload_of(event)
    text = f"您的办件“{overdue.item_name}”已超过承诺办结时限，已列入督办"
    note = _note(event, overdue.citizen, "case", text, overdue.case_id)
    await NotificationRepository(runtime.db).insert(note)


async def on_license_expiring(event: Event, runtime: Runtime) -> None:
    """到期提醒 from the wallet: the holder's notification list is the one a citizen reads."""
    expiring = LICENSE_EXPIRING.payload_of(event)
    text = (
        f"您的{expiring.type_name}将于{expiring.valid_until}到期"
        f"（剩余{expiring.days_left}天），请及时换领"
    )
    note = _note(event, expiring.holder, "license", text, expiring.license_id)
    await NotificationRepository(runtime.db).insert(note)


HANDLERS = {
    CASE_CHANGED.name: (on_case_changed,),
    CASE_OVERDUE.name: (on_case_overdue,),
    QUEUE_CHANGED.name: (on_queue_changed,),
    LICENSE_EXPIRING.name: (on_license_expiring,),
}
