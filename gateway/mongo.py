"""MongoDB access for the gateway: the client, index declarations, and command observation.

The command listener counts database round trips per GraphQL operation (a
context variable set by the metrics extension), so tests and ops can see that
nested fields are batched rather than issued once per row; it times every command
by command and collection, and, with tracing on, makes each one a span under the
request's (PyMongo calls listeners in the task that issued the command, async too).
A pool listener counts the connections in use and idle for the pool gauges.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlparse

import pymongo
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
    ConnectionCheckedInEvent,
    ConnectionCheckedOutEvent,
    ConnectionCheckOutFailedEvent,
    ConnectionCheckOutStartedEvent,
    ConnectionClosedEvent,
    ConnectionCreatedEvent,
    ConnectionPoolListener,
    ConnectionReadyEvent,
    PoolClearedEvent,
    PoolClosedEvent,
    PoolCreatedEvent,
    PoolReadyEvent,
)

from gateway.observability import Metrics
from gateway.registry import IndexSpec
from gateway.tracing import CommandSpans

__all__ = [
    "CommandCounter",
    "CommandObserver",
    "PoolCounter",
    "command_counter",
    "connect_mongo",
    "database_name",
    "ensure_indexes",
    "ping",
    "startup_timeout",
]

log = logging.getLogger("onestop.mongo")


class CommandCounter:
    """Mutable counter shared by every task spawned while serving one operation."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


command_counter: ContextVar[CommandCounter | None] = ContextVar("onestop_db_commands", default=None)

_HANDSHAKE = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart"})


class CommandObserver(CommandListener):
    """Counts each command for its operation, times it, and (tracing on) spans it."""

    def __init__(self, metrics: Metrics | None = None, spans: CommandSpans | None = None) -> None:
        self.metrics = metrics
        self.spans = spans
        # request id -> collection label, from a command's start to its end (the end
        # events carry no command document).
        self._collections: dict[int, str] = {}

    def started(self, event: CommandStartedEvent) -> None:
        counter = command_counter.get()
        if counter is not None and event.command_name not in _HANDSHAKE:
            counter.count += 1
        if self.metrics is None and self.spans is None:
            return
        collection = self._collection_label(_collection(event))
        self._collections[event.request_id] = collection
        if self.spans is not None:
            self.spans.start(event, collection)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self._finish(event, None)

    def failed(self, event: CommandFailedEvent) -> None:
        self._finish(event, event.failure)

    def _finish(self, event: CommandSucceededEvent | CommandFailedEvent, failure: Any) -> None:
        collection = self._collections.pop(event.request_id, None)
        if collection is None:
            return
        metrics = self.metrics
        if metrics is not None:
            command = metrics.database_label(event.command_name)
            metrics.child(metrics.mongodb_commands, command, collection).observe(
                event.duration_micros / 1_000_000
            )
        if self.spans is not None:
            self.spans.end(event.request_id, failure)

    def _collection_label(self, name: str) -> str:
        return self.metrics.database_label(name) if self.metrics is not None else name


def _collection(event: CommandStartedEvent) -> str:
    """The collection a command works on (``none`` for database and admin commands)."""
    command = event.command
    target = command.get("collection") if event.command_name == "getMore" else None
    if target is None:
        target = command.get(event.command_name)
    return target if isinstance(target, str) and target else "none"


class PoolCounter(ConnectionPoolListener):
    """Connections of the client's pools, as plain counts (read by the pool gauges)."""

    def __init__(self) -> None:
        self.open = 0
        self.in_use = 0

    @property
    def idle(self) -> int:
        return max(0, self.open - self.in_use)

    def connection_created(self, event: ConnectionCreatedEvent) -> None:
        self.open += 1

    def connection_closed(self, event: ConnectionClosedEvent) -> None:
        self.open -= 1

    def connection_checked_out(self, event: ConnectionCheckedOutEvent) -> None:
        self.in_use += 1

    def connection_checked_in(self, event: ConnectionCheckedInEvent) -> None:
        self.in_use -= 1

    def connection_ready(self, event: ConnectionReadyEvent) -> None:
        return None

    def connection_check_out_started(self, event: ConnectionCheckOutStartedEvent) -> None:
        return None

    def connection_check_out_failed(self, event: ConnectionCheckOutFailedEvent) -> None:
        return None

    def pool_created(self, event: PoolCreatedEvent) -> None:
        return None

    def pool_ready(self, event: PoolReadyEvent) -> None:
        return None

    def pool_cleared(self, event: PoolClearedEvent) -> None:
        return None

    def pool_closed(self, event: PoolClosedEvent) -> None:
        return None


