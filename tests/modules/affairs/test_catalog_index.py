"""The catalog index (attributes + inverted index) is derived data: a lost index is rebuilt."""

from __future__ import annotations

from harness import unique_db
from pymongo import MongoClient


def test_a_lost_catalog_index_is_rebuilt_at_start(start_gateway, mongo_url: str) -> None:
    db_name = unique_db("reindex")
    first = start_gateway(db=db_name)
    query = '{ affairItems(search: "营业执照", first: 3) { totalCount edges { node { code } } } }'
    before = first.data(query)["affairItems"]
    first.stop()

    client: MongoClient = MongoClient(mongo_url)
    try:
        db = client[db_name]
        for collection in (
            "affairs_item_attributes",
            "affairs_search_postings",
            "affairs_search_documents",
            "affairs_search_meta",
        ):
            db[collection].delete_many({})
        second = start_gateway(db=db_name)
        assert second.data(query)["affairItems"] == before
        assert db.affairs_item_attributes.count_documents({}) == 1202
        # rebuilt from everything the indexer reads: whole keywords, popularity
        postings = db.affairs_search_postings
        assert postings.find_one({"_id": "k|开公司"}) is not None
        assert postings.find_one({"_id": "x|pop:5"}) is not None
        assert postings.find_one({"_id": "x|act:replace"}) is not None  # read from names
        listed = second.data("{ affairItems(filter: {zeroVisit: true}) { totalCount } }")
        assert listed["affairItems"]["totalCount"] > 800
    finally:
        client.drop_database(db_name)
        client.close()
