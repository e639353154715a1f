"""办件: an application's life, as a state machine held in one table.

submitted → accepted (in review) or refused at intake → supplement requested ↔ supplemented →
special procedure (the clock paused) → approved or denied → result issued → delivered (by
mail with a tracking number, or picked up) → closed.

Who may do what is part of the table: any comprehensive-window (综合窗口) staff member takes
applications in, delivers and closes (``cases.case.intake``); only the owning department's back
office reviews, approves and issues (``cases.case.review``, own department). Every transition
is one conditional update on the case's status and version — two staff acting at once, one
wins, the other gets ``CONFLICT`` — and is recorded as a step with actor, time and opinion.

The promised finish date is counted in working days from acceptance (the item's promised
limit, the State Council's calendar) and moves by the working days a special procedure took.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.auth import IdentityLevel, Principal
from gateway.context import Context
from gateway.errors import BadUserInput, Conflict, FieldError, Forbidden, NotFound
from gateway.kit.calendar import add_working_days, now_cst, working_days_between
from modules.cases import appointments, instant, rollup, tolerance
from modules.cases.events import CASE_CHANGED, CaseChanged
from modules.cases.materials import Given, collect
from modules.cases.permissions import CASE_INTAKE, CASE_REVIEW
from modules.cases.repository import NEVER_REMINDED, CaseRepository
from modules.cases.statuses import DONE, FINAL
from modules.cases.steps import step

__all__ = [
    "TRANSITIONS",
    "Application",
    "Transition",
    "advance",
    "announce",
    "prepare",
    "readable",
    "submit",
    "supply",
]

MAX_FORM_CHARS = 16_000
#: Who approves by rules (no person): recorded as the actor of 秒批's steps.
INSTANT_ACTOR = "system:instant-approval"
MAX_OPINION_CHARS = 500


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    permission: str  # CASE_INTAKE (any department) or CASE_REVIEW (own department)
    needs_opinion: bool = False


TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({"submitted"}), "in_review", CASE_INTAKE.name),
    "refuse": Transition(frozenset({"submitted"}), "refused", CASE_INTAKE.name, True),
    "request_supplement": Transition(
        frozenset({"in_review"}), "supplement_requested", CASE_REVIEW.name, True
    ),
    "start_special_procedure": Transition(
        frozenset({"in_review"}), "special_procedure", CASE_REVIEW.name, True
    ),
    "end_special_procedure": Transition(
        frozenset({"special_procedure"}), "in_review", CASE_REVIEW.name
    ),
    "approve": Transition(frozenset({"in_review"}), "approved", CASE_REVIEW.name),
    "deny": Transition(frozenset({"in_review"}), "denied", CASE_REVIEW.name, True),
    "issue_result": Transition(frozenset({"approved"}), "result_issued", CASE_REVIEW.name),
    "deliver": Transition(frozenset({"result_issued"}), "delivered", CASE_INTAKE.name),
    "close": Transition(frozenset({"delivered"}), "closed", CASE_INTAKE.name),
}


def store(ctx: Context) -> CaseRepository:
    return CaseRepository(ctx.db)


def _step(
    action: str, principal: Principal, source: str, target: str, opinion: str | None
) -> dict[str, Any]:
    return step(
        action,
        source,
        target,
        actor=principal.subject,
        department=principal.department,
        at=now_cst(),
        opinion=opinion,
    )


@dataclass(frozen=True)
class Application:
    """What a citizen submits for one item."""

    item_code: str
    form: dict[str, Any]
    materials: list[Given]  # uploads, or e-licenses in their place (免证办)
    delivery: str  # mail / pickup / electronic
    address: str | None = None
    supply_by: date | None = None  # 容缺 promise
    #: e-license types an earlier case of the same bundle will issue: their materials wait
    fed: frozenset[str] = frozenset()


async def prepare(ctx: Context, application: Application) -> dict[str, Any]:
    """Check an application and build its case (not stored yet)."""
    principal = ctx.require(identity_level=IdentityLevel.REAL_NAME)
    citizen = str(principal.subject)
    item = await appointments.catalog(ctx).item(application.item_code)
    if item is None or item.status != "active":
        raise NotFound(f"事项不存在或已停办 (no active item {application.item_code!r})")
    if len(str(application.form)) > MAX_FORM_CHARS:
        raise BadUserInput(
            "表单过大 (form too large)",
            [FieldError("form", f"at most {MAX_FORM_CHARS} characters", "too_long")],
        )
    if application.delivery == "electronic" and "zero_visit" not in item.flags:
        raise BadUserInput(
            "该事项不支持电子送达 (this item's result cannot be sent electronically)",
            [FieldError("delivery", "electronic only for 零跑动 items", "not_offered")],
        )
    if application.delivery == "mail" and not (application.address or "").strip():
        raise BadUserInput(
            "邮寄须填写地址 (a mailed result needs an address)",
            [FieldError("address", "required for delivery by mail", "required")],
        )
    # A material an earlier case of the bundle issues (an e-license) is fed, not handed in.
    awaiting = [
        {"name": m.name, "license_type": m.license_type}
        for m in item.materials
        if m.license_type in application.fed
    ]
    waits = {a["name"] for a in awaiting}
    needed = [
        m.name
        for m in item.materials
        if m.necessity in ("required", "tolerated") and m.name not in waits
    ]
    provided = await collect(ctx, citizen, item, application.materials)
    missing = [name for name in needed if name not in {p["name"] for p in provided}]
    # Missing materials are refused, unless tolerated ones go with a promise (容缺受理).
    promise = await tolerance.check_promise(ctx, item, citizen, missing, application.supply_by)
    now = now_cst()
    doc = {
        # 办件编号: submission time, then randomness — newest first by id.
        "_id": f"{now:%Y%m%d%H%M%S}{int(now.microsecond / 1000):03d}{os.urandom(3).hex()}",
        "citizen": citizen,
        "item_code": item.code,
        "item_name": item.name,
        "department_code": item.department_code,
        "promised_limit_days": item.promised_limit_days,
        "result_licenses": [r.license_type for r in item.results if r.license_type],
        "form": application.form,
        "materials": provided,
        "awaiting": awaiting,
        "delivery": {"method": application.delivery, "address": application.address},
        "promise": promise,
        "status": "submitted",
        "version": 1,
        "submitted_at": now,
        "channel": "online",  # through the app; window staff's own channel is not built yet
        "reminded_on": NEVER_REMINDED,  # 督办 not yet raised (supervision.remind_overdue)
        "steps": [_step("submit", principal, "new", "submitted", None)],
    }
    if "instant_approval" in item.flags and not awaiting:
        await _instant(ctx, doc, principal, application.form)
    return doc


async def submit(ctx: Context, application: Application) -> dict[str, Any]:
    doc = await prepare(ctx, application)
    await store(ctx).insert(doc)
    await announce(ctx, doc, "submit")
    return doc


async def _instant(
    ctx: Context, doc: dict[str, Any], principal: Principal, form: dict[str, Any]
) -> None:
    """秒批: the item's rules decide now. All pass: accepted, approved and the result issued
    in this request, the rules recorded as the approving step; else the reasons are kept
    and the case waits for the window like any other."""
    outcomes = await instant.evaluate(ctx, doc["item_code"], principal, form)
    if outcomes is None:
        return
    doc["instant"] = [{"rule": o.rule, "passed": o.passed, "reason": o.reason} for o in outcomes]
    if not all(o.passed for o in outcomes):
        return
    now = now_cst()
    opinion = "秒批: " + "；".join(o.rule for o in outcomes)
    for action, source, target in (
        ("accept", "submitted", "in_review"),
        ("approve", "in_review", "approved"),
        ("issue_result", "approved", "result_issued"),
    ):
        doc["steps"].append(
            step(
                action,
                source,
                target,
                actor=INSTANT_ACTOR,
                department=doc["department_code"],
                at=now,
                opinion=opinion if action == "approve" else None,
            )
        )
    doc.update(
        status="result_issued",
        accepted_at=now,
        due_date=now.date().isoformat(),
        finished_at=now,
        instant_approved=True,  # for the statistics' 秒批 rate
    )


def readable(ctx: Context, doc: dict[str, Any] | None) -> dict[str, Any]:
    """The case if the caller may see it: its applicant, any intake staff, the owning
    department's reviewers, admins. Others get NOT_FOUND (no hint that it exists)."""
    principal = ctx.require()
    if doc is not None:
        if doc["citizen"] == principal.subject or CASE_INTAKE.name in ctx.permissions:
            return doc
        if CASE_REVIEW.name in ctx.permissions and (
            principal.department == doc["department_code"] or principal.has_role("admin")
        ):
            return doc
    raise NotFound("办件不存在 (no such case)")


