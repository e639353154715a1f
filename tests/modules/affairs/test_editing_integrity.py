"""Creates that touch several documents leave all of them or none; FAQ links stay in-department.

Over HTTP against a real gateway; obstacles are planted and results checked directly in
its database (pymongo), because "nothing half-written" is about what is stored, not
about what the API happens to show.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from harness import GatewayProcess, OwnGateway
from pymongo.database import Database
from test_editing import new_item_input

CREATE = """mutation($input: AffairItemInput!) {
  createAffairItem(input: $input) { item { code version faq { code question departmentCode } } }
}"""
VERSIONS = "query($c: String!) { affairItem(code: $c) { versions { version changedBy } } }"
DISTRICT = "440303"


@pytest.fixture(scope="module")
def gateway(own_gateway: OwnGateway) -> GatewayProcess:
    return own_gateway.gateway


@pytest.fixture(scope="module")
def db(own_gateway: OwnGateway) -> Database[Any]:
    return own_gateway.db


@pytest.fixture(scope="module")
def departments(seed_faq: list[dict[str, Any]]) -> tuple[str, str]:
    """Two departments that each answer some FAQ entries: (ours, theirs)."""
    owners = list(dict.fromkeys(f["department_code"] for f in seed_faq))
    return owners[0], owners[1]


def faq_of(seed_faq: list[dict[str, Any]], department: str) -> str:
    return next(str(f["code"]) for f in seed_faq if f["department_code"] == department)


def licensing(department: str, basic_code: str, business_item: str, **extra: Any) -> dict[str, Any]:
    return new_item_input(
        department,
        None,
        type="LICENSING",
        basicCode=basic_code,
        businessItem=business_item,
        handlingType="PROMISED",
        legalLimitDays=20,
        promisedLimitDays=5,
        **extra,
    )


def code_of(given: dict[str, Any]) -> str:
    return f"{given['basicCode']}{DISTRICT}{given['departmentCode']}{given['businessItem']}"


def staff(gateway: GatewayProcess, department: str) -> str:
    return gateway.token(f"staff-{uuid.uuid4().hex[:8]}", ("staff",), department=department)


def packed(numbers: list[int]) -> str:
    """A posting's stored form (gateway.kit.textsearch.index): base64 of uint32s."""
    return base64.b64encode(np.asarray(numbers, dtype="<u4").tobytes()).decode()


def posted_numbers(db: Database[Any], number: int | None = None) -> int:
    """Postings holding ``number`` — or, without one, numbers no indexed item owns."""
    known = {d["doc_id"] for d in db.affairs_search_documents.find({}, {"doc_id": 1})}
    found = 0
    for doc in db.affairs_search_postings.find({}, {"ids": 1}):
        numbers = set(np.frombuffer(base64.b64decode(doc["ids"]), dtype="<u4").tolist())
        found += number in numbers if number is not None else len(numbers - known)
    return found


def traces(db: Database[Any], code: str) -> dict[str, int]:
    """Everything stored anywhere that belongs to (or points at) item ``code``."""
    indexed = db.affairs_search_documents.find_one({"_id": code})
    return {
        "items": db.affairs_items.count_documents({"_id": code}),
        "versions": db.affairs_item_versions.count_documents({"code": code}),
        # its postings; when it is not indexed, any posting of a number nobody owns
        "postings": posted_numbers(db, indexed["doc_id"] if indexed else None),
        "indexed": int(indexed is not None),
        "attributes": db.affairs_item_attributes.count_documents({"_id": code}),
        "faq_links": db.affairs_faq.count_documents({"item_codes": {"$in": [code]}}),
    }


NOTHING = {k: 0 for k in ("items", "versions", "postings", "indexed", "attributes", "faq_links")}


def test_two_licensing_items_of_one_department_and_business_item_get_their_own_faq(
    gateway: GatewayProcess, departments: tuple[str, str]
) -> None:
    ours, _ = departments
    token = staff(gateway, ours)
    made = []
    for basic_code, question in (
        ("010099900201", "甲证多久办结？"),
        ("010099900202", "乙证多久办结？"),
    ):
        given = licensing(
            ours, basic_code, "007", newFaq=[{"question": question, "answer": "5个工作日。"}]
        )
        item = gateway.data(CREATE, {"input": given}, token=token)["createAffairItem"]["item"]
        assert item["code"] == code_of(given)
        assert [f["question"] for f in item["faq"]] == [question]
        made.append(item)
    first, second = (item["faq"][0]["code"] for item in made)
    # The old scheme (FAQ-<last 9 characters>-NN) gave both the same id.
    assert first != second
    assert first == f"FAQ-{made[0]['code']}-01"
    for item in made:
        found = gateway.data(
            "query($c: String) { faq(itemCode: $c) "
            "{ totalCount edges { node { code itemCodes departmentCode } } } }",
            {"c": item["code"]},
        )["faq"]
        assert found["totalCount"] == 1
        assert found["edges"][0]["node"] == {
            "code": item["faq"][0]["code"],
            "itemCodes": [item["code"]],
            "departmentCode": ours,
        }


