"""Events between modules and towards subscriptions.

A module declares the topics it publishes, each with its payload type
(``Module(events=[Topic("affairs.item.changed", ItemChanged, "…")])``); ``publish``
accepts only a declared topic with a payload of its type, so a typo or a changed
payload fails where it is made, not silently in a subscriber. Payloads travel as
JSON; a handler reads them typed with ``topic.payload_of(event)``.

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
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import redis.asyncio as redis

from gateway.background import spawn

if TYPE_CHECKING:
    from gateway.observability import Metrics

__all__ = ["Bus", "Event", "Topic"]

log = logging.getLogger("onestop.bus")
CHANNEL_PREFIX = "onestop:events:"

Handler = Callable[["Event"], Awaitable[None]]
P = TypeVar("P")


@dataclass(frozen=True)
class Topic(Generic[P]):
    """A kind of event: its name (``<module>.<thing>.<happened>``) and payload type.

    Attributes:
        name: the topic, prefixed by the publishing module's name.
        payload: a dataclass of JSON-able fields (str, int, float, bool, lists).
        description: what happened, for module teams and the ``modules`` ops query.

    Example:
        ITEM_CHANGED = Topic("affairs.item.changed", ItemChanged, "An item got a new version.")
        await ctx.bus.publish(ITEM_CHANGED, ItemChanged(code=code, version=2, change="变更"))
    """

    name: str
    payload: type[P]
    description: str

    def __post_init__(self) -> None:
        if not is_dataclass(self.payload):
            raise TypeError(f"topic {self.name}: the payload type must be a dataclass")

    @property
    def module(self) -> str:
        """The module that owns the topic (the name's first part)."""
        return self.name.split(".", 1)[0]

    def payload_of(self, event: Event) -> P:
        """The event's payload as this topic's type (unknown keys are ignored)."""
        known = {f.name for f in fields(self.payload)}  # type: ignore[arg-type]
        return self.payload(**{k: v for k, v in event.payload.items() if k in known})


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

    def __init__(self, redis_url: str | None = None, *, timeout: float = 1.0) -> None:
        self._topics: dict[str, Topic[Any]] = {}
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        # Timeouts, so a stalled Redis cannot hang the request that publishes (after its
        # write is stored) nor stop the listener for good.
        self._wait = min(1.0, timeout / 2)
        self._redis = (
            redis.Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
            if redis_url
            else None
        )
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.backend = "redis" if redis_url else "memory"
        self.metrics: Metrics | None = None  # set by the runtime: publishes are timed

    def declare(self, topic: Topic[Any]) -> None:
        """Accept events of ``topic`` (done at start for every loaded module's topics)."""
        self._topics[topic.name] = topic

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

    async def publish(self, topic: Topic[P], payload: P) -> Event:
        """Announce ``payload`` on ``topic`` to handlers and subscribers.

        Raises:
            ValueError: the topic was not declared by a loaded module.
            TypeError: the payload is not of the topic's type.
        """
        if self._topics.get(topic.name) is not topic:
            raise ValueError(f"topic {topic.name!r} is not declared by a loaded module")
        if not isinstance(payload, topic.payload):
            raise TypeError(
                f"topic {topic.name!r} carries {topic.payload.__name__}, "
                f"not {type(payload).__name__}"
            )
        event = Event(topic=topic.name, payload=asdict(payload))  # type: ignore[call-overload]
        for handler in self._handlers.get(topic.name, ()):
            task = spawn(self._run(handler, event))  # not under the publishing request's deadline
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._redis is None:
            self._deliver(event)
            return event
        started = time.perf_counter()
        try:
            await self._redis.publish(CHANNEL_PREFIX + topic.name, event.encode())
        except (redis.ConnectionError, redis.TimeoutError):
            # What happened is stored already; only the fan-out failed. Subscribers on
            # this replica still hear it, other replicas' miss it (no durable outbox yet).
            log.warning("bus: Redis unavailable, event delivered locally only: %s", topic.name)
            self._deliver(event)
        finally:
            if self.metrics is not None:
                self.metrics.child(self.metrics.redis_commands, "publish").observe(
                    time.perf_counter() - started
                )
        return event

    async def subscribe(self, topic: str) -> AsyncGenerator[Event, None]:
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
        # Each wait stays below the socket timeout, so an idle channel is not an error.
        while True:
            try:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self._wait
                )
                if message is not None:
                    self._deliver(Event.decode(message["data"]))
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                log.exception("bus listener error; retrying")
                await asyncio.sleep(1)
