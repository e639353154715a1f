"""Chinese search for the catalog, on ``gateway.kit.textsearch``.

Every item's texts are normalised (full-width → half-width, traditional → simplified,
case, punctuation) and cut into terms by the catalog's own segmenter (jieba with the
catalog vocabulary, plus bigrams and single characters), by field:

* name  (``n``) — name and everyday name           weight 10
* tags  (``t``) — keywords, results, themes, dept  weight 4
* body  (``b``) — materials and FAQ questions      weight 1
* pinyin (``p``) and initials (``i``) of the name and tag terms (homophone typos,
  pinyin input: 公鸡金, ``gongjijin``, ``yyzz``)                      weight 3
* priors (``x``) — the item's type and audience class and how many citizens use it
  (popularity level), so ranking can prefer what a citizen applies for without reading
  any item

The terms of active items are kept in an inverted index (one posting document per field
and term, see the repository), so a search reads a few postings by primary key instead
of scanning items. A query is cut the same way into *units* with their character spans;
each unit is scored by its best field × its idf (from the posting-list length); everyday
words (丢了, 驾照, 去世, 开公司 …) are expanded through the synonym table (found also by
pinyin: 设保卡 → 社保卡) at a lower weight, each word's official words counting as
alternatives, so an object and a situation combine (社保卡丢了 → 社会保障卡补领换领). A
document's score is multiplied by how much of the query it covers, and documents covering
much less than the best one are dropped (minimum-should-match). Regulator-facing items
(行政处罚, 行政强制, 行政检查) and operator filings rank lower unless the query names them;
items many citizens use rank a little higher. Body postings are consulted only when
nothing matches by name, tags or pinyin (see ``rank``). The same scoring also runs over
stored texts (``score``) for small collections (FAQ) and staff searches over
suspended/cancelled items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.kit.textsearch import (
    DEFAULT_STOPWORDS,
    Segmenter,
    idf,
    initials,
    is_pinyin_like,
    mark,
    minimum_should_match,
    pinyin,
    ranges,
    sound_spans,
)
from gateway.kit.textsearch import normalize as _normalize
from gateway.kit.textsearch.segment import Token

__all__ = [
    "Highlight",
    "ParsedQuery",
    "Scores",
    "SearchIndexer",
    "parse_query",
    "rank",
    "score_postings",
]

MAX_QUERY_CHARS = 64

WEIGHT_NAME, WEIGHT_TAGS, WEIGHT_BODY, WEIGHT_PINYIN = 10.0, 4.0, 1.0, 3.0
SYNONYM_WEIGHT = 0.7
EXTRA_EXPANSION_SHARE = 0.25  # weight of an everyday word's further official words
PINYIN_SPAN = (2, 4)  # query substrings looked up by their pinyin, in characters
PHRASE_SPAN = (3, 8)  # query substrings looked up as whole keywords / everyday names
SUBSTRING_CHARS = 24  # substrings are taken from the query's first characters only
WEIGHT_PHRASE, WEIGHT_CHAR, NAME_FIT = 6.0, 0.35, 8.0

# Item classes posted under ``x|…``: what ranks lower unless the query asks for it,
# and how many citizens use an item.
# Popularity: items citizens use often rank a little higher, so a generic query (登记,
# 社保) starts with what people apply for. Each half decade of yearly cases from 1,000
# on is a level (1,000 → 1 … 100,000+ → 5), worth a few per cent: a tie-breaker among
# siblings, never a substitute for matching the query.
POPULARITY_FLOOR, POPULARITY_LEVELS, POPULARITY_STEP = 1000, 5, 0.04
REGULATOR_TYPES = ("02", "03", "06")  # 行政处罚, 行政强制, 行政检查
FILING_TYPE = "10"  # 其他行政权力: mostly operator filings (…备案)
# Follow-ups: what item names call doing something *to* a document or status one
# already has. A citizen who names a document without saying what to do with it wants
# the document itself (护照 → 签发, 教师资格证 → 认定, 结婚证 → 结婚登记), so items whose
# name is a follow-up the query does not ask for (by its words or their expansions:
# 丢了 → 补领) rank lower.
FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "replace": ("补领", "补发", "补办", "补证", "补换", "挂失", "遗失"),
    "renew": ("换领", "换发", "换证", "延续", "延期", "续期", "期满"),
    "cancel": ("注销", "撤销", "吊销"),
    "change": ("变更", "更正"),
    "lookup": ("查询", "打印", "下载"),
}
# The one character a citizen may say for a follow-up, standing alone (户口怎么销, 证要补).
FOLLOW_UP_CUES = {
    "replace": "补丢掉",
    "renew": "换续",
    "cancel": "销",
    "change": "改变",
    "lookup": "查",
}
FOLLOW_UP_PRIOR = 0.5  # a follow-up nobody asked for weighs half (see demote_follow_ups)
PRIOR_KEYS = (
    *(f"x|type:{t}" for t in (*REGULATOR_TYPES, FILING_TYPE)),
    "x|org",
    *(f"x|pop:{level}" for level in range(1, POPULARITY_LEVELS + 1)),
    *(f"x|act:{family}" for family in FOLLOW_UPS),
)
REGULATOR_WORDS = ("处罚", "检查", "强制", "查封", "扣押", "监督", "监管", "违法", "罚")
FILING_WORDS = ("备案",)
BUSINESS_WORDS = (
    "公司", "企业", "单位", "经营", "许可", "个体", "店", "厂", "工商", "法人", "商户",
    "饭馆", "餐", "生意", "执照", "纳税人", "机构", "分支",
)  # fmt: skip
REGULATOR_PRIOR, FILING_PRIOR, ORG_PRIOR = 0.35, 0.75, 0.85

# Words that carry no meaning in a search of this district's catalogue: who is asking,
# where (every item is the district's), and what any item has (材料, 手续, 窗口, 电话).
CITIZEN_FILLERS = frozenset(
    ("自己", "本人", "家里", "我家", "咱", "咱们", "深圳", "深圳市", "罗湖", "罗湖区",
     "材料", "手续", "流程", "条件", "多久", "多长时间", "地点", "电话", "部门", "窗口",
     "现在", "最近", "刚刚", "马上", "你好", "您好", "谢谢", "麻烦", "带", "开个", "弄个",
     "搞个")
)  # fmt: skip

_segmenter = Segmenter(stopwords=DEFAULT_STOPWORDS | CITIZEN_FILLERS)


def add_words(words: Iterable[str]) -> None:
    """Teach the catalog's segmenter domain words (营业执照, 居住证签注)."""
    if _segmenter.add_words(words):  # how a synonym term is cut may have changed
        _term_parts.cache_clear()
        _lexicons.clear()


