"""One list of e-license types, the wallet's: the affairs catalogue's codes come from it, and
the wallet's seed files are what their generator makes of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness import ROOT, GatewayProcess

from modules.wallet.identifiers import check_character, identifier, identifier_valid
from modules.wallet.license_types import LICENSE_TYPES

DOMAIN_TYPES = {
    "居民身份证", "居民户口簿", "居住证", "营业执照", "机动车驾驶证", "机动车行驶证",
    "社会保障卡", "出生医学证明", "结婚证", "不动产权证书",
}  # fmt: skip


def test_the_catalogue_keeps_only_what_it_shows_of_the_wallets_types() -> None:
    catalogue = json.loads((ROOT / "seeds" / "affairs" / "license_types.json").read_text())
    assert catalogue == [
        {"code": s.code, "issuer_kind": s.issuer_kind, "name": s.name}
        for s in sorted(LICENSE_TYPES, key=lambda s: s.code)
    ]
    assert {s.name for s in LICENSE_TYPES} >= DOMAIN_TYPES
    items = json.loads((ROOT / "seeds" / "affairs" / "items.json").read_text())
    used = {
        entry["license_type"]
        for item in items
        for entry in item["materials"] + item["results"]
        if entry.get("license_type")
    }
    assert used <= {s.code for s in LICENSE_TYPES}


def test_the_wallet_seeds_are_what_the_generator_makes(tmp_path: Path) -> None:
    committed = {p.name: p.read_bytes() for p in (ROOT / "seeds" / "wallet").glob("*.json")}
    result = subprocess.run(
        [sys.executable, "scripts/seedgen/wallet.py", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.json")} == committed
    issuers = json.loads(committed["issuers.json"])
    assert {t for i in issuers for t in i["license_types"]} == {s.code for s in LICENSE_TYPES}


def test_identifiers_catch_a_typo_and_a_swap() -> None:
    made = identifier("11100000000013127D001", "114403000075454928", 42, 1)
    assert made.startswith("1.2.156.3005.2.11100000000013127D001.114403000075454928.00000042.1.")
    assert identifier_valid(made)
    body = made.rsplit(".", 1)[0]
    assert check_character(body.replace("00000042", "00000043")) != made[-1]
    assert check_character(body.replace("00000042", "00000024")) != made[-1]


def test_the_type_list_is_served(gateway: GatewayProcess) -> None:
    types = gateway.data("{ walletLicenseTypes { code name nationalCode issuerCodes } }")
    served = {t["code"]: t for t in types["walletLicenseTypes"]}
    assert len(served) == len(LICENSE_TYPES)
    assert served["ID_CARD"]["nationalCode"] == "11100000000013127D001"
