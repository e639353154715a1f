"""Which HTTP status a GraphQL result gets (gateway/graphql_view.py); over HTTP in
test_dependency_failures.py and tests/e2e/test_graphql_over_http.py."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gateway.graphql_view import _never_executed, _nothing_for_an_unavailable_dependency


def error(code: str, path: list[str] | None = None) -> GraphQLError:
    return GraphQLError("x", path=path, extensions={"code": code})


@pytest.mark.parametrize(
    ("data", "errors", "retry_later"),
    [
        (None, [error("UNAVAILABLE", ["affairItems"])], True),
        ({"affairItem": None}, [error("UNAVAILABLE", ["affairItem"])], True),
        # Partial data: the app shows what it has; the failed field says UNAVAILABLE.
        ({"a": {"code": "1"}, "b": None}, [error("UNAVAILABLE", ["b"])], False),
        (None, [error("BAD_USER_INPUT", ["login"])], False),
    ],
)
def test_503_only_when_an_unavailable_dependency_left_nothing_to_answer(
    data: dict[str, Any] | None, errors: list[GraphQLError], retry_later: bool
) -> None:
    result = ExecutionResult(data=data, errors=errors)
    assert _nothing_for_an_unavailable_dependency(result) is retry_later


def test_a_request_error_is_one_no_field_error_explains() -> None:
    assert _never_executed(ExecutionResult(data=None, errors=[error("GRAPHQL_PARSE_FAILED")]))
    root_field_failed = ExecutionResult(data=None, errors=[error("NOT_FOUND", ["affairItem"])])
    assert not _never_executed(root_field_failed)  # it ran: 200 with data null
