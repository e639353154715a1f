"""Deterministic seed generator for the cases module's 秒批 rules.

Run from the repository root (after scripts/seedgen/affairs.py)::

    python3 scripts/seedgen/cases_rules.py

It (re)writes ``seeds/cases/instant_rules.json``: for every active item flagged 秒批 in
``seeds/affairs/items.json``, the rules that approve it without a human step, as data. An
enterprise item (one that asks for the business licence) checks the form's enterprise data and
the business licence in the applicant's wallet; a personal item checks that the applicant is
face-verified (实人, identity level 3: the registry's data is then held) and lives in the
district. Output depends only on the items file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ROOT / "seeds" / "affairs" / "items.json"
OUT = ROOT / "seeds" / "cases" / "instant_rules.json"

# 统一社会信用代码 (GB 32100-2015): 18 characters, no I, O, S, V, Z.
USCC = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def rules_for(item: dict[str, Any]) -> list[dict[str, Any]]:
    licenses = {m.get("license_type") for m in item["materials"] if m.get("license_type")}
    if "BUSINESS_LICENSE" in licenses:
        return [
            {"kind": "identity_level", "at_least": 2},
            {"kind": "form_required", "fields": ["企业名称", "统一社会信用代码"]},
            {"kind": "form_pattern", "field": "统一社会信用代码", "pattern": USCC},
            {"kind": "license", "type": "BUSINESS_LICENSE"},
        ]
    return [
        {"kind": "identity_level", "at_least": 3},
        {"kind": "form_required", "fields": ["户籍所在区"]},
        {"kind": "form_in", "field": "户籍所在区", "values": ["罗湖区"]},
    ]


def main() -> None:
    items = json.loads(ITEMS.read_text(encoding="utf-8"))
    rules = [
        {"item_code": item["code"], "rules": rules_for(item)}
        for item in sorted(items, key=lambda i: i["code"])
        if item.get("instant_approval") and item["status"] == "active"
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rules, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(rules)} items")


if __name__ == "__main__":
    main()
