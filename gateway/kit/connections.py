"""Relay connections with opaque keyset cursors, for every list of every module.

A list is a *connection*: ``edges { cursor node }``, ``pageInfo`` and ``totalCount``.
Its order is a :class:`Keyset` — sort keys ending in a unique tiebreaker (``_id``) —
and an edge's cursor carries that edge's key values, not its position. The next page
is "everything after this key", so a page boundary stays put when items are added or
removed before it: no duplicates, nothing skipped.

A cursor is the unpadded base64url of a compact JSON array: the keyset's namespace tag
followed by the key values, e.g. ``["affairs.faq",1,"FAQ-0001"]``. Decoding is strict
(the namespace, the number and type of the values, and the canonical encoding must all
match) and anything else is ``BAD_USER_INPUT`` "invalid cursor". Cursors are not
signed: a forged but well-formed cursor is only another starting point in the same
order, it costs the same single seek and reveals nothing.

A service describes a list as a :class:`Listing` (its order, how to read rows after a
key, how to count them); the schema turns a listing into a connection type with
:func:`keyset_page`. Lists whose order is a relevance ranking computed per request
(search) have no stable key; a :class:`Ranking` pages such a ranking by position, with
the same cursor format.

Example::

    FAQ_ORDER = Keyset("affairs.faq", (SortKey("sort_order", "int"), SortKey("_id", "str")))

    def faq_listing(repository: CatalogRepository, query: Filter) -> Listing[dict[str, Any]]:
        async def fetch(after: Key | None, limit: int) -> list[dict[str, Any]]:
            return await repository.faq_after(query, FAQ_ORDER, after, limit)

        return Listing(FAQ_ORDER, fetch, count=lambda: repository.count_faq(query))

    # in the schema:
    return await keyset_page(
        FaqConnection, faq_listing(repository, query), first=first, after=after,
        default=20, maximum=100, node=FaqEntry.from_doc,
    )
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

import strawberry
from pymongo.asynchronous.collection import AsyncCollection

from gateway.errors import BadUserInput, FieldError
from gateway.kit.opaque import decode_opaque, encode_opaque

__all__ = [
    "MAX_RANK_OFFSET",
    "After",
    "Connection",
    "Edge",
    "First",
    "Key",
    "KeyValue",
    "Keyset",
    "Listing",
    "PageInfo",
    "Ranking",
    "SortKey",
    "count_matching",
    "keyset_page",
    "page_size",
]

KeyValue = str | int | float | datetime
Key = tuple[KeyValue, ...]
KeyKind = Literal["str", "int", "float", "datetime"]

N = TypeVar("N")
D = TypeVar("D")

# Longest cursor accepted (characters) and longest string key value inside it.
MAX_CURSOR_CHARS = 1000
MAX_STRING_KEY = 200
# Integers beyond this lose precision in JavaScript clients and in MongoDB's doubles.
MAX_INT_KEY = 2**53
# A ranking is never paged further than this (PyMongo's skip overflows at 2**63 too).
MAX_RANK_OFFSET = 10_000_000


# The paging arguments of every list field, described once. ``First`` has no default
# here: a field gives its own (``first: First = 20``).
First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size: how many elements to return (1 to the server's page limit)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Return the elements after this cursor (an edge's `cursor`, or "
        "`pageInfo.endCursor` of the previous page)."
    ),
]


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items after this page.")
    has_previous_page: bool = strawberry.field(description="Items before this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge.")


@strawberry.type(description="One element of a page with the cursor to continue after it.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(
        description="Opaque cursor: pass it as `after` for the elements that follow this one."
    )
    node: N = strawberry.field(description="The element.")


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(Generic[N]):
    """Subclass it per element type to give the connection its own name and description."""

    edges: list[Edge[N]] = strawberry.field(description="Elements on this page, in list order.")
    page_info: PageInfo = strawberry.field(description="Paging.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Elements over all pages (counted only when asked for).")
    async def total_count(self) -> int:
        return await self.count()


C = TypeVar("C", bound=Connection[Any])


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    """The page-size rule of every list: ``first`` between 1 and ``maximum``.

    Raises:
        BadUserInput: with a ``first`` field error (code ``page_size``) otherwise.
    """
    size = default if first is None else first
    if not 1 <= size <= maximum:
        raise BadUserInput(
            f"每页数量须在 1–{maximum} 之间 (first must be between 1 and {maximum})",
            [FieldError("first", f"must be between 1 and {maximum}", "page_size")],
        )
    return size


def _invalid_cursor() -> BadUserInput:
    return BadUserInput("分页游标无效 (invalid cursor)", [FieldError("after", "invalid cursor")])


def _no_constants(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON, and never a key


@dataclass(frozen=True)
class SortKey:
    """One sort key: a top-level field, the kind of its values and its direction."""

    field: str
    kind: KeyKind
    descending: bool = False

    def encode(self, value: KeyValue) -> Any:
        if self.kind == "datetime":
            if not isinstance(value, datetime):
                raise TypeError(f"{self.field}: datetime key expected")
            return value.isoformat()
        return value

    def decode(self, raw: Any) -> KeyValue:
        """The key value from its JSON form; ``ValueError`` when it does not fit."""
        if self.kind == "str" and isinstance(raw, str) and len(raw) <= MAX_STRING_KEY:
            return raw
        if isinstance(raw, bool):
            raise ValueError(self.field)
        if self.kind == "int" and isinstance(raw, int) and abs(raw) <= MAX_INT_KEY:
            return raw
        if self.kind == "float" and isinstance(raw, int | float) and math.isfinite(raw):
            return float(raw)
        if self.kind == "datetime" and isinstance(raw, str) and len(raw) <= 40:
            return datetime.fromisoformat(raw)
        raise ValueError(self.field)


@functools.total_ordering
class _Descending:
    """Wraps a sort key value so that Python's ascending sort puts it in descending order."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


