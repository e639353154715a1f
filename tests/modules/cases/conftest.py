"""Fixtures for the cases module: a hall from the committed seeds, and gateways whose clock
is moved (the rules that depend on "now": booking windows, cancel deadlines, check-in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from cases_client import hall_taking_bookings
from harness import GatewayProcess


@pytest.fixture(scope="session")
def place() -> dict[str, Any]:
    """A street hall with 10 windows (10 places a slot) and items it takes bookings for."""
    return hall_taking_bookings()


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
