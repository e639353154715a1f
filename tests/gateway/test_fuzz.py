"""A small, deterministic, schema-aware fuzz run over HTTP.

The adversarial review that found issue 6 ran ~20,000 requests; this keeps a few
hundred of the same kinds in the suite: documents generated from the served
schema (read by introspection, as a frontend would) with hostile argument values
as literals and as variables, signed out and as staff, plus malformed bodies.
Whatever comes back must be JSON in the GraphQL error shape with a stable code —
never an HTTP 500, never INTERNAL — and the gateway must stay healthy.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
    print_type,
)
from harness import GatewayProcess

from gateway.errors import ErrorCode

SEED = 20261201
DOCUMENTS = 240
STABLE_CODES = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL.value}

HOSTILE_STRINGS = [
    "",
    " ",
    "营业执照",
    "駕駛證換證",
    "\ud800",
    "a\udfffb",
    "\x00",
    "x" * 20_000,
    "'; db.dropDatabase(); '",
    '{"$gt": ""}',
    "$where",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "１５９１２３４５６７８",
    "13800138000",
    "FAQ-0000",
    "11440303MB2C912345",
]
HOSTILE_INTS = [0, 1, -1, 20, 100, 101, 2**31 - 1, -(2**31)]
HOSTILE_CURSORS = ["", "bm9wZQ", "YWZmYWlyczo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "\ud800", "!!!"]


@pytest.fixture(scope="module")
def fuzz_gateway(start_gateway) -> GatewayProcess:
    # Its own database: staff mutations here must not disturb other tests' data.
    return start_gateway()


@pytest.fixture(scope="module")
def schema(fuzz_gateway: GatewayProcess) -> GraphQLSchema:
    return build_client_schema(fuzz_gateway.data(get_introspection_query()))


class DocumentGenerator:
    """Random operations over a schema, with hostile values."""

    def __init__(self, schema: GraphQLSchema, rng: random.Random) -> None:
        self.schema = schema
        self.rng = rng
        # Root fields in a shuffled round: every one is tried once per round, however
        # many modules add theirs (a random pick per document missed some as they grew).
        self._round: list[tuple[str, str]] = []

    def value(self, type_: GraphQLInputType, depth: int = 0) -> Any:
        rng = self.rng
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, depth)
        if rng.random() < 0.08:
            return None
        if isinstance(type_, GraphQLList):
            return [self.value(type_.of_type, depth + 1) for _ in range(rng.choice([0, 1, 2, 5]))]
        if isinstance(type_, GraphQLEnumType):
            return rng.choice([*type_.values, "NOT_A_VALUE"])
        if isinstance(type_, GraphQLInputObjectType):
            if depth > 2:
                return {}
            fields = list(type_.fields.items())
            chosen = rng.sample(fields, k=min(len(fields), rng.randint(0, 4)))
            return {name: self.value(f.type, depth + 1) for name, f in chosen}
        if isinstance(type_, GraphQLScalarType):
            if type_.name == "Int":
                return rng.choice(HOSTILE_INTS)
            if type_.name == "Float":
                return rng.choice([0.0, -1.5, 1e308, 116.12])
            if type_.name == "Boolean":
                return rng.choice([True, False])
            return rng.choice(HOSTILE_STRINGS + HOSTILE_CURSORS)
        return None

    def selection(self, type_: Any, depth: int) -> str:
        named = get_named_type(type_)
        if is_leaf_type(named):
            return ""
        if not isinstance(named, GraphQLObjectType) or depth > 4:
            return "{ __typename }"
        fields = list(named.fields.items())
        chosen = self.rng.sample(fields, k=min(len(fields), self.rng.randint(1, 5)))
        parts = []
        for name, field in chosen:
            arguments = self.arguments(field, literal=True)
            inner = self.selection(field.type, depth + 1)
            parts.append(f"{name}{arguments} {inner}")
        return "{ " + " ".join(parts) + " }"

    def arguments(self, field: GraphQLField, *, literal: bool) -> str:
        given = [
            (name, argument)
            for name, argument in field.args.items()
            if isinstance(argument.type, GraphQLNonNull) or self.rng.random() < 0.5
        ]
        if not given:
            return ""
        rendered = ", ".join(f"{name}: {literal_of(self.value(a.type))}" for name, a in given)
        return f"({rendered})"

    def operation(self) -> tuple[str, dict[str, Any]]:
        """A document, and variables when its root arguments go by variable."""
        if not self._round:
            roots = {"query": self.schema.query_type, "mutation": self.schema.mutation_type}
            self._round = [
                (keyword, name) for keyword, root in roots.items() if root for name in root.fields
            ]
            self.rng.shuffle(self._round)
        keyword, name = self._round.pop()
        root = self.schema.query_type if keyword == "query" else self.schema.mutation_type
        assert root is not None
        field = root.fields[name]
        inner = self.selection(field.type, 1)
        if not field.args or self.rng.random() < 0.5:
            return f"{keyword} {{ {name}{self.arguments(field, literal=True)} {inner} }}", {}
        definitions, uses, variables = [], [], {}
        for arg_name, argument in field.args.items():
            definitions.append(f"${arg_name}: {argument.type}")
            uses.append(f"{arg_name}: ${arg_name}")
            variables[arg_name] = self.value(argument.type)
        return (
            f"{keyword} Fuzz({', '.join(definitions)}) {{ {name}({', '.join(uses)}) {inner} }}",
            variables,
        )


def literal_of(value: Any) -> str:
    """A GraphQL literal; strings through JSON, which escapes lone surrogates."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal_of(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal_of(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) and value.isupper() and value.isidentifier():
        return value  # an enum value (or a bogus one)
    return json.dumps(value)


