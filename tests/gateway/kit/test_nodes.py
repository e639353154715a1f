"""The kit's Relay Node: global id format, strict decoding, the `id` field, batched lookup."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence

import pytest
import strawberry

from gateway.errors import BadUserInput
from gateway.kit.nodes import (
    MAX_GLOBAL_ID_CHARS,
    GlobalId,
    Node,
    global_id,
    node_type_name,
    parse_global_id,
    resolve_nodes,
)

TYPES = {"Hall", "Window"}


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@strawberry.type(description="A service hall.")
class Hall(Node):
    code: str = strawberry.field(description="Hall code.")

    def node_key(self) -> str:
        return self.code


@strawberry.type(name="Window", description="A service window, GraphQL name set explicitly.")
class ServiceWindow(Node):
    hall: str = strawberry.field(description="Hall code.")
    number: int = strawberry.field(description="Window number in the hall.")

    def node_key(self) -> str:
        return f"{self.hall}:{self.number}"  # a composite key, ':' inside


@strawberry.type(description="A type that computes its id itself.")
class Notice(Node):
    serial: int = strawberry.field(description="Serial number.")

    @strawberry.field(description="Global id from the serial number.")
    def id(self) -> strawberry.ID:
        return global_id("Notice", f"N{self.serial:04d}")


@strawberry.type(description="Forgot to say its key.")
class Keyless(Node):
    name: str = strawberry.field(description="Name.")


@strawberry.type
class NodesQuery:
    @strawberry.field(description="Some nodes.")
    def everything(self) -> list[Node]:
        return [Hall(code="LH-01"), ServiceWindow(hall="LH-01", number=7), Notice(serial=3)]

    @strawberry.field(description="One node.")
    def keyless(self) -> Node:
        return Keyless(name="?")


def test_global_id_is_unpadded_base64url_of_type_and_key() -> None:
    assert global_id("Hall", "LH-01") == _raw("Hall:LH-01")
    assert parse_global_id(global_id("Hall", "LH-01"), TYPES) == GlobalId("Hall", "LH-01")
    # Keys are split off at the first ':' only, and may be any text.
    assert parse_global_id(global_id("Window", "LH-01:7"), TYPES) == ("Window", "LH-01:7")
    assert parse_global_id(global_id("Hall", "罗湖:东门"), TYPES).key == "罗湖:东门"


def test_global_id_refuses_what_it_could_not_read_back() -> None:
    for type_name, key in (("Ha:ll", "k"), ("", "k"), ("Hall", ""), ("Hall", "k" * 400)):
        with pytest.raises(ValueError, match="global id"):
            global_id(type_name, key)
    longest = global_id("Hall", "k" * 370)
    assert len(longest) <= MAX_GLOBAL_ID_CHARS
    assert parse_global_id(longest, TYPES).key == "k" * 370


@pytest.mark.parametrize(
    "value",
    [
        _raw("Hall:LH-01") + "=",  # padding: not the canonical spelling
        base64.b64encode(b"Hall:LH-01>?").decode(),  # standard alphabet, padded
        _raw("Hall:LH-01")[:-1] + "B",  # other trailing bits
        _raw("Hall:LH-01")[:4] + "!" + _raw("Hall:LH-01")[4:],  # a skipped stray character
        "SGFsbDpMSC0wMQ" + "\u3000",  # non-ASCII
        "标识",
        "A" * (MAX_GLOBAL_ID_CHARS + 1),  # too long (checked before decoding)
        "%%%",  # not base64
        "Y",  # not a whole byte
        base64.urlsafe_b64encode(b"Hall:\xff").decode().rstrip("="),  # not UTF-8
        _raw("Desk:LH-01"),  # a type nobody resolves
        _raw("hall:LH-01"),  # type names are exact
        _raw("Hall:"),  # empty key
        _raw("Hall"),  # no key at all
        _raw(":LH-01"),  # no type
        _raw(""),
        "",
    ],
)
def test_a_malformed_or_foreign_id_is_refused(value: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        parse_global_id(value, TYPES, field="ids.3")
    assert refused.value.extensions == {
        "code": "BAD_USER_INPUT",
        "fieldErrors": [{"field": "ids.3", "message": "invalid id", "code": "invalid"}],
    }
    assert "invalid id" in refused.value.message


def test_types_inherit_id_from_their_key_or_resolve_it_themselves() -> None:
    schema = strawberry.Schema(query=NodesQuery, types=[Hall, ServiceWindow, Notice, Keyless])
    sdl = schema.as_str()
    assert "type Hall implements Node" in sdl and "type Window implements Node" in sdl
    result = schema.execute_sync("{ everything { __typename id } }")
    assert result.errors is None and result.data is not None
    assert result.data["everything"] == [
        {"__typename": "Hall", "id": global_id("Hall", "LH-01")},
        {"__typename": "Window", "id": global_id("Window", "LH-01:7")},
        {"__typename": "Notice", "id": global_id("Notice", "N0003")},
    ]
    assert node_type_name(ServiceWindow) == "Window"
    # A type that neither says its key nor resolves `id` fails loudly, not with a wrong id.
    failed = schema.execute_sync("{ keyless { id } }")
    assert failed.errors is not None and "node_key" in failed.errors[0].message


class Lookups:
    """Node resolvers that record each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    async def halls(self, ctx: object, keys: Sequence[str]) -> list[Hall | None]:
        self.calls.append(("Hall", tuple(keys)))
        await asyncio.sleep(0)
        return [Hall(code=k) if k.startswith("LH") else None for k in keys]

    async def windows(self, ctx: object, keys: Sequence[str]) -> list[ServiceWindow | None]:
        self.calls.append(("Window", tuple(keys)))
        return [ServiceWindow(hall=k.split(":")[0], number=int(k.split(":")[1])) for k in keys]