def normalize(text: str) -> str:
    return _normalize(text)


def is_word(text: str) -> bool:
    """Whether a text is a word of the catalog segmenter's dictionary (never "corrected")."""
    return _segmenter.knows(text)


def terms_of(texts: Iterable[str], *, singles: bool = True) -> set[str]:
    """All search terms of some texts (words, sub-words, bigrams, characters), no stopwords."""
    terms: set[str] = set()
    for text in texts:
        terms |= _segmenter.terms(normalize(text), singles=singles)
    return terms


@dataclass(frozen=True)
class _Unit:
    """Something a query asks for: a word (or pinyin) with the query characters it covers."""

    text: str
    span: frozenset[int]
    keys: tuple[str, ...]  # posting keys; exact units ``n|…``/``t|…``/``b|…``
    weight: float
    kind: str  # "word", "synonym", "phrase", "char", "pinyin"
    group: str = ""  # a synonym's everyday word: its expansions count once, the best


@dataclass(frozen=True)
class ParsedQuery:
    """A segmented query: the user's words, their synonym expansions, pinyin units."""

    text: str
    phrases: tuple[str, ...]  # the user's own meaningful words
    expansions: tuple[str, ...]  # official words from the synonym table
    terms: tuple[str, ...]  # everything used to find candidates
    units: tuple[_Unit, ...] = ()
    meaningful: frozenset[int] = frozenset()  # query characters that carry meaning

    @property
    def is_empty(self) -> bool:
        return not self.terms

    @property
    def core(self) -> str:
        """The query without the stopwords and fillers around it (深圳户口怎么办 → 户口)."""
        if not self.meaningful:
            return self.text
        return self.text[min(self.meaningful) : max(self.meaningful) + 1]

    @property
    def names_regulation(self) -> bool:
        return any(w in self.text for w in REGULATOR_WORDS)

    @property
    def names_filing(self) -> bool:
        return any(w in self.text for w in FILING_WORDS)

    @property
    def follow_ups(self) -> frozenset[str]:
        """The follow-up kinds the query asks for, in its words or their expansions."""
        said = (self.text, *self.expansions)
        return frozenset(
            family
            for family, words in FOLLOW_UPS.items()
            if any(word in text for word in words for text in said)
            or any(len(p) == 1 and p in FOLLOW_UP_CUES[family] for p in self.phrases)
        )

    @property
    def names_business(self) -> bool:
        return any(w in self.text for w in BUSINESS_WORDS) or any(
            w in e for e in self.expansions for w in ("企业", "营业执照", "经营", "许可")
        )


def _len_weight(text: str) -> float:
    # Longer words are more specific: 营业执照 says more than 执照, 犬 least.
    if len(text) == 1 and not text.isascii():
        return 0.6
    return 1.0 + 0.25 * max(0, min(len(text), 8) - 2)


def _word_keys(word: str, fields: Sequence[str] = ("n", "t", "b")) -> tuple[str, ...]:
    return tuple(f"{f}|{word}" for f in fields)


def _synonym_units(
    text: str, tokens: Sequence[Token], synonyms: Mapping[str, Sequence[str]]
) -> list[_Unit]:
    """Expansions of the everyday words found in the query, one group per word."""
    units: list[_Unit] = []
    for term, span in _everyday_words(text, tokens, synonyms).items():
        for word in synonyms[term]:
            word = normalize(word)
            if word:
                # an official word is no more specific than the everyday word it stands for
                cap = max(1.0, _len_weight(term))
                weight = SYNONYM_WEIGHT * min(1.0, cap / _len_weight(word))
                units.append(_Unit(word, span, _word_keys(word), weight, "synonym", term))
    return units


def _everyday_words(
    text: str, tokens: Sequence[Token], synonyms: Mapping[str, Sequence[str]]
) -> dict[str, frozenset[int]]:
    """The synonym terms in the query and the characters each covers; the longest win.

    A term is found as written, in order with gaps (看病…报销), or by sound (设保卡 →
    社保卡, ``shebao``). A one-character term (补, 换, 取) counts only where it stands
    as a word of its own, never inside 补贴. A term lying inside a longer term found
    in the same place (社保 in 社保卡, 丢了 in 丢了工作) says nothing more and is dropped.
    """
    found = _lexicon(tuple(synonyms)).find(text, tokens)
    return {
        term: span
        for term, span in found.items()
        if not any(span < other for other in found.values())
    }


