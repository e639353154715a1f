"""Write side of the catalog: staff create and change items; every change is a new version.

The version record is written first and is unique per (code, version): of two
editors racing from the same version exactly one wins, the other gets CONFLICT
and nothing of theirs is stored. A create writes several documents (version,
FAQ entries, FAQ links, item, catalog index) without a transaction; it is
compensated instead — see docs/consistency.md for the order and the undo.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from gateway.auth import Principal, Role
from gateway.context import Context
from gateway.errors import BadUserInput, Conflict, FieldError, Forbidden, NotFound
from modules.affairs.caching import bump_generation
from modules.affairs.documents import (
    ItemContext,
    build_item,
    faq_search_fields,
    implementation_code,
    index_terms,
    version_snapshot,
)
from modules.affairs.interface import ITEM_CHANGED, ItemChanged
from modules.affairs.repository import CatalogRepository
from modules.affairs.rules import validate_item
from modules.affairs.state import catalog_repository, reference
from modules.affairs.types.inputs import AffairItemInput, AffairItemPatch, plain
from modules.affairs.vocabulary import ItemStatus, VersionChange

__all__ = ["create_item", "faq_prefix", "set_item_status", "update_item"]

log = logging.getLogger("onestop.affairs")

# A create that has not finished after this long is taken to be dead (its process
# stopped between two writes) and a retry may take its code over. Far longer than
# any create takes, so a slow but live create is never undone under its feet.
ABANDONED_AFTER = timedelta(minutes=5)
MAX_NEW_FAQ = 20
MAX_LINKED_FAQ = 50


def _check_department(principal: Principal, department_code: str) -> None:
    """Staff edit their own department's items; admins edit any."""
    if principal.has_role(Role.ADMIN.value):
        return
    if principal.department != department_code:
        raise Forbidden(
            "只能维护本部门的事项 (staff may only change their own department's items)",
            extensions={"department": department_code},
        )


async def _item_context(ctx: Context) -> ItemContext:
    data = await reference(ctx)
    return ItemContext(data.departments, data.themes, data.license_types)


def _validate(
    fields: dict[str, Any],
    context: ItemContext,
    has_faq: bool,
    extra: Sequence[FieldError] = (),
) -> None:
    errors = [
        *extra,
        *validate_item(
            fields,
            departments=context.departments.keys(),
            themes={code: str(t["audience"]) for code, t in context.themes.items()},
            license_types=context.license_type_names.keys(),
            has_faq=has_faq,
        ),
    ]
    if errors:
        raise BadUserInput("事项信息不符合一致性规则 (the item breaks consistency rules)", errors)


async def _commit(
    ctx: Context,
    repository: CatalogRepository,
    item: dict[str, Any],
    previous_revision: int,
    change: str,
    note: str | None,
) -> dict[str, Any]:
    """Store the next version of an existing item (a new item goes through create_item)."""
    snapshot = version_snapshot(item, change=change, note=note)
    try:
        await repository.insert_version(snapshot)
    except DuplicateKeyError:
        raise Conflict(
            "事项已被他人修改，请刷新后重试 (the item changed meanwhile; reload and retry)",
            extensions={"code_of_item": item["_id"]},
        ) from None
    stored = await repository.replace_item_if_revision(item["_id"], previous_revision, item)
    if stored is None:
        await repository.delete_version(snapshot["_id"])
        raise Conflict("事项已被他人修改，请刷新后重试 (the item changed meanwhile)")
    await repository.reindex([(stored, index_terms(stored))])
    await _announce(ctx, stored, change)
    return stored


async def _announce(ctx: Context, item: Mapping[str, Any], change: str) -> None:
    """After the commit point: caches and subscribers learn of the change (never undone)."""
    await bump_generation(ctx.cache)
    await ctx.bus.publish(
        ITEM_CHANGED, ItemChanged(code=item["_id"], version=int(item["version"]), change=change)
    )
    log.info("affairs item %s now version %s (%s)", item["_id"], item["version"], change)


