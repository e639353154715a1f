"""Write side of the catalog: staff create and change items; every change is a new version.

The version record is written first and is unique per (code, version): of two
editors racing from the same version exactly one wins, the other gets CONFLICT
and nothing of theirs is stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from gateway.auth import Principal, Role
from gateway.context import Context
from gateway.errors import BadUserInput, Conflict, FieldError, Forbidden, NotFound
from modules.affairs.documents import (
    ItemContext,
    build_item,
    faq_search_fields,
    implementation_code,
    version_snapshot,
)
from modules.affairs.inputs import AffairItemInput, AffairItemPatch, plain
from modules.affairs.repository import (
    DEPARTMENTS,
    LICENSE_TYPES,
    THEMES,
    CatalogRepository,
)
from modules.affairs.rules import validate_item
from modules.affairs.search import SearchIndexer
from modules.affairs.service import directory
from modules.affairs.vocabulary import ItemStatus

__all__ = ["create_item", "set_item_status", "update_item"]

log = logging.getLogger("onestop.affairs")

CHANGE_TOPIC = "affairs.item.changed"


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
    reference = await directory(ctx).reference()
    return ItemContext(reference[DEPARTMENTS], reference[THEMES], reference[LICENSE_TYPES])


def _validate(fields: dict[str, Any], context: ItemContext, has_faq: bool) -> None:
    errors = validate_item(
        fields,
        departments=context.departments.keys(),
        themes={code: str(t["audience"]) for code, t in context.themes.items()},
        license_types=context.license_type_names.keys(),
        has_faq=has_faq,
    )
    if errors:
        raise BadUserInput("事项信息不符合一致性规则 (the item breaks consistency rules)", errors)


async def _commit(
    ctx: Context,
    repository: CatalogRepository,
    item: dict[str, Any],
    previous_revision: int | None,
    change: str,
    note: str | None,
) -> dict[str, Any]:
    snapshot = version_snapshot(item, change=change, note=note)
    try:
        await repository.insert_version(snapshot)
    except DuplicateKeyError:
        raise Conflict(
            "事项已被他人修改，请刷新后重试 (the item changed meanwhile; reload and retry)",
            extensions={"code_of_item": item["_id"]},
        ) from None
    if previous_revision is None:
        try:
            await repository.insert_item(item)
        except DuplicateKeyError:
            await repository.versions.delete_one({"_id": snapshot["_id"]})
            raise Conflict(f"事项 {item['_id']} 已存在 (item already exists)") from None
        stored = item
    else:
        updated = await repository.replace_item_if_revision(item["_id"], previous_revision, item)
        if updated is None:
            await repository.versions.delete_one({"_id": snapshot["_id"]})
            raise Conflict("事项已被他人修改，请刷新后重试 (the item changed meanwhile)")
        stored = updated
    await repository.reindex([(stored, SearchIndexer.terms(stored))])
    await directory(ctx).bump_generation()
    await ctx.bus.publish(
        CHANGE_TOPIC, {"code": item["_id"], "version": item["version"], "change": change}
    )
    log.info("affairs item %s now version %s (%s)", item["_id"], item["version"], change)
    return stored


async def create_item(ctx: Context, given: AffairItemInput) -> dict[str, Any]:
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
    repository = CatalogRepository(ctx.db)
    faq_codes = [c for c in given.faq_codes]
    _validate(fields, context, has_faq=bool(faq_codes or given.new_faq))
    if await repository.item(code) is not None:
        raise Conflict(f"事项 {code} 已存在 (item already exists)")
    now = datetime.now(UTC)
    new_faq = [
        {
            "_id": f"FAQ-{code[-9:]}-{index + 1:02d}",
            "question": entry.question.strip(),
            "answer": entry.answer.strip(),
            "department_code": given.department_code,
            "item_codes": [code],
            "theme_codes": list(given.theme_codes),
            "keywords": [],
            "sort_order": 9000 + index,
            **faq_search_fields(entry.question, entry.answer, []),
        }
        for index, entry in enumerate(given.new_faq)
    ]
    item = build_item(
        fields,
        context,
        code=code,
        version=1,
        revision=1,
        location_codes=[],
        faq_questions=[f["question"] for f in new_faq],
        updated_at=now,
        updated_by=principal.subject or "",
    )
    stored = await _commit(ctx, repository, item, None, "新增", given.note)
    await repository.insert_faq(new_faq)
    if faq_codes:
        await repository.link_faq(faq_codes, code)
    return stored


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
    repository = CatalogRepository(ctx.db)
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
        ctx, repository, current, changes, change="变更", note=note, validate=True
    )


_TRANSITIONS = {
    ("active", "suspended"): "暂停",
    ("active", "cancelled"): "取消",
    ("suspended", "active"): "恢复",
    ("suspended", "cancelled"): "取消",
}


async def set_item_status(
    ctx: Context, code: str, status: ItemStatus, reason: str
) -> dict[str, Any]:
    repository = CatalogRepository(ctx.db)
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
