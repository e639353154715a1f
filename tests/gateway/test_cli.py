"""The `onestop` CLI: seed (idempotent), token, schema export to stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt
from harness import ROOT, unique_db
from pymongo import MongoClient


def onestop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_seed_is_idempotent_and_keeps_staff_edits(mongo_url: str, tmp_path: Path) -> None:
    db_name = unique_db("seed")
    env = {
        "ONESTOP_MONGODB_URL": mongo_url,
        "ONESTOP_MONGODB_DB": db_name,
        "ONESTOP_DATA_DIR": str(tmp_path),
        "ONESTOP_LOG_LEVEL": "WARNING",
        # The month of case history (20,000 cases) doubles the time of each seed here; its
        # loading is checked by tests/modules/cases/test_statistics.py.
        "ONESTOP_SEED_HISTORY": "false",
    }
    first = onestop("seed", env=env)
    assert first.returncode == 0, first.stderr
    assert "affairs:" in first.stdout
    client: MongoClient = MongoClient(mongo_url)
    try:
        db = client[db_name]
        assert db.affairs_items.count_documents({}) == 1202
        edited = db.affairs_items.find_one({"status": "active"})
        # Simulate a staff edit: version 2 must survive re-seeding untouched.
        db.affairs_items.update_one(
            {"_id": edited["_id"]}, {"$set": {"name": "已编辑", "version": 2, "updated_by": "s1"}}
        )
        second = onestop("seed", env=env)
        assert second.returncode == 0, second.stderr
        assert db.affairs_items.count_documents({}) == 1202
        assert db.affairs_item_versions.count_documents({}) == 1202
        assert db.affairs_items.find_one({"_id": edited["_id"]})["name"] == "已编辑"
        assert db.affairs_departments.count_documents({}) == 25
        assert db.gateway_meta.find_one({"_id": "seeds"})["modules"]["affairs"]["documents"] > 0
    finally:
        client.drop_database(db_name)
        client.close()


def test_token_command_mints_a_verifiable_token(tmp_path: Path) -> None:
    result = onestop(
        "token",
        "--sub",
        "staff-9",
        "--role",
        "staff",
        "--department",
        "D9",
        "--identity-level",
        "3",
        env={"ONESTOP_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "staff-9" and claims["roles"] == ["staff"]
    assert claims["dept"] == "D9" and claims["ial"] == 3 and claims["typ"] == "access"
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    bad = onestop(
        "token", "--sub", "x", "--role", "emperor", env={"ONESTOP_DATA_DIR": str(tmp_path)}
    )
    assert bad.returncode != 0 and "unknown role" in bad.stderr


def test_schema_export_to_stdout_matches_the_file() -> None:
    result = onestop("schema", "export", "--output", "-")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "schema.graphql").read_text(encoding="utf-8")
