"""Chinese search over HTTP on the seeded catalog."""

from __future__ import annotations

from typing import Any

import pytest
from harness import GatewayProcess

SEARCH = """
query Search($q: String, $first: Int) {
  affairItems(search: $q, first: $first) {
    totalCount
    edges {
      score
      highlight { name matchedTerms matchedIn ranges { start end } }
      node { code name type department { shortName name } results { name } }
    }
  }
}
"""

BUSINESS_REGISTRATION = ("设立登记", "营业执照", "变更登记", "注销登记", "开办", "备案")


def search(gateway: GatewayProcess, q: str, first: int = 10) -> dict[str, Any]:
    result: dict[str, Any] = gateway.data(SEARCH, {"q": q, "first": first})["affairItems"]
    return result


def is_business_registration(node: dict[str, Any]) -> bool:
    """A 市场监管 item that registers a business or issues a business licence."""
    department = node["department"]
    market = "市场监" in department["shortName"] or "市场监督" in department["name"]
    text = node["name"] + "".join(r["name"] for r in node["results"])
    return market and any(word in text for word in BUSINESS_REGISTRATION)


@pytest.mark.parametrize("query", ["营业执照", "开公司"])
def test_business_registration_comes_first(gateway: GatewayProcess, query: str) -> None:
    result = search(gateway, query, 5)
    assert result["totalCount"] > 0
    top = [edge["node"] for edge in result["edges"][:3]]
    assert all(is_business_registration(node) for node in top), [n["name"] for n in top]
    scores = [edge["score"] for edge in result["edges"]]
    assert scores == sorted(scores, reverse=True)


def test_id_card_finds_id_and_household_items(gateway: GatewayProcess) -> None:
    result = search(gateway, "身份证", 10)
    names = [edge["node"]["name"] for edge in result["edges"]]
    assert any("身份证" in name for name in names[:3]), names
    assert all(
        any(word in name for word in ("身份证", "户", "户籍", "居住证")) for name in names[:5]
    ), names


def test_everyday_question_finds_birth_items(gateway: GatewayProcess) -> None:
    result = search(gateway, "生孩子要办什么", 5)
    names = [edge["node"]["name"] for edge in result["edges"]]
    assert any("出生" in n or "生育" in n for n in names[:3]), names


def test_residence_permit(gateway: GatewayProcess) -> None:
    names = [e["node"]["name"] for e in search(gateway, "办居住证", 5)["edges"]]
    assert names and "居住证" in names[0], names


def test_highlight_marks_the_matched_words(gateway: GatewayProcess) -> None:
    edge = search(gateway, "营业执照", 1)["edges"][0]
    highlight = edge["highlight"]
    name = edge["node"]["name"]
    if "营业执照" in name:
        assert "<em>" in highlight["name"]
        start, end = highlight["ranges"][0]["start"], highlight["ranges"][0]["end"]
        assert name[start:end] in {"营业执照", "营业", "执照"} or "营业" in name[start:end]
    assert highlight["matchedTerms"]
    assert set(highlight["matchedIn"]) <= {"NAME", "KEYWORDS", "MATERIALS_OR_FAQ"}


def test_highlight_escapes_html(gateway: GatewayProcess) -> None:
    result = search(gateway, "<script>营业执照</script>", 3)
    for edge in result["edges"]:
        assert "<script>" not in edge["highlight"]["name"]


@pytest.mark.parametrize(
    "query", ["", "   ", "的", "x" * 1000, "营业执照" * 250, "🙂🙂", "'; drop"]
)
def test_odd_searches_answer_cleanly(gateway: GatewayProcess, query: str) -> None:
    response = gateway.graphql(SEARCH, {"q": query, "first": 5})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["affairItems"]["totalCount"] >= 0


def test_empty_search_lists_everything_active(gateway: GatewayProcess, seed_items) -> None:
    total = gateway.data("{ affairItems { totalCount } }")["affairItems"]["totalCount"]
    assert total == sum(1 for item in seed_items if item["status"] == "active")


def test_search_pages_do_not_overlap(gateway: GatewayProcess) -> None:
    query = 'query($after: String) { affairItems(search: "登记", first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { code } } } }'
    seen: list[str] = []
    after = None
    for _ in range(4):
        page = gateway.data(query, {"after": after})["affairItems"]
        seen.extend(e["node"]["code"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    assert len(seen) == min(28, page["totalCount"])


def test_suggestions_complete_a_prefix(gateway: GatewayProcess) -> None:
    suggestions = gateway.data(
        '{ affairSuggestions(prefix: "居住", first: 5) { text itemCode kind } }'
    )["affairSuggestions"]
    assert suggestions
    assert all("居住" in s["text"] for s in suggestions)
    assert any(s["kind"] == "ITEM" and s["itemCode"] for s in suggestions)
    assert gateway.data('{ affairSuggestions(prefix: "") { text } }')["affairSuggestions"] == []


def test_faq_search(gateway: GatewayProcess, seed_faq) -> None:
    result = gateway.data(
        '{ faq(search: "营业执照", first: 3) '
        "{ totalCount edges { node { question answer items { name } } } } }"
    )["faq"]
    assert result["totalCount"] > 0
    top = result["edges"][0]["node"]
    assert "营业执照" in (top["question"] + top["answer"])
    everything = gateway.data("{ faq(first: 100) { totalCount } }")["faq"]["totalCount"]
    assert everything == len(seed_faq) == 146


DID_YOU_MEAN = "query S($q: String) { affairItems(search: $q, first: 1) { didYouMean } }"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("公鸡金", "公积金"), ("失叶金", "失业金"), ("shebao", "社保"), ("gjj", "公积金")],
)
def test_a_mistyped_search_says_what_it_understood(
    gateway: GatewayProcess, typed: str, meant: str
) -> None:
    assert gateway.data(DID_YOU_MEAN, {"q": typed})["affairItems"]["didYouMean"] == meant


@pytest.mark.parametrize("typed", ["公积金", "养犬", "我想开公司", "護照"])
def test_a_well_typed_search_suggests_nothing(gateway: GatewayProcess, typed: str) -> None:
    assert gateway.data(DID_YOU_MEAN, {"q": typed})["affairItems"]["didYouMean"] is None


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("教师资格证", "教师资格认定"),  # not 教师资格证书补发换发
        ("结婚证", "婚姻登记（结婚登记）"),  # not 补领结婚证
        ("社保卡", "社会保障卡申领"),  # not 补领换领, 挂失
    ],
)
def test_naming_a_document_finds_how_to_get_it_not_its_follow_ups(
    gateway: GatewayProcess, query: str, first: str
) -> None:
    assert search(gateway, query, 1)["edges"][0]["node"]["name"].startswith(first)


@pytest.mark.parametrize(
    ("query", "accepted"),
    [
        ("社保卡丢了", {"社会保障卡补领换领", "社会保障卡挂失和解挂"}),
        ("结婚证丢了", {"婚姻登记（补领结婚证）"}),
    ],
)
def test_a_follow_up_asked_for_comes_first(
    gateway: GatewayProcess, query: str, accepted: set[str]
) -> None:
    assert search(gateway, query, 1)["edges"][0]["node"]["name"] in accepted


def test_when_every_item_of_a_document_is_a_follow_up_they_keep_their_rank(
    gateway: GatewayProcess,
) -> None:
    top = search(gateway, "驾驶证", 3)["edges"]
    assert "机动车驾驶证" in top[0]["node"]["name"]  # renewals and replacements, not a stranger
