"""Give every error a stable ``extensions.code``; mask and log the unexpected ones."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import redis.exceptions
from graphql import GraphQLError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError
from strawberry.extensions import SchemaExtension

from gateway.errors import ErrorCode, OneStopError, Unavailable
from gateway.observability import current_request_id

__all__ = [
    "ErrorCodeMapper",
    "ErrorMapping",
    "classify",
    "dependency_unavailable",
    "error_codes",
]

log = logging.getLogger("onestop.errors")

# graphql-core's messages for variables whose *values* are wrong (not the document).
_VARIABLE_COERCION = re.compile(
    r"^Variable '\$\w+' (got invalid value|has invalid value|of required type .* was not provided|"
    r"of non-null type .* must not be null)"
)

# graphql-core's hints: "Did you mean 'name' or 'faq'?", "Did you mean the enum value 'X'?"
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def dependency_unavailable(exc: BaseException | None) -> Unavailable | None:
    """UNAVAILABLE naming the dependency when ``exc`` (or its cause) is MongoDB or Redis
    failing or timing out; None otherwise. The message never carries the raw error."""
    for _ in range(4):  # the exception, or what it was raised from
        if exc is None:
            return None
        if isinstance(exc, Unavailable):
            return exc
        if isinstance(exc, ConnectionFailure | ExecutionTimeout | WTimeoutError) or (
            isinstance(exc, PyMongoError) and exc.timeout
        ):
            # ConnectionFailure covers AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError.
            return Unavailable(
                "数据库暂不可用 (database unavailable)", extensions={"dependency": "database"}
            )
        if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return Unavailable(
                "缓存服务暂不可用 (cache unavailable)", extensions={"dependency": "cache"}
            )
        exc = exc.__cause__ or exc.__context__
    return None


def classify(error: GraphQLError) -> tuple[ErrorCode, OneStopError | None]:
    """The code for an error, and the OneStopError behind it when there is one."""
    original = error.original_error
    if isinstance(original, OneStopError):
        return original.code, original
    unavailable = dependency_unavailable(original)
    if unavailable is not None:
        log.warning(
            "dependency unavailable in %s: %s",
            ".".join(str(p) for p in error.path or []) or "operation",
            type(original).__name__,
            extra={"dependency": unavailable.extra.get("dependency")},
        )
        return unavailable.code, unavailable
    if original is None:
        message = error.message
        if message.startswith("Syntax Error"):
            return ErrorCode.GRAPHQL_PARSE_FAILED, None
        if error.path is None:
            # Variable coercion problems are the caller's input; everything else without
            # a path is a document that failed validation (unknown field, limits…).
            if _VARIABLE_COERCION.match(message):
                return ErrorCode.BAD_USER_INPUT, None
            return ErrorCode.GRAPHQL_VALIDATION_FAILED, None
        return ErrorCode.INTERNAL, None
    if isinstance(original, GraphQLError):  # e.g. argument coercion inside execution
        return ErrorCode.BAD_USER_INPUT, None
    return ErrorCode.INTERNAL, None


def error_codes(errors: Iterable[GraphQLError] | None) -> list[str]:
    """Each error's ``extensions.code`` (set by :class:`ErrorMapping`), for the metrics."""
    return [(e.extensions or {}).get("code") or classify(e)[0].value for e in errors or ()]


class ErrorMapping:
    """Sets ``extensions.code`` on every error; hides unexpected ones in production.

    Unexpected exceptions are logged with the request id and replaced by a
    generic message naming that id, so a user can quote it to support.
    """

    def __init__(self, *, mask_internal: bool, hide_suggestions: bool = False) -> None:
        self.mask_internal = mask_internal
        self.hide_suggestions = hide_suggestions

    def process(self, error: GraphQLError) -> GraphQLError:
        extensions: dict[str, Any] = dict(error.extensions or {})
        if error.original_error is None and extensions.get("code") in ErrorCode.__members__:
            # Raised by the gateway itself with its code already set (document limits).
            return error
        code, known = classify(error)
        if known is not None:
            extensions.update(known.extensions)
            return self._copy(error, known.message, extensions)
        extensions["code"] = code.value
        if code is not ErrorCode.INTERNAL:
            message = error.message
            if self.hide_suggestions:
                # Validation hides them already; value coercion at execution does not.
                message = _SUGGESTION.sub("", message)
            return self._copy(error, message, extensions)
        request_id = current_request_id()
        original = error.original_error
        log.error(
            "unexpected error in %s: %s",
            ".".join(str(p) for p in error.path or []) or "operation",
            type(original).__name__ if original else error.message,
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        extensions["requestId"] = request_id
        message = (
            f"服务器内部错误，请稍后重试 (internal error; request id {request_id})"
            if self.mask_internal
            else error.message
        )
        return self._copy(error, message, extensions)

    @staticmethod
    def _copy(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=extensions,
        )


class ErrorCodeMapper(SchemaExtension):
    """:class:`ErrorMapping` for operations strawberry runs itself (over WebSocket);
    the HTTP path applies it in :mod:`gateway.execution`."""

    def __init__(self, *, mapping: ErrorMapping) -> None:
        self.mapping = mapping

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self.mapping.process(error) for error in errors]