class _Lexicon:
    """The terms of a synonym table, indexed by text, parts and sound for matching."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.by_text: dict[str, list[str]] = {}
        self.by_sound: dict[str, list[str]] = {}
        self.by_initials: dict[str, list[str]] = {}
        self.gapped: list[tuple[str, tuple[str, ...]]] = []
        for raw in terms:
            term = normalize(raw)
            if not term:
                continue
            self.by_text.setdefault(term, []).append(raw)
            if parts := _term_parts(term):
                self.gapped.append((raw, parts))
            if len(term) >= 2 and (sound := pinyin(term)):
                self.by_sound.setdefault(sound, []).append(raw)
                if len(term) >= 3:
                    self.by_initials.setdefault(initials(term), []).append(raw)
        self.sizes = sorted({len(t) for t in self.by_text})

    def find(self, text: str, tokens: Sequence[Token]) -> dict[str, frozenset[int]]:
        singles = {t.text for t in tokens if len(t.text) == 1}
        found: dict[str, frozenset[int]] = {}
        for size in self.sizes:  # as written: the first place each term occurs
            for start in range(len(text) - size + 1):
                part = text[start : start + size]
                if size == 1 and part not in singles:
                    continue
                for raw in self.by_text.get(part, ()):
                    found.setdefault(raw, frozenset(range(start, start + size)))
        for raw, parts in self.gapped:
            if raw not in found and (span := _in_order(text, parts)):
                found[raw] = span
        for raw, span in self._by_sound(text, tokens).items():
            found.setdefault(raw, span)
        return found

    def _by_sound(self, text: str, tokens: Sequence[Token]) -> dict[str, frozenset[int]]:
        """Terms that sound like a stretch of the query, or like one of its Latin words."""
        chars: dict[str, set[int]] = {}
        for size in (n for n in self.sizes if n >= 2):
            for start in range(len(text) - size + 1):
                part = text[start : start + size]
                if part.isascii() or not (key := pinyin(part)) or _said_as_meant(part):
                    continue
                for raw in self.by_sound.get(key, ()):
                    chars.setdefault(raw, set()).update(range(start, start + size))
        for token in tokens:
            if is_pinyin_like(token.text):
                span = range(token.start, token.end)
                for raw in (
                    *self.by_sound.get(token.text, ()),
                    *self.by_initials.get(token.text, ()),
                ):
                    chars.setdefault(raw, set()).update(span)
        return {raw: frozenset(c) for raw, c in chars.items()}


def _said_as_meant(part: str) -> bool:
    """A real word (or a filler) is no typo: 罗湖 must not be heard as 落户."""
    return part in _segmenter.stopwords or _segmenter.knows(part)


_lexicons: dict[tuple[str, ...], _Lexicon] = {}


def _lexicon(terms: tuple[str, ...]) -> _Lexicon:
    """The indexed form of a synonym table, built once per table (and vocabulary)."""
    lexicon = _lexicons.get(terms)
    if lexicon is None:
        if len(_lexicons) >= 4:  # a replica holds one table at a time; reloads replace it
            _lexicons.clear()
        lexicon = _lexicons[terms] = _Lexicon(terms)
    return lexicon


def _in_order(text: str, parts: Sequence[str]) -> frozenset[int]:
    """The characters of ``parts`` found in ``text`` in this order (看病…报销), or none."""
    chars: set[int] = set()
    cursor = 0
    for part in parts:
        start = text.find(part, cursor)
        if start < 0:
            return frozenset()
        chars.update(range(start, start + len(part)))
        cursor = start + len(part)
    return frozenset(chars)


@lru_cache(maxsize=8192)
def _term_parts(term: str) -> tuple[str, ...]:
    """A term's words for gapped matching; none when a part is a stopword or a character.

    丢了 must not match 丢…了 anywhere in a sentence: only parts that mean something on
    their own (看病, 报销) may stand apart.
    """
    # The words a term is made of, even when the segmenter was taught the term whole
    # (every lexicon word is taught, so a plain cut would never split one).
    parts = tuple(_segmenter.parts(term))
    if len(parts) < 2 or any(len(p) < 2 or p in _segmenter.stopwords for p in parts):
        return ()
    return parts


def _substrings(text: str, low: int, high: int) -> Iterable[tuple[str, int]]:
    head = text[:SUBSTRING_CHARS]
    for size in range(low, high + 1):
        for start in range(len(head) - size + 1):
            part = head[start : start + size]
            if all("\u3400" <= ch <= "\u9fff" for ch in part):
                yield part, start


def _phrase_units(text: str) -> list[_Unit]:
    """Query spans that may be a whole keyword or everyday name (上幼儿园, 领失业金)."""
    low, high = PHRASE_SPAN
    return [
        _Unit(part, frozenset(range(start, start + len(part))), (f"k|{part}",), 1.0, "phrase")
        for part, start in _substrings(text, low, high)
    ]


def _char_units(tokens: Sequence[Token]) -> list[_Unit]:
    """The characters of the query's words, a weak fallback (饭馆 ~ 小餐馆 by 馆)."""
    singles = {t.text for t in tokens if len(t.text) == 1}
    units: dict[str, _Unit] = {}
    for token in tokens:
        if len(token.text) < 2 or token.text.isascii():
            continue
        for offset, ch in enumerate(token.text):
            if ch in singles or ch in _segmenter.stopwords or ch in units:
                continue
            span = frozenset({token.start + offset})
            units[ch] = _Unit(ch, span, (f"n|{ch}", f"t|{ch}"), 1.0, "char")
    return list(units.values())


