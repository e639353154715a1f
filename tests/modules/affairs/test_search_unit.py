"""Query parsing, synonym expansion and ranking (pure functions)."""

from __future__ import annotations

from modules.affairs.search import (
    SYNONYM_WEIGHT,
    Scores,
    add_words,
    exact_bonus,
    parse_query,
    popularity_level,
    rank,
    score_postings,
)

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


LEXICON = {
    "社保": ["社会保险", "参保登记"],
    "社保卡": ["社会保障卡"],
    "丢了": ["补领", "补发", "挂失"],
    "补": ["补领", "补发"],
    "开公司": ["设立登记", "有限责任公司"],
}


def test_a_word_inside_a_longer_everyday_word_says_nothing_more() -> None:
    query = parse_query("社保卡丢了", LEXICON)
    assert "社会保障卡" in query.expansions and "补领" in query.expansions
    assert "社会保险" not in query.expansions  # 社保 lies inside 社保卡


def test_a_one_character_word_counts_only_on_its_own() -> None:
    assert "补领" in parse_query("补护照", LEXICON).expansions
    assert "补领" not in parse_query("老人补贴", LEXICON).expansions


def test_a_situation_and_an_object_combine() -> None:
    ranked = rank(
        parse_query("社保卡丢了", LEXICON),
        [
            doc("a", "社会保障卡申领"),
            doc("b", "社会保障卡补领换领"),
            doc("c", "居民身份证补领"),
        ],
    )
    assert [s.doc["_id"] for s in ranked][:1] == ["b"]


def test_an_official_word_is_no_more_specific_than_the_everyday_word() -> None:
    units = {u.text: u for u in parse_query("开公司", LEXICON).units if u.kind == "synonym"}
    # 有限责任公司 (6 characters) counts as specific as 开公司 (3), not more
    assert units["有限责任公司"].weight < units["设立登记"].weight <= SYNONYM_WEIGHT


def scored(scores: Scores) -> dict[int, float]:
    return dict(zip(scores.ids.tolist(), scores.scores.tolist(), strict=True))


def test_an_everyday_words_expansions_are_alternatives() -> None:
    one, two, three, many = 1, 2, 3, 4  # item numbers in the catalog index
    postings = {"n|补贴": [one, many], "n|补助": [two, many], "n|给付": [three, many]}
    hits = scored(score_postings(parse_query("领钱", {"领钱": ["补贴", "补助", "给付"]}), postings))
    # the best in full, each further one a quarter: never three times the evidence
    assert abs(hits[many] / hits[one] - (1 + 2 * 0.25)) < 1e-9


def test_popularity_is_a_small_bounded_prior() -> None:
    assert [popularity_level(v) for v in (0, 999, 1000, 3200, 10_000, 100_000, 10**7)] == [
        0,
        0,
        1,
        2,
        3,
        5,
        5,
    ]
    rare, common = 7, 9
    postings = {"n|登记": [rare, common], "x|pop:5": [common]}
    hits = scored(score_postings(parse_query("登记", {}), postings))
    assert 1.0 < hits[common] / hits[rare] <= 1.2 + 1e-9


def test_pinyin_counts_in_how_well_a_name_fits() -> None:
    query = parse_query("hunyin dengji", {})
    assert exact_bonus(query, "婚姻登记（结婚登记）") > exact_bonus(query, "婚姻家庭辅导服务")
    assert exact_bonus(query, "婚姻家庭辅导服务") > 0


def test_citizen_fillers_carry_no_meaning() -> None:
    query = parse_query("罗湖区自己交社保要带什么材料", {})
    assert not set(query.phrases) & {"罗湖区", "湖区", "自己", "材料", "带"}
    assert "社保" in query.phrases


def test_an_everyday_word_matches_with_gaps_and_real_words_are_not_heard_as_others() -> None:
    lexicon = {"看病报销": ["医疗费用"], "落户": ["户口迁移"]}
    add_words(lexicon)  # as the catalog teaches every lexicon word: whole
    gapped = parse_query("在外地看病怎么报销", lexicon)
    assert "医疗费用" in gapped.expansions  # 看病 … 报销
    place = parse_query("罗湖的学校", lexicon)
    assert "户口迁移" not in place.expansions  # 罗湖 sounds like 落户, but is a word
    typo = parse_query("洛户", lexicon)
    assert "户口迁移" in typo.expansions  # a homophone that is no word still is