def database_name(url: str, override: str | None) -> str:
    """The database to use: explicit setting, else the URL's path, else ``onestop``."""
    if override:
        return override
    path = urlparse(url).path.lstrip("/")
    return path or "onestop"


def connect_mongo(
    url: str,
    *,
    app_name: str = "onestop-gateway",
    timeout_ms: int = 2500,
    selection_ms: int = 2000,
    listeners: tuple[CommandListener | ConnectionPoolListener, ...] = (),
) -> AsyncMongoClient[Any]:
    """A client that fails fast: a dead or frozen database is an error within ``timeout_ms``.

    ``timeoutMS`` is PyMongo's client-side operation timeout: it bounds server
    selection, connection checkout, the socket read and (as ``maxTimeMS``) the
    server's own work, so a request never hangs on the database; the error is
    mapped to UNAVAILABLE. Bulk work at start-up runs under :func:`startup_timeout`.

    ``selection_ms`` bounds the wait for a server on its own: measured, a client that had
    been connected to a database that then died waited the full serverSelectionTimeoutMS
    (2.0 s) inside a ``pymongo.timeout(1.5)`` block, so the request deadline alone did not
    hold; the gateway passes the request deadline here.
    """
    selection_ms = min(timeout_ms, selection_ms)
    return AsyncMongoClient(
        url,
        appname=app_name,
        timeoutMS=timeout_ms,
        serverSelectionTimeoutMS=selection_ms,
        connectTimeoutMS=selection_ms,
        tz_aware=True,
        event_listeners=list(listeners) or [CommandObserver()],
    )


STARTUP_TIMEOUT_SECONDS = 900.0


def startup_timeout() -> AbstractContextManager[None]:
    """A longer deadline for index builds, start-up hooks and seeding (not for requests).

    Never wrap code that spawns long-lived tasks in it: they would inherit the deadline.
    """
    return pymongo.timeout(STARTUP_TIMEOUT_SECONDS)


async def ping(client: AsyncMongoClient[Any], limit: float = 2.0) -> float:
    """Round-trip a ping; return milliseconds. Raises on failure or timeout."""
    started = time.perf_counter()
    await asyncio.wait_for(client.admin.command("ping"), limit)
    return (time.perf_counter() - started) * 1000


async def ensure_indexes(db: AsyncDatabase[Any], specs: Iterable[IndexSpec]) -> int:
    """Create every declared index (idempotent); return how many were requested."""
    with startup_timeout():
        return await _create_indexes(db, specs)


async def _create_indexes(db: AsyncDatabase[Any], specs: Iterable[IndexSpec]) -> int:
    count = 0
    for spec in specs:
        options: dict[str, Any] = {"name": spec.index_name}
        if spec.unique:
            options["unique"] = True
        if spec.sparse:
            options["sparse"] = True
        if spec.expire_after_seconds is not None:
            options["expireAfterSeconds"] = spec.expire_after_seconds
        if spec.partial_filter is not None:
            options["partialFilterExpression"] = dict(spec.partial_filter)
        try:
            await db[spec.collection].create_index(list(spec.keys), **options)
        except OperationFailure as exc:
            # An index whose options changed must be migrated explicitly; refusing to
            # start is safer than silently running without the intended constraint.
            raise RuntimeError(
                f"cannot create index {spec.index_name} on {spec.collection}: {exc}"
            ) from exc
        count += 1
    return count
