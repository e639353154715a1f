"""Events between modules and towards subscriptions.

``publish`` runs the registered handlers once, in the publishing process, and
fans the event out to every live subscriber — across replicas through Redis
pub/sub when Redis is configured. Handlers are therefore "exactly once per
publish" (not per replica); durable delivery (an outbox) is future work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as redis

__all__ = ["Bus", "Event"]

log = logging.getLogger("onestop.bus")
CHANNEL_PREFIX = "onestop:events:"

Handler = Callable[["Event"], Awaitable[None]]


@dataclass(frozen=True)
class Event:
    """Something that happened, e.g. ``affairs.item.changed`` with the item code."""

    topic: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def encode(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def decode(cls, raw: bytes | str) -> Event:
        return cls(**json.loads(raw))


class Bus:
    """Publish/subscribe with optional Redis fan-out."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._redis = redis.Redis.from_url(redis_url) if redis_url else None
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.backend = "redis" if redis_url else "memory"

    def on(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)

    async def start(self) -> None:
        if self._redis is not None and self._listener is None:
            pubsub = self._redis.pubsub()
            await pubsub.psubscribe(CHANNEL_PREFIX + "*")
            self._listener = asyncio.create_task(self._listen(pubsub), name="bus-listener")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, topic: str, payload: dict[str, Any]) -> Event:
        event = Event(topic=topic, payload=payload)
        for handler in self._handlers.get(topic, ()):
            task = asyncio.create_task(self._run(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._redis is not None:
            await self._redis.publish(CHANNEL_PREFIX + topic, event.encode())
        else:
            self._deliver(event)
        return event

    async def subscribe(self, topic: str) -> AsyncIterator[Event]:
        """Yield events of ``topic`` published from now on, on any replica."""
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        self._subscribers[topic].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[topic].discard(queue)

    def _deliver(self, event: Event) -> None:
        for queue in self._subscribers.get(event.topic, ()):
            if queue.full():
                log.warning("subscriber queue full; dropping event", extra={"topic": event.topic})
                continue
            queue.put_nowait(event)

    async def _run(self, handler: Handler, event: Event) -> None:
        try:
            await handler(event)
        except Exception:
            log.exception("event handler failed", extra={"topic": event.topic})

    async def _listen(self, pubsub: Any) -> None:
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    self._deliver(Event.decode(message["data"]))
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                log.exception("bus listener error; retrying")
                await asyncio.sleep(1)
