"""Run modules' seed loaders and remember which modules have been seeded."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gateway.registry import SeedContext
from gateway.runtime import Runtime

__all__ = ["run_seeds"]

log = logging.getLogger("onestop.seeding")
META = "gateway_meta"


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