async def advance(
    ctx: Context,
    case_id: str,
    action: str,
    opinion: str | None,
    tracking_number: str | None = None,
) -> dict[str, Any]:
    transition = TRANSITIONS[action]
    principal = ctx.require(transition.permission)
    doc = await tolerance.lapse_if_due(ctx, readable(ctx, await store(ctx).get(case_id)))
    if (
        transition.permission == CASE_REVIEW.name
        and not principal.has_role("admin")
        and principal.department != doc["department_code"]
    ):
        raise Forbidden("只有主管部门可以审批 (only the owning department reviews this case)")
    if doc["status"] not in transition.sources:
        raise Conflict(
            f"办件当前状态不能{action} (the case is {doc['status']})",
            extensions={"reason": "wrong_status", "status": doc["status"]},
        )
    opinion = (opinion or "").strip() or None
    if transition.needs_opinion and not opinion:
        raise BadUserInput(
            "请填写意见 (an opinion is required)", [FieldError("opinion", "required", "required")]
        )
    if opinion and len(opinion) > MAX_OPINION_CHARS:
        raise BadUserInput(
            "意见过长 (opinion too long)",
            [FieldError("opinion", f"at most {MAX_OPINION_CHARS} characters", "too_long")],
        )
    today = now_cst().date()
    changes: dict[str, Any] = {"status": transition.target}
    if transition.target in DONE and doc["status"] not in DONE:
        changes["finished_at"] = now_cst()  # decided: the statistics' finish time
    if action == "accept":
        changes["accepted_at"] = now_cst()
        changes["due_date"] = add_working_days(today, doc["promised_limit_days"]).isoformat()
    elif action == "start_special_procedure":
        changes["paused_on"] = today.isoformat()
    elif action == "end_special_procedure":
        paused = working_days_between(date.fromisoformat(doc["paused_on"]), today)
        due = date.fromisoformat(doc["due_date"])
        changes["due_date"] = add_working_days(due, max(0, paused)).isoformat()
        changes["paused_days"] = int(doc.get("paused_days", 0)) + max(0, paused)
    elif action == "deliver":
        if doc["delivery"]["method"] == "mail":
            if not tracking_number:
                raise BadUserInput(
                    "邮寄须填写运单号 (a mailed result needs its tracking number)",
                    [FieldError("trackingNumber", "required for mail", "required")],
                )
            changes["delivery.tracking_number"] = tracking_number
        changes["delivered_at"] = now_cst()
    step = _step(action, principal, doc["status"], transition.target, opinion)
    moved = await store(ctx).move(doc, changes, step)
    if moved is None:
        raise Conflict(
            "办件已被他人处理，请刷新 (someone else moved the case; reload)",
            extensions={"reason": "moved_meanwhile"},
        )
    await announce(ctx, moved, action, doc)
    return moved


