"""Stable error codes for clients.

Resolvers raise a :class:`OneStopError` subclass; the ``ErrorCodes`` schema
extension puts its ``code`` into ``extensions.code`` and masks everything else as
``INTERNAL``. Frontends switch on the code, never on the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "BadUserInput",
    "Conflict",
    "ErrorCode",
    "FieldError",
    "Forbidden",
    "NotFound",
    "OneStopError",
    "RateLimited",
    "SlotFull",
    "TokenExpiredError",
    "Unauthenticated",
    "Unavailable",
]


# Seconds a client is asked to wait (Retry-After) when a dependency is unavailable: about
# what a stalled database or cache takes to come back or fail over.
UNAVAILABLE_RETRY_AFTER = 5


class ErrorCode(StrEnum):
    # The HTTP request itself is malformed (not UTF-8, not JSON, not an object, too deep).
    BAD_REQUEST = "BAD_REQUEST"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    # The access token in Authorization has expired, and only that: the app refreshes it
    # (refreshToken) and retries, silently. Any other bad token is UNAUTHENTICATED.
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 (an error code, not a secret)
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    # A capacity is used up: every place of a booking slot is taken (retrying will not help;
    # choose another slot).
    SLOT_FULL = "SLOT_FULL"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"
    # The document itself is wrong (syntax, unknown field, limits): nothing ran.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # The operation would cost more than ONESTOP_MAX_QUERY_COST (fan-out of lists).
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    # Persisted queries (gateway/extensions/persisted_queries.py). The first two are
    # Apollo's: its client's persisted-query link retries with the full document on
    # PERSISTED_QUERY_NOT_FOUND. The last two are Apollo Router's safelisting codes.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_VERSION_NOT_SUPPORTED = "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"


@dataclass(frozen=True)
class FieldError:
    """One invalid input field, addressed by its path in the input (``materials.2.name``)."""

    field: str
    message: str
    code: str = "invalid"


class OneStopError(Exception):
    """An error whose message is safe to show to the user."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra: dict[str, Any] = dict(extensions or {})

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code.value, **self.extra}


class Unauthenticated(OneStopError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(self, message: str = "请先登录 (authentication required)", **kw: Any) -> None:
        super().__init__(message, **kw)


class SlotFull(OneStopError):
    code = ErrorCode.SLOT_FULL


class TokenExpiredError(OneStopError):
    """The access token a long-lived operation (a subscription) runs under has expired."""

    code = ErrorCode.TOKEN_EXPIRED

    def __init__(
        self,
        message: str = "登录已过期，请刷新后重新订阅 (token expired; refresh and subscribe again)",
    ) -> None:
        super().__init__(message)


class Forbidden(OneStopError):
    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str = "无权访问 (not allowed)", **kw: Any) -> None:
        super().__init__(message, **kw)


class NotFound(OneStopError):
    code = ErrorCode.NOT_FOUND


class Conflict(OneStopError):
    code = ErrorCode.CONFLICT


class Unavailable(OneStopError):
    code = ErrorCode.UNAVAILABLE


class RateLimited(OneStopError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, extensions={"retryAfter": retry_after})
        self.retry_after = retry_after


class BadUserInput(OneStopError):
    """Invalid input; ``field_errors`` say which fields and why."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, field_errors: Sequence[FieldError] = ()) -> None:
        extensions: dict[str, Any] = {}
        if field_errors:
            extensions["fieldErrors"] = [
                {"field": e.field, "message": e.message, "code": e.code} for e in field_errors
            ]
        super().__init__(message, extensions=extensions)
        self.field_errors = tuple(field_errors)
