"""HTML-safe highlights: ``<em>`` around the matched words, and their ranges.

A matched word that does not occur literally (a homophone typo or a pinyin query)
is looked for by pinyin: the span of the text that sounds the same is marked.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from gateway.kit.textsearch.pinyin import sound_spans

__all__ = ["mark", "ranges"]


def ranges(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Merged ``[start, end)`` ranges of ``words`` in ``text`` (lower-cased)."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for word in words:
        if not word:
            continue
        start = lowered.find(word)
        if start < 0:
            spans.extend(sound_spans(lowered, word))
        while start >= 0:
            spans.append((start, start + len(word)))
            start = lowered.find(word, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, words: Sequence[str]) -> str:
    """``text`` HTML-escaped, with ``<em>…</em>`` around the ranges of ``words``."""
    out, cursor = [], 0
    for start, end in ranges(text, words):
        out.append(html.escape(text[cursor:start]))
        out.append(f"<em>{html.escape(text[start:end])}</em>")
        cursor = end
    out.append(html.escape(text[cursor:]))
    return "".join(out)
