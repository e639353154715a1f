"""The service network over HTTP: nearest places, item filter, opening status."""

from __future__ import annotations

from typing import Any

from harness import GatewayProcess

NEAR = """query($lat: Float!, $lng: Float!, $filter: ServiceLocationFilter, $first: Int!) {
  serviceLocations(near: {lat: $lat, lng: $lng}, filter: $filter, first: $first) {
    edges { node {
      code name kind kindLabel street distanceMeters openingHoursText
      openStatus { isOpen label closesAt opensAt }
    } }
  }
}"""


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


# 东门 and the streets around it (罗湖's street map).
DONGMEN_NEIGHBOURS = {"东门", "桂园", "黄贝", "翠竹", "南湖"}
DONGMEN_POINT = {"lat": 22.5487, "lng": 114.1205}  # 东门步行街


def test_nearest_hall_to_dongmen_is_in_or_next_to_dongmen(gateway: GatewayProcess) -> None:
    halls = nodes(
        gateway.data(
            NEAR,
            {
                **DONGMEN_POINT,
                "first": 3,
                "filter": {"kinds": ["DISTRICT_HALL", "SUB_HALL", "STREET_HALL"]},
            },
        )["serviceLocations"]
    )
    assert halls[0]["street"] in DONGMEN_NEIGHBOURS, halls[0]
    distances = [h["distanceMeters"] for h in halls]
    assert distances == sorted(distances)
    assert distances[0] < 2500


def test_any_nearest_place_is_sorted_by_distance(gateway: GatewayProcess) -> None:
    places = nodes(gateway.data(NEAR, {**DONGMEN_POINT, "first": 10})["serviceLocations"])
    assert len(places) == 10
    assert places[0]["street"] in DONGMEN_NEIGHBOURS
    assert [p["distanceMeters"] for p in places] == sorted(p["distanceMeters"] for p in places)
    for place in places:
        status = place["openStatus"]
        assert status["label"] in {"营业中", "休息中", "24小时"}
        assert (status["closesAt"] is not None) == (
            status["isOpen"] and status["label"] != "24小时"
        )


def test_places_for_an_item(gateway: GatewayProcess, seed_locations) -> None:
    community = next(p for p in seed_locations if p["kind"] == "community_center")
    item_code = community["item_codes"][0]
    expected = {p["code"] for p in seed_locations if item_code in p["item_codes"]}
    places = nodes(
        gateway.data(NEAR, {**DONGMEN_POINT, "first": 100, "filter": {"itemCode": item_code}})[
            "serviceLocations"
        ]
    )
    assert {p["code"] for p in places} == expected
    item = gateway.data(
        "query($c: String!) { affairItem(code: $c) { locations { code } } }", {"c": item_code}
    )["affairItem"]
    assert {p["code"] for p in item["locations"]} == expected


def test_network_shape(gateway: GatewayProcess, seed_locations) -> None:
    places = gateway.data(
        "{ serviceLocations(first: 100) { totalCount edges { node { kind } } } }"
    )["serviceLocations"]
    assert len(places["edges"]) == min(100, len(seed_locations))
    assert places["totalCount"] == len(seed_locations) == 145
    terminals = nodes(
        gateway.data(
            "{ serviceLocations(filter: {kinds: [SELF_SERVICE_TERMINAL]}, first: 100) "
            "{ edges { node { alwaysOpen openStatus { isOpen label } } } } }"
        )["serviceLocations"]
    )
    assert terminals and all(t["alwaysOpen"] and t["openStatus"]["isOpen"] for t in terminals)
    street = nodes(
        gateway.data(
            '{ serviceLocations(filter: {street: "东门街道", kinds: [STREET_HALL]}) '
            "{ edges { node { street } } } }"
        )["serviceLocations"]
    )
    assert [s["street"] for s in street] == ["东门"]


def test_bad_location_input(gateway: GatewayProcess) -> None:
    error = gateway.errors('{ serviceLocations(filter: {itemCode: "NOPE"}) { totalCount } }')[0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = gateway.errors("{ serviceLocations(near: {lat: 99, lng: 0}) { totalCount } }")[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    for first in (0, 101):
        error = gateway.errors(f"{{ serviceLocations(first: {first}) {{ totalCount }} }}")[0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["fieldErrors"][0]["field"] == "first"
