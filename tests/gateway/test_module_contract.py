"""The module contract's seams: typed published interfaces checked at start, declared event
topics with payload types, and a module's own state — each tested on tiny inline modules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pytest
import strawberry

from gateway.bus import Bus, Event, Topic
from gateway.registry import (
    CompositionError,
    Interface,
    InterfaceUse,
    Module,
    check_interfaces,
    compose,
)
from gateway.runtime import Runtime


@strawberry.type
class PingQuery:
    @strawberry.field(description="Ping.")
    def ping(self) -> str:
        return "pong"


@strawberry.type
class PongQuery:
    @strawberry.field(description="Pong.")
    def pong(self) -> str:
        return "ping"


@runtime_checkable
class Directory(Protocol):
    async def item(self, code: str) -> dict[str, Any] | None: ...


class GoodDirectory:
    async def item(self, code: str) -> dict[str, Any] | None:
        return {"code": code}


class SyncDirectory:
    def item(self, code: str) -> dict[str, Any] | None:  # not async: callers would await it
        return None


class RenamedDirectory:
    async def lookup(self, code: str) -> dict[str, Any] | None:
        return None


class OtherParameterDirectory:
    async def item(self, key: str) -> dict[str, Any] | None:
        return None


def provider(implementation: type) -> Module:
    return Module(
        name="catalog",
        version="1",
        description="Provides a directory.",
        query=PingQuery,
        interfaces=[Interface("catalog.directory", Directory, implementation, "Items.")],
    )


def test_an_implementation_that_keeps_its_protocol_passes() -> None:
    module = provider(GoodDirectory)
    check_interfaces([module], {"catalog.directory": GoodDirectory()})


@pytest.mark.parametrize(
    ("implementation", "problem"),
    [
        (SyncDirectory, "is async in one and not in the other"),
        (RenamedDirectory, "is missing"),
        (OtherParameterDirectory, "takes other parameters"),
    ],
)
def test_an_implementation_that_breaks_its_protocol_stops_the_start(
    implementation: type, problem: str
) -> None:
    module = provider(implementation)
    with pytest.raises(CompositionError, match=problem) as error:
        check_interfaces([module], {"catalog.directory": implementation()})
    assert "'catalog'" in str(error.value) and "'item'" in str(error.value)


@runtime_checkable
class WantsMore(Protocol):
    async def item(self, code: str) -> dict[str, Any] | None: ...

    async def items(self, codes: list[str]) -> dict[str, Any]: ...


def test_a_callers_expectation_is_checked_against_the_provider() -> None:
    caller = Module(
        name="cases",
        version="1",
        description="Uses the directory.",
        query=PongQuery,
        uses=[InterfaceUse("catalog.directory", WantsMore)],
    )
    with pytest.raises(CompositionError, match="expected by module 'cases'") as error:
        check_interfaces([provider(GoodDirectory), caller], {"catalog.directory": GoodDirectory()})
    assert "'items' is missing" in str(error.value)


@dataclass(frozen=True)
class Rang:
    hall: str
    times: int


RANG = Topic("catalog.bell.rang", Rang, "The bell rang.")


def test_topics_belong_to_their_module_and_are_unique() -> None:
    stray = Module(
        name="catalog",
        version="1",
        description="Declares another module's topic.",
        query=PingQuery,
        events=[Topic("weather.rain.started", Rang, "Not ours.")],
    )
    with pytest.raises(CompositionError, match="start with its own name"):
        compose([stray])
    twice = Module(name="pong", version="1", description="…", query=PongQuery, events=[RANG])
    owner = Module(name="catalog", version="1", description="…", query=PingQuery, events=[RANG])
    with pytest.raises(CompositionError, match="both module 'catalog' and module 'pong'"):
        compose([owner, twice])


async def noop(event: Event, runtime: Any) -> None:
    return None


def test_a_handler_of_a_topic_its_loaded_owner_does_not_declare_is_refused() -> None:
    owner = Module(name="catalog", version="1", description="…", query=PingQuery, events=[RANG])
    typo = Module(
        name="pong",
        version="1",
        description="Listens to a misspelt topic.",
        query=PongQuery,
        event_handlers={"catalog.bell.rung": [noop]},
    )
    with pytest.raises(CompositionError, match="does not declare"):
        compose([owner, typo])
    listener = Module(
        name="pong",
        version="1",
        description="Listens to the real topic.",
        query=PongQuery,
        event_handlers={"catalog.bell.rang": [noop]},
    )
    assert compose([owner, listener]).topics == {"catalog.bell.rang": RANG}
    # The owner not loaded (narrowed by ONESTOP_MODULES): nobody publishes it; allowed.
    compose([listener])


async def test_the_bus_carries_only_declared_topics_with_their_payload_type() -> None:
    bus = Bus()
    heard: list[Rang] = []

    async def handler(event: Event) -> None:
        heard.append(RANG.payload_of(event))

    bus.on(RANG.name, handler)
    with pytest.raises(ValueError, match="not declared"):
        await bus.publish(RANG, Rang("东门", 1))
    bus.declare(RANG)
    with pytest.raises(TypeError, match="carries Rang"):
        await bus.publish(RANG, {"hall": "东门", "times": 1})  # type: ignore[arg-type]
    event = await bus.publish(RANG, Rang("东门", 2))
    assert event.payload == {"hall": "东门", "times": 2}  # JSON on the wire
    await asyncio.sleep(0)
    await bus.close()
    assert heard == [Rang("东门", 2)]  # typed again for the handler


class HallState:
    """A module's own per-process state."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime


def test_a_modules_state_is_reached_by_its_type_and_nothing_else() -> None:
    runtime = Runtime.__new__(Runtime)
    runtime.states = {HallState: HallState(runtime)}
    assert isinstance(runtime.state(HallState), HallState)
    with pytest.raises(LookupError, match="GoodDirectory"):
        runtime.state(GoodDirectory)
