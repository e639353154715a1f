"""Offset cursors (base64 of ``<namespace>:<offset>``), for lists not yet on keyset cursors.

New lists use :mod:`gateway.kit.connections` (keyset cursors, generic connection);
``PageInfo`` lives there and is re-exported here for compatibility.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.errors import BadUserInput, FieldError
from gateway.kit.connections import PageInfo, page_size

__all__ = [
    "MAX_CURSOR_OFFSET",
    "PageInfo",
    "PageRequest",
    "decode_cursor",
    "encode_cursor",
    "page_request",
]


def encode_cursor(namespace: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{namespace}:{offset}".encode()).decode().rstrip("=")


# Offset cursors past this are refused: no list pages that far, and PyMongo's ``skip``
# overflows at 2**63 (an INTERNAL error for what is the caller's bad input).
MAX_CURSOR_OFFSET = 10_000_000


def decode_cursor(namespace: str, cursor: str) -> int:
    kind, value = "", -1
    if cursor.isascii() and len(cursor) <= 200:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            kind, _, offset = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
            # Plain ASCII digits only: int() would also take "+1", " 1", "1_0" and "١".
            if offset.isascii() and offset.isdigit() and len(offset) <= 12:
                value = int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            kind = ""
    if kind != namespace or not 0 <= value <= MAX_CURSOR_OFFSET:
        raise BadUserInput("分页游标无效 (invalid cursor)", [FieldError("after", "invalid cursor")])
    return value


@dataclass(frozen=True)
class PageRequest:
    offset: int
    limit: int
    namespace: str

    def cursor(self, index: int) -> str:
        return encode_cursor(self.namespace, self.offset + index + 1)

    def page_info(self, returned: int, total_or_more: int | bool) -> PageInfo:
        """``total_or_more``: the total count, or whether another item exists."""
        has_next = (
            total_or_more
            if isinstance(total_or_more, bool)
            else self.offset + returned < total_or_more
        )
        return PageInfo(
            has_next_page=bool(has_next),
            has_previous_page=self.offset > 0,
            start_cursor=self.cursor(0) if returned else None,
            end_cursor=self.cursor(returned - 1) if returned else None,
        )


def page_request(
    namespace: str, first: int | None, after: str | None, *, default: int, maximum: int
) -> PageRequest:
    """Validate ``first``/``after``; a page larger than ``maximum`` is a clear error."""
    size = page_size(first, default=default, maximum=maximum)
    offset = decode_cursor(namespace, after) if after else 0
    return PageRequest(offset=offset, limit=size, namespace=namespace)
