"""Pinyin keys: full pinyin without tones, and initials.

A homophone typo typed on a pinyin keyboard (公鸡金 for 公积金, 设保卡 for 社保卡) has
the same full pinyin as the intended word; users also type pinyin itself (``shebao``)
or initials (``yyzz`` for 营业执照). Index terms get both keys; a query's spans and its
ASCII words are looked up under them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

__all__ = ["initials", "is_pinyin_like", "pinyin", "sound_spans", "syllables"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LETTERS = re.compile(r"^[a-z]+$")
_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|.", re.DOTALL)


@lru_cache(maxsize=65536)
def pinyin(text: str) -> str:
    """Full pinyin of a text, tones dropped, syllables joined (公积金 → gongjijin).

    Non-Chinese characters are kept as they are; "" when the text has no Chinese.
    """
    if not _CJK.search(text):
        return ""
    return "".join(lazy_pinyin(text, errors="default")).replace(" ", "").lower()


@lru_cache(maxsize=65536)
def initials(text: str) -> str:
    """First letters of each syllable (营业执照 → yyzz); "" without Chinese."""
    if not _CJK.search(text):
        return ""
    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(letters).replace(" ", "").lower()


def is_pinyin_like(word: str) -> bool:
    """Latin letters only (a pinyin or initials candidate), 2–40 of them."""
    return 2 <= len(word) <= 40 and bool(_LETTERS.match(word))


@lru_cache(maxsize=16384)
def syllables(text: str) -> tuple[str, ...]:
    """The pinyin of each character, aligned with the text (other characters as they are).

    Runs of Chinese are read whole, so a polyphone gets its reading in context (银行).
    """
    found: list[str] = []
    for run in _RUNS.findall(text):
        if not _CJK.match(run):
            found.append(run.lower())
            continue
        readings = lazy_pinyin(run)
        if len(readings) != len(run):  # characters pypinyin cannot read come back joined
            readings = [lazy_pinyin(ch)[0] for ch in run]
        found.extend(r.lower() for r in readings)
    return tuple(found)


def sound_spans(text: str, word: str) -> list[tuple[int, int]]:
    """``[start, end)`` spans of ``text`` that sound like ``word``.

    A Chinese word matches by full pinyin (公鸡金 in 住房公积金); a Latin word is read
    as pinyin or, from two letters on, as initials (``gongjijin``, ``gjj``). One pass
    over the text's syllables, so it is cheap enough to run on every ranked name.
    """
    latin = word.isascii()
    key = word.lower() if latin else pinyin(word)
    if not key:
        return []
    by_sound = syllables(text)
    spans = []
    for style in ("full", "initials") if latin and len(key) >= 2 else ("full",):
        for start in range(len(by_sound)):
            joined = ""
            for end in range(start, len(by_sound)):
                piece = by_sound[end] if style == "full" else by_sound[end][:1]
                joined += piece
                if joined == key and piece.strip():
                    spans.append((start, end + 1))
                if not piece.strip() or not key.startswith(joined):
                    break
    return spans