def test_a_failing_faq_write_leaves_nothing_and_a_retry_succeeds(
    gateway: GatewayProcess, db: Database[Any], departments: tuple[str, str], seed_faq
) -> None:
    ours, _ = departments
    token = staff(gateway, ours)
    own_faq = faq_of(seed_faq, ours)
    given = licensing(
        ours,
        "010099900301",
        "011",
        faqCodes=[own_faq],
        newFaq=[
            {"question": "需要预约吗？", "answer": "无需预约。"},
            {"question": "可以代办吗？", "answer": "可凭授权委托书代办。"},
        ],
    )
    code = code_of(given)
    # Someone else's document already holds the id the second new entry will get.
    obstacle = {"_id": f"FAQ-{code}-02", "question": "占位", "answer": "占位", "item_codes": []}
    db.affairs_faq.insert_one(obstacle)
    linked_before = db.affairs_faq.find_one({"_id": own_faq})["item_codes"]

    error = gateway.errors(CREATE, {"input": given}, token=token)[0]
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["itemCode"] == code
    assert traces(db, code) == NOTHING
    # The first new entry was written before the obstacle was hit: undone too.
    assert db.affairs_faq.find_one({"_id": f"FAQ-{code}-01"}) is None
    # The undo removes what this create wrote, never somebody else's document.
    assert db.affairs_faq.find_one({"_id": f"FAQ-{code}-02"}) == obstacle
    assert db.affairs_faq.find_one({"_id": own_faq})["item_codes"] == linked_before
    assert gateway.errors(VERSIONS, {"c": code})[0]["extensions"]["code"] == "NOT_FOUND"

    db.affairs_faq.delete_one({"_id": obstacle["_id"]})
    item = gateway.data(CREATE, {"input": given}, token=token)["createAffairItem"]["item"]
    assert {f["code"] for f in item["faq"]} == {own_faq, f"FAQ-{code}-01", f"FAQ-{code}-02"}
    stored = traces(db, code)
    assert stored["items"] == stored["versions"] == stored["indexed"] == 1
    assert stored["postings"] > 0
    assert stored["faq_links"] == 3


def test_a_failure_after_the_item_and_postings_were_written_is_undone(
    gateway: GatewayProcess, db: Database[Any], departments: tuple[str, str], seed_faq
) -> None:
    """The catalog index is written last; a failure there still takes the item back."""
    ours, _ = departments
    token = staff(gateway, ours)
    own_faq = faq_of(seed_faq, ours)
    given = licensing(
        ours,
        "010099900302",
        "012",
        name="危险化学品经营许可（整合测试）",
        faqCodes=[own_faq],
        newFaq=[{"question": "整合测试问题？", "answer": "整合测试答案。"}],
    )
    code = code_of(given)
    # A stray catalog-index record for the code: the index's last write (attributes) fails.
    db.affairs_item_attributes.insert_one({"_id": code, "status": "active"})

    error = gateway.errors(CREATE, {"input": given}, token=token)[0]
    assert error["extensions"]["code"] == "CONFLICT"
    # Item, version, postings, FAQ entry and link are gone; so is the stray index
    # record (no index entry may exist for an item that is not stored).
    assert traces(db, code) == NOTHING
    assert db.affairs_faq.find_one({"_id": f"FAQ-{code}-01"}) is None
    searched = gateway.data(
        '{ affairItems(search: "整合测试", first: 5) { edges { node { code } } } }'
    )["affairItems"]["edges"]
    assert code not in {e["node"]["code"] for e in searched}

    item = gateway.data(CREATE, {"input": given}, token=token)["createAffairItem"]["item"]
    assert item["code"] == code
    searched = gateway.data(
        '{ affairItems(search: "整合测试", first: 5) { edges { node { code } } } }'
    )["affairItems"]["edges"]
    assert code in {e["node"]["code"] for e in searched}


