"""One canonical form of a text, used both when indexing and when querying.

NFKC folds full-width letters, digits and punctuation to half-width (ＡＢＣ１ → abc1);
OpenCC ``t2s`` turns traditional characters into simplified ones (駕駛證 → 驾驶证);
case is folded; anything that is neither a word character nor CJK becomes a space.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["normalize", "to_simplified"]

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\u3400-\u4dbf\u4e00-\u9fff]+")
_lock = threading.Lock()
_converter: Any = None


def _opencc() -> Any:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return _converter


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s); other characters unchanged."""
    if not text or text.isascii():
        return text
    converted: str = _opencc().convert(text)
    return converted


def normalize(text: str | None) -> str:
    """NFKC, traditional → simplified, lower case, punctuation → single spaces."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    folded = to_simplified(folded).lower()
    return _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()
