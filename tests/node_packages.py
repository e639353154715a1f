"""The Node.js packages the end-to-end tests run (tests/e2e/*/package.json, pinned by their
package-lock.json and installed by ``make test`` with ``npm ci``)."""

from __future__ import annotations

import shutil
from pathlib import Path

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
