"""Readiness (do MongoDB and Redis answer?) and the gauges each worker samples.

``/readyz`` and :class:`ResourceGauges` run the same check. The gauges of things no
request touches at a known moment — the connections of the pools, readiness — are
set by each worker every :data:`SAMPLE_SECONDS` (a few writes to its metrics file),
not at scrape time: the scrape is served by another process (gateway/metrics_server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from gateway.background import spawn
from gateway.mongo import ping

if TYPE_CHECKING:
    from gateway.runtime import Runtime

__all__ = ["SAMPLE_SECONDS", "ResourceGauges", "readiness"]

log = logging.getLogger("onestop.health")

SAMPLE_SECONDS = 5.0
PROBE_TIMEOUT = 2.0


async def _check(name: str, probe: Any) -> tuple[str, dict[str, Any]]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe, timeout=PROBE_TIMEOUT)
    except Exception as exc:
        return name, {"status": "down", "error": type(exc).__name__}
    return name, {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


async def readiness(runtime: Runtime) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Whether every dependency answers, and each one's check; sets ``onestop_ready``."""
    checks = dict(
        await asyncio.gather(
            _check("mongodb", ping(runtime.mongo)),
            _check("redis", runtime.cache.ping()),
        )
    )
    checks["redis"]["backend"] = runtime.cache.backend
    checks["mongodb"]["backend"] = "embedded" if runtime.embedded else "external"
    ready = all(check["status"] == "ok" for check in checks.values())
    runtime.metrics.ready.set(1 if ready else 0)
    return ready, checks


class ResourceGauges:
    """A worker's task that keeps the pool and readiness gauges current."""

    def __init__(self, runtime: Runtime, interval: float = SAMPLE_SECONDS) -> None:
        self.runtime = runtime
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = spawn(self._run(), name="resource-gauges")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sample(self) -> None:
        runtime, metrics = self.runtime, self.runtime.metrics
        if runtime.mongo_pool is not None:
            metrics.mongodb_pool.labels("in_use").set(runtime.mongo_pool.in_use)
            metrics.mongodb_pool.labels("idle").set(runtime.mongo_pool.idle)
        pool_connections = getattr(runtime.cache, "pool_connections", None)
        if pool_connections is not None:
            in_use, idle = pool_connections()
            metrics.redis_pool.labels("in_use").set(in_use)
            metrics.redis_pool.labels("idle").set(idle)
        await readiness(runtime)

    async def _run(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:
                log.exception("sampling the resource gauges failed")
            await asyncio.sleep(self.interval)
