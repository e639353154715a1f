"""The event bus against a real Redis that stalls: publishing never hangs the publisher
(its write is already stored), and subscribers on the publishing replica still hear it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from harness import RedisServer

from gateway.bus import Bus, Topic


@dataclass(frozen=True)
class Pinged:
    n: int


PINGED = Topic("tests.pinged", Pinged, "A test event.")


async def test_a_stalled_redis_does_not_hang_the_publisher(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    bus = Bus(redis.url, timeout=0.5)
    bus.declare(PINGED)
    await bus.start()
    heard = bus.subscribe(PINGED.name)
    first = asyncio.ensure_future(anext(heard))
    try:
        await bus.publish(PINGED, Pinged(1))  # through Redis, back to this replica
        assert PINGED.payload_of(await asyncio.wait_for(first, 5)).n == 1
        os.kill(redis.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        await bus.publish(PINGED, Pinged(2))
        assert time.monotonic() - started < 1.5
        second = await asyncio.wait_for(anext(heard), 1)  # delivered locally
        assert PINGED.payload_of(second).n == 2
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)
        await heard.aclose()
        await bus.close()
        redis.stop()
