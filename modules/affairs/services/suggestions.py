"""Autocomplete: everyday words the search understands, then item names, for a prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError
from modules.affairs import search
from modules.affairs.state import catalog_repository, reference

__all__ = ["MAX_SUGGESTIONS", "Suggestion", "suggestions"]

MAX_SUGGESTIONS = 20
MAX_PREFIX_CHARS = 20


@dataclass(frozen=True)
class Suggestion:
    text: str
    item_code: str | None  # set when the text is an item name


async def suggestions(ctx: Context, prefix: str, first: int) -> list[Suggestion]:
    """Everyday words starting with the prefix (shortest first), then item names that
    start with it, then names containing it — at most ``first``."""
    if not 1 <= first <= MAX_SUGGESTIONS:
        raise BadUserInput(
            f"first 须在 1–{MAX_SUGGESTIONS} 之间",
            [FieldError("first", "out of range", "page_size")],
        )
    text = search.normalize(prefix)[:MAX_PREFIX_CHARS]
    if not text:
        return []
    found: dict[str, Suggestion] = {}
    for term in sorted((await reference(ctx)).synonyms, key=len):
        if term.startswith(text):
            found.setdefault(term, Suggestion(term, None))
    pattern = re.escape(text)
    repository = catalog_repository(ctx)
    starts = await repository.item_names_like("^" + pattern, first)
    contains = await repository.item_names_like(pattern, first * 3) if len(starts) < first else []
    for doc in sorted(starts, key=lambda d: len(d["name"])) + sorted(
        contains, key=lambda d: len(d["name"])
    ):
        found.setdefault(doc["name"], Suggestion(doc["name"], doc["_id"]))
    return list(found.values())[:first]
