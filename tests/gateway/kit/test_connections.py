"""The kit's Relay connections: cursor format, strict decoding, page-size rule, paging."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import strawberry

from gateway.errors import BadUserInput
from gateway.kit.connections import (
    Connection,
    Key,
    Keyset,
    Listing,
    Ranking,
    SortKey,
    keyset_page,
    page_size,
)

ORDER = Keyset("test.things", (SortKey("rank", "int"), SortKey("_id", "str")))
NEWEST = Keyset("test.events", (SortKey("at", "datetime", descending=True), SortKey("_id", "str")))


@strawberry.type(description="A thing.")
class Thing:
    code: str = strawberry.field(description="Code.")


@strawberry.type(description="Things.")
class ThingConnection(Connection[Thing]):
    pass


def _raw(payload: Any) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_cursor_round_trip_and_format() -> None:
    cursor = ORDER.encode((3, "甲-001"))
    assert cursor == _raw(["test.things", 3, "甲-001"])
    assert "=" not in cursor and cursor.isascii()
    assert ORDER.decode(cursor) == (3, "甲-001")
    at = datetime(2026, 12, 1, 8, 30, 0, 123000, tzinfo=UTC)
    assert NEWEST.decode(NEWEST.encode((at, "e1"))) == (at, "e1")
    near = Keyset("test.near", (SortKey("distance", "float"), SortKey("_id", "str")))
    assert near.decode(near.encode((1234.5678901234, "p"))) == (1234.5678901234, "p")


@pytest.mark.parametrize(
    "cursor",
    [
        _raw(["test.other", 3, "a"]),  # another list's cursor
        _raw(["test.things", "3", "a"]),  # wrong type
        _raw(["test.things", True, "a"]),  # bool is no int
        _raw(["test.things", 3]),  # too few values
        _raw(["test.things", 3, "a", "b"]),  # too many
        _raw({"test.things": [3, "a"]}),  # not an array
        _raw(["test.things", 2**60, "a"]),  # beyond exact integers
        _raw(["test.things", 3, "a" * 201]),  # absurd key
        _raw(["test.things", 3, "a"]) + "==",  # padding: not the canonical spelling
        base64.urlsafe_b64encode(b'["test.things", 3, "a"]').decode(),  # not compact
        base64.urlsafe_b64encode(b'["test.things",NaN,"a"]').decode(),
        "bm90IGpzb24",  # base64 of "not json"
        "%%%",
        "",
        "游标",
        "A" * 2000,
    ],
)
def test_a_tampered_or_foreign_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        ORDER.decode(cursor)
    assert refused.value.extensions["fieldErrors"] == [
        {"field": "after", "message": "invalid cursor", "code": "invalid"}
    ]


def test_a_flipped_character_is_refused_or_stays_in_the_same_order() -> None:
    cursor = ORDER.encode((3, "abc"))
    for i in range(len(cursor)):
        for replacement in "A_-z0":
            tampered = cursor[:i] + replacement + cursor[i + 1 :]
            if tampered == cursor:
                continue
            try:
                key = ORDER.decode(tampered)
            except BadUserInput:
                continue
            # Well-formed after the change: just another starting point of this order.
            assert isinstance(key[0], int) and isinstance(key[1], str)


@pytest.mark.parametrize("first", [0, -1, 101, 10**9])
def test_page_size_rule(first: int) -> None:
    with pytest.raises(BadUserInput) as refused:
        page_size(first, default=20, maximum=100)
    assert refused.value.extensions["fieldErrors"][0]["field"] == "first"
    assert refused.value.extensions["fieldErrors"][0]["code"] == "page_size"


def test_page_size_default_and_bounds() -> None:
    assert page_size(None, default=20, maximum=100) == 20
    assert page_size(1, default=20, maximum=100) == 1
    assert page_size(100, default=20, maximum=100) == 100


def test_seek_filters() -> None:
    assert ORDER.seek(None) == {}
    assert ORDER.seek((3, "a")) == {"$or": [{"rank": {"$gt": 3}}, {"rank": 3, "_id": {"$gt": "a"}}]}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert ORDER.exact_seek and not NEWEST.exact_seek
    # Datetimes: a coarse, inclusive bound (nx-27017 compares them to the second).
    assert NEWEST.seek((at, "e")) == {"at": {"$lte": at}}
    assert NEWEST.sort() == [("at", -1), ("_id", 1)]
    assert NEWEST.follows((datetime(2025, 1, 1, tzinfo=UTC), "a"), (at, "e"))
    assert NEWEST.follows((at, "f"), (at, "e"))
    assert not NEWEST.follows((at, "e"), (at, "e"))


async def test_take_after_skips_what_a_coarse_seek_lets_through() -> None:
    at = datetime(2026, 1, 1, 8, 0, 0, 500000, tzinfo=UTC)
    rows = [
        {"_id": "a", "at": at.replace(microsecond=900000)},  # same second, newer
        {"_id": "a", "at": at},
        {"_id": "c", "at": at},  # the cursor
        {"_id": "d", "at": at},
        {"_id": "b", "at": at.replace(microsecond=100000)},
        {"_id": "a", "at": at.replace(second=0) - timedelta(seconds=1)},
    ]
    rows.sort(key=lambda r: (-r["at"].timestamp(), r["_id"]))

    async def stream() -> AsyncIterator[dict[str, Any]]:
        for row in rows:
            yield row

    taken = await NEWEST.take_after(stream(), (at, "c"), 2)
    assert [(r["_id"], r["at"].microsecond) for r in taken] == [("d", 500000), ("b", 100000)]
    assert len(await NEWEST.take_after(stream(), (at, "c"), 10)) == 3
    assert len(await NEWEST.take_after(stream(), None, 4)) == 4


async def _page_through(rows: list[dict[str, Any]], first: int) -> list[str]:
    """Page an in-memory keyset list; insert a row before the cursor after page one."""

    async def fetch(after: Key | None, limit: int) -> Sequence[dict[str, Any]]:
        ordered = sorted(rows, key=lambda r: (r["rank"], r["_id"]))
        return [r for r in ordered if after is None or ORDER.follows(ORDER.key_of(r), after)][
            :limit
        ]

    async def count() -> int:
        return len(rows)

    seen: list[str] = []
    after: str | None = None
    while True:
        page = await keyset_page(
            ThingConnection,
            Listing(ORDER, fetch, count),
            first=first,
            after=after,
            default=20,
            maximum=100,
            node=lambda r: Thing(code=r["_id"]),
        )
        seen += [e.node.code for e in page.edges]
        assert page.page_info.has_previous_page is (after is not None)
        if after is None:
            rows.append({"_id": "new", "rank": -1})  # lands before every cursor
        if not page.page_info.has_next_page:
            assert await page.total_count() == len(rows)
            return seen
        assert page.page_info.end_cursor == page.edges[-1].cursor
        after = page.page_info.end_cursor


async def test_keyset_paging_is_stable_when_rows_are_added_before_the_cursor() -> None:
    rows = [{"_id": f"t{i:02d}", "rank": i % 4} for i in range(23)]
    expected = [r["_id"] for r in sorted(rows, key=lambda r: (r["rank"], r["_id"]))]
    assert await _page_through(rows, 5) == expected  # no duplicates, none skipped


async def test_ranked_page_pages_by_position() -> None:
    ranked = [f"r{i}" for i in range(7)]
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await keyset_page(
            ThingConnection,
            Ranking("test.ranked", ranked).listing(),
            first=3,
            after=after,
            default=20,
            maximum=100,
            node=lambda r: Thing(code=r),
        )
        seen += [e.node.code for e in page.edges]
        assert await page.total_count() == 7
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert seen == ranked
    with pytest.raises(BadUserInput):
        await keyset_page(
            ThingConnection,
            Ranking("test.ranked", ranked).listing(),
            first=3,
            after=_raw(["test.ranked", -1]),
            default=20,
            maximum=100,
            node=lambda r: Thing(code=r),
        )
    with pytest.raises(BadUserInput):  # a keyset cursor of another list
        await keyset_page(
            ThingConnection,
            Ranking("test.ranked", ranked).listing(),
            first=3,
            after=ORDER.encode((1, "a")),
            default=20,
            maximum=100,
            node=lambda r: Thing(code=r),
        )


def test_a_connection_subclass_names_its_types() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def things(self) -> ThingConnection:
            raise NotImplementedError

    sdl = strawberry.Schema(query=Query).as_str()
    assert "type ThingConnection" in sdl
    assert "type ThingEdge" in sdl
    assert "totalCount: Int!" in sdl
