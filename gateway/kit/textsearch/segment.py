"""Segmentation with a per-index vocabulary.

Each index owns a :class:`Segmenter`, which owns a ``jieba.Tokenizer`` — jieba's global
dictionary is never written, so the words one module teaches cannot change how another
module's texts are cut.

jieba alone loses words in two ways, both fixed here:

* a taught compound swallows its parts when the dictionary lacks them: once 养犬登记证 is
  a word, ``cut_for_search`` emits 登记 and 登记证 but not 养犬 (a prefix entry of
  frequency 0). Every word of three or more Chinese characters therefore also yields its
  character **bigrams**, which are also the fallback for words no dictionary knows;
* single characters were dropped, so 犬 could never match. Single Chinese characters are
  kept as terms unless they are stopwords (的, 了, 办 …);
* inside a long word jieba looks only for two- and three-character words: known words of
  four or more characters inside it (养老保险 in 基本养老保险) are added too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import jieba

__all__ = ["DEFAULT_STOPWORDS", "Segmenter", "Token"]

logging.getLogger("jieba").setLevel(logging.WARNING)
jieba.setLogLevel(logging.WARNING)

# Words that carry no meaning in a service search ("我想办理…怎么办").
DEFAULT_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "我",
        "我们",
        "你",
        "他",
        "她",
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
        "个",
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
        "了吗",
        "么",
        "就",
        "都",
        "也",
        "还",
        "又",
        "把",
        "被",
        "让",
        "从",
        "对",
        "等",
        "这",
        "那",
        "这个",
        "那个",
        "里",
        "上",
        "下",
        "之",
        "其",
        "以",
        "于",
        "而",
        "并",
        "再",
        "很",
        "已",
        "已经",
        "如果",
        "因为",
        "所以",
        "时候",
        "多少",
        "怎么样",
        "一家",
        "一张",
        "要办",
        "办个",
    ]
)

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+")
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")


class Token:
    """A query token: its text and where it sits in the (normalised) query."""

    __slots__ = ("end", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end

    def __repr__(self) -> str:
        return f"Token({self.text!r}, {self.start}, {self.end})"


class Segmenter:
    """jieba with its own dictionary, plus bigram and single-character terms."""

    def __init__(
        self, words: Iterable[str] = (), *, stopwords: frozenset[str] = DEFAULT_STOPWORDS
    ) -> None:
        self.stopwords = stopwords
        self._tokenizer = jieba.Tokenizer()
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self.add_words(words)

    def add_words(self, words: Iterable[str]) -> int:
        """Teach this index domain words (营业执照, 居住证签注) so they cut as units.

        Returns how many were new (0: nothing cut differently from now on).
        """
        added = 0
        with self._lock:
            for word in words:
                word = word.strip().lower()
                if len(word) >= 2 and word not in self._known:
                    self._tokenizer.add_word(word, freq=20000)
                    self._known.add(word)
                    added += 1
        return added

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self._known)

    def knows(self, word: str) -> bool:
        """Whether ``word`` is a word of this segmenter's dictionary (jieba's or taught)."""
        with self._lock:  # the dictionary loads lazily on first use
            self._tokenizer.check_initialized()
            return bool(self._tokenizer.FREQ.get(word))

    def _cut(self, text: str) -> list[str]:
        with self._lock:  # jieba initialises lazily and is not re-entrant while doing so
            words = [t for t in self._tokenizer.cut_for_search(text) if t.strip()]
            return words + self._inner_words(words)

    def _inner_words(self, words: list[str]) -> list[str]:
        """Known words of four or more characters inside longer words.

        ``cut_for_search`` looks inside a long word only for two- and three-character
        dictionary words, so 基本养老保险 yielded 养老 and 保险 but never 养老保险, and a
        search for 养老保险 missed every item that says 基本养老保险.
        """
        freq = self._tokenizer.FREQ
        inner: list[str] = []
        for word in words:
            for size in range(4, len(word)):
                for start in range(len(word) - size + 1):
                    part = word[start : start + size]
                    if freq.get(part) and part not in inner:
                        inner.append(part)
        return inner

    def parts(self, word: str) -> list[str]:
        """A word cut into the smaller words it is made of (看病报销 → 看病, 报销), even when
        it was taught whole; ``[word]`` when no tiling by words of 2+ characters exists."""
        pieces = {p for p in self._cut(word) if p != word and len(p) >= 2}
        return _tile(word, pieces) or [word]

    def words(self, text: str) -> list[str]:
        """A plain (non-overlapping) cut of a normalised text, stopwords kept."""
        with self._lock:
            return [t for t in self._tokenizer.cut(text, HMM=False) if t.strip()]

    def terms(self, text: str, *, singles: bool = True) -> set[str]:
        """Index terms of a normalised text: words, sub-words, bigrams, single characters.

        ``singles=False`` leaves single characters out (long texts such as materials,
        where they would only bloat the index).
        """
        found: set[str] = set()
        for run in _CJK_RUN.findall(text):
            if not _CJK.match(run):
                found.add(run)
                continue
            for token in self._cut(run):
                if token in self.stopwords:
                    continue
                found.add(token)
                if len(token) >= 3:
                    found.update(token[i : i + 2] for i in range(len(token) - 1))
            if singles:
                found.update(ch for ch in run if ch not in self.stopwords)
        return found

    def query_tokens(self, text: str) -> list[Token]:
        """The words of a normalised query with their positions, stopwords dropped.

        Single characters are kept only where jieba left them alone (犬, 证), never
        as the parts of a recognised word; a run jieba could not split into known words
        also gets its bigrams (the dictionary-less fallback). The parts of a stopword go
        with it (湖区 inside 罗湖区).
        """
        tokens: list[Token] = []
        dropped: list[range] = []
        for match in _CJK_RUN.finditer(text):
            run, offset = match.group(), match.start()
            if not _CJK.match(run):
                tokens.append(Token(run, offset, offset + len(run)))
                continue
            cursor = 0
            for word in self._cut(run):
                start = run.find(word, cursor if len(word) == 1 else 0)
                if start < 0:
                    continue
                if len(word) == 1:
                    cursor = start + 1
                if word in self.stopwords:
                    dropped.append(range(offset + start, offset + start + len(word)))
                    continue
                tokens.append(Token(word, offset + start, offset + start + len(word)))
                if len(word) >= 3 and word not in self._known:
                    tokens.extend(
                        Token(word[i : i + 2], offset + start + i, offset + start + i + 2)
                        for i in range(len(word) - 1)
                    )
        unique: dict[tuple[str, int], Token] = {}
        for token in tokens:
            if not any(token.start in r and token.end - 1 in r for r in dropped):
                unique.setdefault((token.text, token.start), token)
        return list(unique.values())


def _tile(word: str, pieces: set[str]) -> list[str]:
    """``word`` as a sequence of ``pieces`` (the fewest), or [] when they cannot tile it."""
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            before = best[start]
            if before is not None and word[start:end] in pieces:
                candidate = [*before, word[start:end]]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(word)] or []
