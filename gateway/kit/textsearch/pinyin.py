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

__all__ = ["initials", "is_pinyin_like", "pinyin"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LETTERS = re.compile(r"^[a-z]+$")


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
