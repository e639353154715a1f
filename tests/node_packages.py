"""The Node.js packages the end-to-end tests run (tests/e2e/*/package.json, pinned by their
package-lock.json and installed by ``make test`` with ``npm ci``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

E2E = Path(__file__).parent / "e2e"


def node(package: Path) -> str:
    """The node binary, once ``package``'s modules are installed; else the test fails
    saying what is missing (these tests are never skipped)."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail(
            f"node not found: {package.name} runs under Node.js >= 20; install Node.js and "
            "npm, then `make test` (or `make e2e-deps`) installs the e2e packages",
            pytrace=False,
        )
    if not (package / "node_modules" / ".package-lock.json").exists():
        pytest.fail(
            f"{package.relative_to(E2E.parent.parent)}/node_modules is missing: run "
            "`make e2e-deps` (npm ci in each tests/e2e package; `make test` does it)",
            pytrace=False,
        )
    return binary


def run_script(package: Path, script: str, *args: str, timeout: float = 60) -> Any:
    """Run ``script`` of ``package`` under Node; its stdout is one JSON document."""
    run = subprocess.run(
        [node(package), script, *args],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