@dataclass(frozen=True)
class Keyset:
    """A list order: sort keys whose last one is unique, under a namespace tag.

    The namespace names the list *and* its order (``affairs.locations.near``), so a
    cursor of one list or order is refused by another.
    """

    namespace: str
    keys: tuple[SortKey, ...]

    def key_of(self, doc: Mapping[str, Any]) -> Key:
        """The sort key values of a document (top-level fields)."""
        return tuple(doc[k.field] for k in self.keys)

    def encode(self, key: Key) -> str:
        if len(key) != len(self.keys):
            raise ValueError(f"{self.namespace}: {len(self.keys)} key values expected")
        values = [self.namespace, *(k.encode(v) for k, v in zip(self.keys, key, strict=True))]
        text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return encode_opaque(text)

    def decode(self, cursor: str) -> Key:
        """The key values a cursor carries.

        Raises:
            BadUserInput: "invalid cursor" unless ``cursor`` is exactly what
                :meth:`encode` makes for this keyset.
        """
        try:
            raw = json.loads(
                decode_opaque(cursor, max_chars=MAX_CURSOR_CHARS), parse_constant=_no_constants
            )
            if not isinstance(raw, list) or len(raw) != len(self.keys) + 1:
                raise ValueError("shape")
            if raw[0] != self.namespace:
                raise ValueError("namespace")
            key = tuple(k.decode(v) for k, v in zip(self.keys, raw[1:], strict=True))
            canonical = self.encode(key) == cursor  # one spelling per cursor
        except (ValueError, TypeError):
            raise _invalid_cursor() from None
        if not canonical:
            raise _invalid_cursor()
        return key

    def sort(self) -> list[tuple[str, int]]:
        """The MongoDB sort specification of this order."""
        return [(k.field, -1 if k.descending else 1) for k in self.keys]

    @property
    def exact_seek(self) -> bool:
        """Whether :meth:`seek` is exact; if not, pass the rows through :meth:`take_after`."""
        return all(k.kind != "datetime" for k in self.keys)

    def seek(self, after: Key | None) -> dict[str, Any]:
        """The MongoDB filter for "after this key" in this order (``{}`` for the start).

        An ``$or`` over the key prefixes: ``k1 > v1``, or ``k1 = v1 and k2 > v2`` …
        (``<`` for descending keys). AND it with the list's own filter.

        With a datetime key the filter is only a superset — the first key bounded
        inclusively (``k1 >= v1``, ``<=`` descending) — because nx-27017 compares
        datetimes in filters to the whole second (it sorts them to the millisecond;
        pinned in the conformance tests). Read such rows through :meth:`take_after`,
        which drops the ones at or before the cursor.
        """
        if after is None:
            return {}
        if not self.exact_seek:
            first = self.keys[0]
            return {first.field: {"$lte" if first.descending else "$gte": after[0]}}
        branches: list[dict[str, Any]] = []
        for i, key in enumerate(self.keys):
            branch: dict[str, Any] = {
                k.field: v for k, v in zip(self.keys[:i], after, strict=False)
            }
            branch[key.field] = {"$lt" if key.descending else "$gt": after[i]}
            branches.append(branch)
        return branches[0] if len(branches) == 1 else {"$or": branches}

    async def take_after(
        self, rows: AsyncIterable[dict[str, Any]], after: Key | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` of ``rows`` (already in this order) that follow ``after``.

        For a :meth:`seek` that is not exact: rows at or before the cursor that the
        coarse filter let through come first and are skipped here.
        """
        taken: list[dict[str, Any]] = []
        if limit <= 0:
            return taken
        async for row in rows:
            if after is None or self.follows(self.key_of(row), after):
                taken.append(row)
                if len(taken) >= limit:
                    break
        return taken

    async def find_after(
        self,
        collection: AsyncCollection[Any],
        query: Mapping[str, Any],
        after: Key | None,
        limit: int,
        projection: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` documents of ``collection`` matching ``query`` after ``after``.

        The usual ``fetch`` of a :class:`Listing` over one collection: the seek, the
        sort, and — for a datetime key, whose seek is coarse on nx-27017 — the skipping
        of the rows at or before the cursor. A ``projection`` must keep the key fields.
        """
        seek = self.seek(after)
        condition = {"$and": [dict(query), seek]} if seek else dict(query)
        cursor = collection.find(condition, projection).sort(self.sort())
        if self.exact_seek or after is None:
            return await cursor.limit(limit).to_list()
        try:
            return await self.take_after(cursor, after, limit)
        finally:
            await cursor.close()

    def listing(
        self, collection: AsyncCollection[Any], query: Mapping[str, Any]
    ) -> Listing[dict[str, Any]]:
        """The usual listing over one collection: the documents matching ``query``, in
        this order, counted by the same query (a repository returns it; the schema pages
        it with :func:`keyset_page`)."""
        match = dict(query)

        async def fetch(after: Key | None, limit: int) -> list[dict[str, Any]]:
            return await self.find_after(collection, match, after, limit)

        async def count() -> int:
            return await count_matching(collection, match)

        return Listing(self, fetch, count)

    def sort_key(self, doc: Mapping[str, Any]) -> tuple[Any, ...]:
        """A Python sort key for documents in this order (descending keys reversed)."""
        return tuple(
            _Descending(value) if key.descending else value
            for key, value in zip(self.keys, self.key_of(doc), strict=True)
        )

    def follows(self, key: Key, after: Key) -> bool:
        """Whether ``key`` comes after ``after`` in this order (for lists held in memory)."""
        for spec, mine, theirs in zip(self.keys, key, after, strict=True):
            if mine != theirs:
                return bool((mine < theirs) if spec.descending else (mine > theirs))  # type: ignore[operator]
        return False


@dataclass(frozen=True)
class Listing(Generic[D]):
    """A list apart from its GraphQL shape: its order, how to read it, how long it is.

    A service builds the listing (what is in the list and in which order); the schema
    turns it into a connection type with :func:`keyset_page`.

    Attributes:
        order: the list's keyset order.
        fetch: ``fetch(after_key, limit)`` returns up to ``limit`` rows after
            ``after_key`` (``None``: from the start) in ``order``; it is asked for one
            row more than the page to learn whether another page exists.
        count: counts the whole list, awaited only when ``totalCount`` is selected.
        key_of: a row's key values (default: ``order.key_of`` on a document).
    """

    order: Keyset
    fetch: Callable[[Key | None, int], Awaitable[Sequence[D]]]
    count: Callable[[], Awaitable[int]]
    key_of: Callable[[D], Key] | None = None

    def key(self, row: D) -> Key:
        return self.key_of(row) if self.key_of is not None else self.order.key_of(row)  # type: ignore[arg-type]


class Ranking(Generic[D]):
    """A ranking computed per request (search results), paged by position.

    A relevance ranking has no sort key a database could seek on, so the cursor
    carries the position in the ranking (under the same strict format). Use it only
    for orders that are stable for the same query and data: ties broken by a unique
    key, so the same request always ranks the same way.
    """

    def __init__(self, namespace: str, ranked: Sequence[D]) -> None:
        self.order = Keyset(namespace, (SortKey("rank", "int"),))
        self.ranked = ranked

    def window(self, after: Key | None, limit: int) -> list[tuple[int, D]]:
        """Up to ``limit`` rows after the position ``after``, with their 1-based positions."""
        start = after[0] if after is not None else 0
        if not isinstance(start, int) or not 0 <= start <= MAX_RANK_OFFSET:
            raise _invalid_cursor()
        return list(enumerate(self.ranked[start : start + limit], start + 1))

    async def count(self) -> int:
        return len(self.ranked)

    def listing(self) -> Listing[D]:
        """The ranking as a listing of its rows (their positions are their keys)."""
        placed: dict[int, int] = {}  # id(row) -> position, for the rows just fetched

        async def fetch(after: Key | None, limit: int) -> list[D]:
            window = self.window(after, limit)
            placed.update((id(row), position) for position, row in window)
            return [row for _, row in window]

        return Listing(self.order, fetch, self.count, key_of=lambda row: (placed[id(row)],))


EdgeFactory = Callable[[str, D], Any]


async def keyset_page(
    connection: type[C],
    listing: Listing[D],
    *,
    first: int | None,
    after: str | None,
    default: int,
    maximum: int,
    node: Callable[[D], Any],
    edge: EdgeFactory[D] | None = None,
    **fields: Any,
) -> C:
    """One page of a listing as a connection.

    Args:
        connection: the connection type to build (a :class:`Connection` subclass).
        listing: what the list is and how to read it.
        first, after: the client's arguments (validated here).
        default, maximum: page size when ``first`` is omitted; the largest allowed.
        node: turns a row into the GraphQL node.
        edge: ``edge(cursor, row)`` for connections whose edges carry more than the
            node (a search score); default: ``Edge(cursor, node(row))``.
        fields: further fields of the connection type (e.g. what its facets count).
    """
    size = page_size(first, default=default, maximum=maximum)
    after_key = listing.order.decode(after) if after is not None else None
    rows = list(await listing.fetch(after_key, size + 1))

    def make(row: D) -> Any:
        cursor = listing.order.encode(listing.key(row))
        return edge(cursor, row) if edge is not None else Edge(cursor=cursor, node=node(row))

    edges = [make(row) for row in rows[:size]]
    return connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=after_key is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=listing.count,
        **fields,
    )


async def count_matching(collection: AsyncCollection[Any], query: Mapping[str, Any]) -> int:
    """How many documents match ``query`` (a connection's ``totalCount``).

    The ``count`` command rather than ``count_documents``: nx-27017 answers the latter's
    ``$match``/``$group`` pipeline by decoding every document of the collection (3 s for a
    department's 5,000 cases), the command from its indexes (0.06 s) — measured in
    docs/cases.md, pinned in test_conformance. Both are exact on a replica set; on a sharded
    cluster the command may count orphans while a chunk migrates, which a page's total
    can bear.
    """
    reply = await collection.database.command("count", collection.name, query=dict(query))
    return int(reply["n"])
