""" "Did you mean": a query with its typos replaced by the index's own words, by sound.

Most misspellings in a Chinese search box come from the pinyin keyboard: the right
syllables, the wrong characters (公鸡金 for 公积金, 居住正 for 居住证) — or pinyin typed as
it is (``shebao``, ``gongjijin``, ``sbk``). Search already finds the item by sound; this
tells the citizen what it understood, so the app can show "您是不是要找：公积金".

A :class:`Spelling` is built from an index's vocabulary (the words its documents hold).
A stretch of the query is replaced only when it is neither one of those words nor a word
of the general dictionary (公鸡 is a real word; 公鸡金 is not), and a vocabulary word
sounds exactly like it. Latin words are replaced by the vocabulary word whose full pinyin
they are, or — three letters or more — whose initials they are, when only one word has
those initials.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from gateway.kit.textsearch.pinyin import initials, is_pinyin_like, pinyin

__all__ = ["Spelling"]

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_LATIN_RUN = re.compile(r"[a-z]+(?: [a-z]+)*")
LONGEST = 6  # characters of a stretch looked up by sound


class Spelling:
    """Corrections by sound against a vocabulary.

    Args:
        words: the vocabulary (normalised words of two characters or more are used).
        is_word: whether a text is a word of the general dictionary (never corrected).

    Example:
        spelling = Spelling(["公积金", "社保", "居住证"], is_word=segmenter.knows)
        spelling.suggest("公鸡金提取")  # "公积金提取"
        spelling.suggest("shebao")  # "社保"
    """

    def __init__(self, words: Iterable[str], *, is_word: Callable[[str], bool]) -> None:
        self._words: set[str] = set()
        self._by_sound: dict[str, str] = {}
        by_initials: dict[str, set[str]] = {}
        for word in sorted({w for w in words if len(w) >= 2}, key=lambda w: (-len(w), w)):
            sound = pinyin(word)
            if not sound or word.isascii():
                continue
            self._words.add(word)
            self._by_sound.setdefault(sound, word)  # the longest, then first, word wins
            if len(word) >= 3:
                by_initials.setdefault(initials(word), set()).add(word)
        self._by_initials = {k: next(iter(v)) for k, v in by_initials.items() if len(v) == 1}
        self._is_word = is_word

    def __len__(self) -> int:
        return len(self._words)

    def suggest(self, text: str) -> str | None:
        """The query with its typos corrected, or ``None`` when nothing needs correcting.

        Args:
            text: the normalised query (see ``normalize``).
        """
        corrected = _LATIN_RUN.sub(lambda m: self._latin(m.group()), text)
        corrected = _CJK_RUN.sub(lambda m: self._chinese(m.group()), corrected)
        return corrected if corrected != text else None

    def _latin(self, run: str) -> str:
        joined = run.replace(" ", "")
        if found := self._latin_word(joined):
            return found
        return " ".join(self._latin_word(word) or word for word in run.split(" "))

    def _latin_word(self, word: str) -> str | None:
        if not is_pinyin_like(word):
            return None
        return self._by_sound.get(word) or (self._by_initials.get(word) if len(word) >= 3 else None)

    def _chinese(self, run: str) -> str:
        """Longest stretches first, left to right, never overlapping a replacement."""
        out: list[str] = []
        start = 0
        while start < len(run):
            for size in range(min(LONGEST, len(run) - start), 1, -1):
                part = run[start : start + size]
                if part in self._words or self._is_word(part):
                    continue
                found = self._by_sound.get(pinyin(part))
                if found is not None and found != part:
                    out.append(found)
                    start += size
                    break
            else:
                out.append(run[start])
                start += 1
        return "".join(out)