async def supply(ctx: Context, case_id: str, materials: list[Given]) -> dict[str, Any]:
    """The applicant hands in what a supplement request asked for: back to review."""
    principal = ctx.require()
    doc = await store(ctx).get(case_id)
    if doc is None or doc["citizen"] != principal.subject:
        raise NotFound("办件不存在 (no such case)")
    doc = await tolerance.lapse_if_due(ctx, doc)
    # Asked for a supplement, or a 容缺 promise still open (the decision may have come first).
    promised = bool(tolerance.outstanding(doc)) and doc["status"] not in FINAL
    if doc["status"] != "supplement_requested" and not promised:
        raise Conflict(
            "办件未要求补正 (no supplement was requested)",
            extensions={"reason": "wrong_status", "status": doc["status"]},
        )
    item = await appointments.catalog(ctx).item(doc["item_code"])
    provided = await collect(ctx, str(principal.subject), item, materials)
    if not provided:
        raise BadUserInput(
            "请提交补正材料 (hand in at least one material)",
            [FieldError("materials", "at least one", "required")],
        )
    kept = [m for m in doc["materials"] if m["name"] not in {p["name"] for p in provided}]
    target = "in_review" if doc["status"] == "supplement_requested" else doc["status"]
    step = _step("supply", principal, doc["status"], target, None)
    moved = await store(ctx).move(doc, {"status": target, "materials": kept + provided}, step)
    if moved is None:
        raise Conflict(
            "办件已变化，请刷新 (the case changed; reload)",
            extensions={"reason": "moved_meanwhile"},
        )
    await announce(ctx, moved, "supply", doc)
    return moved


async def announce(
    ctx: Context, doc: dict[str, Any], action: str, before: dict[str, Any] | None = None
) -> None:
    """After a case is stored (``before``: as it was; None when new): count it in the
    statistics' roll-up, then tell the bus."""
    await rollup.moved(ctx.db, before, doc)
    await ctx.bus.publish(
        CASE_CHANGED,
        CaseChanged(
            case_id=doc["_id"],
            citizen=doc["citizen"],
            department_code=doc["department_code"],
            status=doc["status"],
            action=action,
        ),
    )
