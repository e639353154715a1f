"""Run modules' seed loaders and remember which modules have been seeded."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from gateway.registry import SeedContext
from gateway.runtime import Runtime

__all__ = ["run_seeds"]

log = logging.getLogger("onestop.seeding")
META = "gateway_meta"
#: One process seeds at a time (``--workers N``, replicas starting together on an empty
#: database); the lease lapses after this long if its holder died mid-seed.
LEASE_SECONDS = 600


async def seed_at_start(runtime: Runtime) -> dict[str, int]:
    """Start-up: seed what is not seeded yet, one process at a time.

    Workers and replicas start together; without this, two of them seeding one empty
    database at once collide on unique keys and one stops. The others wait for the lease,
    then find every module seeded and write nothing.
    """
    meta = runtime.db[META]
    owner = uuid.uuid4().hex
    while not await _take_lease(meta, owner):  # noqa: ASYNC110 (the lease is in the database)
        await asyncio.sleep(0.5)
    try:
        return await run_seeds(runtime, only_unseeded=True)
    finally:
        await meta.delete_one({"_id": "seeding", "owner": owner})


async def _take_lease(meta: AsyncCollection[Any], owner: str) -> bool:
    until = time.time() + LEASE_SECONDS  # a number: nx-27017 keeps $set datetimes as text
    try:
        await meta.insert_one({"_id": "seeding", "owner": owner, "until": until})
        return True
    except DuplicateKeyError:
        lapsed = {"_id": "seeding", "until": {"$lt": time.time()}}
        taken = await meta.find_one_and_update(lapsed, {"$set": {"owner": owner, "until": until}})
        return taken is not None


async def run_seeds(runtime: Runtime, *, only_unseeded: bool) -> dict[str, int]:
    """Run every module's seed loaders; return documents written per module.

    With ``only_unseeded`` (start-up) a module already seeded in this database is
    skipped, so restarts are cheap and staff edits are never overwritten.
    """
    meta = runtime.db[META]
    record = await meta.find_one({"_id": "seeds"}) or {}
    written: dict[str, int] = {}
    for info in runtime.composition.modules:
        module = info.module
        if not module.seeds or (only_unseeded and module.name in record.get("modules", {})):
            continue
        context = SeedContext(
            db=runtime.db, seeds_dir=runtime.settings.seeds_dir / module.name, runtime=runtime
        )
        count = 0
        for loader in module.seeds:
            count += await loader(context)
        written[module.name] = count
        await meta.update_one(
            {"_id": "seeds"},
            {
                "$set": {
                    f"modules.{module.name}": {
                        "version": module.version,
                        "documents": count,
                        "at": datetime.now(UTC),
                    }
                }
            },
            upsert=True,
        )
        log.info("seeded %s: %d documents", module.name, count)
    return written
