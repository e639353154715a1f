"""The kit is machinery every module may import, so it must import no module (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

KIT = Path(__file__).resolve().parents[3] / "gateway" / "kit"


def imported_names(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_kit_exists() -> None:
    assert (KIT / "__init__.py").is_file()


def test_no_kit_file_imports_a_module() -> None:
    offenders = {
        str(path.relative_to(KIT)): name
        for path in sorted(KIT.rglob("*.py"))
        for name in imported_names(path)
        if name == "modules" or name.startswith("modules.")
    }
    assert offenders == {}
