"""Query parsing, synonym expansion and ranking (pure functions)."""

from __future__ import annotations

from modules.affairs.search import parse_query, rank

SYNONYMS = {"开公司": ["企业设立", "营业执照"], "生孩子": ["出生登记", "生育"]}


def doc(code: str, name: str, tags: str = "", body: str = "") -> dict[str, str]:
    return {
        "_id": code,
        "name": name,
        "status": "active",
        "search_name": name,
        "search_tags": tags,
        "search_body": body,
    }


def test_stopwords_go_and_synonyms_expand() -> None:
    query = parse_query("我想开公司怎么办", SYNONYMS)
    assert "怎么" not in query.phrases and "我" not in query.phrases
    assert query.expansions == ("企业设立", "营业执照")
    assert "营业执照" in query.terms


def test_name_hits_rank_above_tag_and_body_hits() -> None:
    query = parse_query("营业执照", SYNONYMS)
    ranked = rank(
        query,
        [
            doc("c", "食品经营许可证核发", body="营业执照 食品安全管理制度"),
            doc("b", "企业设立登记", tags="营业执照"),
            doc("a", "营业执照遗失补领"),
            doc("z", "居住证签注"),
        ],
    )
    # "c" only mentions it among its materials: a fallback tier, not shown here.
    assert [s.doc["_id"] for s in ranked] == ["a", "b"]
    assert ranked[0].highlight.name == "<em>营业执照</em>遗失补领"


def test_a_one_character_query_still_searches() -> None:
    assert parse_query("证", {}).terms == ("证",)


def test_long_queries_are_truncated() -> None:
    assert len(parse_query("营业执照" * 300, {}).text) <= 64


def test_material_only_matches_are_a_fallback_tier() -> None:
    query = parse_query("身份证", {})
    ranked = rank(
        query, [doc("a", "居民身份证换领"), doc("b", "低保申请", body="居民身份证 户口簿")]
    )
    assert [s.doc["_id"] for s in ranked] == ["a"]
    only_materials = rank(query, [doc("b", "低保申请", body="居民身份证 户口簿")])
    assert [s.doc["_id"] for s in only_materials] == ["b"]
