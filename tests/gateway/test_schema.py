"""schema.graphql equals the composed schema; `onestop schema check` catches drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness import ROOT

from gateway.config import Settings
from gateway.registry import discover
from gateway.schema import build_schema, compose_with_core, schema_sdl


def test_committed_schema_equals_the_running_schema() -> None:
    schema = build_schema(compose_with_core(discover()), Settings())
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema_sdl(schema), "run `onestop schema export` and commit schema.graphql"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_schema_check_passes_on_the_committed_file() -> None:
    result = run_cli("schema", "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_fails_on_drift(tmp_path: Path) -> None:
    drifted = tmp_path / "schema.graphql"
    drifted.write_text((ROOT / "schema.graphql").read_text().replace("me: Viewer", "me: String"))
    result = run_cli("schema", "check", "--path", str(drifted))
    assert result.returncode == 1
    assert "-  me: String" in result.stdout and "+  me: Viewer" in result.stdout


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    schema = build_schema(compose_with_core(discover()), Settings())
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if name not in {"Query", "Mutation", "Subscription"} and not graphql_type.description:
            missing.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for argument_name, argument in getattr(field, "args", {}).items():
                if not argument.description:
                    missing.append(f"{name}.{field_name}({argument_name})")
        for value_name, value in getattr(graphql_type, "values", {}).items():
            if not value.description:
                missing.append(f"{name}.{value_name}")
    assert missing == []
