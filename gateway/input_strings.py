"""Every input string is checked once, at the boundary: no lone surrogates, bounded length.

A lone surrogate (``"\\ud800"`` in JSON) is a valid JSON escape but not Unicode text:
PyMongo's BSON encoder, ``str.encode()`` and the JSON encoder all fail on it, deep
inside a module. So the gateway refuses such strings before any resolver runs, for
every module alike:

* variables: :func:`find_bad_string` walks the decoded request (``gateway.http_body``);
* literals in the document: graphql-core's lexer already refuses lone surrogates
  (a syntax error, ``GRAPHQL_PARSE_FAILED``), and :func:`string_literal_rule` bounds
  their length during validation (``BAD_USER_INPUT``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from graphql import ArgumentNode, GraphQLError, ObjectFieldNode, StringValueNode, ValidationRule
from graphql.language import Node

from gateway.errors import BadUserInput, FieldError

__all__ = ["BadString", "find_bad_string", "string_literal_rule", "string_problem"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def string_problem(value: str, max_length: int) -> tuple[str, str] | None:
    """``(code, english reason)`` when ``value`` is not acceptable input, else ``None``."""
    if len(value) > max_length:
        return "too_long", f"longer than {max_length} characters"
    if not value.isascii() and _SURROGATE.search(value):
        return "invalid_unicode", "contains a lone surrogate (not valid Unicode)"
    return None


@dataclass(frozen=True)
class BadString:
    path: str  # ``f.departmentCodes.0``; a key's own path when the key is at fault
    code: str
    reason: str

    def error(self, prefix: str = "") -> BadUserInput:
        field = f"{prefix}{self.path}" if self.path else prefix.rstrip(".")
        chinese = "过长" if self.code == "too_long" else "含有无效字符"
        return BadUserInput(
            f"输入文本{chinese} ({field or 'input'}: {self.reason})",
            [FieldError(field or "input", self.reason, self.code)],
        )


def find_bad_string(value: Any, max_length: int) -> BadString | None:
    """The first bad string (value or object key) in a decoded JSON value; iterative.

    Almost every request is small and clean: one C-speed serialisation proves it
    (no string can be longer than the whole text; a lone surrogate cannot be encoded
    as UTF-8). Only otherwise are the values walked, to name the bad one.
    """
    if value is None:
        return None
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= max_length:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return None
    return _walk(value, max_length)


def _walk(value: Any, max_length: int) -> BadString | None:
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            problem = string_problem(item, max_length)
            if problem is not None:
                return BadString(".".join(path), *problem)
        elif isinstance(item, dict):
            for key, child in item.items():
                key_path = (*path, _printable(key))
                problem = string_problem(key, max_length)
                if problem is not None:
                    return BadString(".".join(key_path), *problem)
                stack.append((child, key_path))
        elif isinstance(item, list):
            stack.extend((child, (*path, str(i))) for i, child in enumerate(item))
    return None


def _printable(key: str) -> str:
    # A path must itself be safe to echo back.
    if len(key) > 64:
        key = key[:64] + "…"
    return key if key.isascii() else _SURROGATE.sub("\ufffd", key)


def string_literal_rule(max_length: int) -> type[ValidationRule]:
    """A validation rule refusing string literals longer than ``max_length``."""

    class StringLiteralRule(ValidationRule):
        def enter_string_value(
            self, node: StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
        ) -> None:
            problem = string_problem(node.value, max_length)
            if problem is None:
                return
            names = [
                a.name.value
                for a in (*ancestors, parent)
                if isinstance(a, ArgumentNode | ObjectFieldNode)
            ]
            error = BadString(".".join(names), *problem).error()
            self.report_error(GraphQLError(error.message, nodes=_nodes(node), original_error=error))

    return StringLiteralRule


def _nodes(node: Node) -> list[Node]:
    return [node]
