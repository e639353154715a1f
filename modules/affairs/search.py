"""Chinese search for the catalog: jieba terms, an inverted index, synonyms, ranking, highlights.

MongoDB text indexes do not segment Chinese, so every item's texts are cut with
jieba into terms, by weight class:

* name  (``n``) — name and everyday name           weight 10
* tags  (``t``) — keywords, results, themes, dept  weight 4
* body  (``b``) — materials and FAQ questions      weight 1

The terms of active items are kept in an inverted index (one posting document
per field and term, see the repository), so a search reads a few postings by
primary key instead of scanning every item. A query is segmented the same way;
everyday words are expanded through the synonym table (开公司 → 企业设立/营业执照 …)
at a lower weight. Body postings are consulted only when nothing matches by name
or tags (see ``rank``). The same scoring also runs over stored texts (``score``)
for small collections (FAQ) and staff searches over suspended/cancelled items.
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


PLACE_WEIGHTS = {"NAME": WEIGHT_NAME, "KEYWORDS": WEIGHT_TAGS, "MATERIALS_OR_FAQ": WEIGHT_BODY}
FIELD_PLACES = (("n", "NAME"), ("t", "KEYWORDS"), ("b", "MATERIALS_OR_FAQ"))
PRIMARY_PLACES = frozenset({"NAME", "KEYWORDS"})


def _weighted_phrases(query: ParsedQuery) -> list[tuple[str, float]]:
    return [(p, 1.0) for p in query.phrases] + [(e, SYNONYM_WEIGHT) for e in query.expansions]


def _coverage(query: ParsedQuery, covered: int) -> float:
    return 0.5 + 0.5 * covered / len(query.phrases) if query.phrases else 1.0


def exact_bonus(query: ParsedQuery, name: str) -> float:
    """The whole query inside the name (and at its start) is the strongest signal."""
    lowered = name.lower()
    if not query.text or query.text not in lowered:
        return 0.0
    return 15.0 + (5.0 if lowered.startswith(query.text) else 0.0)


def highlight(name: str, matched: Sequence[str], places: Iterable[str]) -> Highlight:
    return Highlight(
        name=_mark(name, matched),
        ranges=_ranges(name.lower(), matched),
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
    total, covered = 0.0, 0
    matched: list[str] = []
    places: set[str] = set()
    for phrase, weight in _weighted_phrases(query):
        place = next((p for p, text in texts.items() if phrase in text), None)
        if place is None:
            continue
        total += PLACE_WEIGHTS[place] * weight * _phrase_weight(phrase)
        matched.append(phrase)
        places.add(place)
        covered += weight == 1.0
    total = total * _coverage(query, covered) + exact_bonus(query, name)
    return total, highlight(name, matched, places)


@dataclass
class PostingHit:
    """What the inverted index says about one item for one query."""

    score: float = 0.0
    matched: list[str] = field(default_factory=list)
    places: set[str] = field(default_factory=set)
    covered: int = 0


def score_postings(
    query: ParsedQuery, postings: Mapping[str, Iterable[str]]
) -> dict[str, PostingHit]:
    """Score every item named in ``postings`` (keys ``"<field>|<term>"``) without reading it.

    Same weights as ``score``; the exact-name bonus needs the name and is added
    later for the items near the top (see the service).
    """
    hits: dict[str, PostingHit] = {}
    for phrase, weight in _weighted_phrases(query):
        seen: set[str] = set()
        for field_code, place in FIELD_PLACES:  # best field first
            for code in postings.get(f"{field_code}|{phrase}", ()):
                if code in seen:
                    continue
                seen.add(code)
                hit = hits.setdefault(code, PostingHit())
                hit.score += PLACE_WEIGHTS[place] * weight * _phrase_weight(phrase)
                hit.matched.append(phrase)
                hit.places.add(place)
                hit.covered += weight == 1.0
    for hit in hits.values():
        hit.score *= _coverage(query, hit.covered)
    if any(PRIMARY_PLACES & hit.places for hit in hits.values()):
        hits = {code: hit for code, hit in hits.items() if PRIMARY_PLACES & hit.places}
    return hits


def posting_keys(query: ParsedQuery, *, body: bool) -> list[str]:
    """Posting documents a query needs: name and tags, plus body for the fallback tier."""
    fields = ("n", "t", "b") if body else ("n", "t")
    return [f"{f}|{phrase}" for phrase, _ in _weighted_phrases(query) for f in fields]


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
        """Terms per field (``n``/``t``/``b``) from an item's stored search texts."""
        return {
            "n": sorted(terms_of([str(item.get("search_name", ""))])),
            "t": sorted(terms_of([str(item.get("search_tags", ""))])),
            "b": sorted(terms_of([str(item.get("search_body", ""))])),
        }
