"""Paging the catalog's lists over HTTP: every place and FAQ entry reachable, stable cursors.

Against a gateway with its own database, so entries can be planted (pymongo) between two
pages to show that a cursor keeps its place when the list grows before it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from harness import GatewayProcess, OwnGateway
from pymongo.database import Database

PLACES = """query($first: Int, $after: String, $near: GeoPointInput) {
  serviceLocations(first: $first, after: $after, near: $near) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { code distanceMeters } }
  }
}"""
FAQ = """query($first: Int, $after: String, $search: String) {
  faq(first: $first, after: $after, search: $search) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { code question } }
  }
}"""
DONGMEN_POINT = {"lat": 22.5487, "lng": 114.1205}


@pytest.fixture(scope="module")
def gateway(own_gateway: OwnGateway) -> GatewayProcess:
    return own_gateway.gateway


@pytest.fixture(scope="module")
def db(own_gateway: OwnGateway) -> Database[Any]:
    return own_gateway.db


def page_through(
    gateway: GatewayProcess, query: str, field: str, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every page of a connection; checks pageInfo on the way."""
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        page = gateway.data(query, {**variables, "after": after})[field]
        pages.append(page)
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if page["edges"]:
            assert info["startCursor"] == page["edges"][0]["cursor"]
            assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            return pages
        after = info["endCursor"]


def test_all_145_places_page_through_with_first_50(gateway: GatewayProcess, seed_locations) -> None:
    pages = page_through(gateway, PLACES, "serviceLocations", {"first": 50})
    assert [len(p["edges"]) for p in pages] == [50, 50, 45]
    assert all(p["totalCount"] == 145 for p in pages)
    assert pages[-1]["pageInfo"]["hasNextPage"] is False
    codes = [e["node"]["code"] for p in pages for e in p["edges"]]
    assert len(codes) == len(set(codes)) == 145  # no duplicates
    assert set(codes) == {p["code"] for p in seed_locations}  # none missing
    assert codes == sorted(codes)  # the seeds carry no sort_order: code order


def test_nearest_first_across_pages(gateway: GatewayProcess) -> None:
    pages = page_through(gateway, PLACES, "serviceLocations", {"first": 40, "near": DONGMEN_POINT})
    places = [e["node"] for p in pages for e in p["edges"]]
    assert len(places) == len({p["code"] for p in places}) == 145
    distances = [p["distanceMeters"] for p in places]
    assert distances == sorted(distances)
    # A cursor of the distance order is not one of the listing order, and vice versa.
    near_cursor = pages[0]["pageInfo"]["endCursor"]
    error = gateway.errors(PLACES, {"first": 5, "after": near_cursor})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    plain = gateway.data(PLACES, {"first": 5})["serviceLocations"]["pageInfo"]["endCursor"]
    error = gateway.errors(PLACES, {"first": 5, "after": plain, "near": DONGMEN_POINT})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_faq_pages_through_completely(gateway: GatewayProcess, seed_faq) -> None:
    pages = page_through(gateway, FAQ, "faq", {"first": 40})
    codes = [e["node"]["code"] for p in pages for e in p["edges"]]
    assert len(codes) == len(set(codes)) == len(seed_faq) == pages[0]["totalCount"]
    expected = [f["code"] for f in sorted(seed_faq, key=lambda f: (f["sort_order"], f["code"]))]
    assert codes == expected


def test_faq_search_pages_keep_the_ranking(gateway: GatewayProcess) -> None:
    whole = gateway.data(FAQ, {"first": 100, "search": "营业执照"})["faq"]
    assert whole["totalCount"] > 3
    pages = page_through(gateway, FAQ, "faq", {"first": 3, "search": "营业执照"})
    assert [e["node"]["code"] for p in pages for e in p["edges"]] == [
        e["node"]["code"] for e in whole["edges"]
    ]
    # A search cursor is no cursor of the plain list.
    error = gateway.errors(FAQ, {"first": 3, "after": pages[0]["pageInfo"]["endCursor"]})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_cursor_keeps_its_place_when_an_entry_is_added_before_it(
    gateway: GatewayProcess, db: Database[Any], seed_faq
) -> None:
    first = gateway.data(FAQ, {"first": 30})["faq"]
    before = [e["node"]["code"] for e in first["edges"]]
    planted = {
        "_id": "FAQ-0000-PLANTED",
        "code": "FAQ-0000-PLANTED",
        "question": "分页测试问题?",
        "answer": "测试。",
        "department_code": seed_faq[0]["department_code"],
        "item_codes": [],
        "keywords": [],
        "search_terms": [],
        "sort_order": -1,  # first of all: lands on a page already read
    }
    db["affairs_faq"].insert_one(planted)
    try:
        rest = page_through(gateway, FAQ, "faq", {"first": 30})  # new entry shows at the start
        assert rest[0]["edges"][0]["node"]["code"] == planted["_id"]
        after = first["pageInfo"]["endCursor"]
        following: list[str] = []
        while after:
            page = gateway.data(FAQ, {"first": 30, "after": after})["faq"]
            following += [e["node"]["code"] for e in page["edges"]]
            after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
        # No entry of page one repeats (an offset cursor would repeat the last one), none lost.
        assert not set(before) & set(following)
        assert len(before) + len(following) == len(seed_faq)
        assert page["totalCount"] == len(seed_faq) + 1
    finally:
        db["affairs_faq"].delete_one({"_id": planted["_id"]})


def _cursor(payload: Any) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "",
        _cursor(["affairs.faq", "1", "FAQ-1"]),  # a key value of the wrong type
        _cursor(["affairs.faq", 1]),  # too few key values
        _cursor(["affairs.items", 1, "FAQ-1"]),  # another list's tag
        base64.urlsafe_b64encode(b"affairs.faq:20").decode(),  # an old offset cursor
    ],
)
def test_bad_cursors_are_bad_user_input(gateway: GatewayProcess, after: str) -> None:
    for query, field in ((FAQ, "faq"), (PLACES, "serviceLocations")):
        error = gateway.errors(query, {"first": 5, "after": after})[0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", field
        assert error["extensions"]["fieldErrors"][0]["field"] == "after"
        assert "invalid cursor" in error["message"]


def test_page_size_rule(gateway: GatewayProcess) -> None:
    for query in (FAQ, PLACES):
        for first in (0, 101):
            error = gateway.errors(query, {"first": first})[0]
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            assert error["extensions"]["fieldErrors"][0] == {
                "field": "first",
                "message": "must be between 1 and 100",
                "code": "page_size",
            }
