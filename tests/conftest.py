"""Session-wide real servers; see harness.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import GatewayProcess, OwnGateway, RedisServer, unique_db
from pymongo import MongoClient

from gateway.embedded import EmbeddedMongo


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("ONESTOP_TEST_MONGODB_URL")
    if external:
        yield external
        return
    with EmbeddedMongo(tmp_path_factory.mktemp("mongo")) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("ONESTOP_TEST_REDIS_URL")
    if external:
        yield external
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


StartGateway = Callable[..., GatewayProcess]


@pytest.fixture(scope="session")
def start_gateway(
    tmp_path_factory: pytest.TempPathFactory, mongo_url: str, redis_url: str
) -> Iterator[StartGateway]:
    """Start extra gateways (own database unless given); all stopped at session end."""
    started: list[GatewayProcess] = []

    def start(env: dict[str, str] | None = None, *, db: str | None = None) -> GatewayProcess:
        settings = {
            "ONESTOP_MONGODB_URL": mongo_url,
            "ONESTOP_MONGODB_DB": db or unique_db(),
            "ONESTOP_REDIS_URL": redis_url,
            **(env or {}),
        }
        gateway = GatewayProcess(tmp_path_factory.mktemp("gateway"), settings)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture(scope="session")
def gateway(start_gateway: StartGateway) -> GatewayProcess:
    """The default gateway: every built-in module, dev settings, seeded database."""
    return start_gateway(db=unique_db("onestop"))


@pytest.fixture(scope="module")
def own_gateway(
    start_gateway: StartGateway, mongo_url: str, request: pytest.FixtureRequest
) -> Iterator[OwnGateway]:
    """For test files that write to or inspect the database directly: nothing they do
    can disturb the other files' shared gateway."""
    name = unique_db(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20])
    gateway = start_gateway(db=name)
    client: MongoClient[Any] = MongoClient(mongo_url, tz_aware=True)
    try:
        yield OwnGateway(gateway, client[name])
    finally:
        client.close()


# Subscription tests: a small cap per socket and fast pings, to see both in seconds.
REPLICA_SETTINGS = {
    "ONESTOP_SUBSCRIPTIONS_PER_CONNECTION": "3",
    "ONESTOP_WS_KEEPALIVE_SECONDS": "1",
}


@pytest.fixture(scope="session")
def replicas(start_gateway: StartGateway) -> tuple[GatewayProcess, GatewayProcess]:
    """Two processes on one seeded database of their own (these tests edit items), one
    Redis and one signing key."""
    db = unique_db("subscriptions")
    first = start_gateway(REPLICA_SETTINGS, db=db)
    second = start_gateway(
        {
            **REPLICA_SETTINGS,
            "ONESTOP_DATA_DIR": str(first.data_dir),
            "ONESTOP_SEED_ON_START": "false",
        },
        db=db,
    )
    return first, second


@pytest.fixture(scope="session")
def external_module_path() -> Path:
    return Path(__file__).parent / "fixtures" / "external"


@pytest.fixture(scope="session")
def weather_gateway(start_gateway: StartGateway, external_module_path: Path) -> GatewayProcess:
    """A gateway with the third-party `weather` module on its path."""
    pythonpath = os.pathsep.join(
        p for p in (str(external_module_path), os.environ.get("PYTHONPATH", "")) if p
    )
    return start_gateway({"PYTHONPATH": pythonpath})


def pytest_configure(config: Any) -> None:
    # Subprocess gateways import `gateway` from the checkout even without an install.
    root = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p
    )