def malformed_bodies(rng: random.Random) -> Iterator[bytes]:
    yield from (b"null", b"123", b'"s"', b"true", b"[]", b"[{}]", b"{}", b"")
    yield b"\xff\xfe{" + b"\x80" * 10
    yield b"[" * 100_000 + b"]" * 100_000
    yield b'{"query": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    yield b'{"query": "{ me { id } }", "variables": "not an object"}'
    yield b'{"query": "{ me { id } }", "operationName": 5}'
    yield b'{"query": 5}'
    yield b'{"query": "{ me { id } }", "extensions": []}'
    for _ in range(12):
        yield bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))


def check(response: httpx.Response, what: Any) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:500])
    payload = response.json()  # always JSON
    for answer in payload if isinstance(payload, list) else [payload]:  # a batch: an array
        for error in answer.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code in STABLE_CODES, (what, error)


def refusals(response: httpx.Response) -> list[Any]:
    """Each answer's errors (one answer, or one per operation of a batch)."""
    payload = response.json()
    return [
        answer.get("errors") for answer in (payload if isinstance(payload, list) else [payload])
    ]


def test_generated_documents_never_end_in_500_or_internal(
    fuzz_gateway: GatewayProcess, schema: GraphQLSchema
) -> None:
    rng = random.Random(SEED)
    generator = DocumentGenerator(schema, rng)
    staff = fuzz_gateway.token("fuzz-staff", roles=("staff",), department="11440303MB2C912345")
    admin = fuzz_gateway.token("fuzz-admin", roles=("admin",))
    with httpx.Client(base_url=fuzz_gateway.url, timeout=30) as client:
        for index in range(DOCUMENTS):
            query, variables = generator.operation()
            token = rng.choice([None, None, staff, admin])
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            body = json.dumps({"query": query, "variables": variables})  # ASCII: surrogates escaped
            response = client.post(
                "/graphql",
                content=body.encode(),
                headers={**headers, "content-type": "application/json"},
            )
            check(response, (index, query, variables))
        assert client.get("/healthz").status_code == 200
        assert fuzz_gateway.data("{ affairsCatalogStats { totalItems } }")


def test_malformed_bodies_never_end_in_500(fuzz_gateway: GatewayProcess) -> None:
    rng = random.Random(SEED + 1)
    with httpx.Client(base_url=fuzz_gateway.url, timeout=30) as client:
        for body in malformed_bodies(rng):
            response = client.post(
                "/graphql", content=body, headers={"content-type": "application/json"}
            )
            check(response, body[:80])
            assert all(refusals(response)), body[:80]
        assert client.get("/healthz").status_code == 200


def test_the_generator_reaches_every_root_field(schema: GraphQLSchema) -> None:
    # Guards the fuzz run itself: with this seed and count, each root field is tried.
    rng = random.Random(SEED)
    generator = DocumentGenerator(schema, rng)
    seen = set()
    for _ in range(DOCUMENTS):
        query, _variables = generator.operation()
        rng.choice([None, None, 1, 2])  # the same draws as the run above
        seen.add(query.split("{", 2)[1].split("(")[0].split()[0])
    roots = [schema.query_type, schema.mutation_type]
    expected = {name for root in roots if root for name in root.fields}
    missing = expected - seen
    assert not missing, f"raise DOCUMENTS: never generated {sorted(missing)}"
    assert print_type(schema.query_type)  # the schema came through introspection
