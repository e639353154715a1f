"""Consistency check of the generated affairs seed (``seeds/affairs/*.json``).

Run from the repository root after ``python3 scripts/seedgen/affairs.py``::

    python3 scripts/seedgen/check_affairs.py

Prints the published-ratio table and exits non-zero when any rule is violated.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections import Counter
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEED_DIR = os.path.join(REPO, "seeds", "affairs")
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from affairs_locations_data import ADJACENT_STREETS, STREETS  # noqa: E402

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
FILES = (
    "departments",
    "lifecycle_groups",
    "themes",
    "license_types",
    "items",
    "locations",
    "faq",
    "synonyms",
)
AUDIENCES = {
    "natural_person",
    "enterprise_legal_person",
    "public_institution_legal_person",
    "social_organization_legal_person",
    "unincorporated_enterprise",
    "administrative_organ",
    "other_organization",
}
TYPE_CODES = {"01", "04", "05", "06", "07", "08", "09", "10", "20"}
POWER_SOURCES = {
    "statutory",
    "delegated_from_higher",
    "authorized_by_higher",
    "entrusted_by_peer",
    "entrusted_by_higher",
}
SCOPES = {"none", "district", "city", "province", "cross_province", "national"}
STREET_NAMES = {s[1] for s in STREETS}
LOCATION_COUNTS = {
    "district_hall": (1, 1),
    "sub_hall": (4, 4),
    "street_hall": (10, 10),
    "community_center": (83, 83),
    "bank_branch": (17, 17),
    "self_service_terminal": (25, 35),
}
STEP_NAMES = {"受理", "审核", "审批", "办结", "送达"}
PHONE = re.compile(r"^(0755-2\d{7}|12345)$")


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.errors.append(message)

    def each(self, rows: list[dict[str, Any]], label: str, rule: str, predicate: Any) -> None:
        bad = [r.get("code") or r.get("term") for r in rows if not predicate(r)]
        if bad:
            sample = ", ".join(str(b) for b in bad[:5])
            self.errors.append(f"{label}: {rule} ({len(bad)} violations, e.g. {sample})")


def uscc_valid(code: str) -> bool:
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31] == code[17]


def load() -> dict[str, list[dict[str, Any]]]:
    data = {}
    for name in FILES:
        path = os.path.join(SEED_DIR, f"{name}.json")
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        rows = json.loads(text)
        expected = (
            "[\n"
            + ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows)
            + "\n]\n"
        )
        if text != expected:
            raise SystemExit(f"{name}.json is not in the one-object-per-line canonical format")
        data[name] = rows
    return data


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def main() -> int:
    data = load()
    c = Checker()
    depts, themes, licenses = data["departments"], data["themes"], data["license_types"]
    items, locations, faqs = data["items"], data["locations"], data["faq"]
    groups, synonyms = data["lifecycle_groups"], data["synonyms"]

    # ordering and uniqueness of every file
    for name, rows in data.items():
        key = "term" if name == "synonyms" else "code"
        keys = [r[key] for r in rows]
        c.check(keys == sorted(keys), f"{name}.json is not sorted by {key}")
        c.check(len(set(keys)) == len(keys), f"{name}.json has duplicate {key}s")

    # departments
    dept_codes = {d["code"] for d in depts}
    c.check(len(depts) == 25, f"expected 25 departments, got {len(depts)}")
    kinds = Counter(d["kind"] for d in depts)
    c.check(kinds == {"district_department": 21, "resident_unit": 4}, f"department kinds {kinds}")
    c.each(depts, "departments", "USCC check character valid", lambda d: uscc_valid(d["code"]))
    c.each(
        depts,
        "departments",
        "district organs start 11440303",
        lambda d: d["kind"] != "district_department" or d["code"].startswith("11440303"),
    )
    c.each(
        depts,
        "departments",
        "consult phone differs from complaint phone",
        lambda d: d["phone"] != d["complaint_phone"],
    )
    c.each(
        depts,
        "departments",
        "phones are 0755-2xxxxxxx",
        lambda d: PHONE.match(d["phone"]) and PHONE.match(d["complaint_phone"]),
    )

    # lifecycle groups and themes
    group_audience = {g["code"]: g["audience"] for g in groups}
    c.check(len(groups) == 16, f"expected 16 lifecycle groups, got {len(groups)}")
    theme_audience = {t["code"]: t["audience"] for t in themes}
    theme_counts = Counter(t["audience"] for t in themes)
    c.check(theme_counts == {"person": 30, "legal_person": 33}, f"theme counts {theme_counts}")
    c.each(
        themes,
        "themes",
        "lifecycle group exists with the same audience",
        lambda t: group_audience.get(t["lifecycle_group"]) == t["audience"],
    )
    license_codes = {lt["code"] for lt in licenses}
    c.check(28 <= len(licenses) <= 40, f"license type count {len(licenses)}")

    # items ------------------------------------------------------------------------------------
    n = len(items)
    c.check(n == 1202, f"expected exactly 1202 items, got {n}")
    names = [i["name"] for i in items]
    c.check(len(set(names)) == n, "item names are not unique")
    c.each(
        items,
        "items",
        "basic_code is 12 digits starting with the type code",
        lambda i: (
            re.fullmatch(r"\d{12}", i["basic_code"]) and i["basic_code"][:2] == i["type_code"]
        ),
    )
    c.each(
        items,
        "items",
        "code = basic_code + 440303 + body USCC + 3 digits",
        lambda i: (
            i["code"]
            == i["basic_code"] + "440303" + i["implementing_body"]["code"] + i["code"][-3:]
            and i["code"][-3:].isdigit()
        ),
    )
    c.each(items, "items", "type code known", lambda i: i["type_code"] in TYPE_CODES)
    c.each(items, "items", "department resolves", lambda i: i["department_code"] in dept_codes)
    c.each(
        items,
        "items",
        "implementing body is the department",
        lambda i: i["implementing_body"]["code"] == i["department_code"],
    )
    c.each(
        items,
        "items",
        "status known",
        lambda i: i["status"] in ("active", "suspended", "cancelled"),
    )
    c.each(items, "items", "power source known", lambda i: i["power_source"] in POWER_SOURCES)
    c.each(
        items,
        "items",
        "entrusted power names the entrusting department",
        lambda i: (i["power_source"].startswith("entrusted")) == bool(i["entrusted_department"]),
    )
    c.each(
        items,
        "items",
        "audiences non-empty and known",
        lambda i: i["audiences"] and set(i["audiences"]) <= AUDIENCES,
    )
    c.each(
        items,
        "items",
        "instant <=> handling_type instant",
        lambda i: i["instant"] == (i["handling_type"] == "instant"),
    )
    c.each(
        items,
        "items",
        "instant => promised 0",
        lambda i: i["handling_type"] != "instant" or i["promised_limit_days"] == 0,
    )
    c.each(
        items,
        "items",
        "promised => 1 <= promised <= legal",
        lambda i: (
            i["handling_type"] != "promised"
            or 1 <= i["promised_limit_days"] <= i["legal_limit_days"]
        ),
    )
    c.each(items, "items", "legal limit >= 1", lambda i: i["legal_limit_days"] >= 1)
    c.each(items, "items", "visits in {0,1}", lambda i: i["visits"] in (0, 1))
    c.each(
        items,
        "items",
        "visits > 0 => visit_reason",
        lambda i: i["visits"] == 0 or (i["visit_reason"] or "").strip(),
    )
    c.each(
        items,
        "items",
        "visits == 0 => no visit_reason",
        lambda i: i["visits"] > 0 or i["visit_reason"] is None,
    )
    c.each(
        items,
        "items",
        "zero_visit <=> visits == 0",
        lambda i: i["zero_visit"] == (i["visits"] == 0),
    )
    c.each(items, "items", "max_one_visit", lambda i: i["max_one_visit"] and i["visits"] <= 1)
    c.each(
        items,
        "items",
        "charged <=> fees with basis",
        lambda i: i["charged"] == bool(i["fees"]) and all(f["basis"].strip() for f in i["fees"]),
    )
    c.each(
        items,
        "items",
        "consult phone differs from complaint phone",
        lambda i: i["consult_phone"] != i["complaint_phone"],
    )
    c.each(
        items,
        "items",
        "tolerates_missing <=> a tolerated material",
        lambda i: (
            i["tolerates_missing"] == any(m["necessity"] == "tolerated" for m in i["materials"])
        ),
    )
    c.each(
        items,
        "items",
        "tolerated materials are secondary",
        lambda i: all(
            not (
                m["necessity"] == "tolerated"
                and (
                    m["name"].startswith("《")
                    or "居民身份证" in m["name"]
                    or m["source"] == "government"
                )
            )
            for m in i["materials"]
        ),
    )
    c.each(
        items,
        "items",
        "no_meeting => zero visits and depth 4",
        lambda i: not i["no_meeting"] or (i["visits"] == 0 and i["online_depth"] == 4),
    )
    c.each(
        items,
        "items",
        "instant_approval => instant, depth 4, zero visits",
        lambda i: (
            not i["instant_approval"]
            or (i["handling_type"] == "instant" and i["online_depth"] == 4 and i["visits"] == 0)
        ),
    )
    c.each(
        items, "items", "online <=> depth >= 3", lambda i: i["online"] == (i["online_depth"] >= 3)
    )
    c.each(items, "items", "online depth 1..4", lambda i: i["online_depth"] in (1, 2, 3, 4))
    c.each(
        items,
        "items",
        "district_wide <=> scope != none",
        lambda i: (
            i["handling_scope"] in SCOPES and i["district_wide"] == (i["handling_scope"] != "none")
        ),
    )
    c.each(
        items,
        "items",
        "handling forms consistent",
        lambda i: (
            i["handling_forms"]
            and set(i["handling_forms"]) <= {"window", "online", "mail"}
            and (not i["online"] or "online" in i["handling_forms"])
            and (not i["mail_delivery"] or "mail" in i["handling_forms"])
        ),
    )
    c.each(items, "items", "1-8 materials", lambda i: 1 <= len(i["materials"]) <= 8)
    c.each(
        items,
        "items",
        "government materials name a known e-license",
        lambda i: all(
            m["source"] != "government" or m["license_type"] in license_codes
            for m in i["materials"]
        ),
    )
    c.each(
        items,
        "items",
        "material license types known",
        lambda i: all(
            m["license_type"] is None or m["license_type"] in license_codes for m in i["materials"]
        ),
    )
    c.each(
        items,
        "items",
        "no photocopies when no_photocopy",
        lambda i: not i["no_photocopy"] or all(m["photocopies"] == 0 for m in i["materials"]),
    )
    c.each(
        items,
        "items",
        "1-2 results with known license types",
        lambda i: (
            1 <= len(i["results"]) <= 2
            and all(
                r["type"] in ("license", "approval", "other")
                and (r["license_type"] is None or r["license_type"] in license_codes)
                for r in i["results"]
            )
        ),
    )
    c.each(
        items,
        "items",
        "steps ordered and within the promised limit",
        lambda i: (
            i["steps"]
            and {s["name"] for s in i["steps"]} <= STEP_NAMES
            and i["steps"][0]["name"] == "受理"
            and sum(s["limit_days"] for s in i["steps"]) <= max(i["promised_limit_days"], 0)
        ),
    )
    c.each(items, "items", "legal basis present", lambda i: i["legal_basis"])
    c.each(
        items,
        "items",
        "0-3 known themes",
        lambda i: len(i["theme_codes"]) <= 3 and all(t in theme_audience for t in i["theme_codes"]),
    )
    c.each(
        items,
        "items",
        "person themes only on natural-person items",
        lambda i: all(
            theme_audience.get(t) != "person" or "natural_person" in i["audiences"]
            for t in i["theme_codes"]
        ),
    )
    c.each(
        items,
        "items",
        "legal-person themes only on organisation items",
        lambda i: all(
            theme_audience.get(t) != "legal_person" or set(i["audiences"]) - {"natural_person"}
            for t in i["theme_codes"]
        ),
    )
    c.each(items, "items", "0-5 keywords", lambda i: len(i["keywords"]) <= 5)
    c.each(
        items,
        "items",
        "annual volume a positive whole number",
        lambda i: isinstance(i.get("annual_volume"), int) and i["annual_volume"] > 0,
    )
    busiest = sorted(items, key=lambda i: -i["annual_volume"])[:50]
    c.check(
        all(
            "natural_person" in i["audiences"] or i["type_code"] in ("04", "10", "20")
            for i in busiest
        )
        and not any(i["type_code"] in ("02", "03", "06") for i in busiest),
        "the 50 busiest items should be what people and businesses apply for, not inspections",
    )
    c.each(
        items, "items", "derived flags", lambda i: i["instant"] == (i["handling_type"] == "instant")
    )
    c.each(items, "items", "version 1", lambda i: i["version"] == 1)

    # FAQ ----------------------------------------------------------------------------------------
    item_codes = {i["code"] for i in items}
    c.check(len(faqs) == 146, f"expected exactly 146 FAQ entries, got {len(faqs)}")
    c.each(faqs, "faq", "department resolves", lambda f: f["department_code"] in dept_codes)
    c.each(
        faqs,
        "faq",
        "item codes non-empty and resolve",
        lambda f: f["item_codes"] and set(f["item_codes"]) <= item_codes,
    )
    c.each(
        faqs, "faq", "theme codes resolve", lambda f: set(f["theme_codes"]) <= set(theme_audience)
    )
    c.each(
        faqs,
        "faq",
        "question and answer present",
        lambda f: f["question"].strip() and len(f["answer"]) >= 30,
    )
    faq_items = {code for f in faqs for code in f["item_codes"]}
    c.each(
        items,
        "items",
        "licensing item has a FAQ",
        lambda i: i["type_code"] != "01" or i["code"] in faq_items,
    )

    # synonyms -----------------------------------------------------------------------------------
    c.check(len(synonyms) >= 300, f"expected at least 300 everyday words, got {len(synonyms)}")
    c.each(
        synonyms,
        "synonyms",
        "every expansion occurs in some item name",
        lambda s: s["expansions"] and all(any(e in n for n in names) for e in s["expansions"]),
    )

    # locations ----------------------------------------------------------------------------------
    kinds = Counter(loc["kind"] for loc in locations)
    for kind, (low, high) in LOCATION_COUNTS.items():
        c.check(
            low <= kinds.get(kind, 0) <= high, f"{kind}: {kinds.get(kind, 0)} not in {low}-{high}"
        )
    c.check(
        {loc["street"] for loc in locations if loc["kind"] == "street_hall"} == STREET_NAMES,
        "every street must have a street hall",
    )
    c.each(locations, "locations", "street known", lambda loc: loc["street"] in STREET_NAMES)
    c.each(
        locations,
        "locations",
        "inside Luohu's bounding box",
        lambda loc: 22.53 <= loc["lat"] <= 22.61 and 114.09 <= loc["lng"] <= 114.19,
    )
    c.each(
        locations,
        "locations",
        "item codes resolve",
        lambda loc: set(loc["item_codes"]) <= item_codes,
    )
    c.each(
        locations,
        "locations",
        "terminals always open 00:00-24:00",
        lambda loc: (
            loc["kind"] != "self_service_terminal"
            or (
                loc["always_open"]
                and loc["opening_hours"]
                == [{"days": [1, 2, 3, 4, 5, 6, 7], "open": "00:00", "close": "24:00"}]
            )
        ),
    )
    c.each(
        locations,
        "locations",
        "bank name iff bank branch",
        lambda loc: (loc["kind"] == "bank_branch") == bool(loc["bank"]),
    )
    by_code = {i["code"]: i for i in items}
    active_codes = {i["code"] for i in items if i["status"] == "active"}
    hall = [loc for loc in locations if loc["kind"] == "district_hall"]
    if hall:
        hall_codes = set(hall[0]["item_codes"])
        expected = {i["code"] for i in items if i["in_hall"]}
        c.check(hall_codes == expected, "district hall must list every in-hall item")
        c.check(
            not any(i["in_hall"] for i in items if i["status"] == "cancelled"),
            "cancelled items cannot be in the hall",
        )
        c.check(
            hall[0]["window_count"] == 35 and hall[0]["back_office_posts"] == 36,
            "district hall has 35 windows and 36 back-office posts",
        )
    wide_codes = {i["code"] for i in items if i["district_wide"] and i["status"] == "active"}
    for loc in locations:
        codes = set(loc["item_codes"])
        if loc["kind"] != "district_hall":
            c.check(codes <= active_codes, f"{loc['code']} lists inactive items")
        if loc["kind"] == "street_hall":
            c.check(wide_codes <= codes, f"{loc['code']} misses district-wide items")
            c.check(150 <= len(codes) <= 300, f"{loc['code']} has {len(codes)} items")
        if loc["kind"] == "community_center":
            c.check(30 <= len(codes) <= 120, f"{loc['code']} has {len(codes)} items")
            c.check(
                all("natural_person" in by_code[x]["audiences"] for x in codes),
                f"{loc['code']} lists items not open to persons",
            )
        if loc["kind"] == "self_service_terminal":
            c.check(20 <= len(codes) <= 80, f"{loc['code']} has {len(codes)} items")
            c.check(
                all(by_code[x]["self_service"] for x in codes),
                f"{loc['code']} lists items that are not self-service",
            )
    banks = [loc for loc in locations if loc["kind"] == "bank_branch"]
    bank_union = {x for loc in banks for x in loc["item_codes"]}
    c.check(len(bank_union) == 340, f"bank branches handle {len(bank_union)} items, expected 340")
    bank_depts = {by_code[x]["department_code"] for x in bank_union}
    c.check(len(bank_depts) >= 24, f"bank items come from only {len(bank_depts)} departments")

    # geography: the nearest hall of every place lies in its street or a neighbouring one
    halls = [
        loc for loc in locations if loc["kind"] in ("district_hall", "sub_hall", "street_hall")
    ]
    centres = {s[1]: s[2] for s in STREETS}
    for loc in locations:
        allowed = {loc["street"], *ADJACENT_STREETS[loc["street"]]}
        nearest = min(
            halls, key=lambda h: math.dist((h["lat"], h["lng"]), (loc["lat"], loc["lng"]))
        )
        c.check(
            nearest["street"] in allowed,
            f"{loc['code']} ({loc['street']}): nearest hall {nearest['code']} "
            f"is in {nearest['street']}",
        )
        centre = min(centres, key=lambda s: math.dist(centres[s], (loc["lat"], loc["lng"])))
        c.check(centre in allowed, f"{loc['code']} ({loc['street']}) lies nearer to {centre}")

    # ratio table --------------------------------------------------------------------------------
    online = sum(i["online"] for i in items)
    zero = sum(i["zero_visit"] for i in items)
    instant = sum(i["instant"] for i in items)
    wide = sum(i["district_wide"] for i in items)
    no_meeting = sum(i["no_meeting"] for i in items)
    tolerates = sum(i["tolerates_missing"] for i in items)
    no_copy = sum(i["no_photocopy"] for i in items)
    approval = sum(i["instant_approval"] for i in items)
    in_hall = sum(i["in_hall"] for i in items)
    promised = [i for i in items if i["handling_type"] == "promised"]
    licensing = [i for i in promised if i["type_code"] == "01"]

    def compression(rows: list[dict[str, Any]]) -> float:
        return (
            100.0
            * sum(1 - i["promised_limit_days"] / i["legal_limit_days"] for i in rows)
            / len(rows)
        )

    avg_all, avg_lic = compression(promised), compression(licensing)
    status = Counter(i["status"] for i in items)
    rows = [
        ("items", n, 100.0, "1202"),
        ("online (depth >= 3)", online, pct(online, n), "95-97.5%"),
        ("zero visit (零跑动)", zero, pct(zero, n), "70-75%"),
        ("at most one visit", sum(i["max_one_visit"] for i in items), 100.0, "100%"),
        ("instant (即办件)", instant, pct(instant, n), "31-35%"),
        ("instant approval (秒批)", approval, pct(approval, n), "~5%"),
        ("district-wide (区内通办)", wide, pct(wide, n), "195-210"),
        ("no meeting (不见面审批)", no_meeting, pct(no_meeting, n), "200-210"),
        ("tolerates missing (容缺受理)", tolerates, pct(tolerates, n), "205-215"),
        ("no photocopy (免复印)", no_copy, pct(no_copy, n), "95-107"),
        ("self-service terminal", sum(i["self_service"] for i in items), None, ""),
        ("charged", sum(i["charged"] for i in items), None, "few"),
        ("in hall (进驻大厅)", in_hall, pct(in_hall, n), "most"),
        ("status active", status["active"], pct(status["active"], n), ">= 98%"),
        (
            "status suspended / cancelled",
            status["suspended"] + status["cancelled"],
            None,
            f"{status['suspended']} / {status['cancelled']}",
        ),
        ("avg compression, promised items", len(promised), avg_all, "> 50%"),
        ("avg compression, licensing items", len(licensing), avg_lic, "65-78%"),
    ]
    print(f"{'ratio':36} {'count':>6} {'percent':>8}  target")
    for label, count, percent, target in rows:
        shown = f"{percent:7.1f}%" if percent is not None else " " * 8
        print(f"{label:36} {count:6d} {shown}  {target}")
    types = Counter(i["type_code"] for i in items)
    print(
        "type codes: "
        + ", ".join(f"{t} {types[t]} ({pct(types[t], n):.1f}%)" for t in sorted(types))
    )
    print("locations: " + ", ".join(f"{k} {kinds[k]}" for k in LOCATION_COUNTS))
    print(
        f"faq: {len(faqs)} entries, synonyms: {len(synonyms)}, departments: {len(depts)}, "
        f"themes: {len(themes)}, license types: {len(licenses)}"
    )

    c.check(95.0 <= pct(online, n) <= 97.5, "online ratio out of range")
    c.check(70.0 <= pct(zero, n) <= 75.0, "zero-visit ratio out of range")
    c.check(31.0 <= pct(instant, n) <= 35.0, "instant ratio out of range")
    c.check(195 <= wide <= 210, "district-wide count out of range")
    c.check(200 <= no_meeting <= 210, "no-meeting count out of range")
    c.check(205 <= tolerates <= 215, "tolerates-missing count out of range")
    c.check(95 <= no_copy <= 107, "no-photocopy count out of range")
    c.check(avg_all > 50.0, "average compression over promised items must exceed 50%")
    c.check(65.0 <= avg_lic <= 78.0, "licensing compression out of range")
    c.check(pct(status["active"], n) >= 98.0, "fewer than 98% of items are active")
    c.check(
        status["suspended"] > 0 and status["cancelled"] > 0,
        "need some suspended and cancelled items",
    )

    if c.errors:
        print(f"\n{len(c.errors)} violation(s):", file=sys.stderr)
        for error in c.errors:
            print(f"  - {error}", file=sys.stderr)
        return 1
    print("\nall affairs seed checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
