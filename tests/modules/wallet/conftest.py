"""Fixtures for the wallet: a second gateway on the same data whose clock is moved (a
presentation past its 180 s), and the wallet's GraphQL documents and helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from harness import GatewayProcess


@pytest.fixture(scope="session")
def later(gateway: GatewayProcess, start_gateway: Any) -> Callable[[int], GatewayProcess]:
    """A process on the same database, keys and signing key, its clock ``seconds`` ahead."""
    started: dict[int, GatewayProcess] = {}

    def ahead(seconds: int) -> GatewayProcess:
        if seconds not in started:
            started[seconds] = start_gateway(
                {
                    "ONESTOP_DATA_DIR": str(gateway.data_dir),
                    "ONESTOP_SEED_ON_START": "false",
                    "ONESTOP_CLOCK_OFFSET_SECONDS": str(seconds),
                },
                db=gateway.env["ONESTOP_MONGODB_DB"],
            )
        return started[seconds]

    return ahead