def _pinyin_units(text: str, tokens: Sequence[Any]) -> list[_Unit]:
    """Query spans looked up by sound: Chinese substrings, and Latin words as pinyin."""
    units: list[_Unit] = []
    seen: set[str] = set()
    low, high = PINYIN_SPAN
    for part, start in _substrings(text, low, high):
        key = pinyin(part)
        if key and key not in seen:
            seen.add(key)
            span = frozenset(range(start, start + len(part)))
            units.append(_Unit(part, span, (f"p|{key}",), 0.8, "pinyin"))
    latin = [t for t in tokens if is_pinyin_like(t.text)]
    joined = [(t.text, t.start, t.end) for t in latin]
    if len(latin) > 1:
        joined.append(("".join(t.text for t in latin), latin[0].start, latin[-1].end))
    for word, start, end in joined:
        span = frozenset(range(start, end))
        units.append(_Unit(word, span, (f"p|{word}", f"i|{word}"), 0.9, "pinyin"))
    return units


def parse_query(raw: str, synonyms: Mapping[str, Sequence[str]]) -> ParsedQuery:
    text = normalize(raw)[:MAX_QUERY_CHARS]
    tokens = _segmenter.query_tokens(text)
    if not tokens and text:  # a query of stopwords only ("的") still searches
        tokens = _segmenter_fallback(text)
    phrases = tuple(dict.fromkeys(t.text for t in tokens))
    units = [
        _Unit(t.text, frozenset(range(t.start, t.end)), _word_keys(t.text), 1.0, "word")
        for t in tokens
    ]
    synonym_units = _synonym_units(text, tokens, synonyms)
    expansions = tuple(dict.fromkeys(u.text for u in synonym_units if u.text not in phrases))
    units.extend(u for u in synonym_units if u.text not in phrases)
    units.extend(_phrase_units(text))
    units.extend(_char_units(tokens))
    units.extend(_pinyin_units(text, tokens))
    meaningful = frozenset().union(*(u.span for u in units if u.kind == "word"))
    terms = set(phrases) | set(expansions) | terms_of(expansions)
    return ParsedQuery(text, phrases, expansions, tuple(sorted(terms)), tuple(units), meaningful)


NO_QUERY = ParsedQuery("", (), (), ())  # what an empty search text parses to


def _segmenter_fallback(text: str) -> list[Token]:
    return [Token(ch, i, i + 1) for i, ch in enumerate(text) if not ch.isspace()]


@dataclass
class Highlight:
    """Where the query matched, for the frontend to render."""

    name: str  # HTML-escaped name with <em>…</em> around matches
    ranges: list[tuple[int, int]]  # [start, end) character ranges in the plain name
    matched_terms: list[str]
    matched_in: list[str]  # NAME / KEYWORDS / MATERIALS_OR_FAQ


@dataclass
class _Scored:
    score: float
    highlight: Highlight
    doc: dict[str, Any] = field(repr=False)


PLACE_WEIGHTS = {"NAME": WEIGHT_NAME, "KEYWORDS": WEIGHT_TAGS, "MATERIALS_OR_FAQ": WEIGHT_BODY}
FIELD_PLACES = (("n", "NAME"), ("t", "KEYWORDS"), ("b", "MATERIALS_OR_FAQ"))
PRIMARY_PLACES = frozenset({"NAME", "KEYWORDS"})


def _coverage(query: ParsedQuery, covered: set[int], weak: Iterable[int] = ()) -> float:
    """Share of the query's meaningful characters matched; by a single character: half."""
    if not query.meaningful:
        return 1.0
    strong = covered & query.meaningful
    half = (set(weak) & query.meaningful) - strong
    return (len(strong) + 0.5 * len(half)) / len(query.meaningful)


def _coverage_factor(coverage: float) -> float:
    return 0.3 + 0.7 * coverage


def exact_bonus(query: ParsedQuery, name: str) -> float:
    """The whole query inside the name (and at its start) is the strongest signal;
    the words around it that mean nothing (我想办…, …怎么办) do not count.

    Also how much of the name the query's words cover (BM25's length normalisation
    for the name field): 居住证申领 fits 居住证 better than 港澳台居民居住证申领. Words
    typed as pinyin or as a homophone cover the name where they sound the same
    (``hunyin dengji`` covers 婚姻登记 in 婚姻登记（结婚登记）).
    """
    lowered = normalize(name)
    bonus = 0.0
    core = query.core
    if core and core in lowered:
        bonus = 15.0 + (5.0 if lowered.startswith(core) else 0.0)
        bonus += 5.0 if lowered == core else 0.0
    covered, _ = _name_matches(query, lowered)
    letters = len(lowered.replace(" ", ""))
    return bonus + (NAME_FIT * len(covered) / letters if letters else 0.0)