# -- creating an item: several documents, compensated (docs/consistency.md) -------------------
def faq_prefix(code: str) -> str:
    """FAQ entries published with an item are ``FAQ-<whole item code>-NN``.

    The seeded library numbers its entries ``FAQ-0001`` …; entries published with an
    item carry that item's whole code (unique, never reused: items are cancelled, not
    deleted), so they collide neither with each other nor with the seeded ones, and
    a retry of the same create writes the same ids — which is what makes the leftovers
    of an abandoned attempt findable.
    """
    return f"FAQ-{code}-"


async def create_item(ctx: Context, given: AffairItemInput) -> dict[str, Any]:
    """Check everything, then write claim → FAQ → links → item → index; undo on failure."""
    principal = ctx.require("affairs.item.write")
    _check_department(principal, given.department_code)
    context = await _item_context(ctx)
    fields = plain(given)
    fields["type_code"] = fields.pop("type")
    department = context.departments.get(given.department_code)
    if not (given.business_item.isdigit() and len(given.business_item) == 3):
        raise BadUserInput(
            "业务办理项须为 3 位数字", [FieldError("businessItem", "three digits", "format")]
        )
    fields.update(
        status=ItemStatus.ACTIVE.value,
        implementing_body={
            "name": department["name"] if department else "",
            "code": given.department_code,
            "nature": "statutory_organ",
        },
        power_source="statutory",
        exercise_level="district",
        special_procedures=[],
        entrusted_department=None,
    )
    code = implementation_code(given.basic_code, given.department_code, given.business_item)
    fields["code"] = code
    repository = catalog_repository(ctx)
    linked, link_errors = await _linkable_faq(repository, principal, given)
    new_faq, faq_errors = _new_faq_entries(given, code)
    _validate(fields, context, has_faq=bool(linked or new_faq), extra=[*link_errors, *faq_errors])
    if await repository.item(code) is not None:
        raise Conflict(f"事项 {code} 已存在 (item already exists)")
    item = build_item(
        fields,
        context,
        code=code,
        version=1,
        revision=1,
        location_codes=[],
        # Linked entries are about this item too: their questions find it in search.
        faq_questions=[f["question"] for f in (*new_faq, *linked)],
        updated_at=datetime.now(UTC),
        updated_by=principal.subject or "",
    )
    snapshot = version_snapshot(item, change=VersionChange.CREATED.value, note=given.note)
    await _claim_code(repository, snapshot)
    # From here on, any failure undoes everything this call wrote before it is reported.
    terms = index_terms(item)
    linked_codes = [f["_id"] for f in linked]
    inserted: list[str] = []  # one by one: the undo removes exactly these, never another's
    try:
        for entry in new_faq:
            # Counted before the insert: a lost reply may hide a write that happened.
            inserted.append(entry["_id"])
            try:
                await repository.insert_faq_entry(entry)
            except DuplicateKeyError:
                inserted.pop()  # someone else's document holds the id: not ours to delete
                raise
        if linked_codes:
            await repository.link_faq(linked_codes, code)
        await repository.insert_item(item)
        await repository.reindex([(item, terms)])
    except BaseException as error:  # also cancellation: nothing half-written may stay
        try:
            await repository.forget_new_item(
                code,
                linked_faq=linked_codes,
                faq_ids=inserted,
                faq_prefix=faq_prefix(code),
            )
            await repository.delete_version(snapshot["_id"])  # the claim last
        except Exception:
            # The caller sees the original error; the next create of this code removes
            # what is left once the claim counts as abandoned (see _claim_code).
            log.exception("affairs: could not undo the failed create of %s", code)
        if _is_duplicate_key(error):
            raise Conflict(
                f"事项 {code} 的记录已存在，未保存任何内容 "
                "(a record this item needs already exists; nothing was stored)",
                extensions={"itemCode": code},
            ) from None
        raise
    await _announce(ctx, item, VersionChange.CREATED.value)
    return item


