"""Fixtures for the affairs catalog: the committed seed files, read the way a reviewer would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "affairs"


def read_seed(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((SEEDS / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def seed_items() -> list[dict[str, Any]]:
    return read_seed("items")


@pytest.fixture(scope="session")
def seed_departments() -> dict[str, dict[str, Any]]:
    return {d["code"]: d for d in read_seed("departments")}


@pytest.fixture(scope="session")
def seed_locations() -> list[dict[str, Any]]:
    return read_seed("locations")


@pytest.fixture(scope="session")
def seed_faq() -> list[dict[str, Any]]:
    return read_seed("faq")