def said_in_name(query: ParsedQuery, name: str) -> frozenset[int]:
    """The query characters the name says: by the citizen's words, their expansions, or
    their sound (结婚证 is said by 婚姻登记（结婚登记） through 结婚登记)."""
    return frozenset(_name_matches(query, normalize(name))[1])


def _name_matches(query: ParsedQuery, name: str) -> tuple[set[int], set[int]]:
    """Characters of a (normalised) name the query's words, expansions or sounds cover,
    and the query characters that matched there."""
    covered: set[int] = set()
    said: set[int] = set()
    for unit in query.units:
        if unit.kind in ("word", "synonym", "phrase") and len(unit.text) > 1:
            start = name.find(unit.text)
            if start >= 0:
                said |= unit.span
            while start >= 0:
                covered.update(range(start, start + len(unit.text)))
                start = name.find(unit.text, start + 1)
    for unit, spans in _sounded(query, name):
        said |= unit.span
        for start, end in spans:
            covered.update(range(start, end))
    return covered, said


def _sounded(query: ParsedQuery, name: str) -> Iterable[tuple[_Unit, list[tuple[int, int]]]]:
    """Pinyin or homophone units of the query that sound like part of a (normalised) name."""
    sounds, letters = pinyin(name), initials(name)
    for unit in query.units:
        if unit.kind != "pinyin" or unit.text in name:
            continue
        latin = unit.text.isascii()
        key = unit.text if latin else pinyin(unit.text)
        # cheap test on the whole name first: most units sound like nothing in it
        sounds_alike = bool(key) and (key in sounds or (latin and key in letters))
        if sounds_alike and (spans := list(sound_spans(name, unit.text))):
            yield unit, spans


def highlight(name: str, matched: Sequence[str], places: Iterable[str]) -> Highlight:
    return Highlight(
        name=mark(name, matched),
        ranges=ranges(name, matched),
        matched_terms=list(matched),
        matched_in=sorted(places),
    )


def score(query: ParsedQuery, doc: Mapping[str, Any]) -> tuple[float, Highlight]:
    """Score one document from its stored texts (substring matches)."""
    name = str(doc.get("name") or doc.get("question") or "")
    texts = {
        "NAME": str(doc.get("search_name", "")).lower(),
        "KEYWORDS": str(doc.get("search_tags", "")).lower(),
        "MATERIALS_OR_FAQ": str(doc.get("search_body", "")).lower(),
    }
    total = 0.0
    covered: set[int] = set()
    matched: list[str] = []
    places: set[str] = set()
    words: set[int] = set()
    expansions: dict[str, list[float]] = {}  # as in score_postings: the best in full
    for unit in sorted(query.units, key=lambda u: u.kind != "word"):
        if unit.kind in ("pinyin", "phrase", "char") or (
            unit.kind == "synonym" and unit.span <= words
        ):
            continue
        place = next((p for p, text in texts.items() if unit.text in text), None)
        if place is None:
            continue
        value = PLACE_WEIGHTS[place] * unit.weight * _len_weight(unit.text)
        if unit.kind == "word":
            words |= unit.span
            total += value
        else:
            expansions.setdefault(unit.group, []).append(value)
        if unit.text not in matched:
            matched.append(unit.text)
        places.add(place)
        covered |= unit.span
    total += sum(_alternatives(values) for values in expansions.values())
    total = total * _coverage_factor(_coverage(query, covered)) + exact_bonus(query, name)
    return total, highlight(name, matched, places)


_ORDER = {"word": 0, "phrase": 1, "synonym": 2, "char": 3, "pinyin": 4}
FALLBACK_KINDS = frozenset({"synonym", "char", "pinyin"})  # stand-ins for the user's words
PLACE_BITS = {"NAME": 1, "KEYWORDS": 2, "MATERIALS_OR_FAQ": 4}
PRIMARY_BITS = PLACE_BITS["NAME"] | PLACE_BITS["KEYWORDS"]

Numbers = npt.NDArray[np.uint32]  # sorted, unique item numbers (a posting list)
_NONE: Numbers = np.zeros(0, dtype=np.uint32)


def _bits(span: Iterable[int]) -> np.uint64:
    """A set of query character positions (< 64) as a bit mask."""
    mask = 0
    for position in span:
        mask |= 1 << position
    return np.uint64(mask)


