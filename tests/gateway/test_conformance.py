"""Database behaviours the app relies on, pinned against the server under test.

Run with ONESTOP_TEST_MONGODB_URL pointing at real MongoDB to see at once what a
change of server breaks. Each test names the app feature that needs it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import Binary, Int64
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure, WriteError


@pytest.fixture(scope="session")
async def is_nx(mongo_url: str) -> bool:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    try:
        return (await client.admin.command("buildInfo")).get("process") == "nx_27017"
    finally:
        await client.close()


@pytest.fixture
async def db(mongo_url: str) -> AsyncIterator[AsyncDatabase[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    name = f"conf_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_concurrent_conditional_updates_never_exceed_capacity(db: AsyncDatabase[Any]) -> None:
    """Appointments: 50 people race for a slot of 10; exactly 10 succeed."""
    await db.slots.insert_one({"_id": "slot", "capacity": 10, "booked": 0})

    async def book() -> bool:
        updated = await db.slots.find_one_and_update(
            {"_id": "slot", "$expr": {"$lt": ["$booked", "$capacity"]}},
            {"$inc": {"booked": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return updated is not None

    results = await asyncio.gather(*(book() for _ in range(50)))
    assert sum(results) == 10
    assert (await db.slots.find_one({"_id": "slot"}))["booked"] == 10


async def test_conditional_upsert_of_a_full_counter_is_a_duplicate_key(
    db: AsyncDatabase[Any],
) -> None:
    """Appointments (modules/cases repository.take_place): the first booking makes a slot's
    counter by upsert; once full, the condition fails and the upsert collides on `_id`, which
    is how the app learns "full". 30 concurrent takes of a 5-place counter: 5 succeed."""

    async def take() -> bool:
        try:
            doc = await db.slots.find_one_and_update(
                {"_id": "s", "booked": {"$lt": 5}},
                {"$inc": {"booked": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False
        return doc is not None

    results = [await take() for _ in range(3)]  # the first makes it, then plain increments
    results += await asyncio.gather(*(take() for _ in range(27)))
    assert sum(results) == 5
    assert (await db.slots.find_one({"_id": "s"}))["booked"] == 5


async def test_upserting_replace_takes_the_id_from_the_filter(
    db: AsyncDatabase[Any], is_nx: bool
) -> None:
    """Gap on nx-27017: replace_one(filter, doc, upsert=True) inserts a new ObjectId instead
    of the filter's `_id`. 秒批 rules (cases RuleRepository) put the id in the doc too."""
    await db.rules.replace_one({"_id": "item-1"}, {"rules": [1]}, upsert=True)
    found = await db.rules.find_one({"_id": "item-1"})
    assert (found is None) is is_nx  # flip when fixed
    await db.rules.replace_one({"_id": "item-2"}, {"_id": "item-2", "rules": [2]}, upsert=True)
    assert (await db.rules.find_one({"_id": "item-2"}))["rules"] == [2]


async def test_in_on_punctuated_string_ids_and_set_of_true(
    db: AsyncDatabase[Any], is_nx: bool
) -> None:
    """Gaps on nx-27017: `$in` does not match a string `_id` shaped like an ISO time with an
    offset and a suffix, and `$set` of `true` stores 1. Notifications (modules/cases) use
    digit-and-hex ids and read the flag with bool()."""
    odd = "2026-12-02T10:55:01.1+00:00|ab"
    await db.notes.insert_many([{"_id": odd, "read": False}, {"_id": "0001ab", "read": False}])
    odd_hit = await db.notes.update_many({"_id": {"$in": [odd]}}, {"$set": {"read": True}})
    assert odd_hit.matched_count == (0 if is_nx else 1)  # flip when fixed
    plain = await db.notes.update_many({"_id": {"$in": ["0001ab"]}}, {"$set": {"read": True}})
    assert plain.matched_count == 1
    stored = (await db.notes.find_one({"_id": "0001ab"}))["read"]
    assert stored == 1 and (stored is True) is (not is_nx)  # flip when fixed


