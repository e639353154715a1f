"""Process-wide resources shared by every request: settings, database, cache, bus, tokens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from gateway.accounts import AccountRepository, LoginCodes
from gateway.audit import AuditTrail
from gateway.auth import TokenService
from gateway.background import spawn
from gateway.bus import Bus
from gateway.cache import Cache
from gateway.config import Settings
from gateway.embedded import EmbeddedMongo
from gateway.mongo import PoolCounter
from gateway.observability import Metrics
from gateway.registry import Composition
from gateway.tracing import Tracing
from gateway.uploads.service import Uploads
from gateway.wechat import WeChatSignIn

__all__ = ["Runtime"]

T = TypeVar("T")
log = logging.getLogger("onestop.runtime")


@dataclass
class Runtime:
    """Everything the lifespan opened; handed to modules' interfaces, hooks and seeds."""

    settings: Settings
    composition: Composition
    metrics: Metrics
    mongo: AsyncMongoClient[Any]
    db: AsyncDatabase[Any]
    cache: Cache
    bus: Bus
    tokens: TokenService
    accounts: AccountRepository
    login_codes: LoginCodes
    audit: AuditTrail
    wechat: WeChatSignIn
    uploads: Uploads
    embedded: EmbeddedMongo | None = None
    mongo_pool: PoolCounter | None = None  # the client's connections (pool gauges)
    tracing: Tracing | None = None  # None: tracing off (the OTEL_* variables)
    interfaces: dict[str, object] = field(default_factory=dict)
    states: dict[object, object] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def every(self, name: str, seconds: float, job: Callable[[Runtime], Awaitable[object]]) -> None:
        """Run ``job`` now and then every ``seconds`` until the process stops (a module's
        periodic work, e.g. a sweep; every replica runs it, so the job must claim its work
        with conditional writes). A failing run is logged and the next one still comes."""

        async def loop() -> None:
            while True:
                try:
                    await job(self)
                except Exception:
                    log.exception("periodic job failed", extra={"job": name})
                await asyncio.sleep(seconds)

        # Start-up hooks run under the start-up deadline: not this task (gateway/background).
        self.tasks.append(spawn(loop(), name=name))

    async def stop_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()

    def state(self, kind: type[T]) -> T:
        """The per-process state a module declared with ``Module(state=kind)``.

        Raises:
            LookupError: no loaded module declares state of that type.
        """
        found = self.states.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"no loaded module declares state {kind.__name__}")
        return found

    def interface(self, name: str, kind: type[T]) -> T:
        """A module's published interface, checked against the protocol the caller expects.

        Raises:
            LookupError: no loaded module publishes ``name`` (e.g. narrowed by ONESTOP_MODULES).
        """
        try:
            implementation = self.interfaces[name]
        except KeyError:
            raise LookupError(f"no loaded module publishes the interface {name!r}") from None
        if not isinstance(implementation, kind):
            raise TypeError(f"interface {name!r} does not implement {kind.__name__}")
        return implementation
