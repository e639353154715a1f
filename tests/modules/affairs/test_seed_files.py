"""The committed seed files are exactly what the generator produces, and pass the checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness import ROOT

SEEDS = ROOT / "seeds" / "affairs"


def test_generator_reproduces_the_committed_seed_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "scripts/seedgen/affairs.py", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    committed = sorted(p.name for p in SEEDS.glob("*.json"))
    assert sorted(p.name for p in tmp_path.glob("*.json")) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (SEEDS / name).read_bytes(), name


def test_seed_checker_passes() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/seedgen/check_affairs.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all affairs seed checks passed" in result.stdout
