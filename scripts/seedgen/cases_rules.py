"""Deterministic seed generator for the cases module: 秒批 rules and 一件事一次办 bundles.

Run from the repository root (after scripts/seedgen/affairs.py)::

    python3 scripts/seedgen/cases_rules.py

It (re)writes ``seeds/cases/bundles.json`` (life events as ordered items, found by name in the
catalog) and ``seeds/cases/instant_rules.json``: for every active item flagged 秒批 in
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
BUNDLES_OUT = ROOT / "seeds" / "cases" / "bundles.json"

# 一件事一次办: each life event's items in the order they are handled; an earlier item's
# e-license result is a material of later ones (出生医学证明 → 出生登记, 营业执照 → 刻章 …).
BUNDLES = (
    (
        "NEWBORN",
        "新生儿出生一件事",
        (
            "出生医学证明（首次签发）",
            "出生登记",
            "新生儿参加城乡居民基本医疗保险",
            "社会保障卡申领",
        ),
    ),
    (
        "START_BUSINESS",
        "开办企业一件事",
        ("有限责任公司设立登记", "印章刻制备案", "发票领用", "社会保险单位参保登记"),
    ),
    (
        "RETIREMENT",
        "退休一件事",
        ("退休审批（正常退休）", "企业职工基本养老金申领", "住房公积金退休提取"),
    ),
    (
        "RESALE_HOME",
        "二手房交易一件事",
        (
            "存量房买卖合同网签",
            "契税申报",
            "国有建设用地使用权及房屋所有权转移登记（存量房买卖）",
            "住房公积金购房提取",
        ),
    ),
)

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


def bundles(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {i["name"]: i["code"] for i in items if i["status"] == "active"}
    made = []
    for code, name, steps in BUNDLES:
        missing = [step for step in steps if step not in by_name]
        if missing:
            raise SystemExit(f"bundle {code}: no active item named {missing}")
        made.append({"code": code, "name": name, "item_codes": [by_name[s] for s in steps]})
    return made


def main() -> None:
    items = json.loads(ITEMS.read_text(encoding="utf-8"))
    BUNDLES_OUT.parent.mkdir(parents=True, exist_ok=True)
    BUNDLES_OUT.write_text(
        json.dumps(bundles(items), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
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
