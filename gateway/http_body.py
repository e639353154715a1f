"""The one parser in front of GraphQL for what arrives over HTTP, and the one encoder after it.

A POST body and the ``variables``/``extensions`` query parameters of a GET all go
through :func:`decode_json_object`: strict UTF-8, standard JSON only (no ``NaN``),
at most :data:`MAX_JSON_DEPTH` levels of nesting, a JSON object at the top. A
malformed request is a :class:`RequestRejected` with code ``BAD_REQUEST``; a
well-formed one whose strings are unacceptable (lone surrogates, too long) is
``BAD_USER_INPUT``. :func:`encode_json` never fails on a string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.errors import ErrorCode, FieldError, OneStopError
from gateway.input_strings import find_bad_string

__all__ = [
    "MAX_JSON_DEPTH",
    "RequestRejected",
    "check_request",
    "decode_json_body",
    "decode_json_object",
    "encode_json",
    "error_body",
]

# Deeper than any input type of the schema will ever be, far below the interpreter's
# recursion limit (json.loads recurses in C, graphql-core's coercion in Python).
MAX_JSON_DEPTH = 64


class RequestRejected(Exception):
    """The request cannot reach GraphQL; answered with ``status`` and the GraphQL error shape."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        field_errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field_errors = tuple(field_errors)
        self.headers = dict(headers or {})

    @classmethod
    def from_error(cls, error: OneStopError, status: int = 200) -> RequestRejected:
        field_errors = getattr(error, "field_errors", ())
        return cls(status, error.code, error.message, field_errors)

    def body(self) -> bytes:
        extensions: dict[str, Any] = {"code": self.code.value}
        if self.field_errors:
            extensions["fieldErrors"] = [
                {"field": e.field, "message": e.message, "code": e.code} for e in self.field_errors
            ]
        return error_body(self.message, extensions)


def error_body(message: str, extensions: dict[str, Any]) -> bytes:
    return encode_json({"data": None, "errors": [{"message": message, "extensions": extensions}]})


def encode_json(data: object) -> bytes:
    """Compact JSON as UTF-8; Chinese stays 3 bytes a character (not a 6-byte escape).

    A lone surrogate cannot be written as UTF-8; ``backslashreplace`` writes it as the
    six characters ``\\udXXX``, which inside a JSON string (the only place the encoder
    emits non-ASCII) is the valid JSON escape for the same code unit.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def _bad_request(message: str) -> RequestRejected:
    return RequestRejected(400, ErrorCode.BAD_REQUEST, message)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder: json.loads with any option builds a new JSONDecoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def decode_json_object(raw: str | bytes, what: str = "request body") -> dict[str, Any]:
    """Decode ``raw`` as one JSON object or raise :class:`RequestRejected` (BAD_REQUEST)."""
    value = decode_json_body(raw, what, batch=False)
    assert isinstance(value, dict)
    return value


def decode_json_body(
    raw: str | bytes, what: str = "request body", *, batch: bool = True
) -> dict[str, Any] | list[Any]:
    """Decode ``raw`` as a JSON object, or with ``batch`` an array (a batch of operations);
    anything else raises :class:`RequestRejected` (BAD_REQUEST)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _bad_request(
                f"请求不是有效的 UTF-8 ({what} is not valid UTF-8 at byte {exc.start})"
            ) from None
    else:
        text = raw
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        value = _TOO_DEEP
    except ValueError as exc:  # JSONDecodeError, NaN, an integer of 5,000 digits…
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise _bad_request(f"请求不是有效的 JSON ({what} is not valid JSON: {reason})") from None
    if value is _TOO_DEEP or (
        # Fewer brackets than levels allowed: cannot be too deep, no need to walk.
        text.count("[") + text.count("{") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH)
    ):
        raise _bad_request(f"JSON 嵌套过深 ({what} is nested deeper than {MAX_JSON_DEPTH} levels)")
    if isinstance(value, dict) or (batch and isinstance(value, list)):
        return value
    expected = "a JSON object or an array of them" if batch else "a JSON object"
    raise _bad_request(f"请求须为 JSON 对象 ({what} must be {expected}, not {_json_kind(value)})")


_TOO_DEEP = object()


def _deeper_than(value: Any, limit: int) -> bool:
    """Level by level, iteratively (never recursion on a client's nesting)."""
    level = [value]
    for _ in range(limit):
        deeper: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            deeper += [c for c in children if type(c) is list or type(c) is dict]
        if not deeper:
            return False
        level = deeper
    return True


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


def check_request(
    query: Any,
    variables: Any,
    operation_name: Any,
    extensions: Any,
    *,
    max_string_length: int,
) -> None:
    """The members' types, then every string in them (lone surrogates, length)."""
    for name, member, allowed in (
        ("query", query, str),
        ("operationName", operation_name, str),
        ("variables", variables, dict),
        ("extensions", extensions, dict),
    ):
        if member is not None and not isinstance(member, allowed):
            kind = "a string" if allowed is str else "an object"
            raise _bad_request(f"请求格式错误 (`{name}` must be {kind} or null)")
    # The document is bounded by the body size and the token limit, and its literals by
    # the lexer and the validation rule; only the other members are checked here.
    for prefix, member in (
        ("variables.", variables),
        ("operationName", operation_name),
        ("extensions.", extensions),
    ):
        bad = find_bad_string(member, max_string_length)
        if bad is not None:
            # A well-formed request with wrong values: 200, like graphql-core's own
            # variable coercion errors.
            raise RequestRejected.from_error(bad.error(prefix))
