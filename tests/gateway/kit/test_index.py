"""The kit's inverted index over a real wire-protocol MongoDB server (nx-27017 by default)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from harness import unique_db
from pymongo import AsyncMongoClient

from gateway.kit.textsearch.index import InvertedIndex, posting_keys


@pytest.fixture
async def index(mongo_url: str) -> AsyncIterator[InvertedIndex]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    try:
        yield InvertedIndex(client[unique_db("index")], "things")
    finally:
        await client.close()


async def keys_under(index: InvertedIndex, posting: str) -> list[str | None]:
    found = await index.lookup([posting])
    return sorted(await index.keys_of(found.get(posting, np.zeros(0, dtype=np.uint32))))


def test_posting_keys_join_field_and_term() -> None:
    assert posting_keys({"n": ["营业执照", "执照"], "a": ["flag:online"]}) == {
        "n|营业执照",
        "n|执照",
        "a|flag:online",
    }


async def test_rebuild_then_lookup_by_key_and_back_to_document_keys(index: InvertedIndex) -> None:
    await index.rebuild(
        [("A", {"n": ["营业执照"], "a": ["x"]}), ("B", {"n": ["营业执照", "护照"]}), ("C", {})]
    )
    lists = await index.lookup(["n|营业执照", "n|护照", "n|nothing"])
    assert set(lists) == {"n|营业执照", "n|护照"}  # absent keys are left out
    assert lists["n|营业执照"].dtype == np.uint32 and list(lists["n|营业执照"]) == [0, 1]
    assert await index.keys_of(lists["n|营业执照"]) == ["A", "B"]
    assert await index.ids_of(["A", "C", "Z"]) == {"A": 0, "C": 2}
    assert not await index.is_empty()


async def test_updates_move_a_document_between_postings(index: InvertedIndex) -> None:
    await index.rebuild([("A", {"n": ["old"]}), ("B", {"n": ["old"]})])
    await index.update([("A", {"n": ["new"]}), ("D", {"n": ["new", "old"]})])
    assert await keys_under(index, "n|old") == ["B", "D"]
    assert await keys_under(index, "n|new") == ["A", "D"]
    await index.update([("B", {})])  # e.g. suspended: nothing of it is searchable
    assert await keys_under(index, "n|old") == ["D"]
    assert (await index.ids_of(["D"]))["D"] == 2  # numbers continue after the rebuild


async def test_removed_documents_leave_no_trace_and_numbers_are_not_reused(
    index: InvertedIndex,
) -> None:
    await index.rebuild([("A", {"n": ["x"]})])
    await index.update([("B", {"n": ["x"]})])
    await index.remove(["B", "never-indexed"])
    assert await keys_under(index, "n|x") == ["A"]
    assert await index.ids_of(["B"]) == {}
    await index.update([("B", {"n": ["x"]})])
    assert (await index.ids_of(["B"]))["B"] == 2  # a new number, never B's old 1


async def test_concurrent_writes_to_one_posting_lose_nothing(index: InvertedIndex) -> None:
    await index.rebuild([("seed", {"a": ["status:active"]})])
    keys = [f"D{i:02d}" for i in range(30)]
    await asyncio.gather(*(index.update([(k, {"a": ["status:active"]})]) for k in keys))
    assert await keys_under(index, "a|status:active") == sorted(["seed", *keys])
    await asyncio.gather(*(index.update([(k, {"a": ["status:suspended"]})]) for k in keys[:15]))
    assert await keys_under(index, "a|status:active") == sorted(["seed", *keys[15:]])
    assert await keys_under(index, "a|status:suspended") == sorted(keys[:15])


async def test_a_write_cut_short_converges_on_the_next_one(index: InvertedIndex) -> None:
    """A process that died between a document's record and its postings leaves
    ``pending``; the next write applies every term again instead of trusting the diff."""
    await index.rebuild([("A", {"n": ["old"]})])
    documents = index._documents
    # What a dying writer leaves: the record says "new" (pending "old"); postings untouched.
    await documents.update_one(
        {"_id": "A"}, {"$set": {"fields": {"n": ["new"]}, "pending": {"n": ["old"]}}}
    )
    await index.update([("A", {"n": ["new"]})])
    assert await keys_under(index, "n|new") == ["A"]
    assert await keys_under(index, "n|old") == []
