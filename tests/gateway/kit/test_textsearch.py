"""gateway.kit.textsearch: normalisation, segmentation, pinyin, scoring, highlights."""

from __future__ import annotations

import jieba

from gateway.kit.textsearch import (
    DEFAULT_STOPWORDS,
    FieldWeights,
    Segmenter,
    Spelling,
    idf,
    initials,
    is_pinyin_like,
    mark,
    minimum_should_match,
    normalize,
    pinyin,
    ranges,
    sound_spans,
    syllables,
)


def test_normalize_folds_width_script_case_and_punctuation() -> None:
    assert normalize("駕駛證換證") == "驾驶证换证"
    assert normalize("ＡＢＣ１２３，营业执照！") == "abc123 营业执照"
    assert normalize("  Hello,\tWorld  ") == "hello world"
    assert normalize(None) == "" and normalize("") == ""


def test_a_taught_compound_keeps_its_parts() -> None:
    segmenter = Segmenter(["养犬登记证"])
    terms = segmenter.terms(normalize("养犬登记证核发"))
    assert {"养犬登记证", "养犬", "登记", "核发", "犬"} <= terms


def test_single_characters_are_terms_but_not_stopwords() -> None:
    terms = Segmenter().terms("我的犬")
    assert "犬" in terms and "的" not in terms and "我" not in terms


def test_each_segmenter_has_its_own_vocabulary() -> None:
    before = jieba.dt.FREQ.get("黄金糕点铺", 0) if jieba.dt.initialized else 0
    one, other = Segmenter(["黄金糕点铺"]), Segmenter()
    assert "黄金糕点铺" in one.vocabulary and "黄金糕点铺" not in other.vocabulary
    assert "黄金糕点铺" in {t.text for t in one.query_tokens("黄金糕点铺")}
    assert "黄金糕点铺" not in {t.text for t in other.query_tokens("黄金糕点铺")}
    assert (jieba.dt.FREQ.get("黄金糕点铺", 0) if jieba.dt.initialized else 0) == before


def test_query_tokens_keep_positions_and_drop_stopwords() -> None:
    tokens = Segmenter(["社保卡"]).query_tokens("我想办社保卡")
    found = {(t.text, t.start, t.end) for t in tokens}
    assert ("社保卡", 3, 6) in found
    assert not {text for text, _, _ in found} & {"我", "想", "办"}
    latin = Segmenter().query_tokens("hunyin dengji")
    assert [(t.text, t.start, t.end) for t in latin] == [("hunyin", 0, 6), ("dengji", 7, 13)]


def test_unknown_words_fall_back_to_bigrams() -> None:
    texts = {t.text for t in Segmenter().query_tokens("犬犬登记证照")}
    assert "登记" in texts


def test_pinyin_keys_match_homophones_and_initials() -> None:
    assert pinyin("公积金") == pinyin("公鸡金") == "gongjijin"
    assert initials("营业执照") == "yyzz"
    assert pinyin("abc") == "" and initials("abc") == ""
    assert is_pinyin_like("shebao") and not is_pinyin_like("a") and not is_pinyin_like("社保")


def test_idf_is_bounded_and_rare_terms_weigh_more() -> None:
    rare, common = idf(1, 1000), idf(500, 1000)
    assert 0.5 <= common < rare <= 1.5
    assert idf(5, 0) <= 1.5


def test_field_weights_and_minimum_should_match() -> None:
    weights = FieldWeights((("n", 10.0), ("t", 4.0)))
    assert weights.of("n") == 10.0 and weights.of("b") == 0.0 and weights.fields == ("n", "t")
    assert minimum_should_match(1.0) == 0.6
    assert minimum_should_match(0.5, share=0.5, floor=0.3) == 0.3


def test_highlights_escape_html_and_mark_homophones() -> None:
    assert mark("<b>营业执照</b>补领", ["营业执照"]) == "&lt;b&gt;<em>营业执照</em>&lt;/b&gt;补领"
    assert ranges("住房公积金提取", ["公鸡金"]) == [(2, 5)]
    assert ranges("住房公积金提取", ["gongjijin"]) == [(2, 5)]
    assert ranges("营业执照补领", ["营业", "执照"]) == [(0, 4)]


def test_known_words_inside_long_words_are_terms() -> None:
    # jieba looks inside 基本养老保险 only for two- and three-character words
    segmenter = Segmenter(["基本养老保险", "养老保险"])
    assert {"基本养老保险", "养老保险", "养老", "保险"} <= segmenter.terms("基本养老保险参保登记")


def test_the_parts_of_a_stopword_go_with_it() -> None:
    segmenter = Segmenter(stopwords=DEFAULT_STOPWORDS | {"罗湖区"})
    texts = {t.text for t in segmenter.query_tokens("罗湖区社保")}
    assert "社保" in texts and not texts & {"罗湖区", "罗湖", "湖区"}


def test_syllables_align_with_the_text_and_read_polyphones_in_context() -> None:
    assert syllables("银行ab") == ("yin", "hang", "a", "b")
    assert syllables("婚姻 登记") == ("hun", "yin", " ", "deng", "ji")


def test_sound_spans_find_homophones_pinyin_and_initials() -> None:
    assert sound_spans("住房公积金提取", "公鸡金") == [(2, 5)]
    assert sound_spans("住房公积金提取", "gongjijin") == [(2, 5)]
    assert sound_spans("住房公积金提取", "gjj") == [(2, 5)]
    assert sound_spans("婚姻登记 结婚登记", "dengji") == [(2, 4), (7, 9)]
    assert sound_spans("住房公积金提取", "shebao") == []


def test_spelling_replaces_typos_by_sound_with_the_vocabulary() -> None:
    segmenter = Segmenter()
    spelling = Spelling(
        ["公积金", "公积金提取", "社保", "社保卡", "居住证", "营业执照", "婚姻登记"],
        is_word=segmenter.knows,
    )
    assert spelling.suggest("公鸡金") == "公积金"  # a pinyin-keyboard homophone
    assert spelling.suggest("公鸡金提取") == "公积金提取"  # the longest stretch first
    assert spelling.suggest("居住正怎么办") == "居住证怎么办"  # the rest is left alone
    assert spelling.suggest("shebao") == "社保"  # typed pinyin
    assert spelling.suggest("hunyin dengji") == "婚姻登记"  # several syllables, spaced
    assert spelling.suggest("sbk") == "社保卡"  # initials of exactly one word
    assert spelling.suggest("yyzz") == "营业执照"


def test_spelling_leaves_real_words_and_correct_queries_alone() -> None:
    spelling = Spelling(["公积金", "社保"], is_word=Segmenter().knows)
    assert spelling.suggest("公积金") is None
    assert spelling.suggest("公鸡") is None  # a real word, even if it sounds like 公积
    assert spelling.suggest("营业执照") is None  # nothing in the vocabulary sounds so
    assert spelling.suggest("xyz") is None


def test_a_taught_word_is_still_cut_into_its_parts_for_gapped_matching() -> None:
    segmenter = Segmenter(["看病报销", "拖欠工资", "居住证"])
    assert segmenter.words("看病报销") == ["看病报销"]  # taught whole …
    assert segmenter.parts("看病报销") == ["看病", "报销"]  # … yet made of two words
    assert segmenter.parts("拖欠工资") == ["拖欠", "工资"]
    assert segmenter.parts("居住证") == ["居住证"]  # no tiling by 2+ character words
