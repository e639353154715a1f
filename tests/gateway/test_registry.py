"""Module discovery and composition: clashes name both modules; narrowing; bad entry points."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import parse
from harness import ROOT, GatewayProcess

from gateway.config import Settings
from gateway.kit.nodes import Node
from gateway.registry import (
    CompositionError,
    CostHint,
    IndexSpec,
    Module,
    Permission,
    compose,
    discover,
)
from gateway.schema import build_schema, compose_with_core


@strawberry.type(description="A hall.")
class Hall:
    name: str


@strawberry.type
class HallsQuery:
    @strawberry.field(description="Halls.")
    def halls(self) -> list[Hall]:
        return [Hall(name="罗湖区政务服务中心")]


@strawberry.type
class OtherHallsQuery:
    @strawberry.field(description="Halls again.")
    def halls(self) -> list[str]:
        return []


@strawberry.type(name="Hall", description="Another type that wants the same name.")
class ImpostorHall:
    code: str


@strawberry.type
class ImpostorQuery:
    @strawberry.field(description="Impostor halls.")
    def impostor_halls(self) -> list[ImpostorHall]:
        return []


@strawberry.type
class SharedTypeQuery:
    @strawberry.field(description="Reuses Hall (same class): allowed.")
    def nearest_hall(self) -> Hall:
        return Hall(name="东门街道党群服务中心")


def test_compose_merges_root_fields_of_all_modules() -> None:
    composition = compose(
        [
            Module("halls", "1.0", "halls", query=HallsQuery),
            Module("nearby", "1.0", "nearby", query=SharedTypeQuery),
        ]
    )
    schema = strawberry.Schema(query=composition.query)
    result = schema.execute_sync("{ halls { name } nearestHall { name } }")
    assert result.errors is None
    assert result.data == {
        "halls": [{"name": "罗湖区政务服务中心"}],
        "nearestHall": {"name": "东门街道党群服务中心"},
    }
    by_name = {info.module.name: info for info in composition.modules}
    assert by_name["halls"].query_fields == ("halls",)
    assert by_name["nearby"].query_fields == ("nearestHall",)


def test_duplicate_root_field_names_both_modules() -> None:
    with pytest.raises(CompositionError) as raised:
        compose(
            [
                Module("halls", "1.0", "halls", query=HallsQuery),
                Module("others", "1.0", "others", query=OtherHallsQuery),
            ]
        )
    message = str(raised.value)
    assert "Query field 'halls'" in message
    assert "'halls'" in message and "'others'" in message


def test_duplicate_type_name_names_both_modules() -> None:
    with pytest.raises(CompositionError, match=r"type 'Hall'.*'halls'.*'impostor'"):
        compose(
            [
                Module("halls", "1.0", "halls", query=HallsQuery),
                Module("impostor", "1.0", "impostor", query=ImpostorQuery),
            ]
        )


def test_a_module_cannot_redefine_gateway_fields() -> None:
    @strawberry.type
    class MeQuery:
        @strawberry.field(description="Shadowing me.")
        def me(self) -> str:
            return "not you"

    with pytest.raises(CompositionError, match=r"Query field 'me'.*'gateway'.*'rogue'"):
        compose_with_core([Module("rogue", "1.0", "rogue", query=MeQuery)])


def test_duplicate_permission_and_collection_are_refused() -> None:
    first = Module(
        "halls",
        "1.0",
        "halls",
        query=HallsQuery,
        permissions=[Permission("halls.read", "read")],
        indexes=[IndexSpec("halls", (("code", 1),))],
    )
    with pytest.raises(CompositionError, match=r"permission 'halls\.read'"):
        compose(
            [
                first,
                Module(
                    "copy",
                    "1.0",
                    "c",
                    query=SharedTypeQuery,
                    permissions=[Permission("halls.read", "again")],
                ),
            ]
        )
    with pytest.raises(CompositionError, match="collection 'halls'"):
        compose(
            [
                first,
                Module(
                    "copy",
                    "1.0",
                    "c",
                    query=SharedTypeQuery,
                    indexes=[IndexSpec("halls", (("name", 1),))],
                ),
            ]
        )


def test_a_field_requiring_an_undeclared_permission_fails_at_build() -> None:
    from gateway.permissions import requires

    @strawberry.type
    class GuardedQuery:
        @strawberry.field(description="Guarded.", extensions=[requires("halls.secret.read")])
        def secret(self) -> str:
            return "x"

    composition = compose_with_core([Module("guarded", "1.0", "g", query=GuardedQuery)])
    with pytest.raises(CompositionError, match=r"halls\.secret\.read"):
        build_schema(composition, Settings())


def test_cost_hints_compose_and_are_checked_against_the_schema() -> None:
    halls = Module("halls", "1.0", "h", query=HallsQuery, cost_hints={"Query.halls": 7})
    composition = compose_with_core([halls])
    assert composition.cost_hints["Query.halls"] == CostHint(7)
    schema = build_schema(composition, Settings())
    assert schema.guard.analyzer is not None
    # 7 for the field itself; its list (10 by default) of objects holds scalars only.
    assert schema.guard.analyzer.analyze(parse("{ halls { name } }")).cost == 7

    twice = Module("again", "1.0", "a", query=SharedTypeQuery, cost_hints={"Query.halls": 1})
    with pytest.raises(CompositionError, match=r"cost hint 'Query.halls'.*'halls'.*'again'"):
        compose_with_core([halls, twice])

    typo = Module("typo", "1.0", "t", query=HallsQuery, cost_hints={"Query.hals": 3})
    with pytest.raises(CompositionError, match=r"unknown fields: Query\.hals"):
        build_schema(compose_with_core([typo]), Settings())


@strawberry.type(name="Counter", description="A service counter, refetchable by global id.")
class CounterNode(Node):
    code: str = strawberry.field(description="Counter code.")

    def node_key(self) -> str:
        return self.code


@strawberry.type
class CountersQuery:
    @strawberry.field(description="Counters.")
    def counters(self) -> list[CounterNode]:
        return []


@strawberry.type
class MoreCountersQuery:
    @strawberry.field(description="The same Counter type, shared by a second module.")
    def busiest_counter(self) -> CounterNode | None:
        return None


async def counters_by_code(ctx: Any, codes: Sequence[str]) -> list[CounterNode | None]:
    return [CounterNode(code=code) for code in codes]


def test_node_resolvers_compose_by_type_name() -> None:
    composition = compose_with_core(
        [Module("counters", "1.0", "c", query=CountersQuery, nodes={"Counter": counters_by_code})]
    )
    assert composition.nodes["Counter"] is counters_by_code
    # The gateway's own entity types are Nodes through the same contract.
    assert {"Viewer", "AuditEvent"} <= set(composition.nodes)


def test_a_node_type_resolved_by_two_modules_names_both() -> None:
    with pytest.raises(CompositionError, match=r"node type 'Counter'.*'counters'.*'more'"):
        compose(
            [
                Module(
                    "counters", "1.0", "c", query=CountersQuery, nodes={"Counter": counters_by_code}
                ),
                Module(
                    "more", "1.0", "m", query=MoreCountersQuery, nodes={"Counter": counters_by_code}
                ),
            ]
        )


def test_a_node_type_outside_the_module_schema_is_refused() -> None:
    with pytest.raises(
        CompositionError,
        match=r"module 'halls' resolves node type 'Counter', which is not in its schema",
    ):
        compose(
            [
                Module(
                    "counters", "1.0", "c", query=CountersQuery, nodes={"Counter": counters_by_code}
                ),
                Module("halls", "1.0", "h", query=HallsQuery, nodes={"Counter": counters_by_code}),
            ]
        )


def test_a_node_type_that_does_not_implement_node_is_refused() -> None:
    with pytest.raises(
        CompositionError, match=r"module 'halls'.*node type 'Hall', which does not implement Node"
    ):
        compose([Module("halls", "1.0", "h", query=HallsQuery, nodes={"Hall": counters_by_code})])


def test_a_node_type_nobody_resolves_is_refused() -> None:
    with pytest.raises(
        CompositionError, match=r"no module resolves them.*'Counter' \(module 'counters'\)"
    ):
        compose([Module("counters", "1.0", "c", query=CountersQuery)])


def entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="onestop.modules")


def test_discover_loads_entry_points_and_narrows_by_name() -> None:
    points = [
        entry_point("affairs", "modules.affairs.module:module"),
    ]
    assert [m.name for m in discover(points=points)] == ["affairs"]
    assert discover(["affairs"], points=points)[0].name == "affairs"
    with pytest.raises(CompositionError, match="not installed: wallet"):
        discover(["affairs", "wallet"], points=points)


def test_discover_rejects_entry_points_that_are_not_modules() -> None:
    with pytest.raises(CompositionError, match=r"not a gateway\.registry\.Module"):
        discover(points=[entry_point("settings", "gateway.config:Settings")])
    with pytest.raises(CompositionError, match="failed to import"):
        discover(points=[entry_point("ghost", "no_such_package.module:module")])
    with pytest.raises(CompositionError, match="must match"):
        discover(points=[entry_point("other-name", "modules.affairs.module:module")])


def test_installed_modules_include_the_built_ins() -> None:
    assert "affairs" in [m.name for m in discover()]


def test_external_module_package_appears_in_the_schema(
    weather_gateway: GatewayProcess,
) -> None:
    """A package on the path with an `onestop.modules` entry point; gateway/ untouched."""
    notice = weather_gateway.data(
        '{ hallWeather(hall: "东门街道党群服务中心") { hall level text } }'
    )
    assert notice["hallWeather"]["level"] == "黄色"
    modules = weather_gateway.data("{ modules { name version collections queryFields } }")
    weather = next(m for m in modules["modules"] if m["name"] == "weather")
    assert weather["collections"] == ["weather_notices"]
    assert "hallWeather" in weather["queryFields"]


def test_onestop_modules_cli_lists_the_external_module(external_module_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(external_module_path), str(ROOT)])}
    output = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "modules"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "weather 0.1.0" in output
    assert "affairs" in output
    assert "gateway 0.1.0" in output


def test_onestop_modules_env_narrows_what_is_served(start_gateway) -> None:
    gateway = start_gateway({"ONESTOP_MODULES": "affairs"})
    names = [m["name"] for m in gateway.data("{ modules { name } }")["modules"]]
    assert names == ["gateway", "gateway.uploads", "affairs"]


def test_modules_talk_through_published_interfaces_and_bus_events(
    weather_gateway: GatewayProcess,
) -> None:
    """`weather` calls the `affairs.catalog` interface and hears `affairs.item.changed` events."""
    item = weather_gateway.data(
        "{ affairItems(first: 1) { edges { node { code name departmentCode } } } }"
    )["affairItems"]["edges"][0]["node"]
    advice = weather_gateway.data(
        "query($c: String!) { weatherForItem(code: $c) }", {"c": item["code"]}
    )["weatherForItem"]
    assert advice == f"办理「{item['name']}」请带伞"

    staff = weather_gateway.token("s-w", ("staff",), department=item["departmentCode"])
    weather_gateway.data(
        'mutation($c: String!) { updateAffairItem(code: $c, patch: {keywords: ["雨天"]}) { item { version } } }',
        {"c": item["code"]},
        token=staff,
    )
    import time

    deadline = time.monotonic() + 5
    seen: list[str] = []
    while time.monotonic() < deadline and not seen:
        seen = weather_gateway.data("{ weatherSeenChanges }")["weatherSeenChanges"]
        time.sleep(0.05)
    assert seen == [f"{item['code']}@2:变更"]
