"""Deterministic seed generator for the wallet: issuers and sample holders.

Run from the repository root (after scripts/seedgen/affairs.py)::

    python3 scripts/seedgen/wallet.py

It (re)writes ``seeds/wallet/issuers.json`` — every department that issues an e-license type
(modules/wallet/license_types.py), named as in ``seeds/affairs/departments.json`` — and
``seeds/wallet/holders.json``: sample holders (two residents, one company) whose wallets the
seed loader fills with a license of every type of their kind. Keys are never seeds: each
issuer's key is made at first start (modules/wallet/keys.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from modules.wallet.license_types import LICENSE_TYPES  # noqa: E402

DEPARTMENTS = ROOT / "seeds" / "affairs" / "departments.json"
OUT = ROOT / "seeds" / "wallet"

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(region: str, born: str, sequence: str) -> str:
    body = region + born.replace("-", "") + sequence
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


PERSON_EXTENSION: dict[str, dict[str, str]] = {
    "ID_CARD": {
        "gender": "男",
        "ethnicity": "汉",
        "address": "广东省深圳市罗湖区东门街道湖贝路38号",
    },
    "HOUSEHOLD_REGISTER": {
        "household_number": "440303012345",
        "head_of_household": "本人",
        "relation": "户主",
        "address": "广东省深圳市罗湖区东门街道湖贝路38号",
    },
    "RESIDENCE_PERMIT": {"address": "广东省深圳市罗湖区桂园街道松园路12号"},
    "DRIVING_LICENSE": {
        "vehicle_class": "C1",
        "first_issued_on": "2012-07-16",
        "file_number": "440300123456",
    },
    "VEHICLE_LICENSE": {
        "plate_number": "粤B12345",
        "vehicle_type": "小型轿车",
        "model": "比亚迪汉",
        "registered_on": "2021-03-02",
    },
    "SOCIAL_SECURITY_CARD": {"bank": "中国建设银行", "bank_account": "6217003200012345678"},
    "BIRTH_CERTIFICATE": {
        "birth_place": "深圳市罗湖区人民医院",
        "mother_name": "李秀英",
        "father_name": "陈国强",
    },
    "MARRIAGE_CERT": {
        "registered_on": "2015-05-20",
        "spouse_name": "周丽",
        "spouse_id_number": "440303199002020027",
    },
    "REAL_ESTATE_CERT": {
        "location": "罗湖区翠竹街道翠竹路2001号3栋1201",
        "unit_number": "440303005001GB00012F00031201",
        "area": "89.6平方米",
        "use": "住宅",
        "right_type": "市场商品房",
    },
}
COMPANY_EXTENSION = {
    "BUSINESS_LICENSE": {
        "entity_type": "有限责任公司",
        "legal_representative": "陈晓明",
        "registered_capital": "100万元人民币",
        "established_on": "2019-08-08",
        "domicile": "深圳市罗湖区人民南路3012号",
    }
}

HOLDERS = [
    {
        "subject": "wallet-sample-chen",
        "kind": "person",
        "name": "陈晓明",
        "id": resident_id("440303", "1988-04-16", "031"),
        "extension": PERSON_EXTENSION,
    },
    {
        "subject": "wallet-sample-lin",
        "kind": "person",
        "name": "林美华",
        "id": resident_id("440303", "1995-11-02", "046"),
        "extension": {},
    },
    {
        "subject": "wallet-sample-company",
        "kind": "legal_person",
        "name": "深圳市罗湖区示例贸易有限公司",
        "id": "91440303MA5F000000",
        "extension": COMPANY_EXTENSION,
    },
]


def write(out: Path, name: str, data: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in data)
    (out / name).write_text(f"[\n{lines}\n]\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (default: seeds)")
    out = parser.parse_args().out
    names = {d["code"]: d["name"] for d in json.loads(DEPARTMENTS.read_text(encoding="utf-8"))}
    types_of: dict[str, list[str]] = {}
    for spec in LICENSE_TYPES:
        for issuer in spec.issuers:
            types_of.setdefault(issuer, []).append(spec.code)
    issuers = [
        {"code": code, "name": names[code], "license_types": sorted(types)}
        for code, types in sorted(types_of.items())
    ]
    write(out, "issuers.json", issuers)
    write(out, "holders.json", HOLDERS)


if __name__ == "__main__":
    main()