def _popcount(masks: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    return np.bitwise_count(masks)


@dataclass
class _Matches:
    """The items one unit matches, each in its best field, with what it is worth there."""

    ids: Numbers
    places: npt.NDArray[np.uint8]  # PLACE_BITS of each item's field
    values: npt.NDArray[np.float64]

    def where(self, keep: npt.NDArray[np.bool_]) -> _Matches:
        return _Matches(self.ids[keep], self.places[keep], self.values[keep])


@dataclass
class Scores:
    """A query's matches in the catalog index, scored: item numbers, scores, coverage.

    :meth:`explain` tells which of the query's words (and expansions) some items matched
    and where, for the highlights of the few items on a page.
    """

    ids: Numbers
    scores: npt.NDArray[np.float64]
    coverage: npt.NDArray[np.float64]
    follow_up: npt.NDArray[np.bool_]  # a follow-up (补领, 注销 …) the query did not ask for
    _places: npt.NDArray[np.uint8] = field(repr=False)
    _credited: list[tuple[_Unit, Numbers]] = field(repr=False)

    def __len__(self) -> int:
        return int(self.ids.size)

    def explain(self, numbers: Iterable[int]) -> dict[int, tuple[list[str], set[str]]]:
        """For each item number: the query words it matched, and where (NAME …)."""
        wanted = np.zeros(self._places.size, dtype=np.bool_)
        asked = [n for n in numbers if n < wanted.size]
        wanted[asked] = True
        matched: dict[int, list[str]] = {n: [] for n in asked}
        for unit, ids in self._credited:
            for number in ids[wanted[ids]].tolist():
                if unit.text not in matched[number]:
                    matched[number].append(unit.text)
        return {
            n: (matched[n], {p for p, b in PLACE_BITS.items() if int(self._places[n]) & b})
            for n in asked
        }


class _Tally:
    """Per-item accumulators over the item numbers of one search (dense arrays)."""

    def __init__(self, size: int) -> None:
        self.score = np.zeros(size, dtype=np.float64)
        self.chars = np.zeros(size, dtype=np.uint64)  # query characters matched
        self.weak = np.zeros(size, dtype=np.uint64)  # … by a single character only
        self.literal = np.zeros(size, dtype=np.uint64)  # … as written, anywhere
        self.in_name = np.zeros(size, dtype=np.uint64)  # … by the user's words, in the name
        self.places = np.zeros(size, dtype=np.uint8)
        self.touched = np.zeros(size, dtype=np.bool_)
        self.credited: list[tuple[_Unit, Numbers]] = []

    def credit(self, unit: _Unit, found: _Matches) -> None:
        span = _bits(unit.span)
        self.score[found.ids] += found.values
        self.touched[found.ids] = True
        self.places[found.ids] |= found.places
        if unit.kind == "char":  # a single character is weak evidence, never a matched term
            self.weak[found.ids] |= span
        else:
            self.chars[found.ids] |= span
            self.credited.append((unit, found.ids))


def score_postings(query: ParsedQuery, postings: Mapping[str, Iterable[int]]) -> Scores:
    """Score every item named in ``postings`` (keys ``"<field>|<term>"``) without reading it.

    Vectorised over item numbers with numpy: a unit's credit to all the items it
    matches is one array operation, so a query matching tens of thousands of items (a
    100,000-item catalog) costs milliseconds, not a Python loop per item and word. Same
    weights as ``score``; the exact-name bonus needs the name and is added later for the
    items near the top (see the service).
    """
    lists = {key: np.asarray(ids, dtype=np.uint32) for key, ids in postings.items()}
    documents = max([1000, *(4 * v.size for k, v in lists.items() if not k.startswith("x|"))])
    size = 1 + max((int(v[-1]) for v in lists.values() if v.size), default=-1)
    tally = _Tally(size)
    typed: list[tuple[np.uint64, _Matches]] = []  # the user's words' credit
    # An everyday word's expansions: each item gets its best one in full and the others
    # only in part (see _credit_expansions).
    expansions: dict[str, list[tuple[_Unit, _Matches]]] = {}
    for unit in sorted(query.units, key=lambda u: _ORDER[u.kind]):
        found = _unit_matches(unit, lists, documents)
        if not found.ids.size:
            continue
        span = _bits(unit.span)
        # Query characters each item matched as written, anywhere / in its name: sound and
        # single characters stand in for the user's words only where those did not match,
        # an official word also where the user's word matched only outside the name
        # (狗 among the keywords of 养犬登记证注销, 养犬登记证 in its name).
        if unit.kind in FALLBACK_KINDS:
            written = tally.in_name if unit.kind == "synonym" else tally.literal
            found = found.where((written[found.ids] & span) != span)
        if unit.kind == "synonym":
            expansions.setdefault(unit.group, []).append((unit, found))
            tally.touched[found.ids] = True
            # the meaning matched: a character or sound of the word adds nothing
            tally.literal[found.ids] |= span
            continue
        tally.credit(unit, found)
        if unit.kind in ("word", "phrase"):
            tally.literal[found.ids] |= span
        if unit.kind == "word":
            typed.append((span, found))
            tally.in_name[found.ids[found.places == PLACE_BITS["NAME"]]] |= span
    for group in expansions.values():
        _credit_expansions(tally, group, typed)
    return _finish(query, tally, lists)


def _unit_matches(unit: _Unit, lists: Mapping[str, Numbers], documents: int) -> _Matches:
    """The items a unit matches, each in its best field only."""
    if unit.kind in ("pinyin", "phrase"):
        ids = _union([lists.get(k, _NONE) for k in unit.keys])
        base = WEIGHT_PINYIN if unit.kind == "pinyin" else WEIGHT_PHRASE
        weight = base * idf(int(ids.size), documents) * unit.weight * _len_weight(unit.text)
        places = np.full(ids.size, PLACE_BITS["KEYWORDS"], dtype=np.uint8)
        return _Matches(ids, places, np.full(ids.size, weight))
    name, tags, body = (lists.get(f"{f}|{unit.text}", _NONE) for f, _ in FIELD_PLACES)
    primary = np.union1d(name, tags)
    frequency = int(primary.size) or int(body.size)
    weight = idf(frequency, documents) * unit.weight * _len_weight(unit.text)
    if unit.kind == "char":
        weight *= WEIGHT_CHAR
    parts = (  # best field first: an item counts once, where it matched best
        (name, "NAME"),
        (np.setdiff1d(tags, name, assume_unique=True), "KEYWORDS"),
        (np.setdiff1d(body, primary, assume_unique=True), "MATERIALS_OR_FAQ"),
    )
    return _Matches(
        np.concatenate([ids for ids, _ in parts]),
        np.concatenate([np.full(ids.size, PLACE_BITS[p], dtype=np.uint8) for ids, p in parts]),
        np.concatenate([np.full(ids.size, PLACE_WEIGHTS[p] * weight) for ids, p in parts]),
    )


def _union(lists: Sequence[Numbers]) -> Numbers:
    present = [ids for ids in lists if ids.size]
    if len(present) <= 1:
        return present[0] if present else _NONE
    return np.unique(np.concatenate(present))


def _alternatives(values: list[float]) -> float:
    """Worth of matching several alternatives: the best in full, the rest in part."""
    ordered = sorted(values, reverse=True)
    return ordered[0] + EXTRA_EXPANSION_SHARE * sum(ordered[1:]) if ordered else 0.0


def _credit_expansions(
    tally: _Tally, group: list[tuple[_Unit, _Matches]], typed: list[tuple[np.uint64, _Matches]]
) -> None:
    """Credit the official words one everyday word expanded to, item by item.

    They are alternatives for one thing the citizen said, so the best counts in full
    and the others only in part: an item matching several (有限责任公司 and 设立登记 for
    开公司) is a better fit, but a broad word with many expansions (领钱 → 补贴, 补助,
    给付, 申领) must not outweigh the words the citizen actually typed. Where the item
    already matched the citizen's own words (within the everyday word's characters)
    outside its name, the better of the two counts, never both.
    """
    size = tally.score.size
    span = _bits(group[0][0].span)
    ids = np.concatenate([found.ids for _, found in group])
    values = np.concatenate([found.values for _, found in group])
    best = np.zeros(size)
    np.maximum.at(best, ids, values)
    total = best + EXTRA_EXPANSION_SHARE * (np.bincount(ids, values, minlength=size) - best)
    already = np.zeros(size)
    for words, found in typed:
        if words & span == words:  # the user's word lies inside the everyday word
            already[found.ids] += found.values
    gain = total - already
    for unit, found in group:
        kept = found.where(gain[found.ids] > 0)
        tally.places[kept.ids] |= kept.places
        tally.chars[kept.ids] |= span
        tally.credited.append((unit, kept.ids))
    tally.score += np.where(gain > 0, gain, 0.0)


def _finish(query: ParsedQuery, tally: _Tally, lists: Mapping[str, Numbers]) -> Scores:
    """Coverage, minimum-should-match and priors over the items the query touched."""
    ids = np.flatnonzero(tally.touched).astype(np.uint32)
    if (tally.places[ids] & PRIMARY_BITS).any():  # matches only in materials: a fallback tier
        ids = ids[(tally.places[ids] & PRIMARY_BITS) != 0]
    if query.meaningful:
        meaning = _bits(query.meaningful)
        strong = _popcount(tally.chars[ids] & meaning).astype(np.float64)
        half = _popcount(tally.weak[ids] & meaning & ~tally.chars[ids]).astype(np.float64)
        coverage = (strong + 0.5 * half) / len(query.meaningful)
    else:
        coverage = np.ones(ids.size)
    scores = tally.score[ids] * (0.3 + 0.7 * coverage)
    if ids.size:
        kept = coverage >= minimum_should_match(float(coverage.max()))
        ids, scores, coverage = ids[kept], scores[kept], coverage[kept]
    scores *= _priors(query, ids, lists)
    follow_up = _unasked_follow_ups(query, ids, lists)
    return Scores(ids, scores, coverage, follow_up, tally.places, tally.credited)


def _priors(
    query: ParsedQuery, ids: Numbers, lists: Mapping[str, Numbers]
) -> npt.NDArray[np.float64]:
    """Citizens rarely want regulator-facing items or operator filings: rank them lower;
    items many citizens use rank a little higher."""
    factor = np.ones(ids.size)

    def scale(key: str, by: float) -> None:
        factor[np.isin(ids, lists.get(key, _NONE), assume_unique=True)] *= by

    if not query.names_regulation:
        for kind in REGULATOR_TYPES:
            scale(f"x|type:{kind}", REGULATOR_PRIOR)
    if not query.names_filing:
        scale(f"x|type:{FILING_TYPE}", FILING_PRIOR)
    if not query.names_business:
        scale("x|org", ORG_PRIOR)
    for level in range(1, POPULARITY_LEVELS + 1):
        scale(f"x|pop:{level}", 1 + POPULARITY_STEP * level)
    return factor


def _unasked_follow_ups(
    query: ParsedQuery, ids: Numbers, lists: Mapping[str, Numbers]
) -> npt.NDArray[np.bool_]:
    """Items that are follow-ups of a kind the query did not ask for (and of none it did).

    Whether they rank lower depends on their names (see :func:`demote_follow_ups`)."""
    asked = query.follow_ups
    unasked = np.zeros(ids.size, dtype=np.bool_)
    fitting = np.zeros(ids.size, dtype=np.bool_)  # also a follow-up that was asked for
    for family in FOLLOW_UPS:
        tagged = np.isin(ids, lists.get(f"x|act:{family}", _NONE), assume_unique=True)
        if family in asked:
            fitting |= tagged
        else:
            unasked |= tagged
    return unasked & ~fitting


def demote_follow_ups(
    query: ParsedQuery,
    names: Sequence[str],
    results: Sequence[Sequence[str]],
    follow_up: Sequence[bool],
) -> list[float]:
    """A factor per item: FOLLOW_UP_PRIOR for an unasked follow-up when another item says
    at least as much of the query — by its name or by the documents it issues — else 1.

    So 教师资格证 puts 教师资格认定 (its name says 教师资格证 through the everyday word's
    expansion) before 教师资格证书补发换发, and 营业执照 puts 设立登记 (it issues the
    licence) before 营业执照补领; but when every item about a document is a follow-up —
    a driving licence is only renewed or replaced here — they keep their rank.
    """
    said = [said_in_name(query, name) for name in names]
    answers = [
        said_by_all(query, [name, *issued])
        for name, issued, flagged in zip(names, results, follow_up, strict=True)
        if not flagged
    ]
    return [
        FOLLOW_UP_PRIOR if flagged and any(mine <= other for other in answers) else 1.0
        for mine, flagged in zip(said, follow_up, strict=True)
    ]


def said_by_all(query: ParsedQuery, texts: Iterable[str]) -> frozenset[int]:
    """The query characters any of ``texts`` says (see :func:`said_in_name`)."""
    return frozenset().union(*(said_in_name(query, text) for text in texts))


def popularity_level(annual_volume: float) -> int:
    """0 below POPULARITY_FLOOR cases a year, then one level per half decade."""
    if annual_volume < POPULARITY_FLOOR:
        return 0
    return min(POPULARITY_LEVELS, 1 + int(2 * math.log10(annual_volume / POPULARITY_FLOOR)))


def posting_keys(query: ParsedQuery, *, body: bool) -> list[str]:
    """Posting documents a query needs: name, tags, pinyin and priors; body for the fallback."""
    keys: list[str] = []
    for unit in query.units:
        keys.extend(k for k in unit.keys if body or not k.startswith("b|"))
    keys.extend(PRIOR_KEYS)
    return list(dict.fromkeys(keys))


def rank(query: ParsedQuery, docs: Iterable[dict[str, Any]]) -> list[_Scored]:
    """Score candidates, best first, stable by code.

    Matches only in materials or FAQ are a fallback tier: they are returned only when
    nothing matches by name or keywords. Otherwise 身份证 would list nearly every
    personal item (almost all of them ask for an ID card).
    """
    scored = []
    for doc in docs:
        value, found = score(query, doc)
        if value > 0:
            scored.append(_Scored(value, found, doc))
    primary = [s for s in scored if PRIMARY_PLACES & set(s.highlight.matched_in)]
    if primary:
        scored = primary
    scored.sort(
        key=lambda s: (
            -round(s.score, 6),
            s.doc.get("status") != "active",
            len(str(s.doc.get("name", ""))),
            str(s.doc.get("_id")),
        )
    )
    return scored


def _prior_tags(item: Mapping[str, Any]) -> list[str]:
    tags = []
    type_code = str(item.get("type_code") or "")
    if type_code in (*REGULATOR_TYPES, FILING_TYPE):
        tags.append(f"type:{type_code}")
    audiences = item.get("audiences") or []
    if audiences and "natural_person" not in audiences:
        tags.append("org")
    if level := popularity_level(float(item.get("annual_volume") or 0)):
        tags.append(f"pop:{level}")
    name = normalize(str(item.get("name") or ""))
    tags.extend(
        f"act:{family}" for family, words in FOLLOW_UPS.items() if any(w in name for w in words)
    )
    return tags


class SearchIndexer:
    """Build the stored search texts of an item, and its terms per field."""

    @staticmethod
    def fields(
        item: Mapping[str, Any],
        *,
        department_name: str,
        theme_names: Iterable[str],
        faq_questions: Iterable[str],
        license_type_names: Mapping[str, str],
    ) -> dict[str, Any]:
        name_texts = [item.get("name", ""), item.get("short_name") or ""]
        results = item.get("results") or []
        tag_texts = [
            *(item.get("keywords") or []),
            *(r.get("name", "") for r in results),
            *(license_type_names.get(r.get("license_type") or "", "") for r in results),
            *theme_names,
            department_name,
        ]
        body_texts = [m.get("name", "") for m in item.get("materials") or []]
        body_texts.extend(faq_questions)
        return {
            "search_name": " ".join(normalize(t) for t in name_texts if t),
            "search_tags": " ".join(normalize(t) for t in tag_texts if t),
            "search_body": " ".join(normalize(t) for t in body_texts if t),
        }

    @staticmethod
    def terms(item: Mapping[str, Any]) -> dict[str, list[str]]:
        """Terms per field (``n``/``t``/``b``, phrases ``k``, pinyin ``p``/``i``, priors ``x``)."""
        name = terms_of([str(item.get("search_name", ""))])
        tags = terms_of([str(item.get("search_tags", ""))])
        sounds = {pinyin(t) for t in name | tags if len(t) >= 2} - {""}
        letters = {initials(t) for t in name | tags if len(t) >= 3} - {""}
        phrases = {normalize(str(k)) for k in item.get("keywords") or []}
        phrases.add(normalize(str(item.get("short_name") or "")))
        return {
            "n": sorted(name),
            "t": sorted(tags),
            "b": sorted(terms_of([str(item.get("search_body", ""))], singles=False)),
            "k": sorted(p for p in phrases if len(p) >= PHRASE_SPAN[0]),
            "p": sorted(sounds),
            "i": sorted(letters),
            "x": _prior_tags(item),
        }