async def test_compound_index_with_id_breaks_inserts(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Appointments index a citizen's bookings by `citizen` alone because of this gap:
    nx-27017 refuses every insert into a collection with `_id` in a compound index."""
    await db.things.create_index([("owner", 1), ("_id", -1)])
    if is_nx:
        with pytest.raises(WriteError, match="_id"):
            await db.things.insert_one({"_id": "a", "owner": "x"})  # flip when fixed
    else:
        await db.things.insert_one({"_id": "a", "owner": "x"})


async def test_unique_index_rejects_duplicates_on_insert_and_update(db: AsyncDatabase[Any]) -> None:
    """Accounts (one per phone), idempotency keys, case numbers."""
    await db.users.create_index("phone", unique=True)
    await db.users.insert_many([{"phone": "13800000001"}, {"phone": "13800000002"}])
    with pytest.raises(DuplicateKeyError):
        await db.users.insert_one({"phone": "13800000001"})
    with pytest.raises(DuplicateKeyError):
        await db.users.update_one({"phone": "13800000002"}, {"$set": {"phone": "13800000001"}})
    assert await db.users.count_documents({}) == 2


async def test_sparse_unique_index_skips_documents_without_the_field(
    db: AsyncDatabase[Any],
) -> None:
    """Accounts from WeChat sign-in have no phone: many of them under the unique phone
    index, which still refuses a second holder of one phone; `$exists: false` finds them."""
    await db.users.create_index("phone", unique=True, sparse=True)
    await db.users.insert_many([{"_id": "w1"}, {"_id": "w2"}, {"_id": "p1", "phone": "1"}])
    with pytest.raises(DuplicateKeyError):
        await db.users.update_one({"_id": "w1"}, {"$set": {"phone": "1"}})
    result = await db.users.update_one(
        {"_id": "w2", "phone": {"$exists": False}}, {"$set": {"phone": "2"}}
    )
    assert result.matched_count == 1
    again = await db.users.update_one(
        {"_id": "w2", "phone": {"$exists": False}}, {"$set": {"phone": "3"}}
    )
    assert again.matched_count == 0
    assert await db.users.find_one({"_id": "w1"}) == {"_id": "w1"}
    assert (await db.users.find_one({"_id": "w2"}) or {}).get("phone") == "2"


async def test_compound_unique_index(db: AsyncDatabase[Any]) -> None:
    """One booking per person per item per day."""
    await db.bookings.create_index([("person", 1), ("item", 1), ("day", 1)], unique=True)
    await db.bookings.insert_one({"person": "p", "item": "i", "day": "2026-11-23"})
    await db.bookings.insert_one({"person": "p", "item": "i", "day": "2026-11-24"})
    with pytest.raises(DuplicateKeyError):
        await db.bookings.insert_one({"person": "p", "item": "i", "day": "2026-11-23"})


async def test_ttl_index_is_created(db: AsyncDatabase[Any]) -> None:
    """Short-lived license presentation codes expire by TTL index."""
    await db.codes.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")
    indexes = [index async for index in await db.codes.list_indexes()]
    ttl = [i for i in indexes if "expireAfterSeconds" in i]
    assert len(ttl) == 1
    assert ttl[0]["expireAfterSeconds"] == 0
    assert dict(ttl[0]["key"]) == {"expires_at": 1}


async def test_update_one_upsert_applies_set_on_insert(db: AsyncDatabase[Any]) -> None:
    """Seeds and first login create documents with fields only set on insert."""
    await db.things.update_one(
        {"code": "A"},
        {"$setOnInsert": {"_id": "a1", "created": 1}, "$set": {"seen": 2}},
        upsert=True,
    )
    await db.things.update_one(
        {"code": "A"}, {"$setOnInsert": {"created": 99}, "$set": {"seen": 3}}, upsert=True
    )
    assert await db.things.find_one({"code": "A"}) == {
        "_id": "a1",
        "code": "A",
        "created": 1,
        "seen": 3,
    }


async def test_find_one_and_update_upsert_and_set_on_insert(
    db: AsyncDatabase[Any], is_nx: bool
) -> None:
    """Gap on nx-27017: find_one_and_update(upsert=True) drops $setOnInsert.

    The app therefore upserts with update_one (above) and reads back.
    """
    doc = await db.things.find_one_and_update(
        {"code": "B"},
        {"$setOnInsert": {"created": 1}, "$set": {"seen": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert doc["seen"] == 1
    assert ("created" in doc) is (not is_nx)  # flip when nx-27017 fixes it


async def test_scalar_array_operators(db: AsyncDatabase[Any]) -> None:
    """Tags and id lists: $push/$addToSet/$pull of scalars, and $inc."""
    await db.cases.insert_one({"_id": 1, "ids": [], "tags": ["a"], "n": 0})
    await db.cases.update_one(
        {"_id": 1}, {"$push": {"ids": "x1"}, "$addToSet": {"tags": "a"}, "$inc": {"n": 2}}
    )
    await db.cases.update_one({"_id": 1}, {"$addToSet": {"tags": "b"}, "$push": {"ids": "x2"}})
    await db.cases.update_one({"_id": 1}, {"$pull": {"tags": "a"}})
    assert await db.cases.find_one({"_id": 1}) == {
        "_id": 1,
        "ids": ["x1", "x2"],
        "tags": ["b"],
        "n": 2,
    }


async def test_arrays_of_documents_are_written_whole_with_set(db: AsyncDatabase[Any]) -> None:
    """Steps, materials, versions: the app $sets the whole array under a revision check."""
    await db.cases.insert_one({"_id": 2, "rev": 1, "steps": [{"name": "受理", "by": "w1"}]})
    steps = [{"name": "受理", "by": "w1"}, {"name": "审核", "by": "a1", "opinion": {"ok": True}}]
    updated = await db.cases.find_one_and_update(
        {"_id": 2, "rev": 1},
        {"$set": {"steps": steps, "rev": 2}},
        return_document=ReturnDocument.AFTER,
    )
    assert updated["steps"] == steps
    # A concurrent writer holding the old revision loses instead of overwriting.
    assert (
        await db.cases.find_one_and_update({"_id": 2, "rev": 1}, {"$set": {"steps": [], "rev": 2}})
        is None
    )
    assert await db.cases.count_documents({"steps.name": "审核"}) == 1


async def test_push_of_documents(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Gap on nx-27017: $push of a sub-document stores JSON *strings* (and re-encodes the
    existing elements). The app never pushes documents."""
    await db.cases.insert_one({"_id": 3, "steps": [{"name": "受理"}]})
    await db.cases.update_one({"_id": 3}, {"$push": {"steps": {"name": "审核"}}})
    steps = (await db.cases.find_one({"_id": 3}))["steps"]
    if is_nx:
        assert all(isinstance(step, str) for step in steps)  # flip when fixed
    else:
        assert steps == [{"name": "受理"}, {"name": "审核"}]


async def test_equality_on_an_indexed_array_field(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Gap on nx-27017: `find({arrayField: v})` returns nothing once the field is indexed
    (count_documents still counts). The app always matches array fields with `$in`."""
    await db.tagged.insert_many([{"_id": i, "terms": ["营业执照", f"t{i}"]} for i in range(5)])
    await db.tagged.create_index("terms")
    assert len(await db.tagged.find({"terms": {"$in": ["营业执照"]}}).to_list()) == 5
    assert await db.tagged.count_documents({"terms": "营业执照"}) == 5
    found = await db.tagged.find({"terms": "营业执照"}).to_list()
    assert len(found) == (0 if is_nx else 5)  # flip when fixed


async def test_nested_projection(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Gap on nx-27017: projecting `a.b` returns a flat key "a.b". The app projects
    top-level fields only."""
    await db.nested.insert_one({"_id": 1, "a": {"b": 1, "c": 2}, "d": 3})
    assert await db.nested.find_one({}, {"a": 1}) == {"_id": 1, "a": {"b": 1, "c": 2}}
    doc = await db.nested.find_one({}, {"a.b": 1})
    assert doc == ({"_id": 1, "a.b": 1} if is_nx else {"_id": 1, "a": {"b": 1}})


async def test_dotted_updates_and_queries(db: AsyncDatabase[Any]) -> None:
    """Nested settings and statuses: $set/$inc/$unset on dotted paths, dotted filters."""
    await db.nested.insert_one({"_id": 2, "sub": {"a": 1, "b": {"c": 2}}, "gone": 1})
    await db.nested.update_one(
        {"_id": 2}, {"$set": {"sub.b.c": 5}, "$inc": {"sub.a": 2}, "$unset": {"gone": ""}}
    )
    assert await db.nested.find_one({"sub.b.c": 5}) == {"_id": 2, "sub": {"a": 3, "b": {"c": 5}}}


async def test_datetimes_survive_insert_replace_set_on_insert_and_current_date(
    db: AsyncDatabase[Any],
) -> None:
    """updated_at, changed_at, last_login_at: the write paths the app uses keep datetimes."""
    now = datetime.now(UTC).replace(microsecond=0)
    await db.times.insert_one({"_id": "a", "t": now, "rev": 1})
    replaced = await db.times.find_one_and_replace(
        {"_id": "a", "rev": 1}, {"t": now, "rev": 2}, return_document=ReturnDocument.AFTER
    )
    assert isinstance(replaced["t"], datetime)
    await db.times.update_one(
        {"_id": "b"}, {"$setOnInsert": {"t": now}, "$currentDate": {"seen": True}}, upsert=True
    )
    doc = await db.times.find_one({"_id": "b"})
    assert isinstance(doc["t"], datetime)
    assert isinstance(doc["seen"], datetime)
    await db.times.update_one({"_id": "a"}, {"$set": {"meta": {"t": now}}})
    assert isinstance((await db.times.find_one({"_id": "a"}))["meta"]["t"], datetime)
    assert await db.times.count_documents({"t": {"$gte": now - timedelta(minutes=1)}}) == 2


async def test_set_of_a_top_level_datetime(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Gap on nx-27017: `$set` of a top-level datetime stores text (and range queries then
    miss it). The app writes such fields by replace, $setOnInsert or $currentDate."""
    now = datetime.now(UTC)
    await db.times.insert_one({"_id": "c", "t": now})
    await db.times.update_one({"_id": "c"}, {"$set": {"t": now}})
    stored = (await db.times.find_one({"_id": "c"}))["t"]
    assert isinstance(stored, str if is_nx else datetime)  # flip when fixed


async def test_replace_upsert_and_non_string_ids(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Gaps on nx-27017: a replace-upsert ignores the filter's _id (inserts under a new
    ObjectId), and find_one_and_replace turns a numeric _id into a string. The app inserts
    new documents explicitly and uses string ids."""
    await db.ids.replace_one({"_id": "wanted"}, {"x": 1}, upsert=True)
    assert (await db.ids.find_one({"_id": "wanted"}) is None) is is_nx
    await db.ids.insert_one({"_id": 5, "rev": 1})
    replaced = await db.ids.find_one_and_replace(
        {"_id": 5}, {"rev": 2}, return_document=ReturnDocument.AFTER
    )
    assert replaced["_id"] == ("5" if is_nx else 5)


async def test_in_query_on_ids_and_on_array_fields(db: AsyncDatabase[Any]) -> None:
    """DataLoaders batch with `_id: {$in}`; search matches a terms array with `$in`."""
    await db.items.insert_many(
        [{"_id": f"i{i}", "terms": ["营业执照", "设立"] if i % 2 else ["居住证"]} for i in range(6)]
    )
    found = await db.items.find({"_id": {"$in": ["i1", "i4", "missing"]}}).to_list()
    assert sorted(d["_id"] for d in found) == ["i1", "i4"]
    assert await db.items.count_documents({"terms": {"$in": ["营业执照", "户籍"]}}) == 3
    assert await db.items.count_documents({"terms": "居住证"}) == 3


async def test_group_count_unwind_sort_project(db: AsyncDatabase[Any]) -> None:
    """Totals, per-department and per-theme counts: single-field $group (and $unwind)."""
    await db.items.insert_many(
        [
            {
                "dept": f"D{i % 3}",
                "themes": ["P01", "P02"] if i % 2 else ["P01"],
                "online": i % 4 != 0,
            }
            for i in range(300)
        ]
    )
    total = await (
        await db.items.aggregate(
            [{"$match": {"online": True}}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
        )
    ).to_list()
    assert total == [{"_id": None, "n": 225}]
    by_dept = await (
        await db.items.aggregate(
            [{"$group": {"_id": "$dept", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
        )
    ).to_list()
    assert by_dept == [{"_id": "D0", "n": 100}, {"_id": "D1", "n": 100}, {"_id": "D2", "n": 100}]
    by_theme = await (
        await db.items.aggregate(
            [
                {"$unwind": "$themes"},
                {"$group": {"_id": "$themes", "n": {"$sum": 1}}},
                {"$sort": {"_id": 1}},
            ]
        )
    ).to_list()
    assert by_theme == [{"_id": "P01", "n": 300}, {"_id": "P02", "n": 150}]
    projected = await (
        await db.items.aggregate(
            [{"$match": {"dept": "D1"}}, {"$limit": 1}, {"$project": {"_id": 0, "dept": 1}}]
        )
    ).to_list()
    assert projected == [{"dept": "D1"}]


async def test_facet_over_more_than_one_batch(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Gap on nx-27017: `$facet` over more than a cursor batch (101 documents) can come back
    per batch (a `$count` facet returns several partial rows). The app never uses `$facet`;
    facets are counted from a projection."""
    await db.many.insert_many(
        [{"_id": f"i{i:04d}", "k": i % 2, "pad": "x" * 3000} for i in range(300)]
    )
    (result,) = await (
        await db.many.aggregate([{"$match": {}}, {"$facet": {"total": [{"$count": "n"}]}}])
    ).to_list()
    if is_nx:
        assert result["total"] != [{"n": 300}]  # flip when fixed
    else:
        assert result["total"] == [{"n": 300}]


async def test_sort_skip_limit_and_projection(db: AsyncDatabase[Any]) -> None:
    """Keyset pagination sorts by (key, _id) and projects only needed fields."""
    await db.items.insert_many([{"_id": i, "k": i % 3, "big": "x" * 100} for i in range(10)])
    page = (
        await db.items.find({"k": {"$gte": 1}}, {"k": 1})
        .sort([("k", 1), ("_id", -1)])
        .limit(3)
        .to_list()
    )
    assert page == [{"_id": 7, "k": 1}, {"_id": 4, "k": 1}, {"_id": 1, "k": 1}]
    after = (
        await db.items.find({"$or": [{"k": {"$gt": 1}}, {"k": 1, "_id": {"$lt": 1}}]})
        .sort([("k", 1), ("_id", -1)])
        .to_list()
    )
    assert [d["_id"] for d in after] == [8, 5, 2]


async def test_keyset_seek_on_a_datetime_and_string_id(db: AsyncDatabase[Any]) -> None:
    """Kit connections (FAQ): the seek condition an ``$or`` of ``$lt``/``$gt`` over a
    compound sort, ANDed with the list's own filter, sort + limit. (Datetimes here are whole
    seconds: see the next test for why the audit trail does not rely on this.)"""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await db.events.insert_many(
        [
            {"_id": f"e{i:02d}", "at": start + timedelta(seconds=i // 2), "kind": i % 2}
            for i in range(12)
        ]
    )
    order = [("at", -1), ("_id", 1)]
    first = await db.events.find({}).sort(order).limit(3).to_list()
    assert [d["_id"] for d in first] == ["e10", "e11", "e08"]
    last = first[-1]
    seek = {"$or": [{"at": {"$lt": last["at"]}}, {"at": last["at"], "_id": {"$gt": last["_id"]}}]}
    rest = await db.events.find({"$and": [{}, seek]}).sort(order).limit(4).to_list()
    assert [d["_id"] for d in rest] == ["e09", "e06", "e07", "e04"]
    odd = await db.events.find({"$and": [{"kind": 1}, seek]}).sort(order).to_list()
    assert [d["_id"] for d in odd] == ["e09", "e07", "e05", "e03", "e01"]
    ascending = [("sort_order", 1), ("_id", 1)]
    await db.faq.insert_many(
        [{"_id": c, "sort_order": n} for c, n in [("b", 1), ("a", 2), ("c", 1)]]
    )
    seek_up = {"$or": [{"sort_order": {"$gt": 1}}, {"sort_order": 1, "_id": {"$gt": "b"}}]}
    after = await db.faq.find({"$and": [{}, seek_up]}).sort(ascending).limit(5).to_list()
    assert [d["_id"] for d in after] == ["c", "a"]


async def test_id_inside_a_secondary_index(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """Gap on nx-27017: once an index names `_id` (e.g. a keyset's `(sort_order, _id)`),
    every write to the collection fails ("JSON path error near '_id'"). Keyset lists
    index their leading keys only; `_id` breaks ties from the primary key."""
    await db.ordered.create_index([("sort_order", 1), ("_id", 1)])
    try:
        await db.ordered.insert_one({"_id": "a", "sort_order": 1})
    except WriteError:
        assert is_nx  # flip when fixed
    else:
        assert not is_nx


async def test_datetimes_compare_to_the_second_in_filters(
    db: AsyncDatabase[Any], is_nx: bool
) -> None:
    """Gap on nx-27017: filters compare datetimes to the whole second (sorting is exact to
    the millisecond). The audit trail's keyset therefore bounds `at` inclusively and drops
    the cursor's own second in Python (`Keyset.take_after`)."""
    second = datetime(2026, 12, 2, 0, 3, 11, tzinfo=UTC)
    stamps = {"s": second, "m50": second + timedelta(milliseconds=50)}
    stamps |= {"m900": second + timedelta(milliseconds=900), "next": second + timedelta(seconds=1)}
    await db.stamps.insert_many([{"_id": k, "at": v} for k, v in stamps.items()])
    ordered = await db.stamps.find().sort("at", -1).to_list()
    assert [d["_id"] for d in ordered] == ["next", "m900", "m50", "s"]  # sorting is exact
    before = sorted(
        d["_id"] for d in await db.stamps.find({"at": {"$lt": stamps["m900"]}}).to_list()
    )
    upto = sorted(d["_id"] for d in await db.stamps.find({"at": {"$lte": stamps["m50"]}}).to_list())
    if is_nx:
        assert before == []  # flip when fixed: "m50" and "s" are earlier
        assert upto == ["m50", "m900", "s"]  # the whole second: a superset, never less
    else:
        assert before == ["m50", "s"]
        assert upto == ["m50", "s"]


async def test_concurrent_reservations_against_a_bound_never_pass_it(
    db: AsyncDatabase[Any],
) -> None:
    """Upload quotas: 10 uploads of 300 bytes race for 1,000; exactly 3 reserve."""
    await db.quotas.insert_one({"_id": "owner", "used": 0})

    async def reserve() -> bool:
        updated = await db.quotas.find_one_and_update(
            {"_id": "owner", "used": {"$lte": 1000 - 300}},
            {"$inc": {"used": 300}},
            return_document=ReturnDocument.AFTER,
        )
        return updated is not None

    assert sum(await asyncio.gather(*(reserve() for _ in range(10)))) == 3
    assert (await db.quotas.find_one({"_id": "owner"}))["used"] == 900


async def _read_all(bucket: AsyncGridFSBucket, file_id: str) -> bytes:
    stream = await bucket.open_download_stream(file_id)
    parts = []
    while chunk := await stream.readchunk():
        parts.append(chunk)
    return b"".join(parts)


async def test_gridfs_written_chunk_by_chunk_is_read_and_deleted_as_gridfs(
    db: AsyncDatabase[Any], is_nx: bool
) -> None:
    """Uploads (FileStore): chunk documents inserted one at a time under the upload's
    string id, then the files entry; read back one chunk per query by files_id and n
    (and by the bucket, so any GridFS tool reads them); deleted by the bucket."""
    data = bytes(range(256)) * 10  # 2,560 bytes: three chunks of 1,024
    for n in range(3):
        chunk = Binary(data[n * 1024 : (n + 1) * 1024])
        await db["files.chunks"].insert_one({"files_id": "file-1", "n": n, "data": chunk})
    entry = {"_id": "file-1", "length": Int64(len(data)), "chunkSize": 1024, "filename": "a.pdf"}
    await db["files.files"].insert_one({**entry, "uploadDate": datetime.now(UTC), "metadata": {}})
    bucket = AsyncGridFSBucket(db, bucket_name="files")
    assert await _read_all(bucket, "file-1") == data
    chunks = [await db["files.chunks"].find_one({"files_id": "file-1", "n": n}) for n in range(3)]
    assert b"".join(bytes(c["data"]) for c in chunks if c) == data
    assert [d["_id"] async for d in db["files.files"].find({"_id": "file-1"})] == ["file-1"]
    # nx-27017 lists a bucket's chunks by files_id only; an unfiltered find sees none.
    assert len(await db["files.chunks"].find({}).to_list()) == (0 if is_nx else 3)  # flip
    await bucket.delete("file-1")
    assert await db["files.files"].find({}).to_list() == []
    assert await db["files.chunks"].find({"files_id": "file-1"}).to_list() == []
    with pytest.raises(NoFile):
        await bucket.open_download_stream("file-1")


async def test_gridfs_collections_count_and_upload_date(
    db: AsyncDatabase[Any], is_nx: bool
) -> None:
    """nx-27017 serves GridFS through an adapter: its collections cannot be counted (nor
    aggregated) and a file's uploadDate comes back as text. Uploads therefore keep their
    own record (gateway_uploads) for listing, counting and times."""
    bucket = AsyncGridFSBucket(db, bucket_name="files")
    await bucket.upload_from_stream_with_id("file-2", "b.png", b"\x89PNG\r\n\x1a\n")
    stream = await bucket.open_download_stream("file-2")
    assert isinstance(stream.upload_date, str if is_nx else datetime)  # flip when fixed
    if is_nx:
        with pytest.raises(OperationFailure):
            await db["files.files"].count_documents({})
    else:
        assert await db["files.files"].count_documents({}) == 1


async def test_gridfs_abort_of_an_unfinished_upload(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """A failed upload is cleaned up by FileStore.delete_bytes, not abort(): nx-27017
    refuses to delete the files entry an unfinished upload stream has not written yet.
    Its way (delete, else the chunks by files_id) leaves nothing on either server."""
    bucket = AsyncGridFSBucket(db, bucket_name="files", chunk_size_bytes=1024)
    stream = bucket.open_upload_stream_with_id("file-3", "c.pdf")
    await stream.write(b"x" * 3000)  # two chunks flushed, no files entry yet
    if is_nx:
        with pytest.raises(OperationFailure):
            await stream.abort()  # flip when fixed
    try:
        await bucket.delete("file-3")
    except (NoFile, OperationFailure):
        await db["files.chunks"].delete_many({"files_id": "file-3"})
    assert await db["files.files"].find({"_id": "file-3"}).to_list() == []
    assert await db["files.chunks"].find({"files_id": "file-3"}).to_list() == []


async def test_ne_and_missing_fields_in_update_filters(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """The overdue sweep claims a case's daily reminder with a conditional update on
    ``reminded_on``. MongoDB's ``$ne`` matches a missing field and any other string; nx-27017
    matches neither a missing field nor some strings ("" or words). The sweep therefore
    stores a date-shaped "never" (``0001-01-01``) and claims with ``$lt`` today."""
    c = db["reminders"]
    await c.insert_many(
        [{"_id": "missing"}, {"_id": "word", "on": "never"}, {"_id": "date", "on": "0001-01-01"}]
    )
    ne = {"on": {"$ne": "2026-12-05"}}
    claimed = {
        key: (await c.update_one({"_id": key, **ne}, {"$set": {"x": 1}})).modified_count
        for key in ("missing", "word")
    }
    assert claimed == ({"missing": 0, "word": 0} if is_nx else {"missing": 1, "word": 1})
    lt = {"on": {"$lt": "2026-12-05"}}
    first = await c.update_one({"_id": "date", **lt}, {"$set": {"on": "2026-12-05"}})
    again = await c.update_one({"_id": "date", **lt}, {"$set": {"on": "2026-12-05"}})
    assert (first.modified_count, again.modified_count) == (1, 0)


async def test_equality_on_iso_date_shaped_string_ids(db: AsyncDatabase[Any], is_nx: bool) -> None:
    """The statistics' roll-up upserts one document per day and department by ``_id``.
    nx-27017 does not find a string id that starts like an ISO date by equality, so the
    second upsert inserts again and fails; the roll-up writes the day without dashes."""
    c = db["days"]
    await c.update_one({"_id": "20261105|dept"}, {"$inc": {"n": 1}}, upsert=True)
    await c.update_one({"_id": "20261105|dept"}, {"$inc": {"n": 1}}, upsert=True)
    assert (await c.find_one({"_id": "20261105|dept"}) or {}).get("n") == 2
    await c.update_one({"_id": "2026-11-05|dept"}, {"$inc": {"n": 1}}, upsert=True)
    if is_nx:
        with pytest.raises(DuplicateKeyError):
            await c.update_one({"_id": "2026-11-05|dept"}, {"$inc": {"n": 1}}, upsert=True)
    else:
        await c.update_one({"_id": "2026-11-05|dept"}, {"$inc": {"n": 1}}, upsert=True)


async def test_the_count_command_agrees_with_count_documents(
    db: AsyncDatabase[Any], is_nx: bool
) -> None:
    """Connections count with the ``count`` command (gateway/kit/connections.py
    count_matching): on nx-27017 ``count_documents`` decodes every document of the
    collection. Both must give the same number for the filters the app uses."""
    c = db["counted"]
    await c.create_index([("department_code", 1), ("status", 1)])
    await c.insert_many(
        [
            {"_id": f"{n:04d}", "department_code": f"d{n % 3}", "status": "ab"[n % 2], "due": n}
            for n in range(300)
        ]
    )
    for query in (
        {},
        {"department_code": "d1"},
        {"department_code": "d1", "status": "a"},
        {"department_code": "d2", "due": {"$gte": 100}},
        {"status": {"$in": ["a", "b"]}, "due": {"$lt": 10}},
    ):
        command = (await db.command("count", "counted", query=query))["n"]
        assert command == await c.count_documents(query), query
