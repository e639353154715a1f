"""秒批: per-item approval rules held as data, evaluated on submit.

Rules (``seeds/cases/instant_rules.json``, scripts/seedgen/cases_rules.py) are a closed set of
kinds, each checked against data already held — never against a human's judgement:

* ``identity_level`` — the applicant's verified identity level is at least ``at_least``;
* ``form_required`` — the form carries every one of ``fields``;
* ``form_pattern`` — the form's ``field`` matches ``pattern`` (e.g. a credit code's shape);
* ``form_in`` — the form's ``field`` is one of ``values`` (e.g. residence in the district);
* ``license`` — a valid e-license of ``type`` is in the applicant's wallet, asked through the
  wallet's published interface (``wallet.licenses``); without the wallet module the rule
  fails with that reason and the case takes the normal path.

All pass: the case is accepted, approved and its result issued within the submit request, the
rules recorded as the approving step. Any fails: the normal flow, the reasons kept on the case
and shown to the applicant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.auth import Principal
from gateway.context import Context
from gateway.registry import SeedContext
from modules.cases.repository import RuleRepository
from modules.wallet.interface import LICENSES, HeldLicenses

__all__ = ["Outcome", "evaluate", "load_rules"]


@dataclass(frozen=True)
class Outcome:
    rule: str  # what was checked, in words
    passed: bool
    reason: str | None = None


def describe(rule: Mapping[str, Any]) -> str:
    kind = rule["kind"]
    if kind == "identity_level":
        return f"实名等级 ≥ {rule['at_least']}"
    if kind == "form_required":
        return "表单填写: " + "、".join(rule["fields"])
    if kind == "form_pattern":
        return f"{rule['field']} 格式正确"
    if kind == "form_in":
        return f"{rule['field']} 为 " + "或".join(rule["values"])
    if kind == "license":
        return f"持有有效电子证照 {rule['type']}"
    return str(kind)


async def _check(
    ctx: Context, rule: Mapping[str, Any], principal: Principal, form: Mapping[str, Any]
) -> str | None:
    """None when the rule passes, else the reason."""
    kind = rule["kind"]
    if kind == "identity_level":
        if principal.identity_level < int(rule["at_least"]):
            return f"实名等级为 {principal.identity_level} (identity level too low)"
        return None
    if kind == "form_required":
        missing = [f for f in rule["fields"] if not str(form.get(f) or "").strip()]
        return f"未填写 {'、'.join(missing)} (missing)" if missing else None
    if kind == "form_pattern":
        value = str(form.get(rule["field"]) or "")
        return None if re.fullmatch(rule["pattern"], value) else f"{rule['field']} 格式不正确"
    if kind == "form_in":
        value = str(form.get(rule["field"]) or "")
        return None if value in rule["values"] else f"{rule['field']} 不符合 ({value or '空'})"
    if kind == "license":
        try:
            wallet = ctx.interface(LICENSES, HeldLicenses)  # type: ignore[type-abstract]
        except LookupError:
            return "电子证照核验暂不可用 (the wallet is not available)"
        if not await wallet.holds_valid(str(principal.subject), rule["type"]):
            return f"未持有有效电子证照 {rule['type']}"
        return None
    return f"未知规则 {kind} (unknown rule)"


async def evaluate(
    ctx: Context, item_code: str, principal: Principal, form: Mapping[str, Any]
) -> list[Outcome] | None:
    """The item's rules, each checked; None when the item has no rules."""
    rules = await RuleRepository(ctx.db).rules(item_code)
    if not rules:
        return None
    outcomes = []
    for rule in rules:
        reason = await _check(ctx, rule, principal, form)
        outcomes.append(Outcome(describe(rule), reason is None, reason))
    return outcomes


async def load_rules(seed: SeedContext) -> int:
    """Upsert the 秒批 rules from ``seeds/cases/instant_rules.json`` (idempotent)."""
    path = seed.seeds_dir / "instant_rules.json"
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    await RuleRepository(seed.db).replace_all(entries)
    return len(entries)
