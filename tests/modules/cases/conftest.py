"""Fixtures for the cases module: a hall from the committed seeds, and gateways whose clock
is moved (the rules that depend on "now": booking windows, cancel deadlines, check-in)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from harness import GatewayProcess

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "affairs"


@pytest.fixture(scope="session")
def place() -> dict[str, Any]:
    """A street hall with 10 windows (10 places a slot) and an item it takes bookings for."""
    items = {i["code"]: i for i in json.loads((SEEDS / "items.json").read_text())}
    for location in json.loads((SEEDS / "locations.json").read_text()):
        if location["kind"] == "street_hall" and location["window_count"] == 10:
            codes = [
                c
                for c in location["item_codes"]
                if items[c]["appointment"] and items[c]["status"] == "active"
            ]
            if len(codes) >= 3:
                return {"location": location["code"], "items": codes, "by_code": items}
    raise AssertionError("the seeds have no 10-window street hall taking bookings")


@pytest.fixture(scope="session")
def later(gateway: GatewayProcess, start_gateway: Any) -> Any:
    """A second process on the same database and signing key whose clock is moved to a
    given instant: the rules that depend on "now" (cancel deadline, no-shows)."""
    started: dict[str, GatewayProcess] = {}

    def at(moment: datetime) -> GatewayProcess:
        offset = int((moment - datetime.now(moment.tzinfo)).total_seconds())
        key = str(offset // 60)
        if key not in started:
            started[key] = start_gateway(
                {
                    "ONESTOP_DATA_DIR": str(gateway.data_dir),
                    "ONESTOP_SEED_ON_START": "false",
                    "ONESTOP_CLOCK_OFFSET_SECONDS": str(offset),
                },
                db=gateway.env["ONESTOP_MONGODB_DB"],
            )
        return started[key]

    return at