async def test_resolve_nodes_batches_per_type_and_keeps_order_and_nulls() -> None:
    lookups = Lookups()
    ids = [
        GlobalId("Window", "LH-01:2"),
        GlobalId("Hall", "LH-01"),
        GlobalId("Hall", "XX-99"),
        GlobalId("Window", "LH-02:1"),
        GlobalId("Hall", "LH-01"),  # asked twice, looked up once
    ]
    found = await resolve_nodes("ctx", ids, {"Hall": lookups.halls, "Window": lookups.windows})
    assert [n.node_key() if n else None for n in found] == [
        "LH-01:2",
        "LH-01",
        None,
        "LH-02:1",
        "LH-01",
    ]
    assert sorted(lookups.calls) == [
        ("Hall", ("LH-01", "XX-99")),
        ("Window", ("LH-01:2", "LH-02:1")),
    ]
    assert await resolve_nodes("ctx", [], {"Hall": lookups.halls}) == []


async def test_a_resolver_breaking_the_contract_is_an_internal_error() -> None:
    async def too_few(ctx: object, keys: Sequence[str]) -> list[Hall | None]:
        return []

    async def wrong_type(ctx: object, keys: Sequence[str]) -> list[object | None]:
        return [ServiceWindow(hall="LH-01", number=1) for _ in keys]

    async def not_a_node(ctx: object, keys: Sequence[str]) -> list[object | None]:
        return [{"code": k} for k in keys]

    for resolver, message in (
        (too_few, "0 results for 1 keys"),
        (wrong_type, "returned a ServiceWindow"),
        (not_a_node, "returned a dict"),
    ):
        with pytest.raises(TypeError, match=message):
            await resolve_nodes("ctx", [GlobalId("Hall", "LH-01")], {"Hall": resolver})


async def test_a_failing_resolver_fails_the_field_after_the_others_finish() -> None:
    finished: list[str] = []

    async def failing(ctx: object, keys: Sequence[str]) -> list[Hall | None]:
        raise BadUserInput("nope")

    async def slow(ctx: object, keys: Sequence[str]) -> list[ServiceWindow | None]:
        await asyncio.sleep(0.01)
        finished.append("Window")
        return [None for _ in keys]

    with pytest.raises(BadUserInput, match="nope"):
        await resolve_nodes(
            "ctx",
            [GlobalId("Hall", "LH-01"), GlobalId("Window", "LH-01:1")],
            {"Hall": failing, "Window": slow},
        )
    assert finished == ["Window"]  # nothing left running behind the error
