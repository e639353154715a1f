"""Modules' periodic jobs (``Runtime.every``): started by start-up hooks, which run under the
start-up deadline — a job must not inherit it, or after 15 minutes every database call of the
job (the overdue sweep, the wallet's expiry reminders) would time out for good."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pymongo
from pymongo import AsyncMongoClient

from gateway.runtime import Runtime


async def test_a_periodic_job_outlives_the_start_up_deadline(mongo_url: str) -> None:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    outcomes: list[str] = []

    async def job(_: Any) -> None:
        await asyncio.sleep(0.4)  # past the deadline of the hook that started it
        try:
            await client.admin.command("ping")
            outcomes.append("ok")
        except pymongo.errors.PyMongoError as error:
            outcomes.append(type(error).__name__)

    holder: Any = SimpleNamespace(tasks=[])
    try:
        with pymongo.timeout(0.2):  # as a start-up hook runs (gateway.mongo.startup_timeout)
            Runtime.every(holder, "test-job", 10, job)
        for _ in range(50):
            if outcomes:
                break
            await asyncio.sleep(0.05)
        assert outcomes == ["ok"]
        # A failing run is logged and the next one still comes.
        assert not holder.tasks[0].done()
    finally:
        await Runtime.stop_tasks(holder)
        await client.close()
    assert holder.tasks == []
