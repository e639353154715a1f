"""Cache policies from cache hints, on a tiny schema built inline."""

from __future__ import annotations

import pytest
import strawberry
from graphql import parse

from gateway.cache_policy import CachePolicies, CachePolicy
from gateway.registry import CacheHint, CacheScope


async def catalog_version(runtime: object) -> str:
    return "7"


@strawberry.type
class Place:
    name: str
    open_now: bool
    manager: str


@strawberry.type
class Item:
    code: str
    places: list[Place]


@strawberry.type
class Query:
    @strawberry.field
    def item(self) -> Item:
        raise NotImplementedError

    @strawberry.field
    def news(self) -> str:
        raise NotImplementedError

    @strawberry.field
    def secret(self) -> str:
        raise NotImplementedError


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> Item:
        raise NotImplementedError


HINTS = {
    "Query.item": CacheHint(300, version=catalog_version),
    "Place.openNow": CacheHint(60),
    "Place.manager": CacheHint(scope=CacheScope.PRIVATE),
}
POLICIES = CachePolicies(
    strawberry.Schema(query=Query, mutation=Mutation)._schema, HINTS, ["Query.secret"]
)


def policy(document: str, operation: str | None = None) -> CachePolicy:
    return POLICIES.of(parse(document), operation)


def test_nested_fields_inherit_and_the_shortest_age_wins() -> None:
    assert policy("{ item { code places { name } } }") == CachePolicy(300, True, (catalog_version,))
    assert policy("{ item { places { openNow } } }").max_age == 60


def test_a_root_field_without_a_hint_is_never_cached() -> None:
    assert policy("{ news }").header == "no-store"
    assert policy("{ item { code } news }").max_age == 0


@pytest.mark.parametrize(
    "document",
    [
        "{ item { places { manager } } }",  # a private hint
        "{ item { code } secret }",  # a field that requires a permission
    ],
)
def test_anything_private_makes_the_answer_private(document: str) -> None:
    found = policy(document)
    assert not found.public and not found.cacheable


def test_fragments_count_like_the_fields_they_spread() -> None:
    document = """
      query { item { ...Where } }
      fragment Where on Item { places { ... on Place { openNow } } }
    """
    assert policy(document).max_age == 60


def test_mutations_and_introspection_are_never_cached() -> None:
    assert policy("mutation { touch { code } }").header == "no-store"
    assert policy("{ __schema { queryType { name } } }").max_age == 0
    assert policy("query A { item { code } } query B { news }", "B").max_age == 0
    assert policy("query A { item { code } } query B { news }", "A").max_age == 300
