"""`onestop serve --workers 2` on an empty database: one worker seeds (a lease in the
database), the other waits and finds everything seeded; both serve the seeded catalog.
Before the lease, the two collided on unique keys and the replica stopped."""

from __future__ import annotations

from typing import Any

import httpx
from harness import GatewayProcess, unique_db
from pymongo import MongoClient

ITEMS = "{ affairItems(first: 1) { totalCount } }"


def test_two_workers_seed_an_empty_database_once(start_gateway: Any, mongo_url: str) -> None:
    name = unique_db("workers")
    gateway: GatewayProcess = start_gateway({"ONESTOP_WORKERS": "2"}, db=name)
    totals = set()
    for _ in range(20):  # a connection each: the kernel hands them to either worker
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            answer = client.post("/graphql", json={"query": ITEMS}).json()
        totals.add(answer["data"]["affairItems"]["totalCount"])
    assert len(totals) == 1 and totals.pop() > 1000
    client: MongoClient[Any] = MongoClient(mongo_url)
    try:
        meta = client[name]["gateway_meta"]
        assert meta.find_one({"_id": "seeding"}) is None  # the lease was given back
        assert {"affairs", "cases", "wallet"} <= set(meta.find_one({"_id": "seeds"})["modules"])
    finally:
        client.close()
    assert "Traceback" not in gateway.log()