def test_a_retry_takes_over_an_abandoned_create_and_a_live_one_is_left_alone(
    gateway: GatewayProcess, db: Database[Any], departments: tuple[str, str]
) -> None:
    ours, _ = departments
    token = staff(gateway, ours)
    given = licensing(
        ours, "010099900303", "013", newFaq=[{"question": "新问题？", "answer": "新答案。"}]
    )
    code = code_of(given)
    claim = {
        "_id": f"{code}@1",
        "code": code,
        "version": 1,
        "name": "上次未完成的创建",
        "status": "active",
        "change": "新增",
        "changed_at": datetime.now(UTC),
        "changed_by": "staff-crashed",
    }
    db.affairs_item_versions.insert_one(claim)
    db.affairs_faq.insert_one(
        {"_id": f"FAQ-{code}-01", "question": "旧问题？", "answer": "旧", "item_codes": [code]}
    )
    # What the crashed create left in the catalog index: its record, and its number in
    # a posting (the index writes the record first, so a posting never lacks one).
    stale_number = 999_999
    db.affairs_search_documents.insert_one(
        {"_id": code, "doc_id": stale_number, "fields": {"n": ["遗留词"]}, "pending": None}
    )
    db.affairs_search_postings.insert_one(
        {"_id": "n|遗留词", "ids": packed([5, stale_number]), "rev": 0}
    )
    # Begun just now: maybe still running, so it is not touched.
    busy = gateway.errors(CREATE, {"input": given}, token=token)[0]
    assert busy["extensions"]["code"] == "CONFLICT"
    assert db.affairs_faq.find_one({"_id": f"FAQ-{code}-01"})["question"] == "旧问题？"

    db.affairs_item_versions.replace_one(
        {"_id": claim["_id"]}, {**claim, "changed_at": datetime.now(UTC) - timedelta(hours=1)}
    )
    item = gateway.data(CREATE, {"input": given}, token=token)["createAffairItem"]["item"]
    assert [f["question"] for f in item["faq"]] == ["新问题？"]
    assert db.affairs_search_postings.find_one({"_id": "n|遗留词"})["ids"] == packed([5])
    assert db.affairs_search_documents.find_one({"_id": code})["doc_id"] != stale_number
    versions = db.affairs_item_versions.find_one({"_id": f"{code}@1"})
    assert versions["name"] == given["name"]


def test_linking_another_departments_faq_is_forbidden_and_writes_nothing(
    gateway: GatewayProcess, db: Database[Any], departments: tuple[str, str], seed_faq
) -> None:
    ours, theirs = departments
    token = staff(gateway, ours)
    foreign = faq_of(seed_faq, theirs)
    before = db.affairs_faq.find_one({"_id": foreign})["item_codes"]
    given = new_item_input(ours, None, businessItem="021", faqCodes=[foreign])
    error = gateway.errors(CREATE, {"input": given}, token=token)[0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["faqCodes"] == [foreign]
    assert foreign in error["message"]
    assert traces(db, code_of(given)) == NOTHING
    assert db.affairs_faq.find_one({"_id": foreign})["item_codes"] == before

    unknown = gateway.errors(
        CREATE,
        {"input": new_item_input(ours, None, businessItem="022", faqCodes=["FAQ-9999"])},
        token=token,
    )[0]
    assert unknown["extensions"]["code"] == "BAD_USER_INPUT"
    assert ("faqCodes.0", "unknown_faq") in {
        (e["field"], e["code"]) for e in unknown["extensions"]["fieldErrors"]
    }

    # Admins may link any department's entry.
    admin = gateway.token("admin-integrity", ("admin",))
    linked = new_item_input(ours, None, businessItem="023", faqCodes=[foreign])
    item = gateway.data(CREATE, {"input": linked}, token=admin)["createAffairItem"]["item"]
    assert foreign in {f["code"] for f in item["faq"]}


def test_staff_identities_in_the_history_are_for_staff_only(
    gateway: GatewayProcess, departments: tuple[str, str]
) -> None:
    ours, theirs = departments
    subject = f"staff-{uuid.uuid4().hex[:8]}"
    token = gateway.token(subject, ("staff",), department=ours)
    code = gateway.data(
        CREATE, {"input": new_item_input(ours, None, businessItem="031")}, token=token
    )["createAffairItem"]["item"]["code"]

    anonymous = gateway.data(VERSIONS, {"c": code})["affairItem"]["versions"]
    assert anonymous == [{"version": 1, "changedBy": None}]
    citizen = gateway.token("citizen-1", ("citizen",))
    assert gateway.data(VERSIONS, {"c": code}, token=citizen)["affairItem"]["versions"] == [
        {"version": 1, "changedBy": None}
    ]
    other_staff = staff(gateway, theirs)
    assert gateway.data(VERSIONS, {"c": code}, token=other_staff)["affairItem"]["versions"] == [
        {"version": 1, "changedBy": subject}
    ]
    admin = gateway.token("admin-1", ("admin",))
    assert (
        gateway.data(VERSIONS, {"c": code}, token=admin)["affairItem"]["versions"][0]["changedBy"]
        == subject
    )


def test_new_faq_entries_must_say_something(
    gateway: GatewayProcess, departments: tuple[str, str]
) -> None:
    ours, _ = departments
    given = licensing(
        ours, "010099900401", "041", newFaq=[{"question": "  ", "answer": "有答案。"}]
    )
    error = gateway.errors(CREATE, {"input": given}, token=staff(gateway, ours))[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "newFaq.0.question" in {e["field"] for e in error["extensions"]["fieldErrors"]}
