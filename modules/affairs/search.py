"""Chinese search for the catalog: jieba terms per item, synonym expansion, ranking, highlights.

MongoDB text indexes do not segment Chinese, so each item stores the jieba
terms of its texts in one indexed array (``search_terms``) used to find
candidates, plus the texts by weight class used to rank them:

* ``search_name``  — name and everyday name          (weight 10)
* ``search_tags``  — keywords, results, themes, dept  (weight 4)
* ``search_body``  — materials and FAQ questions      (weight 1)

A query is segmented the same way; everyday words are expanded through the
synonym table (开公司 → 企业设立/营业执照 …) at a lower weight.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jieba

__all__ = ["Highlight", "ParsedQuery", "SearchIndexer", "parse_query", "rank"]

logging.getLogger("jieba").setLevel(logging.WARNING)
jieba.setLogLevel(logging.WARNING)

MAX_QUERY_CHARS = 64

# Words that carry no meaning in a service search ("我想办理…怎么办").
STOPWORDS = frozenset(
    {
        "的",
        "了",
        "我",
        "我们",
        "要",
        "想",
        "想要",
        "去",
        "怎么",
        "怎样",
        "如何",
        "怎么办",
        "办",
        "办理",
        "需要",
        "什么",
        "哪里",
        "在哪",
        "去哪",
        "哪儿",
        "可以",
        "能",
        "吗",
        "呢",
        "啊",
        "是",
        "有",
        "和",
        "与",
        "及",
        "或",
        "请问",
        "一下",
        "一个",
        "需",
        "该",
        "得",
        "到",
        "在",
        "给",
        "帮",
        "帮忙",
        "咨询",
        "问",
        "问题",
        "些",
        "哪些",
        "为",
        "吧",
        "呀",
        "啥",
    }
)

WEIGHT_NAME, WEIGHT_TAGS, WEIGHT_BODY = 10.0, 4.0, 1.0
SYNONYM_WEIGHT = 0.7

_lock = threading.Lock()
_known_words: set[str] = set()
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\u4e00-\u9fff]+")


def add_words(words: Iterable[str]) -> None:
    """Teach jieba domain words (e.g. 营业执照, 居住证签注) so they segment as units."""
    with _lock:
        for word in words:
            word = word.strip()
            if len(word) >= 2 and word not in _known_words:
                jieba.add_word(word, freq=20000)
                _known_words.add(word)


def normalize(text: str) -> str:
    return _SPACE.sub(" ", _PUNCT.sub(" ", text or "")).strip().lower()


def terms_of(texts: Iterable[str]) -> set[str]:
    """All jieba search terms of some texts (words and their sub-words), no stopwords."""
    terms: set[str] = set()
    for text in texts:
        for token in jieba.cut_for_search(normalize(text)):
            token = token.strip()
            if token and token not in STOPWORDS and (len(token) > 1 or token.isascii()):
                terms.add(token)
    return terms


@dataclass(frozen=True)
class ParsedQuery:
    """A segmented query: the user's phrases and their synonym expansions."""

    text: str
    phrases: tuple[str, ...]  # the user's own meaningful words
    expansions: tuple[str, ...]  # official words from the synonym table
    terms: tuple[str, ...]  # everything used to find candidates

    @property
    def is_empty(self) -> bool:
        return not self.terms


def parse_query(raw: str, synonyms: Mapping[str, Sequence[str]]) -> ParsedQuery:
    text = normalize(raw)[:MAX_QUERY_CHARS]
    tokens = [t.strip() for t in jieba.cut_for_search(text) if t.strip()]
    phrases = [t for t in dict.fromkeys(tokens) if t not in STOPWORDS and len(t) > 1]
    if not phrases:  # a one-character query like "证" still searches
        phrases = [t for t in dict.fromkeys(tokens) if t not in STOPWORDS]
    expansions: list[str] = []
    for term, official in synonyms.items():
        if term and (term in text or term in phrases):
            expansions.extend(w for w in official if w not in phrases)
    expansions = list(dict.fromkeys(expansions))
    terms = set(phrases) | set(expansions) | terms_of(expansions)
    return ParsedQuery(text, tuple(phrases), tuple(expansions), tuple(sorted(terms)))


@dataclass
class Highlight:
    """Where the query matched, for the frontend to render."""

    name: str  # HTML-escaped name with <em>…</em> around matches
    ranges: list[tuple[int, int]]  # [start, end) character ranges in the plain name
    matched_terms: list[str]
    matched_in: list[str]  # NAME / KEYWORDS / MATERIALS_OR_FAQ


def _phrase_weight(phrase: str) -> float:
    # Longer words are more specific: 营业执照 says more than 执照.
    return 1.0 + 0.25 * max(0, len(phrase) - 2)


@dataclass
class _Scored:
    score: float
    highlight: Highlight
    doc: dict[str, Any] = field(repr=False)


def score(query: ParsedQuery, doc: Mapping[str, Any]) -> tuple[float, Highlight]:
    name = str(doc.get("name") or doc.get("question") or "")
    name_text = str(doc.get("search_name", "")).lower()
    tags_text = str(doc.get("search_tags", "")).lower()
    body_text = str(doc.get("search_body", "")).lower()
    total = 0.0
    matched: list[str] = []
    places: set[str] = set()
    covered = 0
    for phrase, weight in [(p, 1.0) for p in query.phrases] + [
        (e, SYNONYM_WEIGHT) for e in query.expansions
    ]:
        if phrase in name_text:
            hit, place = WEIGHT_NAME, "NAME"
        elif phrase in tags_text:
            hit, place = WEIGHT_TAGS, "KEYWORDS"
        elif phrase in body_text:
            hit, place = WEIGHT_BODY, "MATERIALS_OR_FAQ"
        else:
            continue
        total += hit * weight * _phrase_weight(phrase)
        matched.append(phrase)
        places.add(place)
        if weight == 1.0:
            covered += 1
    if query.phrases:
        total *= 0.5 + 0.5 * covered / len(query.phrases)
    if query.text and query.text in name.lower():
        total += 15.0 + (5.0 if name.lower().startswith(query.text) else 0.0)
    return total, Highlight(
        name=_mark(name, matched),
        ranges=_ranges(name.lower(), matched),
        matched_terms=matched,
        matched_in=sorted(places),
    )


def _ranges(text: str, phrases: Sequence[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        start = text.find(phrase)
        while start >= 0:
            spans.append((start, start + len(phrase)))
            start = text.find(phrase, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mark(name: str, phrases: Sequence[str]) -> str:
    out, cursor = [], 0
    for start, end in _ranges(name.lower(), phrases):
        out.append(html.escape(name[cursor:start]))
        out.append(f"<em>{html.escape(name[start:end])}</em>")
        cursor = end
    out.append(html.escape(name[cursor:]))
    return "".join(out)


def rank(query: ParsedQuery, docs: Iterable[dict[str, Any]]) -> list[_Scored]:
    """Score candidates, best first, stable by code.

    Matches only in materials or FAQ are a fallback tier: they are returned only when
    nothing matches by name or keywords. Otherwise 身份证 would list nearly every
    personal item (almost all of them ask for an ID card).
    """
    scored = []
    for doc in docs:
        value, highlight = score(query, doc)
        if value > 0:
            scored.append(_Scored(value, highlight, doc))
    primary = [s for s in scored if {"NAME", "KEYWORDS"} & set(s.highlight.matched_in)]
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


class SearchIndexer:
    """Build the stored search fields of an item."""

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
            "search_terms": sorted(terms_of([*name_texts, *tag_texts, *body_texts])),
        }