async def _linkable_faq(
    repository: CatalogRepository, principal: Principal, given: AffairItemInput
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The existing FAQ entries to link, if they exist and the caller may link them.

    FAQ entries belong to their answering department: staff attach their item only to
    their own department's entries (admins to any). Another department's entries are
    FORBIDDEN, unknown codes field errors; either way nothing is written.
    """
    codes = list(dict.fromkeys(given.faq_codes))
    if len(codes) > MAX_LINKED_FAQ:
        return [], [FieldError("faqCodes", f"至多关联 {MAX_LINKED_FAQ} 条", "too_many")]
    if not codes:
        return [], []
    found = {doc["_id"]: doc for doc in await repository.faq_entries(codes)}
    if not principal.has_role(Role.ADMIN.value):
        foreign = [
            c
            for c in codes
            if c in found and found[c].get("department_code") != principal.department
        ]
        if foreign:
            raise Forbidden(
                f"只能关联本部门的常见问题: {', '.join(foreign)} "
                "(staff may only link their own department's FAQ entries)",
                extensions={"faqCodes": foreign},
            )
    errors = [
        FieldError(f"faqCodes.{index}", f"未知的常见问题 {code}", "unknown_faq")
        for index, code in enumerate(given.faq_codes)
        if code not in found
    ]
    return [found[c] for c in codes if c in found], errors


def _new_faq_entries(
    given: AffairItemInput, code: str
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The FAQ documents to publish with the item, and what is wrong with them."""
    if len(given.new_faq) > MAX_NEW_FAQ:
        return [], [FieldError("newFaq", f"至多 {MAX_NEW_FAQ} 条", "too_many")]
    errors: list[FieldError] = []
    entries: list[dict[str, Any]] = []
    for index, entry in enumerate(given.new_faq):
        question, answer = entry.question.strip(), entry.answer.strip()
        if not 2 <= len(question) <= 200:
            errors.append(FieldError(f"newFaq.{index}.question", "问题须为 2–200 个字符", "length"))
        if not 2 <= len(answer) <= 5000:
            errors.append(FieldError(f"newFaq.{index}.answer", "答案须为 2–5000 个字符", "length"))
        entries.append(
            {
                "_id": f"{faq_prefix(code)}{index + 1:02d}",
                "question": question,
                "answer": answer,
                "department_code": given.department_code,
                "item_codes": [code],
                "theme_codes": list(given.theme_codes),
                "keywords": [],
                "sort_order": 9000 + index,
                **faq_search_fields(question, answer, []),
            }
        )
    return entries, errors


async def _claim_code(repository: CatalogRepository, snapshot: dict[str, Any]) -> None:
    """Write the version-1 record first: of two creates of one code exactly one proceeds.

    A version-1 record without its item is a create under way — or, once older than
    ABANDONED_AFTER, one whose process died between two writes: then this call takes
    the code over (atomically, so of two retries only one does) and first removes
    whatever the dead attempt left.
    """
    code = snapshot["code"]
    try:
        await repository.insert_version(snapshot)
        return
    except DuplicateKeyError:
        pass
    if await repository.item(code) is not None:
        raise Conflict(f"事项 {code} 已存在 (item already exists)")
    busy = Conflict(
        f"事项 {code} 正在由他人创建，请稍后重试 (another create of this item is under way)",
        extensions={"itemCode": code},
    )
    claim = await repository.version_record(snapshot["_id"])
    stored_at = claim.get("changed_at") if claim else None
    if not isinstance(stored_at, datetime):
        raise busy
    aware = stored_at if stored_at.tzinfo else stored_at.replace(tzinfo=UTC)
    if datetime.now(UTC) - aware < ABANDONED_AFTER:
        raise busy
    if not await repository.take_over_version(snapshot["_id"], stored_at, snapshot):
        raise busy
    log.warning("affairs: taking over the abandoned create of %s (begun %s)", code, aware)
    await repository.forget_new_item(
        code, linked_faq=None, faq_ids=None, faq_prefix=faq_prefix(code)
    )


def _is_duplicate_key(error: BaseException) -> bool:
    if isinstance(error, DuplicateKeyError):
        return True
    if isinstance(error, BulkWriteError):
        write_errors = error.details.get("writeErrors") or []
        return bool(write_errors) and all(e.get("code") == 11000 for e in write_errors)
    return False


async def _item_to_change(ctx: Context, repository: CatalogRepository, code: str) -> dict[str, Any]:
    """The current item, if the caller may change it (permission and department)."""
    principal = ctx.require("affairs.item.write")
    current = await repository.item(code)
    if current is None:
        raise NotFound(f"未找到事项 {code}")
    _check_department(principal, current["department_code"])
    return current


async def update_item(
    ctx: Context,
    code: str,
    patch: AffairItemPatch,
    expected_version: int | None,
    note: str | None,
) -> dict[str, Any]:
    repository = catalog_repository(ctx)
    current = await _item_to_change(ctx, repository, code)
    if current.get("status") == ItemStatus.CANCELLED.value:
        raise Conflict("已取消的事项不能修改 (a cancelled item cannot change)")
    if expected_version is not None and expected_version != current["version"]:
        raise Conflict(
            f"事项已更新到第 {current['version']} 版 (item is at version {current['version']})",
            extensions={"currentVersion": current["version"]},
        )
    changes = {k: v for k, v in plain(patch).items() if v is not None}
    if not changes:
        raise BadUserInput(
            "没有需要修改的内容 (nothing to change)", [FieldError("patch", "empty", "empty_patch")]
        )
    return await _next_version(
        ctx,
        repository,
        current,
        changes,
        change=VersionChange.CHANGED.value,
        note=note,
        validate=True,
    )


_TRANSITIONS = {
    ("active", "suspended"): VersionChange.SUSPENDED.value,
    ("active", "cancelled"): VersionChange.CANCELLED.value,
    ("suspended", "active"): VersionChange.RESTORED.value,
    ("suspended", "cancelled"): VersionChange.CANCELLED.value,
}


async def set_item_status(
    ctx: Context, code: str, status: ItemStatus, reason: str
) -> dict[str, Any]:
    repository = catalog_repository(ctx)
    current = await _item_to_change(ctx, repository, code)
    change = _TRANSITIONS.get((current["status"], status.value))
    if change is None:
        raise Conflict(
            f"事项状态不能从 {current['status']} 变为 {status.value} (transition not allowed)"
        )
    if not reason.strip():
        raise BadUserInput("请填写变更原因", [FieldError("reason", "required", "required")])
    return await _next_version(
        ctx,
        repository,
        current,
        {"status": status.value},
        change=change,
        note=reason,
        validate=False,
    )


async def _next_version(
    ctx: Context,
    repository: CatalogRepository,
    current: dict[str, Any],
    changes: dict[str, Any],
    *,
    change: str,
    note: str | None,
    validate: bool,
) -> dict[str, Any]:
    """Store ``current`` with ``changes`` as its next version (search texts recomputed)."""
    code = current["_id"]
    merged = {**current, **changes}
    context = await _item_context(ctx)
    faq = await repository.faq_for_items([code])
    if validate:
        _validate({**merged, "code": code}, context, has_faq=bool(faq))
    item = build_item(
        merged,
        context,
        code=code,
        version=int(current["version"]) + 1,
        revision=int(current.get("revision", 1)) + 1,
        location_codes=current.get("location_codes", []),
        faq_questions=[f["question"] for f in faq],
        updated_at=datetime.now(UTC),
        updated_by=ctx.principal.subject or "",
    )
    return await _commit(ctx, repository, item, int(current.get("revision", 1)), change, note)
